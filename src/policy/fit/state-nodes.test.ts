/**
 * A fit state that grows and shrinks: nodes added, removed and updated (labels, taints,
 * unschedulable, allocatable) among assumed and forgotten pods must leave every index as a state
 * built from scratch on the final nodes and pods would have it. Checked on random sequences by
 * comparing every filter's verdict and every shipped profile's scores for random pods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NodeView, PodView, Taint } from '../../core/model.js';
import { PriceTable } from '../../core/pricing.js';
import { HOSTNAME, podArbitrary, spreadPodArbitrary, ZONE } from './arbitraries.test-helper.js';
import { GI, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { filterNodes } from './filter.js';
import { COST_AWARE_PROFILE, DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE } from './profiles.js';
import { scoreNodes } from './score.js';
import { FitState } from './state.js';

const RS_SELECTOR = { matchLabels: { app: 'rs' } };

const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'] as const;
const SPOT_TAINT: Taint = { key: 'spot', value: 'true', effect: 'NoSchedule' };
const SOFT_TAINT: Taint = { key: 'DeletionCandidateOfClusterAutoscaler', value: '1', effect: 'PreferNoSchedule' };
const prices = PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } });

interface NodeShape {
  readonly zone: string | undefined;
  readonly pool: boolean;
  readonly small: boolean;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
  readonly spot: boolean;
}

const shape: fc.Arbitrary<NodeShape> = fc.record({
  zone: fc.constantFrom('zone-a', 'zone-b', 'zone-c', undefined),
  pool: fc.boolean(),
  small: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  taints: fc.constantFrom<readonly Taint[]>([], [], [SPOT_TAINT], [SOFT_TAINT]),
  unschedulable: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  spot: fc.boolean(),
});

function nodeOf(name: string, s: NodeShape): NodeView {
  const base = testNode(name, {
    zone: s.zone ?? '',
    taints: s.taints,
    unschedulable: s.unschedulable,
    capacityType: s.spot ? 'spot' : 'on-demand',
    ...(s.small ? { allocatable: { cpu: 1000, memory: 2 * GI, pods: 4 } } : {}),
  });
  const labels: Record<string, string> = { [HOSTNAME]: name };
  if (s.zone !== undefined) labels[ZONE] = s.zone;
  if (s.pool) labels['pool'] = 'batch';
  return { ...base, labels, zone: s.zone ?? '' };
}

type Op =
  | { readonly kind: 'add'; readonly name: string; readonly shape: NodeShape }
  | { readonly kind: 'remove'; readonly name: string }
  | { readonly kind: 'update'; readonly name: string; readonly shape: NodeShape }
  | { readonly kind: 'taints'; readonly name: string; readonly taints: readonly Taint[] }
  | { readonly kind: 'assume'; readonly pod: number; readonly name: string }
  | { readonly kind: 'forget'; readonly pod: number }
  | { readonly kind: 'cordon'; readonly name: string; readonly on: boolean };

const name = fc.constantFrom(...NAMES);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('add' as const), name, shape }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('remove' as const), name }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('update' as const), name, shape }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('taints' as const), name, taints: shape.map((s) => s.taints) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('assume' as const), pod: fc.nat(11), name }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('forget' as const), pod: fc.nat(11) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('cordon' as const), name, on: fc.boolean() }), weight: 1 },
);

/** Pods for the sequence, half of them replicas of one of two ReplicaSets (for the system-default spread). */
const pods: fc.Arbitrary<PodView[]> = fc.tuple(...Array.from({ length: 12 }, (_, i) => fc.tuple(podArbitrary(i), fc.constantFrom(undefined, 'rs-a', 'rs-b')))).map((list) =>
  list.map(([pod, rs]) => (rs === undefined ? pod : { ...pod, constraints: { ...pod.constraints, topologySpread: undefined }, controllerRef: { kind: 'ReplicaSet', name: rs, uid: rs } })),
);

