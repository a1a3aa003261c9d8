/**
 * NodeAffinity: a pod goes only on nodes matching its nodeSelector and, when set, one of its
 * required node affinity terms; among those it prefers nodes matching heavier preferred terms.
 */
import { matchesNodeSelectorTerm, matchesRequiredNodeAffinity } from '../../core/labels.js';
import type { PodView } from '../../core/model.js';
import { normalizeInPlace } from './plugin.js';
import type { FilterPlugin, ScorePlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';

/** Rejects nodes that do not satisfy the pod's nodeSelector and required node affinity. */
export const nodeAffinityFilter: FilterPlugin<'NodeAffinity'> = {
  name: 'NodeAffinity',
  filter(_state: FitState, pod: PodView, node: NodeInfo): FitResult {
    if (matchesRequiredNodeAffinity(pod.constraints, node.view)) return FIT_OK;
    return fitFailure('NodeAffinity', "node(s) didn't match Pod's node affinity/selector");
  },
  skip: (_state, pod) => _isEmpty(pod.constraints.nodeSelector) && pod.constraints.nodeAffinity?.required === undefined,
};

function _isEmpty(labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const _ in labels) return false;
  return true;
}

/** Scores a node by the summed weights of the pod's preferred terms it matches, normalized to 0–100. */
export const nodeAffinityScore: ScorePlugin<'NodeAffinity'> = {
  name: 'NodeAffinity',
  score(_state: FitState, pod: PodView, nodes: readonly NodeInfo[], out: Float64Array): void {
    const preferred = (pod.constraints.nodeAffinity?.preferred ?? []).filter((p) => p.weight !== 0);
    for (let i = 0; i < nodes.length; i++) {
      const view = (nodes[i] as NodeInfo).view;
      out[i] = preferred.reduce((sum, p) => (matchesNodeSelectorTerm(p.preference, view) ? sum + p.weight : sum), 0);
    }
  },
  normalize: (scores, count) => normalizeInPlace(scores, count),
  skip: (_state, pod) => !(pod.constraints.nodeAffinity?.preferred ?? []).some((p) => p.weight !== 0),
};
