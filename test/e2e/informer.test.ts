/**
 * The informer against a real API server: paged LISTs, what it keeps, and an API server that
 * goes away (the watch drops, LISTs are refused while it is down): the informer must come back
 * by itself and report what changed meanwhile, deletions included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { restartComponent } from '../../src/devcluster/cluster.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { keepMetadata, ResilientInformer } from '../../src/kube/informer.js';
import { createNamespace, useCluster } from './support/cluster.js';

const cluster = useCluster({ nodes: { apiVersion: 'stowage.io/v1alpha1', kind: 'NodeFixture', nodes: [{ name: 'n', count: 1, labels: {}, annotations: {}, taints: [], capacity: { cpu: '4', memory: '16Gi', pods: '110' } }] } });

test('an informer lists in pages and keeps only what it is asked to keep', async () => {
  const { core, kc } = cluster();
  await createNamespace(core, 'pages');
  for (let i = 0; i < 7; i++) await core.createNamespacedConfigMap({ namespace: 'pages', body: { metadata: { name: `cm-${i}`, labels: { set: i % 2 === 0 ? 'even' : 'odd' } }, data: { payload: 'x'.repeat(1000) } } });
  const added: V1ConfigMap[] = [];
  const informer = new ResilientInformer<V1ConfigMap>(kc, { name: 'configmaps', path: '/api/v1/namespaces/pages/configmaps', pageSize: 2, labelSelector: 'set=even', keep: keepMetadata });
  informer.on('add', (cm) => added.push(cm));
  try {
    await informer.start();
    assert.deepEqual(added.map((cm) => cm.metadata?.name).sort(), ['cm-0', 'cm-2', 'cm-4', 'cm-6'], 'every page was read, and only the selected objects');
    assert.equal(added[0]?.data?.['payload']?.length, 1000, 'the add handler gets the whole object');
    const cached = informer.get('cm-0', 'pages');
    assert.equal(cached?.data, undefined, 'the cache keeps the identity only');
    assert.ok(cached?.metadata?.resourceVersion, 'with its resourceVersion');
    assert.equal(informer.list('pages').length, 4);
  } finally {
    await informer.stop();
  }
});

test('an informer survives an API server restart and catches up on what changed meanwhile', async () => {
  const { core, kc, state } = cluster();
  await createNamespace(core, 'inf');
  const errors: string[] = [];
  const informer = new ResilientInformer<V1ConfigMap>(kc, {
    name: 'configmaps',
    path: '/api/v1/namespaces/inf/configmaps',
    backoff: { baseMs: 200, maxMs: 1_000 },
    onError: (e) => errors.push(e.message),
  });
  const seen = new Set<string>();
  const updated = new Set<string>();
  const deleted = new Set<string>();
  informer.on('add', (cm) => seen.add(cm.metadata?.name ?? ''));
  informer.on('update', (cm) => updated.add(cm.metadata?.name ?? ''));
  informer.on('delete', (cm) => deleted.add(cm.metadata?.name ?? ''));
  try {
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'before' } } });
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'changed' } } });
    await informer.start();
    assert.ok(informer.list().some((cm) => cm.metadata?.name === 'before'), 'the first LIST is in the cache');

    await restartComponent(state.dir, 'kube-apiserver', { downMs: 1_500 });
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'after' } } });
    await core.deleteNamespacedConfigMap({ namespace: 'inf', name: 'doomed' });
    await core.patchNamespacedConfigMap({ namespace: 'inf', name: 'changed', body: [{ op: 'add', path: '/data', value: { k: 'v' } }] });

    await waitFor('the informer to see what changed after the restart', async () => seen.has('after') && deleted.has('doomed') && updated.has('changed'), { timeoutMs: 60_000 });
    const names = informer.list().map((cm) => cm.metadata?.name).filter((name) => name !== 'kube-root-ca.crt');
    assert.deepEqual(names.sort(), ['after', 'before', 'changed']);
    assert.deepEqual(informer.get('changed', 'inf')?.data, { k: 'v' }, 'the cache holds the latest state');
    assert.ok(errors.length >= 1, `the outage was reported (errors: ${JSON.stringify(errors)})`);
    assert.ok(informer.restarts >= 1, 'the informer restarted itself');
  } finally {
    await informer.stop();
  }
});

test('a silent watch is re-established by the watchdog without losing events', async () => {
  const { core, kc } = cluster();
  await createNamespace(core, 'idle');
  const errors: string[] = [];
  const informer = new ResilientInformer<V1ConfigMap>(kc, { name: 'configmaps', path: '/api/v1/namespaces/idle/configmaps', idleRestartMs: 1_000, onError: (e) => errors.push(e.message) });
  const seen = new Set<string>();
  informer.on('add', (cm) => seen.add(cm.metadata?.name ?? ''));
  try {
    await informer.start();
    await waitFor('the watchdog to re-watch a quiet watch', async () => informer.restarts >= 2, { timeoutMs: 30_000 });
    assert.ok(errors.every((m) => m.startsWith('watch idle')), `only idle re-watches were reported: ${JSON.stringify(errors)}`);
    await core.createNamespacedConfigMap({ namespace: 'idle', body: { metadata: { name: 'late' } } });
    await waitFor('the re-established watch to deliver a new object', async () => seen.has('late'), { timeoutMs: 30_000 });
  } finally {
    await informer.stop();
  }
});
