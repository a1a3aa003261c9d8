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
import type { ClusterSnapshot, NodeView, PodView, Resources } from '../../core/model.js';
import { addResources, subtractResources } from '../../core/resources.js';
import { holdsResources, indexSnapshot } from '../../core/snapshot.js';
import { reason } from './reasons.js';
import type { Reason } from './reasons.js';
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

/**
 * The node annotations that keep the autoscalers from removing a node, as their docs give them,
 * and Stowage's record that it set them. Stowage sets them on a replacement it launched while it
 * fills the node, and keeps them while the node holds pods Stowage moved there but stays below the
 * removal threshold (`policy/execute/machine.ts`); the planner takes them off again once the node
 * holds enough or nothing to move (`protectionReleases`). Only a node carrying the record loses
 * them: annotations a person set stay.
 */
export const ScaleDownProtection = {
  /** Cluster Autoscaler: a node annotated "true" is never scaled down (its FAQ, "How can I prevent Cluster Autoscaler from scaling down a particular node?"). */
  ClusterAutoscaler: 'cluster-autoscaler.kubernetes.io/scale-down-disabled',
  /** Karpenter v1: a node annotated "true" is not disrupted voluntarily: no consolidation, drift or expiry (its disruption docs, node-level controls). */
  Karpenter: 'karpenter.sh/do-not-disrupt',
  /** Stowage's record: the time (RFC 3339) it protected the node. */
  Record: 'stowage.io/scale-down-protected',
} as const;

/**
 * Why the node is not Stowage's to disrupt: someone annotated it `karpenter.sh/do-not-disrupt` or
 * `cluster-autoscaler.kubernetes.io/scale-down-disabled` "true", the node-level opt-outs the two
 * autoscalers honour (no consolidation, no scale-down), so Stowage moves no pod off it either.
 * Not when the annotations are Stowage's own protection of a replacement it launched (its record
 * is on the node): that is set for the autoscalers while the node fills, and Stowage may still
 * empty the node it launched. Undefined: the node may be disrupted.
 */
export function nodeOptOut(node: NodeView): string | undefined {
  if (node.annotations[ScaleDownProtection.Record] !== undefined) return undefined;
  const key = node.annotations[ScaleDownProtection.Karpenter] === 'true' ? ScaleDownProtection.Karpenter : scaleDownDisabled(node) ? ScaleDownProtection.ClusterAutoscaler : undefined;
  return key === undefined ? undefined : `Node "${node.name}" is annotated ${key}="true": it is not disrupted`;
}

/** Whether Cluster Autoscaler leaves the node alone for scale-down (its annotation). */
export function scaleDownDisabled(node: NodeView): boolean {
  return node.annotations[ScaleDownProtection.ClusterAutoscaler] === 'true';
}

/** A node whose protection from scale-down Stowage takes off, and why. */
export interface ProtectionRelease {
  readonly node: string;
  readonly reason: Reason;
}

/**
 * The nodes Stowage protected from scale-down that no longer need it: those whose pods that stay
 * (not Job pods, not pods being deleted; DaemonSet pods counted, as the autoscaler counts them)
 * hold them at or above the removal threshold, and those with no pod left to lose (then the
 * autoscaler may remove them). `keep`: nodes the plan drains itself (it deletes them).
 */
export function protectionReleases(snapshot: ClusterSnapshot, threshold: number, keep: ReadonlySet<string> = new Set()): readonly ProtectionRelease[] {
  const protectedNodes = snapshot.nodes.filter((n) => n.annotations[ScaleDownProtection.Record] !== undefined && !keep.has(n.name));
  if (protectedNodes.length === 0) return [];
  const index = indexSnapshot(snapshot);
  const releases: ProtectionRelease[] = [];
  for (const node of protectedNodes) {
    const pods = index.podsOnNode(node.name).filter((p) => holdsResources(p) && !leavesSoon(p));
    const movable = pods.filter((p) => p.owner.kind !== 'DaemonSet' && !p.isMirror);
    const fill = removalUtilization(pods.reduce((sum, p) => addResources(sum, p.requests), {}), node.allocatable);
    const since = `protected from scale-down by Stowage since ${node.annotations[ScaleDownProtection.Record]}`;
    if (movable.length === 0) releases.push({ node: node.name, reason: reason('protection-released', `Node "${node.name}", ${since}, holds no pod that stays: the autoscaler may remove it`) });
    else if (fill >= threshold) releases.push({ node: node.name, reason: reason('protection-released', `Node "${node.name}", ${since}, is ${Math.round(fill * 100)}% requested by pods that stay, not below the removal threshold (${Math.round(threshold * 100)}%)`) });
  }
  return releases;
}
