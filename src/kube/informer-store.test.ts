import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { InformerStore, keepMetadata, LineSplitter, objectKey, type InformerEvent } from './informer-store.js';

type Obj = KubernetesObject & { data?: Record<string, string> };

const obj = (name: string, rv: string, data: Record<string, string> = {}, namespace = 'a'): Obj => ({ metadata: { name, namespace, resourceVersion: rv, uid: `uid-${name}` }, data });

function recorder(): { store: InformerStore<Obj>; events: string[] } {
  const events: string[] = [];
  const store = new InformerStore<Obj>((event: InformerEvent, o: Obj) => events.push(`${event} ${objectKey(o)}@${o.metadata?.resourceVersion ?? ''}`));
  return { store, events };
}

test('a LIST adds each object; watch events add, update and delete', () => {
  const { store, events } = recorder();
  store.beginList();
  store.listItem(obj('x', '1'));
  store.listItem(obj('y', '1'));
  assert.equal(store.endList(), 0);
  store.event('ADDED', obj('z', '2'));
  store.event('MODIFIED', obj('x', '3', { k: 'v' }));
  store.event('DELETED', obj('y', '4'));
  store.event('BOOKMARK', { metadata: { resourceVersion: '5' } });
  assert.deepEqual(events, ['add a/x@1', 'add a/y@1', 'add a/z@2', 'update a/x@3', 'delete a/y@4']);
  assert.deepEqual(store.get('x', 'a')?.data, { k: 'v' });
  assert.deepEqual(store.list('a').map((o) => o.metadata?.name).sort(), ['x', 'z']);
  assert.deepEqual(store.list('other'), []);
});

test('an event the cache already holds (a replayed watch) reports nothing', () => {
  const { store, events } = recorder();
  store.event('ADDED', obj('x', '1'));
  store.event('MODIFIED', obj('x', '1'));
  store.event('ADDED', obj('x', '1'));
  assert.deepEqual(events, ['add a/x@1']);
});

test('a DELETED for an object never cached reports nothing', () => {
  const { store, events } = recorder();
  store.event('DELETED', obj('ghost', '9'));
  assert.deepEqual(events, []);
});

test('a re-LIST reports changes as updates and vanished objects as deletes with their last state', () => {
  const { store, events } = recorder();
  store.beginList();
  for (const o of [obj('keep', '1'), obj('change', '1'), obj('gone', '1')]) store.listItem(o);
  store.endList();
  events.length = 0;
  store.beginList();
  store.listItem(obj('keep', '1'));
  store.listItem(obj('change', '7'));
  store.listItem(obj('new', '7'));
  assert.equal(store.endList(), 1);
  assert.deepEqual(events, ['update a/change@7', 'add a/new@7', 'delete a/gone@1']);
  assert.equal(store.size, 3);
});

test('an abandoned LIST reports nothing gone', () => {
  const { store, events } = recorder();
  store.beginList();
  store.listItem(obj('x', '1'));
  store.listItem(obj('y', '1'));
  store.endList();
  events.length = 0;
  store.beginList();
  store.listItem(obj('x', '1'));
  store.abandonList();
  assert.equal(store.endList(), 0);
  assert.deepEqual(events, []);
  assert.equal(store.size, 2);
});

test('keepMetadata: the cache holds the identity, the handlers the whole object', () => {
  const handled: Obj[] = [];
  const store = new InformerStore<Obj>((_e, o) => handled.push(o), keepMetadata);
  store.event('ADDED', obj('x', '1', { big: 'payload' }));
  assert.deepEqual(handled[0]?.data, { big: 'payload' });
  assert.deepEqual(store.get('x', 'a'), { metadata: { name: 'x', namespace: 'a', uid: 'uid-x', resourceVersion: '1' } });
  // A cluster-scoped object has no namespace in its key.
  store.event('ADDED', { metadata: { name: 'node-1', resourceVersion: '2' } });
  assert.deepEqual(store.get('node-1'), { metadata: { name: 'node-1', resourceVersion: '2' } });
  // The deletion found by a re-LIST reports what was kept.
  store.beginList();
  store.endList();
  assert.deepEqual(handled.slice(-2).map((o) => o.metadata?.name).sort(), ['node-1', 'x']);
  assert.equal(handled.at(-1)?.data, undefined);
});

test('LineSplitter: lines across chunk boundaries, blank lines skipped, a last line without newline', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter();
  const on = (l: string): void => {
    lines.push(l);
  };
  splitter.push('{"a":', on);
  splitter.push('1}\n{"b":2}\n\n{"c"', on);
  splitter.push(':3}\n', on);
  splitter.push('{"d":4}', on);
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  splitter.end(on);
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
  splitter.end(on);
  assert.equal(lines.length, 4);
});
