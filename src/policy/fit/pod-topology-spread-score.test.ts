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
import { nodeInfosOf, normalizedOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { MAX_NODE_SCORE, scoresOf } from './plugin.js';
import { podTopologySpreadScore, SYSTEM_DEFAULT_SPREAD } from './pod-topology-spread.js';
import { FitState } from './state.js';

const nodes: NodeView[] = [testNode('a1', { zone: 'zone-a' }), testNode('a2', { zone: 'zone-a' }), testNode('b1', { zone: 'zone-b' }), testNode('c1', { zone: 'zone-c' })];
const rs = (uid: string): PodView['controllerRef'] => ({ kind: 'ReplicaSet', name: uid, uid });
/** A replica of a ReplicaSet selecting `app: <app>, pod-template-hash: <uid>`, as the deployment controller makes them. */
const replica = (name: string, nodeName: string, uid = 'rs-1', extra: Partial<PodView> = {}): PodView =>
  testPod(name, { nodeName, labels: { app: 'web', 'pod-template-hash': uid }, controllerRef: rs(uid), spreadSelector: { matchLabels: { app: 'web', 'pod-template-hash': uid } }, ...extra });

function scores(state: FitState, pod: PodView, on: readonly NodeView[] = nodes): number[] {
  if (podTopologySpreadScore.skip?.(state, pod) === true) return on.map(() => 0);
  const raw = scoresOf(podTopologySpreadScore, state, pod, nodeInfosOf(state, on));
  return normalizedOf(podTopologySpreadScore, raw);
}

test('system defaults: a ReplicaSet pod with no constraints prefers the node and zone with the fewest of its replicas', () => {
  // 2 replicas on a1, 1 on b1; another ReplicaSet's pods and a terminating replica don't count.
  const placed = [replica('r1', 'a1'), replica('r2', 'a1'), replica('r3', 'b1'), replica('o1', 'c1', 'rs-2'), replica('gone', 'c1', 'rs-1', { deletionRequestedAt: 1 })];
  const state = FitState.fromSnapshot(testSnapshot(nodes, placed));
  // hostname: weight ln(4+2), +2; zone: weight ln(3+2), +4. Raw: a1 13, a2 9, b1 9, c1 6.
  // Normalized: 100 × (13 + 6 − s) / 13, truncated.
  assert.deepEqual(scores(state, replica('new', '')), [46, 76, 76, 100]);
});

test('system defaults count every pod the selector selects, whoever owns it, as upstream (not by controller)', () => {
  // A bare pod that looks like a replica counts; so does one of another ReplicaSet whose labels match.
  const lookAlikes = [
    replica('r1', 'a1'),
    testPod('bare', { nodeName: 'a1', labels: { app: 'web', 'pod-template-hash': 'rs-1' } }),
    testPod('other', { nodeName: 'a1', labels: { app: 'web', 'pod-template-hash': 'rs-1' }, controllerRef: rs('rs-9') }),
    replica('r3', 'b1'),
  ];
  const state = FitState.fromSnapshot(testSnapshot(nodes, lookAlikes));
  // hostname ln 6, +2; zone ln 5, +4. a1: 3 host, 3 zone → 3×1.79+2+3×1.61+4 = 16.2 → 16; a2: 0 + 2 + 4.83 + 4 → 11;
  // b1: 1.79+2+1.61+4 → 9; c1: 6. Normalized 100 × (16 + 6 − s) / 16.
  assert.deepEqual(scores(state, replica('new', '')), [37, 68, 81, 100]);
});

test('system defaults spread a bare pod a Service selects (its selector comes from the Service)', () => {
  const placed = [testPod('s1', { nodeName: 'a1', labels: { app: 'api' } }), testPod('s2', { nodeName: 'b1', labels: { app: 'api' } })];
  const state = FitState.fromSnapshot(testSnapshot(nodes, placed));
  const bare = testPod('new', { labels: { app: 'api' }, spreadSelector: { matchLabels: { app: 'api' } } });
  assert.equal(podTopologySpreadScore.skip?.(state, bare), false);
  // a1: 1.79+2+1.61+4 = 9.4 → 9; a2: 2+1.61+4 = 7.6 → 8; b1: 1.79+2+1.61+4 → 9; c1: 6. 100 × (9 + 6 − s) / 9.
  assert.deepEqual(scores(state, bare), [66, 77, 66, 100]);
});

test('system defaults: a node without the zone label scores on its hostname, and adds a domain "" to the zone weight', () => {
  const noZone: NodeView = { ...testNode('x1'), labels: { [HOSTNAME]: 'x1' }, zone: '' };
  const all = [...nodes, noZone];
  const state = FitState.fromSnapshot(testSnapshot(all, [replica('r1', 'a1'), replica('r2', 'x1')]));
  // hostname ln(5+2) = 1.95, +2; zone: a, b, c and "" → ln(4+2) = 1.79, +4 (upstream's
  // requireAllTopologies is false for the system defaults). a1: 1.95+2+1.79+4 = 9.7 → 10; a2: 2+1.79+4 → 8;
  // b1, c1: 6; x1: 1.95+2 → 4 (no zone term). Normalized 100 × (10 + 4 − s) / 10.
  assert.deepEqual(scores(state, replica('new', ''), all), [40, 60, 80, 80, 100]);
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
  const empty = testPod('empty', { controllerRef: rs('rs-1'), spreadSelector: {} });
  for (const pod of [testPod('bare'), testPod('ds', { controllerRef: { kind: 'DaemonSet', name: 'ds', uid: 'ds-1' } }), replica('hard', '', 'rs-1', { constraints: hard }), empty]) {
    assert.equal(podTopologySpreadScore.skip?.(state, pod), true, pod.name);
  }
  assert.equal(podTopologySpreadScore.skip?.(state, testPod('sts', { controllerRef: { kind: 'StatefulSet', name: 'db', uid: 'sts-1' }, spreadSelector: { matchLabels: { app: 'db' } } })), false);
});

test('with every node holding as many replicas, every node scores 100', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes.slice(0, 1), []));
  assert.deepEqual(scores(state, replica('new', ''), nodes.slice(0, 1)), [MAX_NODE_SCORE]);
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
    const sel = pod.spreadSelector;
    const empty = sel === undefined || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
    // buildDefaultConstraints: no constraints for an empty DefaultSelector; else the pods of the namespace it selects.
    constraints = empty ? [] : SYSTEM_DEFAULT_SPREAD.map((d) => ({ key: d.topologyKey, maxSkew: d.maxSkew, counts: (p: PodView) => p.namespace === pod.namespace && matchesLabelSelector(sel, p.labels) }));
  }
  if (constraints.length === 0) return feasible.map(() => 0);
  const live = placed.filter((p) => p.uid !== pod.uid && p.nodeName !== '' && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.deletionRequestedAt === undefined);
  const hasAll = (n: NodeView): boolean => constraints.every((c) => n.labels[c.key] !== undefined);
  const ignored = new Set(feasible.filter((n) => requireAll && !hasAll(n)).map((n) => n.name));
  const tp = constraints.map(() => new Map<string, number>());
  for (const n of feasible) {
    if (ignored.has(n.name)) continue;
    constraints.forEach((c, i) => {
      // A missing label reads as "" (Go's map lookup); only the pod's own constraints leave such nodes out.
      const v = n.labels[c.key] ?? '';
      if (c.key !== HOSTNAME) tp[i]?.set(v, 0);
    });
  }
  const size = constraints.map((c, i) => (c.key === HOSTNAME ? feasible.length - ignored.size : (tp[i] as Map<string, number>).size));
  for (const n of CLUSTER_NODES) {
    if (!matchesRequiredNodeAffinity(pod.constraints, n) || (requireAll && !hasAll(n))) continue;
    constraints.forEach((c, i) => {
      const v = n.labels[c.key] ?? '';
      const m = tp[i] as Map<string, number>;
      if (c.key === HOSTNAME || !m.has(v)) return;
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

/** Random default selectors (of a ReplicaSet, of Services, none, empty), so the system defaults apply often and select look-alikes. */
const withControllers = (pods: PodView[]): fc.Arbitrary<PodView[]> =>
  fc.tuple(
    ...pods.map((p) =>
      fc
        .constantFrom<PodView['spreadSelector']>({ matchLabels: { app: 'a' } }, { matchLabels: { app: 'b', tier: 'x' } }, { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, {}, undefined)
        .map((spreadSelector) => ({ ...p, ...(spreadSelector === undefined ? {} : { spreadSelector }) })),
    ),
  );
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

test('domains numbered before nodes joined, left or changed zone score as on a state built afresh', () => {
  const placed = [replica('r1', 'a1'), replica('r2', 'a1'), replica('r3', 'b1'), replica('r4', 'c1')];
  const state = FitState.fromSnapshot(testSnapshot(nodes, placed));
  const pod = replica('new', '');
  const current = new Map(nodes.map((n) => [n.name, n]));
  // Each step changes the node set or a node's zone, then scores: the numbering kept from the step before must follow.
  const put = (name: string, zone: string, change: (node: NodeView) => void): (() => void) => () => {
    const node = testNode(name, { zone });
    current.set(name, node);
    change(node);
  };
  const steps: (() => void)[] = [
    put('a2', 'zone-c', (node) => state.updateNode(node)),
    put('d1', 'zone-d', (node) => state.addNode(node)),
    () => {
      current.delete('c1');
      placed.splice(3, 1);
      state.removeNode('c1');
    },
    // Takes the slot c1 left, in c1's zone: the slot is the same number, the node is not.
    put('e1', 'zone-b', (node) => state.addNode(node)),
    put('b1', '', (node) => state.updateNode(node)),
  ];
  assert.deepEqual(scores(state, pod, [...current.values()]), scores(FitState.fromSnapshot(testSnapshot([...current.values()], placed)), pod, [...current.values()]));
  for (const step of steps) {
    step();
    const all = [...current.values()];
    assert.deepEqual(scores(state, pod, all), scores(FitState.fromSnapshot(testSnapshot(all, placed)), pod, all));
  }
});