const probes: fc.Arbitrary<PodView[]> = fc.tuple(
  podArbitrary(100),
  podArbitrary(101),
  spreadPodArbitrary(102),
  podArbitrary(103).map((p) => ({ ...p, constraints: {}, controllerRef: { kind: 'ReplicaSet', name: 'rs-a', uid: 'rs-a' } })),
);

/** The outcome of every filter and every profile's scores for `pod`, as plain data. */
function verdicts(state: FitState, pod: PodView): unknown {
  const { feasible, rejected } = filterNodes(state, pod);
  return {
    feasible,
    rejected: [...rejected].sort(([a], [b]) => (a < b ? -1 : 1)),
    scores: [DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE, COST_AWARE_PROFILE].map((profile) => scoreNodes(state, pod, profile)),
  };
}

/** Builds every lazy index now, so the sequence exercises their incremental upkeep. */
function warm(state: FitState, probe: readonly PodView[]): void {
  state.prepareIndexes(['app', 'tier'], true);
  for (const pod of probe) verdicts(state, pod);
}

test('property: a state grown, shrunk and updated by a random sequence equals one rebuilt from scratch', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(name, shape), { selector: ([n]) => n, maxLength: 5 }), pods, fc.array(op, { maxLength: 40 }), probes, (initial, podList, ops, probe) => {
      const nodes = new Map<string, NodeView>(initial.map(([n, s]) => [n, nodeOf(n, s)]));
      const placement = new Map<string, string>();
      const cordoned = new Set<string>();
      const state = FitState.fromSnapshot(testSnapshot([...nodes.values()]), { prices });
      warm(state, probe);
      for (const o of ops) {
        switch (o.kind) {
          case 'add':
            if (nodes.has(o.name)) {
              assert.throws(() => state.addNode(nodeOf(o.name, o.shape)), /already holds it/);
              break;
            }
            nodes.set(o.name, nodeOf(o.name, o.shape));
            state.addNode(nodeOf(o.name, o.shape));
            break;
          case 'remove':
            if (!nodes.has(o.name)) {
              assert.throws(() => state.removeNode(o.name), /not in the state/);
              break;
            }
            nodes.delete(o.name);
            cordoned.delete(o.name);
            for (const [uid, at] of placement) if (at === o.name) placement.delete(uid);
            state.removeNode(o.name);
            break;
          case 'update':
            if (!nodes.has(o.name)) break;
            nodes.set(o.name, nodeOf(o.name, o.shape));
            state.updateNode(nodeOf(o.name, o.shape));
            break;
          case 'taints': {
            const node = nodes.get(o.name);
            if (node === undefined) break;
            nodes.set(o.name, { ...node, taints: o.taints });
            state.setTaints(o.name, o.taints);
            break;
          }
          case 'assume': {
            const pod = podList[o.pod] as PodView;
            if (!nodes.has(o.name) || placement.has(pod.uid)) break;
            placement.set(pod.uid, o.name);
            state.assume(pod, o.name);
            break;
          }
          case 'forget': {
            const pod = podList[o.pod] as PodView;
            if (!placement.delete(pod.uid)) break;
            state.forget(pod);
            break;
          }
          case 'cordon':
            if (!nodes.has(o.name)) break;
            if (o.on) {
              cordoned.add(o.name);
              state.cordon(o.name);
            } else {
              cordoned.delete(o.name);
              state.uncordon(o.name);
            }
            break;
        }
        // Read between steps too, so memos made mid-sequence must be dropped when they go stale.
        if (o.kind === 'add' || o.kind === 'update') verdicts(state, probe[0] as PodView);
      }
      const placed = podList.filter((p) => placement.has(p.uid)).map((p) => ({ ...p, nodeName: placement.get(p.uid) as string }));
      const rebuilt = FitState.fromSnapshot(testSnapshot([...nodes.values()], placed), { prices });
      for (const n of cordoned) rebuilt.cordon(n);
      assert.deepEqual(state.nodeNames, rebuilt.nodeNames);
      for (const n of state.nodeNames) {
        assert.deepEqual(state.node(n), rebuilt.node(n));
        assert.deepEqual(state.podsOn(n).map((p) => p.uid).sort(), rebuilt.podsOn(n).map((p) => p.uid).sort());
        assert.deepEqual(state.nonZeroRequested(n), rebuilt.nonZeroRequested(n));
      }
      for (const pod of [...probe, ...podList]) assert.deepEqual(verdicts(state, pod), verdicts(rebuilt, pod), `pod ${pod.name}`);
    }),
    { numRuns: 150 },
  );
});

