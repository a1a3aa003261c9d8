import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GI, MI, nodeInfosOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { balancedAllocationScore, balancedAllocationScoreOf, balancedResourceScore } from './node-resources-balanced-allocation.js';
import { FitState } from './state.js';

const node = testNode('n1', { allocatable: { cpu: 4000, memory: 8 * GI, pods: 3 } });

test('BalancedAllocation is (1 - std of the used shares) × 100, truncated', () => {
  assert.equal(balancedResourceScore([1000, 4 * GI], [4000, 8 * GI]), 87);
  assert.equal(balancedResourceScore([2000, 4 * GI], [4000, 8 * GI]), 100);
  assert.equal(balancedResourceScore([5000, 0], [4000, 8 * GI]), 50);
  assert.equal(balancedResourceScore([1, 2, 3], [0, 0, 0]), 100);
  // Three resources: shares 0, 0.5, 1 → std √(1/6) ≈ 0.408 → 59.
  assert.equal(balancedResourceScore([0, 1, 2], [2, 2, 2]), 59);
  const state = FitState.fromSnapshot(testSnapshot([node], [testPod('used', { nodeName: 'n1', requests: { cpu: 900, memory: 3.5 * GI } })]));
  assert.equal(balancedAllocationScoreOf(state, testPod('new', { requests: { cpu: 100, memory: 512 * MI } }), node), 87);
});

test('BalancedAllocation scores every node 0 for a pod that requests neither cpu nor memory, as upstream skips it', () => {
  const state = FitState.fromSnapshot(testSnapshot([node]));
  assert.deepEqual(balancedAllocationScore.score(state, testPod('be', { requests: {} }), nodeInfosOf(state, [node])), [0]);
  assert.deepEqual(balancedAllocationScore.score(state, testPod('cpu-only', { requests: { cpu: 2000 } }), nodeInfosOf(state, [node])), [75]);
});
