/**
 * PodTopologySpread: a pod with DoNotSchedule spread constraints goes only where the skew (the
 * matching pods in the node's domain, plus the pod itself when it matches, less the fewest in any
 * domain) stays within maxSkew. As upstream with the default node inclusion policies, domains are
 * the values of the topology key over nodes that pass the pod's nodeSelector and required node
 * affinity and carry every constraint's key (taints are ignored); terminating pods do not count;
 * with fewer domains than minDomains the fewest counts as 0.
 */
import { matchesLabelSelector, matchesRequiredNodeAffinity } from '../../core/labels.js';
import type { LabelSelector, NodeView, PodView, TopologySpreadConstraint } from '../../core/model.js';
import type { FilterPlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';

/** Reason when placing the pod on the node would exceed a constraint's maxSkew. */
export const SPREAD_REASON = "node(s) didn't match pod topology spread constraints";
/** Reason when the node lacks a constraint's topology key. */
export const SPREAD_MISSING_LABEL_REASON = `${SPREAD_REASON} (missing required label)`;

interface ConstraintState {
  readonly constraint: TopologySpreadConstraint;
  /** Topology value → matching pods in that domain; domains with none are absent. */
  readonly counts: ReadonlyMap<string, number>;
  /** The global minimum the skew is measured from. */
  readonly minMatch: number;
  readonly selfMatch: boolean;
}

interface SpreadDomains {
  /** Nodes whose pods count: they pass the pod's node affinity and carry every constraint key. */
  readonly eligible: ReadonlySet<string>;
  /** Per constraint, the number of distinct values of its key over the eligible nodes. */
  readonly domainCounts: readonly number[];
}

/** Rejects nodes where the pod would break one of its DoNotSchedule topology spread constraints. */
export const podTopologySpread: FilterPlugin = {
  name: 'PodTopologySpread',
  filter(state: FitState, pod: PodView, { view: node }: NodeInfo): FitResult {
    const constraints = state.podMemo(pod, 'PodTopologySpread', _preFilter);
    for (const c of constraints) {
      const value = node.labels[c.constraint.topologyKey];
      if (value === undefined) return fitFailure('PodTopologySpread', SPREAD_MISSING_LABEL_REASON);
      const skew = (c.counts.get(value) ?? 0) + (c.selfMatch ? 1 : 0) - c.minMatch;
      if (skew > c.constraint.maxSkew) return fitFailure('PodTopologySpread', SPREAD_REASON);
    }
    return FIT_OK;
  },
  skip: (_state, pod) => !(pod.constraints.topologySpread ?? []).some((c) => c.whenUnsatisfiable === 'DoNotSchedule'),
};

function _preFilter(state: FitState, pod: PodView): readonly ConstraintState[] {
  const constraints = (pod.constraints.topologySpread ?? []).filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
  if (constraints.length === 0) return [];
  const keys = constraints.map((c) => c.topologyKey);
  const domains = state.nodeMemo(`PodTopologySpread\u0000${_nodeAffinitySignature(pod)}\u0000${JSON.stringify(keys)}`, () =>
    _domains(state, pod, keys),
  );
  return constraints.map((constraint, i) => {
    const counts = new Map<string, number>();
    // Upstream counts no pod for an empty selector (while the pod itself still matches it).
    if (!_isEmptySelector(constraint.labelSelector)) {
      state.forEachMatchingPod([pod.namespace], constraint.labelSelector, (other, node) => {
        if (other.deletionRequestedAt !== undefined || !domains.eligible.has(node.name)) return;
        const value = node.labels[constraint.topologyKey] as string;
        counts.set(value, (counts.get(value) ?? 0) + 1);
      });
    }
    const domainCount = domains.domainCounts[i] ?? 0;
    let minMatch = domainCount === 0 ? Number.MAX_SAFE_INTEGER : counts.size < domainCount ? 0 : _min(counts.values());
    if (constraint.minDomains !== undefined && domainCount < constraint.minDomains) minMatch = 0;
    return { constraint, counts, minMatch, selfMatch: matchesLabelSelector(constraint.labelSelector, pod.labels) };
  });
}

function _domains(state: FitState, pod: PodView, keys: readonly string[]): SpreadDomains {
  const eligible = new Set<string>();
  const values = keys.map(() => new Set<string>());
  for (const name of state.nodeNames) {
    const node = state.node(name) as NodeView;
    if (!keys.every((key) => node.labels[key] !== undefined) || !matchesRequiredNodeAffinity(pod.constraints, node)) continue;
    eligible.add(name);
    keys.forEach((key, i) => values[i]?.add(node.labels[key] as string));
  }
  return { eligible, domainCounts: values.map((v) => v.size) };
}

/** A key for the pod's nodeSelector and required node affinity: pods of one workload share it. */
function _nodeAffinitySignature(pod: PodView): string {
  const nodeSelector = Object.entries(pod.constraints.nodeSelector ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([nodeSelector, pod.constraints.nodeAffinity?.required ?? []]);
}

function _isEmptySelector(selector: LabelSelector | undefined): boolean {
  return selector !== undefined && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

function _min(values: Iterable<number>): number {
  let min = Number.MAX_SAFE_INTEGER;
  for (const value of values) if (value < min) min = value;
  return min;
}
