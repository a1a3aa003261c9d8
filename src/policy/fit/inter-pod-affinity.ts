/**
 * InterPodAffinity: a pod goes only where its required pod affinity terms find matching pods in
 * the same topology domain, where its required anti-affinity terms find none, and where no placed
 * pod's required anti-affinity term selects it in that domain. Counting follows kube-scheduler's
 * PreFilter: a placed pod counts for the pod's affinity only when it matches all its affinity
 * terms; a term counts only on nodes that carry its topology key.
 */
import type { NodeView, PodAffinityTerm, PodView } from '../../core/model.js';
import { affinityTermMatches } from './affinity-term.js';
import type { FilterPlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';
import type { Labels } from '../../core/labels.js';

/** Reason when the pod's own required affinity is not met. */
export const AFFINITY_REASON = "node(s) didn't match pod affinity rules";
/** Reason when the pod's own required anti-affinity is violated. */
export const ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules";
/** Reason when a placed pod's required anti-affinity rejects the pod. */
export const EXISTING_ANTI_AFFINITY_REASON = "node(s) didn't satisfy existing pods anti-affinity rules";

/** What the filter needs about one pod, computed once per pod and state version (upstream's PreFilter). */
interface InterPodAffinityState {
  readonly affinityTerms: readonly PodAffinityTerm[];
  readonly antiAffinityTerms: readonly PodAffinityTerm[];
  /** `topologyKey\0value` → placed pods matching all the pod's affinity terms there. */
  readonly affinityCounts: ReadonlyMap<string, number>;
  /** `topologyKey\0value` → placed pods matching one of the pod's anti-affinity terms there. */
  readonly antiAffinityCounts: ReadonlyMap<string, number>;
  /** `topologyKey\0value` → placed pods whose anti-affinity selects the pod there. */
  readonly existingAntiAffinityCounts: ReadonlyMap<string, number>;
  readonly existingTopologyKeys: ReadonlySet<string>;
  readonly matchesOwnAffinity: boolean;
}

/** Rejects nodes that would break required pod affinity or anti-affinity, the pod's or placed pods'. */
export const interPodAffinity: FilterPlugin<'InterPodAffinity'> = {
  name: 'InterPodAffinity',
  filter(state: FitState, pod: PodView, { view: node }: NodeInfo): FitResult {
    const s = state.podMemo(pod, 'InterPodAffinity', _preFilter);
    if (!_satisfiesPodAffinity(s, node)) return fitFailure('InterPodAffinity', AFFINITY_REASON);
    for (const term of s.antiAffinityTerms) {
      const value = node.labels[term.topologyKey];
      if (value !== undefined && (s.antiAffinityCounts.get(_pair(term.topologyKey, value)) ?? 0) > 0) {
        return fitFailure('InterPodAffinity', ANTI_AFFINITY_REASON);
      }
    }
    for (const key of s.existingTopologyKeys) {
      const value = node.labels[key];
      if (value !== undefined && (s.existingAntiAffinityCounts.get(_pair(key, value)) ?? 0) > 0) {
        return fitFailure('InterPodAffinity', EXISTING_ANTI_AFFINITY_REASON);
      }
    }
    return FIT_OK;
  },
  // As upstream's PreFilter: nothing to check when the pod has no required terms and no placed
  // pod's anti-affinity selects it.
  skip(state: FitState, pod: PodView): boolean {
    const s = state.podMemo(pod, 'InterPodAffinity', _preFilter);
    return s.affinityTerms.length === 0 && s.antiAffinityTerms.length === 0 && s.existingTopologyKeys.size === 0;
  },
};

/** The PreFilter result of a pod with no required terms that no placed pod's anti-affinity selects. */
const _NOTHING_TO_CHECK: InterPodAffinityState = {
  affinityTerms: [],
  antiAffinityTerms: [],
  affinityCounts: new Map(),
  antiAffinityCounts: new Map(),
  existingAntiAffinityCounts: new Map(),
  existingTopologyKeys: new Set(),
  matchesOwnAffinity: true,
};

function _preFilter(state: FitState, pod: PodView): InterPodAffinityState {
  const affinityTerms = pod.constraints.podAffinity?.required ?? [];
  const antiAffinityTerms = pod.constraints.podAntiAffinity?.required ?? [];
  if (affinityTerms.length === 0 && antiAffinityTerms.length === 0) {
    // Most pods: no terms of their own, so only placed pods' anti-affinity can matter.
    let selected = false;
    state.forEachAntiAffinityAgainst(pod, () => {
      selected = true;
    });
    if (!selected) return _NOTHING_TO_CHECK;
  }
  const namespaceLabels = (namespace: string): Labels => state.namespaceLabels(namespace);
  const affinityCounts = new Map<string, number>();
  const first = affinityTerms[0];
  if (first !== undefined) {
    state.forEachPodMatchingTerm(pod, first, (other, node) => {
      if (!affinityTerms.every((term) => affinityTermMatches(pod, term, other, namespaceLabels))) return;
      for (const term of affinityTerms) _countAt(affinityCounts, node, term.topologyKey);
    });
  }
  const antiAffinityCounts = new Map<string, number>();
  for (const term of antiAffinityTerms) {
    state.forEachPodMatchingTerm(pod, term, (_other, node) => _countAt(antiAffinityCounts, node, term.topologyKey));
  }
  // Copied out of the index: its groups change as the state does, the memo must not.
  const existingAntiAffinityCounts = new Map<string, number>();
  const existingTopologyKeys = new Set<string>();
  state.forEachAntiAffinityAgainst(pod, (group) => {
    existingTopologyKeys.add(group.topologyKey);
    for (const [value, count] of group.counts) {
      const pair = _pair(group.topologyKey, value);
      existingAntiAffinityCounts.set(pair, (existingAntiAffinityCounts.get(pair) ?? 0) + count);
    }
  });
  return {
    affinityTerms,
    antiAffinityTerms,
    affinityCounts,
    antiAffinityCounts,
    existingAntiAffinityCounts,
    existingTopologyKeys,
    matchesOwnAffinity: affinityTerms.every((term) => affinityTermMatches(pod, term, pod, namespaceLabels)),
  };
}

function _satisfiesPodAffinity(s: InterPodAffinityState, node: NodeView): boolean {
  let podsExist = true;
  for (const term of s.affinityTerms) {
    const value = node.labels[term.topologyKey];
    // Every topology key of the terms must be on the node, even for the first pod of a group.
    if (value === undefined) return false;
    if ((s.affinityCounts.get(_pair(term.topologyKey, value)) ?? 0) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself may go anywhere its topology keys exist,
  // when no placed pod matches the terms at all: otherwise it would wait forever.
  return s.affinityCounts.size === 0 && s.matchesOwnAffinity;
}

function _countAt(counts: Map<string, number>, node: NodeView, topologyKey: string): void {
  const value = node.labels[topologyKey];
  if (value === undefined) return;
  const pair = _pair(topologyKey, value);
  counts.set(pair, (counts.get(pair) ?? 0) + 1);
}

function _pair(key: string, value: string): string {
  return `${key}\u0000${value}`;
}
