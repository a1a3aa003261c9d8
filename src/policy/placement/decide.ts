/**
 * The placement decision for one new pod: spot or on-demand, required or only preferred.
 * The webhook calls it on pod CREATE; the simulator calls it when its workload models create pods.
 */
import type { PodView, WorkloadRef } from '../../core/model.js';
import { onDemandFloor } from './floor.js';
import type { PlacementPolicy } from './policy.js';

/** The two capacity types a pod is placed on. */
export type PlacedCapacityType = 'spot' | 'on-demand';

/** Workload kinds whose pods are placed; DaemonSets, Jobs and bare pods are left untouched. */
export type PlacedWorkloadKind = 'Deployment' | 'StatefulSet';

/** Whether pods of this workload kind are placed by Stowage. */
export function isPlacedKind(kind: string): kind is PlacedWorkloadKind {
  return kind === 'Deployment' || kind === 'StatefulSet';
}

/** Pod counts per capacity type. */
export interface CapacityCounts {
  readonly onDemand: number;
  readonly spot: number;
}

/** Everything the decision needs about one new pod; all counts are the caller's to keep right. */
export interface PlacementInput {
  readonly workload: WorkloadRef & { readonly kind: PlacedWorkloadKind };
  /** The workload's desired replicas (spec.replicas). */
  readonly desiredReplicas: number;
  /**
   * Live pods by capacity type: bound to a node of that type, or pinned to it, not terminating.
   * For a Deployment, count the pods of the new pod's own revision (its ReplicaSet), so that
   * during a rollout the new revision gets its own on-demand replicas instead of leaning on old
   * pods that are about to go.
   */
  readonly live: CapacityCounts;
  /** Decisions already made but not yet visible in `live` (the webhook's in-flight ledger). */
  readonly reserved: CapacityCounts;
  /** The StatefulSet ordinal of the new pod, when there is one. */
  readonly ordinal?: number;
  /** Whether some node of each type has room for the pod; decides whether a fallback applies. */
  readonly room: { readonly onDemand: boolean; readonly spot: boolean };
  readonly policy: PlacementPolicy;
}

/** Where the new pod goes, and why. */
export interface PlacementDecision {
  readonly capacityType: PlacedCapacityType;
  /**
   * `true`: the pod requires the capacity type (required node affinity).
   * `false`: it only prefers it, because its type has no room and the policy allows falling back.
   */
  readonly required: boolean;
  /** The on-demand floor the decision was made against. */
  readonly floor: number;
  readonly reason: string;
}

function _ref(workload: WorkloadRef): string {
  return `${workload.kind} "${workload.namespace}/${workload.name}"`;
}

/**
 * Decides spot or on-demand for one new pod of a Deployment or StatefulSet.
 *
 * - Deployment: on-demand while on-demand pods (live + reserved) are below the floor, else spot.
 * - StatefulSet: by ordinal: ordinals below the floor on on-demand, so scale-down (highest
 *   ordinal first) removes spot replicas first and a recreated pod returns to the same type.
 *   A higher ordinal still goes on-demand while the on-demand count is below the floor: after
 *   a scale-up raised the floor, lower ordinals placed earlier may be on spot. Without an
 *   ordinal, the Deployment rule applies.
 *
 * When the chosen type has no room and the policy allows the fallback, the decision is only
 * preferred, so the pod lands on the other type instead of sitting Pending.
 *
 * @example
 * decidePlacement({ workload, desiredReplicas: 3, live: { onDemand: 1, spot: 1 }, reserved: { onDemand: 0, spot: 0 },
 *   room: { onDemand: true, spot: true }, policy: { base: 1, percent: 0, fallback } });
 * // { capacityType: 'spot', required: true, floor: 1, reason: '…' }
 */
