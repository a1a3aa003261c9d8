import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NodeView } from '../../core/model.js';
import { CLUSTER_NODES, placedPodsArbitrary, podArbitrary } from './arbitraries.test-helper.js';
import { GI, nodeInfosOf, normalizedOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { balancedAllocationScore, balancedAllocationScoreOf } from './node-resources-balanced-allocation.js';
import { leastAllocatedScore, leastRequestedScore, mostAllocatedScore, mostRequestedScore, resourceAllocationScore } from './node-resources-fit.js';
import { normalize, scoresOf } from './plugin.js';
import { COST_AWARE_PROFILE, DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE } from './profiles.js';
import { SCORE_PLUGINS } from './registry.js';
import { bestScoredNodes, ScoreScratch, scoreNodes, selectNode } from './score.js';
import type { SchedulingProfile } from './score.js';
import { FitState } from './state.js';

test('normalize scales to 100 by the highest score, or reverses, as DefaultNormalizeScore', () => {
  assert.deepEqual(normalize([2, 4, 0]), [50, 100, 0]);
  assert.deepEqual(normalize([1, 3]), [33, 100]);
  assert.deepEqual(normalize([2, 4, 0], true), [50, 0, 100]);
  assert.deepEqual(normalize([0, 0]), [0, 0]);
  assert.deepEqual(normalize([0, 0], true), [100, 100]);
  assert.deepEqual(normalize([]), []);
});

const nodes = [testNode('a'), testNode('b')];
const state = FitState.fromSnapshot(testSnapshot(nodes, [testPod('half', { nodeName: 'b', requests: { cpu: 2000, memory: 4 * GI } })]));
const pod = testPod('new', { requests: { cpu: 1000, memory: 2 * GI } });

test('the default profile spreads: the empty node wins 450 to 400, with each plugin score reported (a bare pod has no spread to score)', () => {
  const choice = selectNode(state, pod, DEFAULT_PROFILE);
  assert.ok(choice.ok);
  assert.equal(choice.nodeName, 'a');
  assert.deepEqual(choice.scores, [
    { nodeName: 'a', total: 450, plugins: { TaintToleration: 100, NodeAffinity: 0, PodTopologySpread: 0, InterPodAffinity: 0, NodeResourcesLeastAllocated: 75, NodeResourcesBalancedAllocation: 75 } },
    { nodeName: 'b', total: 400, plugins: { TaintToleration: 100, NodeAffinity: 0, PodTopologySpread: 0, InterPodAffinity: 0, NodeResourcesLeastAllocated: 25, NodeResourcesBalancedAllocation: 75 } },
  ]);
});

test('the most-allocated profile bin-packs onto the fuller node', () => {
  const choice = selectNode(state, pod, MOST_ALLOCATED_PROFILE);
  assert.ok(choice.ok);
  assert.equal(choice.nodeName, 'b');
  assert.deepEqual(choice.scores.map((s) => s.total), [400, 450]);
});

test('ties go to the lowest node name unless the caller breaks them', () => {
  const twins = FitState.fromSnapshot(testSnapshot([testNode('z'), testNode('y'), testNode('x')]));
  const byDefault = selectNode(twins, pod, DEFAULT_PROFILE);
  assert.ok(byDefault.ok);
  assert.equal(byDefault.nodeName, 'x');
  const seen: string[][] = [];
  const last = selectNode(twins, pod, DEFAULT_PROFILE, (candidates) => {
    seen.push([...candidates]);
    return candidates[candidates.length - 1] as string;
  });
  assert.ok(last.ok);
  assert.equal(last.nodeName, 'z');
  assert.deepEqual(seen, [['x', 'y', 'z']]);
  assert.throws(() => selectNode(twins, pod, DEFAULT_PROFILE, () => 'w'), {
    message: 'Cannot select a node for pod "default/new": the tie-break chose "w", not one of the best-scored nodes',
  });
});

test('a pod no node takes gets the scheduler-style reason', () => {
  const choice = selectNode(state, testPod('huge', { requests: { cpu: 5000 } }), DEFAULT_PROFILE);
  assert.deepEqual(choice.ok ? undefined : choice.reason, '0/2 nodes are available: 2 Insufficient cpu.');
});

test('scoreNodes scores the feasible nodes, or the ones given, with the profile weights', () => {
  const profile: SchedulingProfile = { name: 'least-only', filters: ['NodeResourcesFit'], scores: [{ plugin: 'NodeResourcesLeastAllocated', weight: 2 }] };
  assert.deepEqual(scoreNodes(state, pod, profile), [
    { nodeName: 'a', total: 150, plugins: { NodeResourcesLeastAllocated: 75 } },
    { nodeName: 'b', total: 50, plugins: { NodeResourcesLeastAllocated: 25 } },
  ]);
  assert.deepEqual(scoreNodes(state, pod, profile, ['b']), [{ nodeName: 'b', total: 50, plugins: { NodeResourcesLeastAllocated: 25 } }]);
  assert.deepEqual(scoreNodes(state, testPod('huge', { requests: { cpu: 5000 } }), profile), []);
});

test('without a price table CostAware prefers spot nodes', () => {
  const mixed = FitState.fromSnapshot(testSnapshot([testNode('od'), testNode('spot', { capacityType: 'spot' })]));
  const choice = selectNode(mixed, pod, COST_AWARE_PROFILE);
  assert.ok(choice.ok);
  assert.equal(choice.nodeName, 'spot');
  assert.deepEqual(choice.scores.map((s) => s.plugins.CostAware), [0, 100]);
});

test('property: the per-node fast paths score as the general resource functions, and bestScoredNodes picks the best of scoreNodes', () => {
  const profiles = [DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE, COST_AWARE_PROFILE];
  fc.assert(
    fc.property(placedPodsArbitrary(14), podArbitrary(99), fc.constantFrom(...profiles), (placed, pod, profile) => {
      const fit = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      const all = fit.nodeNames.map((name) => fit.node(name) as NodeView);
      assert.deepEqual(
        scoresOf(leastAllocatedScore, fit, pod, nodeInfosOf(fit, all)),
        all.map((node) => resourceAllocationScore(fit, pod, node, leastRequestedScore)),
      );
      assert.deepEqual(
        scoresOf(mostAllocatedScore, fit, pod, nodeInfosOf(fit, all)),
        all.map((node) => resourceAllocationScore(fit, pod, node, mostRequestedScore)),
      );
      const bestEffort = (pod.requests['cpu'] ?? 0) === 0 && (pod.requests['memory'] ?? 0) === 0;
      assert.deepEqual(
        scoresOf(balancedAllocationScore, fit, pod, nodeInfosOf(fit, all)),
        all.map((node) => (bestEffort ? 0 : balancedAllocationScoreOf(fit, pod, node))),
      );
      for (const plugin of SCORE_PLUGINS) {
        if (plugin.skip?.(fit, pod) !== true) continue;
        const raw = scoresOf(plugin, fit, pod, nodeInfosOf(fit, all));
        assert.deepEqual(normalizedOf(plugin, raw), all.map(() => 0), `${plugin.name} skips ${pod.name} but scores a node above 0`);
      }
      const scores = scoreNodes(fit, pod, profile, fit.nodeNames);
      const best = Math.max(...scores.map((s) => s.total));
      assert.deepEqual(
        bestScoredNodes(fit, pod, profile, fit.nodeNames),
        scores.filter((s) => s.total === best).map((s) => s.nodeName),
      );
    }),
    { numRuns: 300 },
  );
});

test('property: one ScoreScratch reused from pod to pod picks the nodes fresh buffers pick, whatever the node counts before', () => {
  const profiles = [DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE, COST_AWARE_PROFILE];
  fc.assert(
    fc.property(
      placedPodsArbitrary(14),
      fc.array(fc.tuple(podArbitrary(99), fc.integer({ min: 1, max: CLUSTER_NODES.length })), { minLength: 2, maxLength: 6 }),
      fc.constantFrom(...profiles),
      (placed, pods, profile) => {
        const fit = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
        const scratch = new ScoreScratch();
        for (const [pod, count] of pods) {
          // A longer list before a shorter one leaves stale totals and scores past the end.
          const nodes = nodeInfosOf(fit, fit.nodeNames.slice(0, count).map((name) => fit.node(name) as NodeView));
          assert.deepEqual(bestScoredNodes(fit, pod, profile, nodes, scratch), bestScoredNodes(fit, pod, profile, nodes));
          const scores = scoreNodes(fit, pod, profile, fit.nodeNames.slice(0, count));
          const best = Math.max(...scores.map((s) => s.total));
          assert.deepEqual(bestScoredNodes(fit, pod, profile, nodes, scratch), scores.filter((s) => s.total === best).map((s) => s.nodeName));
        }
      },
    ),
    { numRuns: 200 },
  );
});
