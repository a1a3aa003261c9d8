import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeView, PodView } from '../../core/model.js';
import { GI, MI, nodeInfosOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { balancedAllocationScore, balancedAllocationScoreOf, balancedImprovementScore, balancedResourceScore } from './node-resources-balanced-allocation.js';
import { DEFAULT_PROFILE } from './profiles.js';
import { selectNode } from './score.js';
import { FitState } from './state.js';
import { scoresOf } from './plugin.js';

const node = testNode('n1', { allocatable: { cpu: 4000, memory: 8 * GI, pods: 3 } });

test('the balance of a node is (1 - std of the used shares) × 100, truncated', () => {
  assert.equal(balancedResourceScore([1000, 4 * GI], [4000, 8 * GI]), 87);
  assert.equal(balancedResourceScore([2000, 4 * GI], [4000, 8 * GI]), 100);
  assert.equal(balancedResourceScore([5000, 0], [4000, 8 * GI]), 50);
  assert.equal(balancedResourceScore([1, 2, 3], [0, 0, 0]), 100);
  // Three resources: shares 0, 0.5, 1 → std √(1/6) ≈ 0.408 → 59.
  assert.equal(balancedResourceScore([0, 1, 2], [2, 2, 2]), 59);
});

test('BalancedAllocation scores the improvement: 50 + (50 + withPod − withoutPod) / 2, as kube-scheduler 1.36', () => {
  // The worked figures in the comments of upstream's balanced_allocation_test.go (v1.36.3).
  assert.equal(balancedImprovementScore([3000, 5000], [0, 0], [4000, 10000]), 68); // 100 → 87
  assert.equal(balancedImprovementScore([3000, 5000], [0, 0], [6000, 10000]), 75); // 100 → 100
  assert.equal(balancedImprovementScore([6000, 5000], [3000, 0], [10000, 20000]), 73); // 85 → 82
  assert.equal(balancedImprovementScore([6000, 10000], [3000, 5000], [10000, 20000]), 74); // 97 → 95
  assert.equal(balancedImprovementScore([6000, 10000], [3000, 5000], [10000, 50000]), 70); // 90 → 80
  assert.equal(balancedImprovementScore([3000, 5000], [3000, 0], [3000, 5000]), 100); // 50 → 100
  assert.equal(balancedImprovementScore([0, 5000], [0, 0], [3000, 5000]), 50); // 100 → 50
  assert.equal(balancedImprovementScore([6000, 0], [3000, 0], [6000, 10000]), 62); // 75 → 50
  assert.equal(balancedImprovementScore([6000, 5000], [3000, 5000], [6000, 10000]), 62); // 100 → 75
});

test('BalancedAllocation reads the node usage as upstream: actual requests, and the pod counted on top of them', () => {
  // Upstream's "resources requested, pods scheduled with resources, differently sized nodes": two
  // containers 1000m/2000 and 2000m/3000; node1 holds 3000m cpu only, node2 3000m/5000.
  const nodes = [testNode('node1', { allocatable: { cpu: 10000, memory: 20000, pods: 10 } }), testNode('node2', { allocatable: { cpu: 10000, memory: 50000, pods: 10 } })];
  const state = FitState.fromSnapshot(
    testSnapshot(nodes, [
      testPod('cpu-only', { nodeName: 'node1', requests: { cpu: 3000 } }),
      testPod('both', { nodeName: 'node2', requests: { cpu: 3000, memory: 5000 } }),
    ]),
  );
  const pod = testPod('new', { requests: { cpu: 3000, memory: 5000 } });
  assert.deepEqual(scoresOf(balancedAllocationScore, state, pod, nodeInfosOf(state, nodes)), [73, 70]);
  assert.deepEqual(
    nodes.map((n) => balancedAllocationScoreOf(state, pod, n)),
    [73, 70],
  );
});

test('BalancedAllocation scores every node 0 for a pod that requests neither cpu nor memory, as upstream skips it', () => {
  const state = FitState.fromSnapshot(testSnapshot([node]));
  assert.deepEqual(scoresOf(balancedAllocationScore, state, testPod('be', { requests: {} }), nodeInfosOf(state, [node])), [0]);
  // A cpu-only pod on an empty node: 100 → 75.
  assert.deepEqual(scoresOf(balancedAllocationScore, state, testPod('cpu-only', { requests: { cpu: 2000 } }), nodeInfosOf(state, [node])), [62]);
});

test('the default profile picks the node whose balance the pod improves, as kube-scheduler 1.36 did on the local control plane', () => {
  // Nodes 4 cpu/16Gi; n01 holds 2 cpu/8Gi (balanced), n02 250m/12Gi (memory-heavy); pod 500m/512Mi.
  // Before 1.36 the balance after placing the pod favoured n01; 1.36 (and the observed bind) picks n02.
  const nodes: NodeView[] = ['n01', 'n02'].map((name) => testNode(name, { allocatable: { cpu: 4000, memory: 16 * GI, pods: 110 } }));
  const pods: PodView[] = [
    testPod('a', { nodeName: 'n01', requests: { cpu: 2000, memory: 8 * GI } }),
    testPod('b', { nodeName: 'n02', requests: { cpu: 250, memory: 12 * GI } }),
  ];
  const state = FitState.fromSnapshot(testSnapshot(nodes, pods));
  const pod = testPod('new', { requests: { cpu: 500, memory: 512 * MI } });
  assert.deepEqual(scoresOf(balancedAllocationScore, state, pod, nodeInfosOf(state, nodes)), [72, 77]);
  const choice = selectNode(state, pod, DEFAULT_PROFILE);
  assert.ok(choice.ok);
  assert.equal(choice.nodeName, 'n02');
});
