import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeInfoOf, nodeInfosOf, normalizedOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { nodeAffinityFilter, nodeAffinityScore } from './node-affinity.js';
import { FitState } from './state.js';
import { scoresOf } from './plugin.js';

const a = testNode('a', { zone: 'zone-a', labels: { pool: 'general', size: '4' } });
const b = testNode('b', { zone: 'zone-b', labels: { pool: 'batch', size: '16' } });
const c = testNode('c', { zone: 'zone-c', labels: { size: '8' } });
const state = FitState.fromSnapshot(testSnapshot([a, b, c]));
const REASON = { ok: false, plugin: 'NodeAffinity', reason: "node(s) didn't match Pod's node affinity/selector" };

test('NodeAffinity requires every nodeSelector label', () => {
  const pod = testPod('p', { constraints: { nodeSelector: { pool: 'batch', 'topology.kubernetes.io/zone': 'zone-b' } } });
  assert.deepEqual(nodeAffinityFilter.filter(state, pod, nodeInfoOf(state, b)), { ok: true });
  assert.deepEqual(nodeAffinityFilter.filter(state, pod, nodeInfoOf(state, a)), REASON);
});

test('NodeAffinity requires one of the required terms, and the nodeSelector too', () => {
  const pod = testPod('p', {
    constraints: {
      nodeAffinity: {
        required: [
          { matchExpressions: [{ key: 'pool', operator: 'In', values: ['general'] }] },
          { matchExpressions: [{ key: 'size', operator: 'Gt', values: ['10'] }] },
        ],
      },
    },
  });
  assert.deepEqual([a, b, c].map((n) => nodeAffinityFilter.filter(state, pod, nodeInfoOf(state, n)).ok), [true, true, false]);
  const both = testPod('q', { constraints: { ...pod.constraints, nodeSelector: { pool: 'batch' } } });
  assert.deepEqual([a, b, c].map((n) => nodeAffinityFilter.filter(state, both, nodeInfoOf(state, n)).ok), [false, true, false]);
});

test('NodeAffinity scores the summed weights of matching preferred terms, normalized to 100', () => {
  const pod = testPod('p', {
    constraints: {
      nodeAffinity: {
        preferred: [
          { weight: 30, preference: { matchExpressions: [{ key: 'size', operator: 'Gt', values: ['6'] }] } },
          { weight: 10, preference: { matchExpressions: [{ key: 'pool', operator: 'Exists' }] } },
          { weight: 0, preference: { matchExpressions: [{ key: 'pool', operator: 'Exists' }] } },
        ],
      },
    },
  });
  const raw = scoresOf(nodeAffinityScore, state, pod, nodeInfosOf(state, [a, b, c]));
  assert.deepEqual(raw, [10, 40, 30]);
  assert.deepEqual(normalizedOf(nodeAffinityScore, raw), [25, 100, 75]);
  assert.deepEqual(normalizedOf(nodeAffinityScore, scoresOf(nodeAffinityScore, state, testPod('none'), nodeInfosOf(state, [a, b]))), [0, 0]);
});
