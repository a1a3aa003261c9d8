/**
 * fast-check generators of small random clusters for the fit property tests: few label values,
 * so that selectors, affinity terms and spread constraints often match.
 */
import fc from 'fast-check';
import type { LabelSelector, LabelSelectorRequirement, NodeView, PodAffinityTerm, PodView, SchedulingConstraints, TopologySpreadConstraint } from '../../core/model.js';
import { GI, testNode, testPod } from './fixtures.test-helper.js';
import type { FitState } from './state.js';

export const HOSTNAME = 'kubernetes.io/hostname';
export const ZONE = 'topology.kubernetes.io/zone';

/** Six nodes over three zones; one lacks the zone label, one is small. */
export const CLUSTER_NODES: readonly NodeView[] = [
  testNode('n1', { zone: 'zone-a' }),
  testNode('n2', { zone: 'zone-a', allocatable: { cpu: 1000, memory: 2 * GI, pods: 4 } }),
  testNode('n3', { zone: 'zone-b' }),
  testNode('n4', { zone: 'zone-b', labels: { pool: 'batch' } }),
  testNode('n5', { zone: 'zone-c' }),
  { ...testNode('n6'), labels: { [HOSTNAME]: 'n6', pool: 'batch' }, zone: '' },
];

const selector: fc.Arbitrary<LabelSelector | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant({}),
  fc.record({ matchLabels: fc.constantFrom<Readonly<Record<string, string>>>({ app: 'a' }, { app: 'b' }, { app: 'a', tier: 'x' }) }),
  fc.record({
    matchExpressions: fc.constantFrom<readonly LabelSelectorRequirement[]>(
      [{ key: 'app', operator: 'In' as const, values: ['a', 'b'] }],
      [{ key: 'tier', operator: 'Exists' as const }],
      [{ key: 'app', operator: 'NotIn' as const, values: ['a'] }],
      [{ key: 'tier', operator: 'DoesNotExist' as const }],
    ),
  }),
);

const term: fc.Arbitrary<PodAffinityTerm> = fc.record(
  {
    labelSelector: selector,
    topologyKey: fc.constantFrom(HOSTNAME, ZONE),
    namespaces: fc.constantFrom<readonly string[]>([], ['default'], ['shop'], ['default', 'shop']),
    namespaceSelector: fc.constantFrom<LabelSelector>({}, { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }),
  },
  { requiredKeys: ['topologyKey'] },
);

const spread: fc.Arbitrary<TopologySpreadConstraint> = fc.record(
  {
    maxSkew: fc.integer({ min: 1, max: 2 }),
    topologyKey: fc.constantFrom(HOSTNAME, ZONE),
    whenUnsatisfiable: fc.constantFrom('DoNotSchedule' as const, 'ScheduleAnyway' as const),
    labelSelector: selector,
    minDomains: fc.integer({ min: 1, max: 5 }),
  },
  { requiredKeys: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'] },
);

/** Each constraint present with its own odds: affinity is rarer, as it rejects most nodes when present. */
const constraints: fc.Arbitrary<SchedulingConstraints> = fc
  .record({
    nodeSelector: fc.option(fc.constantFrom<Readonly<Record<string, string>>>({ pool: 'batch' }, { [ZONE]: 'zone-a' }), { freq: 4 }),
    nodeAffinity: fc.option(
      fc.constant({ required: [{ matchExpressions: [{ key: ZONE, operator: 'In' as const, values: ['zone-a', 'zone-b'] }] }] }),
      { freq: 4 },
    ),
    podAffinity: fc.option(fc.record({ required: fc.array(term, { minLength: 1, maxLength: 2 }) }), { freq: 2, nil: undefined }),
    podAntiAffinity: fc.option(fc.record({ required: fc.array(term, { minLength: 1, maxLength: 2 }) }), { freq: 3, nil: undefined }),
    topologySpread: fc.option(fc.array(spread, { minLength: 1, maxLength: 2 }), { freq: 3, nil: undefined }),
    tolerations: fc.option(fc.constant([{ operator: 'Exists' as const }]), { freq: 2, nil: undefined }),
  })
  .map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null && v !== undefined)) as SchedulingConstraints);

/** A pod with random labels, requests and constraints; `index` keeps names and uids unique. */
export function podArbitrary(index: number): fc.Arbitrary<PodView> {
  return fc
    .record({
      namespace: fc.constantFrom('default', 'default', 'shop'),
      labels: fc.record({ app: fc.constantFrom('a', 'b'), tier: fc.constantFrom('x', 'y') }, { requiredKeys: [] }),
      cpu: fc.integer({ min: 0, max: 1500 }),
      memory: fc.integer({ min: 0, max: 3 * GI }),
      gpu: fc.constantFrom(0, 0, 0, 1),
      terminating: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
      constraints,
    })
    .map(({ namespace, labels, cpu, memory, gpu, terminating, constraints }) =>
      testPod(`p${index}`, {
        namespace,
        labels,
        requests: gpu > 0 ? { cpu, memory, 'nvidia.com/gpu': gpu } : { cpu, memory },
        constraints,
        ...(terminating ? { deletionRequestedAt: 1 } : {}),
      }),
    );
}

/** A pod with one or two random topology spread constraints, of which at least one is DoNotSchedule. */
export function spreadPodArbitrary(index: number): fc.Arbitrary<PodView> {
  return fc
    .tuple(podArbitrary(index), fc.array(spread, { minLength: 1, maxLength: 2 }), fc.constantFrom<LabelSelector>({ matchLabels: { app: 'a' } }, { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] }))
    .map(([pod, constraints, selector]) => {
      const [first, ...rest] = constraints as [TopologySpreadConstraint, ...TopologySpreadConstraint[]];
      const hard: TopologySpreadConstraint = { ...first, whenUnsatisfiable: 'DoNotSchedule', labelSelector: selector };
      return { ...pod, constraints: { ...pod.constraints, topologySpread: [hard, ...rest] } };
    });
}

/** Up to `max` pods, each placed on one of `CLUSTER_NODES` (or left pending). */
export function placedPodsArbitrary(max: number): fc.Arbitrary<PodView[]> {
  return fc
    .array(fc.constantFrom('', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'), { maxLength: max })
    .chain((nodeNames) => fc.tuple(...nodeNames.map((nodeName, i) => podArbitrary(i).map((pod) => ({ ...pod, nodeName })))));
}

/** A move: the index of a pod of the placed list, and the node it goes to. */
export type Move = readonly [number, string];

/** Up to 6 moves of the pods of a list of `count` (an index past the end moves nothing). */
export function movesArbitrary(count: number): fc.Arbitrary<Move[]> {
  return fc.array(fc.tuple(fc.nat(count), fc.constantFrom(...CLUSTER_NODES.map((n) => n.name))), { maxLength: 6 });
}

/**
 * Applies `moves` to `state` with forget and assume, skipping finished pods; returns `placed` with
 * the moved pods' nodes changed, the list a state rebuilt from scratch should match.
 */
export function applyMoves(state: FitState, placed: readonly PodView[], moves: readonly Move[]): PodView[] {
  let current = [...placed];
  for (const [index, target] of moves) {
    const moving = current[index];
    if (moving === undefined || moving.phase === 'Succeeded' || moving.phase === 'Failed') continue;
    if (state.nodeOf(moving) !== undefined) state.forget(moving);
    state.assume(moving, target);
    current = current.map((p) => (p.uid === moving.uid ? { ...p, nodeName: target } : p));
  }
  return current;
}
