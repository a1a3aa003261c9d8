import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Api } from '@kubernetes/client-node';
import { EventRecorder, eventNamespace } from './events.js';

describe('EventRecorder', () => {
  test('the same event on the same object is counted, not repeated', async () => {
    const created: { namespace: string; body: { metadata: { name: string }; count: number; reason: string; involvedObject: { kind: string } } }[] = [];
    const patched: { name: string; body: { count: number } }[] = [];
    const core = {
      createNamespacedEvent: async (r: (typeof created)[number]) => {
        created.push(r);
        return {};
      },
      patchNamespacedEvent: async (r: (typeof patched)[number]) => {
        patched.push(r);
        return {};
      },
    } as unknown as CoreV1Api;
    const recorder = new EventRecorder(core, 'stowage-descheduler', { now: () => new Date(0) });
    const node = { kind: 'Node', name: 'od-1' };
    await recorder.record(node, 'Normal', 'DeschedulingSkipped', 'no room');
    await recorder.record(node, 'Normal', 'DeschedulingSkipped', 'no room');
    await recorder.record(node, 'Normal', 'DeschedulingSkipped', 'other reason');
    assert.equal(created.length, 2);
    assert.equal(created[0]?.namespace, 'default', 'events on cluster-scoped objects go to default');
    assert.deepEqual(patched.map((p) => [p.name, p.body.count]), [[created[0]?.body.metadata.name, 2]]);
  });

  test('an API error is swallowed: explaining must not stop the work', async () => {
    const core = { createNamespacedEvent: async () => Promise.reject(new Error('boom')) } as unknown as CoreV1Api;
    await new EventRecorder(core, 'x').record({ kind: 'Pod', name: 'p', namespace: 'shop' }, 'Warning', 'R', 'm');
    assert.equal(eventNamespace({ kind: 'Pod', name: 'p', namespace: 'shop' }), 'shop');
  });
});
