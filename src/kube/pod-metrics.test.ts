import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testPod, testSnapshot } from '../core/fixtures.test-helper.js';
import { podUsageByUid, podUsageFromMetrics } from './pod-metrics.js';

test('PodMetrics become each pod\'s use, containers summed, keyed by uid for the snapshot', () => {
  const byName = podUsageFromMetrics([
    { metadata: { namespace: 'shop', name: 'web-1' }, containers: [{ usage: { cpu: '250000000n', memory: '100Mi' } }, { usage: { cpu: '5m', memory: '28Mi' } }] },
    { metadata: { namespace: 'shop', name: 'web-2' }, containers: [{ usage: { cpu: '1', memory: '1Gi' } }] },
    // Malformed: left unmeasured, not a failed cycle.
    { metadata: { namespace: 'shop', name: 'bad' }, containers: [{ usage: { cpu: 'lots' } }] },
    { metadata: { name: 'no-namespace' }, containers: [] },
  ]);
  assert.deepEqual([...byName], [
    ['shop/web-1', { cpu: 255, memory: 128 * 1024 * 1024 }],
    ['shop/web-2', { cpu: 1000, memory: 1024 * 1024 * 1024 }],
  ]);
  const snapshot = testSnapshot([], [testPod('web-1', { namespace: 'shop', uid: 'u1' }), testPod('web-3', { namespace: 'shop', uid: 'u3' })]);
  // web-2 is not in the snapshot, web-3 has no measurement yet: only web-1 is measured.
  assert.deepEqual([...podUsageByUid(snapshot, byName)], [['u1', { cpu: 255, memory: 128 * 1024 * 1024 }]]);
});
