/**
 * PodTopologySpread's Score: hand-computed cases, then a brute-force transcription of
 * kube-scheduler's PreScore, Score and NormalizeScore (pkg/scheduler/framework/plugins/
 * podtopologyspread/scoring.go) on random small clusters, before and after assume and forget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matchesLabelSelector, matchesRequiredNodeAffinity } from '../../core/labels.js';
import type { NodeView, PodView } from '../../core/model.js';
import { applyMoves, CLUSTER_NODES, HOSTNAME, movesArbitrary, placedPodsArbitrary, podArbitrary } from './arbitraries.test-helper.js';
import { nodeInfosOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { MAX_NODE_SCORE } from './plugin.js';
import { podTopologySpreadScore, SYSTEM_DEFAULT_SPREAD } from './pod-topology-spread.js';
import { FitState } from './state.js';

const nodes: NodeView[] = [testNode('a1', { zone: 'zone-a' }), testNode('a2', { zone: 'zone-a' }), testNode('b1', { zone: 'zone-b' }), testNode('c1', { zone: 'zone-c' })];
const rs = (uid: string): PodView['controllerRef'] => ({ kind: 'ReplicaSet', name: uid, uid });
const replica = (name: string, nodeName: string, uid = 'rs-1', extra: Partial<PodView> = {}): PodView => testPod(name, { nodeName, labels: { app: 'web' }, controllerRef: rs(uid), ...extra });

function scores(state: FitState, pod: PodView, on: readonly NodeView[] = nodes): number[] {
  if (podTopologySpreadScore.skip?.(state, pod) === true) return on.map(() => 0);
  const raw = podTopologySpreadScore.score(state, pod, nodeInfosOf(state, on));
  return podTopologySpreadScore.normalize ? podTopologySpreadScore.normalize(raw) : raw;
}

test('system defaults: a ReplicaSet pod with no constraints prefers the node and zone with the fewest of its replicas', () => {
  // 2 replicas on a1, 1 on b1; another ReplicaSet's pods and a terminating replica don't count.
  const placed = [replica('r1', 'a1'), replica('r2', 'a1'), replica('r3', 'b1'), replica('o1', 'c1', 'rs-2'), replica('gone', 'c1', 'rs-1', { deletionRequestedAt: 1 })];
  const state = FitState.fromSnapshot(testSnapshot(nodes, placed));
  // hostname: weight ln(4+2), +2; zone: weight ln(3+2), +4. Raw: a1 13, a2 9, b1 9, c1 6.
  // Normalized: 100 × (13 + 6 − s) / 13, truncated.
  assert.deepEqual(scores(state, testPod('new', { labels: { app: 'web' }, controllerRef: rs('rs-1') })), [46, 76, 76, 100]);
});

test('own ScheduleAnyway constraints replace the defaults; a node without the key scores 0', () => {
  const noZone: NodeView = { ...testNode('x1'), labels: { [HOSTNAME]: 'x1' }, zone: '' };
  const all = [...nodes, noZone];
  const web = (name: string, nodeName: string): PodView => testPod(name, { nodeName, labels: { app: 'web' } });
  const state = FitState.fromSnapshot(testSnapshot(all, [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1'), web('w4', 'x1')]));
  const pod = testPod('new', {
    labels: { app: 'web' },
    controllerRef: rs('rs-1'),
    constraints: { topologySpread: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }] },
  });
  // Zones a, b, c hold 2, 1, 0 (x1's pod is in no zone): raw 3, 3, 2, 0; x1 ignored.
  assert.deepEqual(scores(state, pod, all), [0, 0, 33, 100, 0]);
});

test('nothing to spread: skipped for bare pods, DaemonSet pods and pods with only DoNotSchedule constraints', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, [replica('r1', 'a1')]));
  const hard = { topologySpread: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' as const, labelSelector: { matchLabels: { app: 'web' } } }] };
  for (const pod of [testPod('bare'), testPod('ds', { controllerRef: { kind: 'DaemonSet', name: 'ds', uid: 'ds-1' } }), testPod('hard', { controllerRef: rs('rs-1'), constraints: hard })]) {
    assert.equal(podTopologySpreadScore.skip?.(state, pod), true, pod.name);
  }
  assert.equal(podTopologySpreadScore.skip?.(state, testPod('sts', { controllerRef: { kind: 'StatefulSet', name: 'db', uid: 'sts-1' } })), false);
});

test('with every node holding as many replicas, every node scores 100', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes.slice(0, 1), []));
  assert.deepEqual(scores(state, testPod('new', { controllerRef: rs('rs-1') }), nodes.slice(0, 1)), [MAX_NODE_SCORE]);
});

// --- reference ------------------------------------------------------------------------------

/** Upstream's Score and NormalizeScore over every placed pod, with no index. */
function reference(placed: readonly PodView[], pod: PodView, feasible: readonly NodeView[]): number[] {
  const own = pod.constraints.topologySpread ?? [];
  type C = { key: string; maxSkew: number; counts: (p: PodView) => boolean };
  let constraints: C[];
  let requireAll: boolean;
  if (own.length > 0) {
    requireAll = true;
    constraints = own
      .filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway')
      .map((c) => {
        const sel = c.labelSelector;
        const empty = sel === undefined || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
        return { key: c.topologyKey, maxSkew: c.maxSkew, counts: (p: PodView) => !empty && p.namespace === pod.namespace && matchesLabelSelector(sel, p.labels) };
      });
  } else {
    requireAll = false;
    const uid = pod.controllerRef?.uid;
    const kind = pod.controllerRef?.kind ?? '';
    // DefaultSelector from the pod's ReplicaSet or StatefulSet: its pods (modelled by controller uid).
    constraints = uid === undefined || !['ReplicaSet', 'StatefulSet', 'ReplicationController'].includes(kind) ? [] : SYSTEM_DEFAULT_SPREAD.map((d) => ({ key: d.topologyKey, maxSkew: d.maxSkew, counts: (p: PodView) => p.controllerRef?.uid === uid }));
  }
  if (constraints.length === 0) return feasible.map(() => 0);
  const live = placed.filter((p) => p.uid !== pod.uid && p.nodeName !== '' && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.deletionRequestedAt === undefined);
  const hasAll = (n: NodeView): boolean => constraints.every((c) => n.labels[c.key] !== undefined);
  const ignored = new Set(feasible.filter((n) => requireAll && !hasAll(n)).map((n) => n.name));
  const tp = constraints.map(() => new Map<string, number>());
  for (const n of feasible) {
    if (ignored.has(n.name)) continue;
    constraints.forEach((c, i) => {
      const v = n.labels[c.key];
      if (c.key !== HOSTNAME && v !== undefined) tp[i]?.set(v, 0);
    });
  }
  const size = constraints.map((c, i) => (c.key === HOSTNAME ? feasible.length - ignored.size : (tp[i] as Map<string, number>).size));
  for (const n of CLUSTER_NODES) {
    if (!matchesRequiredNodeAffinity(pod.constraints, n) || (requireAll && !hasAll(n))) continue;
    constraints.forEach((c, i) => {
      const v = n.labels[c.key];
      const m = tp[i] as Map<string, number>;
      if (c.key === HOSTNAME || v === undefined || !m.has(v)) return;
      m.set(v, (m.get(v) as number) + live.filter((p) => p.nodeName === n.name && c.counts(p)).length);
    });
  }
  const raw = feasible.map((n) => {
    if (ignored.has(n.name)) return undefined;
    let s = 0;
    constraints.forEach((c, i) => {
      const v = n.labels[c.key];
      if (v === undefined) return;
      const cnt = c.key === HOSTNAME ? live.filter((p) => p.nodeName === n.name && c.counts(p)).length : ((tp[i] as Map<string, number>).get(v) as number);
      s += cnt * Math.log((size[i] as number) + 2) + (c.maxSkew - 1);
    });
    return Math.round(s);
  });
  const valid = raw.filter((s): s is number => s !== undefined);
  const min = Math.min(...valid);
  const max = Math.max(0, ...valid);
  return raw.map((s) => (s === undefined ? 0 : max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - s)) / max)));
}

