import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeView, PodAffinityTerm, PodView } from '../../core/model.js';
import { HOSTNAME, nodeInfosOf, testPod, testSnapshot, threeZoneNodes, ZONE } from './fixtures.test-helper.js';
import { HARD_POD_AFFINITY_WEIGHT, interPodAffinityScore } from './inter-pod-affinity-score.js';
import { DEFAULT_PROFILE } from './profiles.js';
import { scoreNodes } from './score.js';
import { FitState } from './state.js';
import { scoresOf } from './plugin.js';

const nodes: NodeView[] = threeZoneNodes();
const selects = (app: string, topologyKey: string): PodAffinityTerm => ({ labelSelector: { matchLabels: { app } }, topologyKey });

function scores(state: FitState, pod: PodView): Record<string, number> {
  if (interPodAffinityScore.skip?.(state, pod) === true) return Object.fromEntries(nodes.map((n) => [n.name, 0]));
  const out = scoresOf(interPodAffinityScore, state, pod, nodeInfosOf(state, nodes));
  return Object.fromEntries(nodes.map((n, i) => [n.name, out[i] as number]));
}

test('preferred affinity and anti-affinity weigh domains; scores are scaled from the lowest (0) to the highest (100)', () => {
  const state = FitState.fromSnapshot(
    testSnapshot(nodes, [
      testPod('cache-1', { nodeName: 'a1', labels: { app: 'cache' } }),
      testPod('db-1', { nodeName: 'b1', labels: { app: 'db' } }),
      testPod('db-2', { nodeName: 'c1', labels: { app: 'db' } }),
    ]),
  );
  const pod = testPod('web-1', {
    labels: { app: 'web' },
    constraints: {
      podAffinity: { preferred: [{ weight: 70, term: selects('cache', ZONE) }, { weight: 20, term: selects('db', HOSTNAME) }] },
      podAntiAffinity: { preferred: [{ weight: 30, term: selects('db', ZONE) }] },
    },
  });
  // Raw: a1 and a2 +70 (zone a has the cache), b1 and c1 +20 (db on the node) −30 (db in the zone) = −10.
  // Scaled: (score − (−10)) / 80 × 100, truncated.
  assert.deepEqual(scores(state, pod), { a1: 100, a2: 100, b1: 0, c1: 0 });
  state.assume(testPod('cache-2', { labels: { app: 'cache' } }), 'b1');
  // b1 gains 70 for zone b: a 70, b1 60, c1 −10 → 100, 87 (70/80), 0.
  assert.deepEqual(scores(state, pod), { a1: 100, a2: 100, b1: 87, c1: 0 });
});

test("placed pods' required affinity (weight 1), preferred affinity and preferred anti-affinity weigh the pods they select", () => {
  const state = FitState.fromSnapshot(
    testSnapshot(nodes, [
      testPod('leader', { nodeName: 'a1', constraints: { podAffinity: { required: [selects('web', ZONE)] } } }),
      testPod('fan', { nodeName: 'b1', constraints: { podAffinity: { preferred: [{ weight: 5, term: selects('web', HOSTNAME) }] } } }),
      testPod('hater', { nodeName: 'c1', constraints: { podAntiAffinity: { preferred: [{ weight: 2, term: selects('web', ZONE) }] } } }),
    ]),
  );
  // The pod prefers nothing itself; a1, a2 +1 (hard affinity weight), b1 +5, c1 −2 → scaled over 7.
  assert.equal(HARD_POD_AFFINITY_WEIGHT, 1);
  assert.deepEqual(scores(state, testPod('web-1', { labels: { app: 'web' } })), { a1: 42, a2: 42, b1: 100, c1: 0 });
  // A pod none of the terms select: skipped, every node 0.
  assert.deepEqual(scores(state, testPod('db-1', { labels: { app: 'db' } })), { a1: 0, a2: 0, b1: 0, c1: 0 });
});

test('skipped when the pod prefers nothing and no placed pod has terms; the count follows assume, forget and clone', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, [testPod('plain', { nodeName: 'a1', labels: { app: 'web' } })]));
  const pod = testPod('web-1', { labels: { app: 'web' } });
  assert.equal(interPodAffinityScore.skip?.(state, pod), true);
  const fan = testPod('fan', { constraints: { podAffinity: { preferred: [{ weight: 5, term: selects('web', ZONE) }] } } });
  state.assume(fan, 'b1');
  assert.equal(state.scoringAffinityPods(), 1);
  assert.equal(interPodAffinityScore.skip?.(state, pod), false);
  const copy = state.clone();
  state.forget(fan);
  assert.equal(state.scoringAffinityPods(), 0);
  assert.equal(interPodAffinityScore.skip?.(state, pod), true);
  assert.equal(copy.scoringAffinityPods(), 1);
  assert.deepEqual(scores(copy, pod), { a1: 0, a2: 0, b1: 100, c1: 0 });
});

test('a pod scored while placed does not prefer its own domain', () => {
  const self = testPod('web-1', {
    nodeName: 'a1',
    labels: { app: 'web' },
    constraints: { podAffinity: { preferred: [{ weight: 10, term: selects('web', ZONE) }] } },
  });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [self, testPod('web-2', { nodeName: 'b1', labels: { app: 'web' } })]));
  const totals = Object.fromEntries(scoreNodes(state, self, DEFAULT_PROFILE).map((s) => [s.nodeName, s.plugins.InterPodAffinity]));
  assert.deepEqual(totals, { a1: 0, a2: 0, b1: 100, c1: 0 });
});
