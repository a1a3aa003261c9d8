/**
 * The indexed InterPodAffinity and PodTopologySpread filters against a brute-force transcription
 * of kube-scheduler's PreFilter and Filter that scans every pod, on random small clusters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matchesLabelSelector, matchesRequiredNodeAffinity } from '../../core/labels.js';
import type { NodeView, PodAffinityTerm, PodView } from '../../core/model.js';
import { applyMoves, CLUSTER_NODES, movesArbitrary, placedPodsArbitrary, podArbitrary, spreadPodArbitrary } from './arbitraries.test-helper.js';
import { testSnapshot } from './fixtures.test-helper.js';
import { checkFit } from './filter.js';
import { AFFINITY_REASON, ANTI_AFFINITY_REASON, EXISTING_ANTI_AFFINITY_REASON } from './inter-pod-affinity.js';
import { SPREAD_MISSING_LABEL_REASON, SPREAD_REASON } from './pod-topology-spread.js';
import { FitState } from './state.js';

const byName = new Map(CLUSTER_NODES.map((n) => [n.name, n]));

function others(placed: readonly PodView[], pod: PodView): { pod: PodView; node: NodeView }[] {
  return placed
    .filter((p) => p.uid !== pod.uid && p.nodeName !== '' && byName.has(p.nodeName) && p.phase !== 'Succeeded' && p.phase !== 'Failed')
    .map((p) => ({ pod: p, node: byName.get(p.nodeName) as NodeView }));
}

function termMatches(owner: PodView, term: PodAffinityTerm, other: PodView): boolean {
  const listed = term.namespaces ?? [];
  const byName = listed.length === 0 && term.namespaceSelector === undefined ? [owner.namespace] : listed;
  const bySelector = matchesLabelSelector(term.namespaceSelector, { 'kubernetes.io/metadata.name': other.namespace });
  return (byName.includes(other.namespace) || bySelector) && matchesLabelSelector(term.labelSelector, other.labels);
}

function bump(counts: Map<string, number>, node: NodeView, key: string): void {
  const value = node.labels[key];
  if (value !== undefined) counts.set(`${key}=${value}`, (counts.get(`${key}=${value}`) ?? 0) + 1);
}

function referenceInterPodAffinity(placed: readonly PodView[], pod: PodView, node: NodeView): string {
  const affinity = pod.constraints.podAffinity?.required ?? [];
  const anti = pod.constraints.podAntiAffinity?.required ?? [];
  const affinityCounts = new Map<string, number>();
  const antiCounts = new Map<string, number>();
  const existingCounts = new Map<string, number>();
  for (const { pod: other, node: at } of others(placed, pod)) {
    if (affinity.length > 0 && affinity.every((t) => termMatches(pod, t, other))) for (const t of affinity) bump(affinityCounts, at, t.topologyKey);
    for (const t of anti) if (termMatches(pod, t, other)) bump(antiCounts, at, t.topologyKey);
    for (const t of other.constraints.podAntiAffinity?.required ?? []) if (termMatches(other, t, pod)) bump(existingCounts, at, t.topologyKey);
  }
  let podsExist = true;
  for (const t of affinity) {
    const value = node.labels[t.topologyKey];
    if (value === undefined) return AFFINITY_REASON;
    if ((affinityCounts.get(`${t.topologyKey}=${value}`) ?? 0) <= 0) podsExist = false;
  }
  if (!podsExist && !(affinityCounts.size === 0 && affinity.every((t) => termMatches(pod, t, pod)))) return AFFINITY_REASON;
  for (const t of anti) {
    const value = node.labels[t.topologyKey];
    if (value !== undefined && (antiCounts.get(`${t.topologyKey}=${value}`) ?? 0) > 0) return ANTI_AFFINITY_REASON;
  }
  for (const [key, value] of Object.entries(node.labels)) if ((existingCounts.get(`${key}=${value}`) ?? 0) > 0) return EXISTING_ANTI_AFFINITY_REASON;
  return 'ok';
}

function referenceSpread(placed: readonly PodView[], pod: PodView, node: NodeView): string {
  const constraints = (pod.constraints.topologySpread ?? []).filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
  const eligible = CLUSTER_NODES.filter((n) => matchesRequiredNodeAffinity(pod.constraints, n) && constraints.every((c) => n.labels[c.topologyKey] !== undefined));
  for (const c of constraints) {
    const value = node.labels[c.topologyKey];
    if (value === undefined) return SPREAD_MISSING_LABEL_REASON;
    const counts = new Map<string, number>();
    for (const n of eligible) counts.set(n.labels[c.topologyKey] as string, 0);
    const empty = c.labelSelector !== undefined && !c.labelSelector.matchLabels && !c.labelSelector.matchExpressions?.length;
    for (const { pod: other, node: at } of others(placed, pod)) {
      if (empty || other.namespace !== pod.namespace || other.deletionRequestedAt !== undefined) continue;
      if (!eligible.includes(at) || !matchesLabelSelector(c.labelSelector, other.labels)) continue;
      const v = at.labels[c.topologyKey] as string;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    let min = counts.size === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...counts.values());
    if (c.minDomains !== undefined && counts.size < c.minDomains) min = 0;
    const self = matchesLabelSelector(c.labelSelector, pod.labels) ? 1 : 0;
    if ((counts.get(value) ?? 0) + self - min > c.maxSkew) return SPREAD_REASON;
  }
  return 'ok';
}

function verdict(state: FitState, pod: PodView, node: NodeView, plugin: 'InterPodAffinity' | 'PodTopologySpread'): string {
  const result = checkFit(state, pod, node.name, [plugin]);
  return result.ok ? 'ok' : result.reason;
}

const scenario = placedPodsArbitrary(16).chain((placed) =>
  fc.tuple(fc.constant(placed), placed.length > 0 ? fc.oneof(podArbitrary(99), fc.constantFrom(...placed)) : podArbitrary(99)),
);

test('property: InterPodAffinity agrees with a brute-force transcription of upstream', () => {
  fc.assert(
    fc.property(scenario, ([placed, pod]) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      for (const node of CLUSTER_NODES) {
        assert.equal(verdict(state, pod, node, 'InterPodAffinity'), referenceInterPodAffinity(placed, pod, node), `node ${node.name}`);
      }
    }),
    { numRuns: 400 },
  );
});

const spreadScenario = placedPodsArbitrary(24).chain((placed) =>
  fc.tuple(fc.constant(placed), placed.length > 0 ? fc.oneof(spreadPodArbitrary(99), fc.constantFrom(...placed)) : spreadPodArbitrary(99)),
);

test('property: PodTopologySpread agrees with a brute-force transcription of upstream', () => {
  fc.assert(
    fc.property(fc.oneof(scenario, spreadScenario), ([placed, pod]) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      for (const node of CLUSTER_NODES) {
        assert.equal(verdict(state, pod, node, 'PodTopologySpread'), referenceSpread(placed, pod, node), `node ${node.name}`);
      }
    }),
    { numRuns: 400 },
  );
});

test('property: verdicts after assume and forget equal verdicts on a state rebuilt from scratch', () => {
  const withMoves = scenario.chain(([placed, pod]) => fc.tuple(fc.constant(placed), fc.constant(pod), movesArbitrary(placed.length)));
  fc.assert(
    fc.property(withMoves, ([placed, pod, moves]) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      const current = applyMoves(state, placed, moves);
      const rebuilt = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, current));
      for (const node of CLUSTER_NODES) {
        for (const plugin of ['InterPodAffinity', 'PodTopologySpread'] as const) {
          assert.equal(verdict(state, pod, node, plugin), verdict(rebuilt, pod, node, plugin), `${plugin} on ${node.name}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});