test('nodeNames stays sorted through adds and removes, and a list read before a change is left as it was', () => {
  const state = FitState.fromSnapshot(testSnapshot([testNode('m'), testNode('c')]));
  const before = state.nodeNames;
  assert.deepEqual(before, ['c', 'm']);
  state.addNode(testNode('x'));
  state.addNode(testNode('a'));
  assert.deepEqual(before, ['c', 'm'], 'a caller iterating the old list is not disturbed');
  const grown = state.nodeNames;
  assert.deepEqual(grown, ['a', 'c', 'm', 'x']);
  assert.equal(state.nodeNames, grown, 'read again without a change: the same list');
  state.removeNode('c');
  assert.deepEqual(grown, ['a', 'c', 'm', 'x']);
  assert.deepEqual(state.nodeNames, ['a', 'm', 'x']);
  assert.deepEqual(state.clone().nodeNames, ['a', 'm', 'x']);
});

test('addNode, removeNode and updateNode refuse what the scheduler cache would refuse, and a clone keeps its nodes', () => {
  const state = FitState.fromSnapshot(testSnapshot([testNode('a')], [testPod('p', { nodeName: 'a' })]));
  assert.throws(() => state.addNode(testNode('a')), /Cannot add node "a": the state already holds it/);
  assert.throws(() => state.removeNode('b'), /Cannot remove node "b": the node is not in the state/);
  assert.throws(() => state.updateNode(testNode('b')), /Cannot update node "b": the node is not in the state/);
  const copy = state.clone();
  state.addNode(testNode('b'));
  state.removeNode('a');
  assert.deepEqual(state.nodeNames, ['b']);
  assert.equal(state.nodeOf(testPod('p')), undefined, 'a removed node takes its pods out of the state');
  assert.deepEqual(copy.nodeNames, ['a']);
  assert.deepEqual(copy.podsOn('a').map((p) => p.name), ['p']);
});

test('a removed node\'s index is reused by the next node without carrying counts over', () => {
  const rs = { kind: 'ReplicaSet', name: 'rs', uid: 'rs' } as const;
  const replica = (name: string, nodeName: string): PodView => testPod(name, { nodeName, labels: { app: 'rs' }, controllerRef: rs, spreadSelector: RS_SELECTOR });
  const state = FitState.fromSnapshot(testSnapshot([testNode('a'), testNode('b')], [replica('p1', 'a'), replica('p2', 'b')]));
  assert.deepEqual(Array.from(selectedCounts(state)).slice(0, 2), [1, 1]);
  const old = state.nodeInfo('a')?.index;
  state.removeNode('a');
  state.addNode(testNode('c'));
  assert.equal(state.nodeInfo('c')?.index, old);
  const counts = selectedCounts(state);
  assert.equal(counts[state.nodeInfo('c')?.index ?? -1], 0);
  assert.equal(counts[state.nodeInfo('b')?.index ?? -1], 1);
});

