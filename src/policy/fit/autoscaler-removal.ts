/**
 * AutoscalerRemoval, Stowage's own score: a node an autoscaler is removing, or means to remove,
 * scores 0, every other node 100, so a pod goes there only when nothing else fits. A pod placed
 * there is disrupted again when the node goes, and keeps alive a node the autoscaler wants gone.
 *
 * - Cluster Autoscaler taints a node it has found unneeded with `DeletionCandidateOfClusterAutoscaler`
 *   (PreferNoSchedule, its soft taint) and a node it drains and deletes with
 *   `ToBeDeletedByClusterAutoscaler` (NoSchedule); both in `cluster-autoscaler/utils/taints`.
 * - Karpenter taints a node it is disrupting (consolidation, drift, expiry) with
 *   `karpenter.sh/disrupted` (NoSchedule, Karpenter v1).
 *
 * The NoSchedule taints already keep pods off through TaintToleration's filter unless a pod
 * tolerates everything; the soft taint only lowers TaintToleration's score, which this outweighs.
 */
import type { NodeView, PodView } from '../../core/model.js';
import { MAX_NODE_SCORE } from './plugin.js';
import type { ScorePlugin } from './plugin.js';
import type { FitState, NodeInfo } from './state.js';

/** Taint keys by which an autoscaler marks a node it removes or wants to remove. */
export const AutoscalerTaint = {
  /** Cluster Autoscaler, while it drains and deletes the node (NoSchedule). */
  ToBeDeleted: 'ToBeDeletedByClusterAutoscaler',
  /** Cluster Autoscaler, on a node it found unneeded (PreferNoSchedule). */
  DeletionCandidate: 'DeletionCandidateOfClusterAutoscaler',
  /** Karpenter, while it disrupts the node (NoSchedule). */
  KarpenterDisrupted: 'karpenter.sh/disrupted',
} as const;

/**
 * Why the autoscaler is removing, or means to remove, the node (one of its taints), or undefined.
 * Such a node is never a destination: whatever lands there is disrupted again when it goes.
 */
export function autoscalerRemoving(node: NodeView): string | undefined {
  for (const taint of node.taints) {
    switch (taint.key) {
      case AutoscalerTaint.ToBeDeleted:
        return `Node "${node.name}" is being deleted by Cluster Autoscaler (taint ${taint.key})`;
      case AutoscalerTaint.DeletionCandidate:
        return `Node "${node.name}" is a scale-down candidate of Cluster Autoscaler (taint ${taint.key})`;
      case AutoscalerTaint.KarpenterDisrupted:
        return `Node "${node.name}" is being disrupted by Karpenter (taint ${taint.key})`;
    }
  }
  return undefined;
}

/** Scores 0 a node the autoscaler is removing (`autoscalerRemoving`), 100 any other. */
export const autoscalerRemovalScore: ScorePlugin<'AutoscalerRemoval'> = {
  name: 'AutoscalerRemoval',
  score(_state: FitState, _pod: PodView, nodes: readonly NodeInfo[], out: Float64Array): void {
    for (let i = 0; i < nodes.length; i++) {
      const view = (nodes[i] as NodeInfo).view;
      out[i] = view.taints.length > 0 && autoscalerRemoving(view) !== undefined ? 0 : MAX_NODE_SCORE;
    }
  },
};
