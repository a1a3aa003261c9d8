import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeInfoOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { nodeReady } from './node-ready.js';
import { FitState } from './state.js';

const notReady = testNode('not-ready', { ready: false });
const healthy = testNode('healthy');
const state = FitState.fromSnapshot(testSnapshot([notReady, healthy]));

test('NodeReady rejects a not-ready node unless the pod tolerates node.kubernetes.io/not-ready', () => {
  assert.deepEqual(nodeReady.filter(state, testPod('p'), nodeInfoOf(state, notReady)), { ok: false, plugin: 'NodeReady', reason: 'node(s) were not ready' });
  assert.deepEqual(nodeReady.filter(state, testPod('p'), nodeInfoOf(state, healthy)), { ok: true });
  const tolerant = testPod('cni', { constraints: { tolerations: [{ operator: 'Exists' }] } });
  assert.deepEqual(nodeReady.filter(state, tolerant, nodeInfoOf(state, notReady)), { ok: true });
});