test('a relabelled node moves its pods\' anti-affinity to the new topology value', () => {
  const repel = { required: [{ topologyKey: ZONE, labelSelector: { matchLabels: { app: 'a' } } }] };
  const x = testPod('x', { nodeName: 'a', labels: { app: 'x' }, constraints: { podAntiAffinity: repel } });
  const state = FitState.fromSnapshot(testSnapshot([testNode('a', { zone: 'zone-a' }), testNode('b', { zone: 'zone-b' }), testNode('c', { zone: 'zone-c' })], [x]));
  const probe = testPod('probe', { labels: { app: 'a' } });
  assert.deepEqual(filterNodes(state, probe).feasible, ['b', 'c']);
  state.updateNode(testNode('a', { zone: 'zone-b' }));
  assert.deepEqual(filterNodes(state, probe).feasible, ['c']);
  state.forget(x);
  assert.deepEqual(filterNodes(state, probe).feasible, ['a', 'b', 'c']);
});

test('per-node counts grow with the node set: forty nodes added after the counts were built', () => {
  const rs = { kind: 'ReplicaSet', name: 'rs', uid: 'rs' } as const;
  const replica = (name: string, nodeName: string): PodView => testPod(name, { nodeName, labels: { app: 'rs' }, controllerRef: rs, spreadSelector: RS_SELECTOR });
  const state = FitState.fromSnapshot(testSnapshot([testNode('a')], [replica('p0', 'a')]));
  const probe = replica('probe', '');
  scoreNodes(state, probe, DEFAULT_PROFILE);
  const names = Array.from({ length: 40 }, (_, i) => `m${String(i).padStart(2, '0')}`);
  for (const n of names) state.addNode(testNode(n, { zone: n < 'm20' ? 'zone-a' : 'zone-b' }));
  const placed = names.filter((_, i) => i % 3 === 0).map((n, i) => replica(`q${i}`, n));
  for (const pod of placed) state.assume(pod, pod.nodeName);
  const rebuilt = FitState.fromSnapshot(testSnapshot([testNode('a'), ...names.map((n) => testNode(n, { zone: n < 'm20' ? 'zone-a' : 'zone-b' }))], [replica('p0', 'a'), ...placed]));
  assert.deepEqual(scoreNodes(state, probe, DEFAULT_PROFILE), scoreNodes(rebuilt, probe, DEFAULT_PROFILE));
  assert.equal(selectedCounts(state)[state.nodeInfo('m39')?.index ?? -1], 1);
});

/** What the system-default spread counts for the ReplicaSet "rs": its placed, non-terminating pods per node index. */
function selectedCounts(state: FitState): Int32Array {
  const counts = new Int32Array(state.nodeIndexBound);
  state.forEachMatchingPod(['default'], RS_SELECTOR, (pod, node) => {
    const index = state.nodeInfo(node.name)?.index;
    if (pod.deletionRequestedAt === undefined && index !== undefined) counts[index] = (counts[index] as number) + 1;
  });
  return counts;
}

test('a node added then removed gives the node memos of before back; any other node change starts them over', () => {
  const state = FitState.fromSnapshot(testSnapshot([testNode('a', { zone: 'zone-a' }), testNode('b', { zone: 'zone-b' })], []));
  let computed = 0;
  const memo = (): number => state.nodeMemo('test', () => ++computed);
  assert.equal(memo(), 1);
  state.addNode(testNode('t1'));
  state.addNode(testNode('t2'));
  assert.equal(memo(), 2, 'a new node set computes anew');
  state.removeNode('t2');
  state.removeNode('t1');
  assert.equal(memo(), 1, 'trial nodes undone in reverse order: the memo of the original nodes is back');
  state.addNode(testNode('t1'));
  state.addNode(testNode('t2'));
  state.removeNode('t1');
  assert.equal(memo(), 3, 'not the node added last: nothing is restored');
  state.removeNode('t2');
  assert.equal(memo(), 4, 'an undo chain broken once stays broken');
  state.addNode(testNode('t3'));
  state.updateNode(testNode('a', { zone: 'zone-c' }));
  state.removeNode('t3');
  assert.equal(memo(), 5, 'a relabelled node forbids restoring a memo made before it');
});
