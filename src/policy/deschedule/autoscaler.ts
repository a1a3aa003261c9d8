/**
 * What the cluster's autoscaler says about a node, read from the taints it sets, so that no
 * strategy works against it: a pod moved onto a node the autoscaler is removing is disrupted a
 * second time when the node goes, and a pod moved onto a node the autoscaler wants to remove keeps
 * that node alive.
 *
 * - Cluster Autoscaler taints a node it has found unneeded with `DeletionCandidateOfClusterAutoscaler`
 *   (PreferNoSchedule, its soft taint) and a node it drains and deletes with
 *   `ToBeDeletedByClusterAutoscaler` (NoSchedule); both in `cluster-autoscaler/utils/taints`.
 * - Karpenter taints a node it is disrupting (consolidation, drift, expiry) with
 *   `karpenter.sh/disrupted` (NoSchedule, Karpenter v1).
 * - A node whose requests are below Cluster Autoscaler's `--scale-down-utilization-threshold`
 *   (the larger of cpu and memory, as CA computes it) is one CA will try to remove.
 */
import type { NodeView, PodView, Resources } from '../../core/model.js';
import { subtractResources } from '../../core/resources.js';
import type { FitState } from '../fit/state.js';
import { AutoscalerTaint } from '../fit/autoscaler-removal.js';

// The taints live beside the fit plugin that scores them; planning reads them from there too.
export { AutoscalerTaint, autoscalerRemoving } from '../fit/autoscaler-removal.js';

/** How planning sees the autoscaler. */
export interface AutoscalerAwareness {
  /** Cluster Autoscaler's `--scale-down-utilization-threshold` (0.5 by default). */
  readonly scaleDownUtilizationThreshold: number;
}

/** Cluster Autoscaler's default threshold. */
export const DEFAULT_AUTOSCALER_AWARENESS: AutoscalerAwareness = { scaleDownUtilizationThreshold: 0.5 };

/** Whether the autoscaler is draining the node itself (a hard taint): no strategy should drain it too. */
export function autoscalerDraining(node: NodeView): boolean {
  return node.taints.some((t) => t.key === AutoscalerTaint.ToBeDeleted || t.key === AutoscalerTaint.KarpenterDisrupted);
}

/**
 * Requested utilisation as Cluster Autoscaler computes it for scale-down: the larger of the cpu
 * and memory shares of allocatable (DaemonSet and mirror pods included, CA's default).
 */
export function removalUtilization(requested: Resources, allocatable: Resources): number {
  const share = (name: string): number => {
    const total = allocatable[name] ?? 0;
    return total > 0 ? (requested[name] ?? 0) / total : 0;
  };
  return Math.max(share('cpu'), share('memory'));
}

/** Pods that leave their node on their own soon: Job pods run to completion; deleted pods are going. */
export function leavesSoon(pod: PodView): boolean {
  return pod.owner.kind === 'Job' || pod.owner.kind === 'CronJob' || pod.deletionRequestedAt !== undefined;
}

/**
 * Requests of the node's pods in `state` that stay on it (see {@link leavesSoon}): what the
 * autoscaler's utilisation will be once the rest has left. A node kept above the threshold by a
 * batch of Job pods falls below it minutes later.
 */
export function stayingRequests(state: FitState, nodeName: string): Resources {
  let staying = state.requested(nodeName);
  for (const pod of state.podsOn(nodeName)) if (leavesSoon(pod)) staying = subtractResources(staying, pod.requests);
  return staying;
}