export function decidePlacement(input: PlacementInput): PlacementDecision {
  const floor = onDemandFloor(input.desiredReplicas, input.policy);
  const who = _ref(input.workload);
  let capacityType: PlacedCapacityType;
  let why: string;
  const onDemand = input.live.onDemand + input.reserved.onDemand;
  const counted = `${who} has ${onDemand} on-demand pods (${input.reserved.onDemand} in flight) against a floor of ${floor}`;
  if (input.workload.kind === 'StatefulSet' && input.ordinal !== undefined && input.ordinal < floor) {
    capacityType = 'on-demand';
    why = `${who} ordinal ${input.ordinal} is below its on-demand floor of ${floor}`;
  } else if (input.workload.kind === 'StatefulSet' && input.ordinal !== undefined && onDemand >= floor) {
    capacityType = 'spot';
    why = `${who} ordinal ${input.ordinal} is at or above its on-demand floor of ${floor}`;
  } else {
    // For a StatefulSet, this covers ordinals created while the floor was lower: after a
    // scale-up they may sit on spot, so a higher ordinal makes up the on-demand count.
    capacityType = onDemand < floor ? 'on-demand' : 'spot';
    why = counted;
  }
  const hasRoom = capacityType === 'on-demand' ? input.room.onDemand : input.room.spot;
  const mayFallBack = capacityType === 'on-demand' ? input.policy.fallback.onDemandToSpot : input.policy.fallback.spotToOnDemand;
  const other = capacityType === 'on-demand' ? 'spot' : 'on-demand';
  if (hasRoom) return { capacityType, required: true, floor, reason: `${why}: requiring ${capacityType}` };
  if (mayFallBack) {
    return { capacityType, required: false, floor, reason: `${why}, but no ${capacityType} node has room: preferring ${capacityType}, ${other} allowed as fallback` };
  }
  return { capacityType, required: true, floor, reason: `${why}; no ${capacityType} node has room and fallback to ${other} is disabled: requiring ${capacityType}` };
}

/**
 * The StatefulSet ordinal in a pod name (`web-2` of set `web` → 2), or undefined when the name
 * does not follow the `<set>-<ordinal>` pattern.
 */
export function statefulSetOrdinal(podName: string, setName: string): number | undefined {
  const prefix = `${setName}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const tail = podName.slice(prefix.length);
  if (!/^(0|[1-9]\d{0,8})$/.test(tail)) return undefined;
  return Number(tail);
}

/** The annotation ReplicaSet scale-down reads: lower cost goes first. */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** A pod's deletion cost from its annotations, as the ReplicaSet controller reads it: 0 when absent or not an integer. */
export function podDeletionCost(annotations: Readonly<Record<string, string>>): number {
  const raw = annotations[POD_DELETION_COST_ANNOTATION];
  if (raw === undefined) return 0;
  const cost = Number(raw);
  return Number.isInteger(cost) ? cost : 0;
}

/** A pod with the capacity type of the node it runs on (or is pinned to). */
export interface PlacedPod {
  readonly pod: PodView;
  readonly capacityType: PlacedCapacityType | 'unknown';
}

/**
 * The on-demand pods a workload's floor needs, so the descheduler never moves them to spot
 * (their replacements would come straight back to on-demand, or the floor would be lost).
 *
 * All pods given are of one workload. Keeps at most `floor` live on-demand pods, choosing the ones scale-down would remove last:
 * for a StatefulSet the lowest ordinals; otherwise the highest pod-deletion-cost, then the
 * oldest, then by name, so the choice is stable from one cycle to the next. Terminating pods
 * don't count.
 *
 * @example
 * podsKeptByFloor(placed, { base: 1, percent: 0, fallback }, 3); // [the oldest on-demand pod]
 */
export function podsKeptByFloor(pods: readonly PlacedPod[], policy: PlacementPolicy, desiredReplicas: number): readonly PodView[] {
  const floor = onDemandFloor(desiredReplicas, policy);
  if (floor === 0) return [];
  const onDemand = pods.filter((p) => p.capacityType === 'on-demand' && p.pod.deletionRequestedAt === undefined).map((p) => p.pod);
  const owner = onDemand[0]?.owner;
  if (owner?.kind === 'StatefulSet') {
    const ordinalOf = (pod: PodView): number => statefulSetOrdinal(pod.name, owner.name) ?? Number.MAX_SAFE_INTEGER;
    onDemand.sort((a, b) => ordinalOf(a) - ordinalOf(b) || _byName(a, b));
  } else {
    onDemand.sort((a, b) => podDeletionCost(b.annotations) - podDeletionCost(a.annotations) || a.createdAt - b.createdAt || _byName(a, b));
  }
  return onDemand.slice(0, floor);
}

function _byName(a: PodView, b: PodView): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