/** Random pods, each of one of two ReplicaSets or none, so the system defaults apply often. */
const withControllers = (pods: PodView[]): fc.Arbitrary<PodView[]> =>
  fc.tuple(...pods.map((p) => fc.constantFrom<PodView['controllerRef']>(rs('rs-a'), rs('rs-b'), { kind: 'StatefulSet', name: 'db', uid: 'sts-1' }, undefined).map((ref) => ({ ...p, ...(ref === undefined ? {} : { controllerRef: ref }) }))));
const scenario = fc.tuple(placedPodsArbitrary(14).chain(withControllers), podArbitrary(99).chain((p) => withControllers([p]).map((ps) => ps[0] as PodView)), fc.subarray([...CLUSTER_NODES], { minLength: 1 }));

test('property: the score equals upstream transcribed, on random clusters', () => {
  fc.assert(
    fc.property(scenario, ([placed, pod, feasible]) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      assert.deepEqual(scores(state, pod, feasible), reference(placed, pod, feasible));
    }),
    { numRuns: 500 },
  );
});

test('property: after assume and forget the score equals a state rebuilt from scratch', () => {
  const withMoves = scenario.chain(([placed, pod, feasible]) => fc.tuple(fc.constant(placed), fc.constant(pod), fc.constant(feasible), movesArbitrary(placed.length)));
  fc.assert(
    fc.property(withMoves, ([placed, pod, feasible, moves]) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      scores(state, pod, feasible); // builds the controller index before the moves
      const current = applyMoves(state, placed, moves);
      const rebuilt = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, current));
      assert.deepEqual(scores(state, pod, feasible), scores(rebuilt, pod, feasible));
      assert.deepEqual(scores(state, pod, feasible), reference(current, pod, feasible));
    }),
    { numRuns: 300 },
  );
});
