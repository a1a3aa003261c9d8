/**
 * InterPodAffinity's Score, after kube-scheduler 1.36 (`interpodaffinity/scoring.go`): prefers
 * nodes in the topology domains of the pods the pod's preferred affinity terms select, and of the
 * placed pods whose required affinity (with upstream's default `hardPodAffinityWeight` 1) or
 * preferred affinity select it; avoids the domains of those its preferred anti-affinity selects
 * and of those whose preferred anti-affinity selects it. Each placed pod adds or takes the term's
 * weight to the domain (topology key, value) its node is in; a node scores the sum over the keys
 * it carries; then the scores are scaled so the lowest becomes 0 and the highest 100.
 */
import type { NodeView, PodAffinityTerm, PodView } from '../../core/model.js';
import type { Labels } from '../../core/labels.js';
import { affinityTermMatches } from './affinity-term.js';
import { MAX_NODE_SCORE } from './plugin.js';
import type { ScorePlugin } from './plugin.js';
import { hasScoringAffinityTerms } from './state.js';
import type { FitState, NodeInfo } from './state.js';

/** Upstream's default `hardPodAffinityWeight`: what a placed pod's required affinity term weighs. */
export const HARD_POD_AFFINITY_WEIGHT = 1;

/** topology key → value → summed weight. */
type TopologyScore = Map<string, Map<string, number>>;

/** InterPodAffinity's score: normalized already (min to 0, max to 100), as upstream's NormalizeScore. */
export const interPodAffinityScore: ScorePlugin<'InterPodAffinity'> = {
  name: 'InterPodAffinity',
  score(state: FitState, pod: PodView, nodes: readonly NodeInfo[], out: Float64Array): void {
    const topology = _topologyScore(state, pod);
    const n = nodes.length;
    // No term matched anywhere: every node keeps 0, as upstream's NormalizeScore leaves them.
    if (topology.size === 0) {
      out.fill(0, 0, n);
      return;
    }
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const labels = (nodes[i] as NodeInfo).view.labels;
      let score = 0;
      for (const [key, values] of topology) {
        const value = labels[key];
        if (value !== undefined) score += values.get(value) ?? 0;
      }
      out[i] = score;
      if (score < min) min = score;
      if (score > max) max = score;
    }
    const spread = max - min;
    // Upstream computes in float64 and truncates: `MaxNodeScore * ((score - min) / spread)`.
    for (let i = 0; i < n; i++) out[i] = spread > 0 ? Math.trunc(MAX_NODE_SCORE * (((out[i] as number) - min) / spread)) : 0;
  },
  // As upstream's PreScore Skip: the pod prefers nothing and no placed pod has terms that could select it.
  skip: (state, pod) => !_hasPreferredTerms(pod) && state.scoringAffinityPods() === 0,
};

/** Upstream's PreScore: the weights of every matching term, by the domain of the placed pod's node. */
function _topologyScore(state: FitState, pod: PodView): TopologyScore {
  const topology: TopologyScore = new Map();
  const everyPod = _hasPreferredTerms(pod);
  const namespaceLabels = (namespace: string): Labels => state.namespaceLabels(namespace);
  const preferredAffinity = pod.constraints.podAffinity?.preferred ?? [];
  const preferredAntiAffinity = pod.constraints.podAntiAffinity?.preferred ?? [];
  for (const name of state.nodeNames) {
    const node = state.nodeInfo(name) as NodeInfo;
    // A node without labels carries no topology key: upstream skips its pods.
    if (Object.keys(node.view.labels).length === 0) continue;
    for (const other of node.pods) {
      if (!everyPod && !hasScoringAffinityTerms(other)) continue;
      for (const { weight, term } of preferredAffinity) {
        if (affinityTermMatches(pod, term, other, namespaceLabels)) _add(topology, term, node.view, weight);
      }
      for (const { weight, term } of preferredAntiAffinity) {
        if (affinityTermMatches(pod, term, other, namespaceLabels)) _add(topology, term, node.view, -weight);
      }
      const theirs = other.constraints;
      for (const term of theirs.podAffinity?.required ?? []) {
        if (affinityTermMatches(other, term, pod, namespaceLabels)) _add(topology, term, node.view, HARD_POD_AFFINITY_WEIGHT);
      }
      for (const { weight, term } of theirs.podAffinity?.preferred ?? []) {
        if (affinityTermMatches(other, term, pod, namespaceLabels)) _add(topology, term, node.view, weight);
      }
      for (const { weight, term } of theirs.podAntiAffinity?.preferred ?? []) {
        if (affinityTermMatches(other, term, pod, namespaceLabels)) _add(topology, term, node.view, -weight);
      }
    }
  }
  return topology;
}

/**
 * Adds `weight` to the domain of `node` for the term's key. A domain whose weights cancel out
 * stays in the map (as upstream's), so the scores are still normalized.
 */
function _add(topology: TopologyScore, term: PodAffinityTerm, node: NodeView, weight: number): void {
  const value = node.labels[term.topologyKey];
  if (value === undefined) return;
  let values = topology.get(term.topologyKey);
  if (values === undefined) topology.set(term.topologyKey, (values = new Map<string, number>()));
  values.set(value, (values.get(value) ?? 0) + weight);
}

function _hasPreferredTerms(pod: PodView): boolean {
  return (pod.constraints.podAffinity?.preferred?.length ?? 0) > 0 || (pod.constraints.podAntiAffinity?.preferred?.length ?? 0) > 0;
}
