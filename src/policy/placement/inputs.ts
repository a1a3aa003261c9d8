/**
 * The placement decision's inputs, one implementation for every caller: the webhook (informer
 * cache), the descheduler (snapshot, to know where a recreated pod goes and which pods hold the
 * floor) and the simulator (its workload models). Each caller supplies its pods, nodes and fit
 * state; the rules that turn them into the decision's inputs, and the decision into a pod, are here:
 *
 * - the counting group: a Deployment's pods per revision (ReplicaSet), a StatefulSet's as one;
 * - the counts: which pods count, and for which capacity type;
 * - the room: whether some node of each type takes the pod with the full fit rules;
 * - the pod as the webhook's patch leaves it (`applyPlacement`, the model twin of `placementPatch`).
 */
import type { CapacityType, NodeView, PodView, Resources, SchedulingConstraints, WorkloadRef } from '../../core/model.js';
import { workloadKey } from '../../core/snapshot.js';
import { checkFit, firstFeasibleNode } from '../fit/index.js';
import type { FilterPluginName, FitState } from '../fit/index.js';
import type { CapacityCounts, PlacedCapacityType, PlacedWorkloadKind, PlacementDecision, PlacementInput } from './decide.js';
import { decidePlacement, POD_DELETION_COST_ANNOTATION, statefulSetOrdinal } from './decide.js';
import type { PlacementPolicy } from './policy.js';
import type { PlacementPatchOptions } from './patch.js';
import { CAPACITY_TYPE_ANNOTATION, DEFAULT_PLACEMENT_PATCH_OPTIONS, sameToleration } from './patch.js';

/**
 * The key a pod is counted under: for a Deployment, its workload and revision (the ReplicaSet's
 * uid), so that a rollout's new revision gets its own on-demand replicas instead of leaning on
 * old pods about to go; for a StatefulSet, the set.
 *
 * @example
 * placementGroup({ kind: 'Deployment', namespace: 'shop', name: 'cart' }, 'rs-uid'); // 'Deployment/shop/cart#rs-uid'
 */
export function placementGroup(owner: WorkloadRef, replicaSetUid: string | undefined): string {
  const key = workloadKey(owner);
  return owner.kind === 'Deployment' ? `${key}#${replicaSetUid ?? ''}` : key;
}

/** The group of a pod (see {@link placementGroup}). */
export function placementGroupOf(pod: Pick<PodView, 'owner' | 'controllerRef'>): string {
  return placementGroup(pod.owner, pod.controllerRef?.uid);
}

/** What counting reads of a pod; cheap to keep for every pod of a cluster. */
export interface CountedPod {
  /** Empty while not bound. */
  readonly nodeName: string;
  /** Not terminating, not Succeeded or Failed. */
  readonly active: boolean;
  /** The type an unbound pod will land on (see {@link decidedCapacityType}). */
  readonly decided?: PlacedCapacityType | undefined;
}

function _isOn(r: { readonly key: string; readonly operator: string; readonly values?: readonly string[] | undefined }, key: string): boolean {
  return r.key === key;
}

/**
 * The capacity type the user pinned the pod to, through `nodeSelector` or a requirement on the
 * capacity label in every required node selector term; `'other'` when pinned to a value that is
 * neither type; undefined when not pinned. The webhook leaves such pods' placement alone.
 */
export function pinnedCapacityType(constraints: SchedulingConstraints, capacityLabel: PlacementPatchOptions['capacityLabel'] = DEFAULT_PLACEMENT_PATCH_OPTIONS.capacityLabel): PlacedCapacityType | 'other' | undefined {
  const { key, values } = capacityLabel;
  const typeOf = (value: string | undefined): PlacedCapacityType | 'other' => (value === values.spot ? 'spot' : value === values['on-demand'] ? 'on-demand' : 'other');
  const selected = constraints.nodeSelector?.[key];
  if (selected !== undefined) return typeOf(selected);
  const terms = constraints.nodeAffinity?.required ?? [];
  if (terms.length === 0 || !terms.every((t) => (t.matchExpressions ?? []).some((r) => _isOn(r, key)))) return undefined;
  const found = new Set<PlacedCapacityType | 'other'>();
  for (const term of terms) {
    for (const r of term.matchExpressions ?? []) {
      if (r.key !== key) continue;
      const vals = r.values ?? [];
      found.add(r.operator === 'In' && vals.length === 1 ? typeOf(vals[0]) : 'other');
    }
  }
  return found.size === 1 ? ([...found][0]) : 'other';
}

/**
 * The capacity type an unbound pod will land on: the webhook's own annotation first (it records
 * fallback decisions too, which only prefer the type), then the user's pin.
 */
export function decidedCapacityType(pod: Pick<PodView, 'annotations' | 'constraints'>, capacityLabel?: PlacementPatchOptions['capacityLabel']): PlacedCapacityType | undefined {
  const annotated = pod.annotations[CAPACITY_TYPE_ANNOTATION];
  if (annotated === 'spot' || annotated === 'on-demand') return annotated;
  const pinned = pinnedCapacityType(pod.constraints, capacityLabel);
  return pinned === 'other' ? undefined : pinned;
}

/** A pod as counting reads it. */
export function countedPod(pod: PodView, capacityLabel?: PlacementPatchOptions['capacityLabel']): CountedPod {
  const active = pod.deletionRequestedAt === undefined && pod.phase !== 'Succeeded' && pod.phase !== 'Failed';
  return { nodeName: pod.nodeName, active, ...(pod.nodeName === '' ? { decided: decidedCapacityType(pod, capacityLabel) } : {}) };
}

/**
 * The capacity type a pod counts for, or undefined when it counts for none: an active pod bound
 * to a node of that type, or, while not bound, decided for it. Pods on a node of unknown type,
 * or on a node the caller does not know (deleted, or not seen yet), are not counted:
 * under-counting on-demand only ever adds an on-demand pod.
 */
export function countedCapacityType(pod: CountedPod, nodeCapacityType: (nodeName: string) => CapacityType | undefined): PlacedCapacityType | undefined {
  if (!pod.active) return undefined;
  const type = pod.nodeName === '' ? pod.decided : nodeCapacityType(pod.nodeName);
  return type === 'spot' || type === 'on-demand' ? type : undefined;
}

/** The pods of one group counted by capacity type (see {@link countedCapacityType}). */
export function countPlacement(pods: Iterable<CountedPod>, nodeCapacityType: (nodeName: string) => CapacityType | undefined): CapacityCounts {
  let onDemand = 0;
  let spot = 0;
  for (const pod of pods) {
    const type = countedCapacityType(pod, nodeCapacityType);
    if (type === 'on-demand') onDemand++;
    else if (type === 'spot') spot++;
  }
  return { onDemand, spot };
}

/** The type an active, unbound pod will take room on, or undefined: a bound pod's room is its node's. */
export function pendingCapacityType(pod: CountedPod): PlacedCapacityType | undefined {
  return pod.nodeName === '' && pod.active ? pod.decided : undefined;
}

/**
 * What the pods decided for each type but not bound yet will take there: the `reserved` of
 * {@link RoomOptions}, so that a burst of pods does not count the same free room twice.
 */
export function pendingRequests(pods: Iterable<CountedPod & { readonly requests: Resources }>): Record<PlacedCapacityType, Resources> {
  const pending: Record<PlacedCapacityType, Record<string, number>> = { 'on-demand': {}, spot: {} };
  for (const pod of pods) {
    const type = pendingCapacityType(pod);
    if (type === undefined) continue;
    const sum = pending[type];
    for (const name in pod.requests) sum[name] = (sum[name] ?? 0) + (pod.requests[name] ?? 0);
  }
  return pending;
}

/**
 * The replicas to take the floor of: `spec.replicas`, or more when more pods exist than it says.
 * A cache may not have seen a scale-up yet when its first pods arrive: the pods that will exist
 * once this one does are a lower bound, and a higher count only raises the floor.
 */
export function replicasForFloor(replicas: number | undefined, live: CapacityCounts, reserved: CapacityCounts, ordinal: number | undefined): number {
  return Math.max(replicas ?? 1, live.onDemand + live.spot + reserved.onDemand + reserved.spot + 1, ordinal === undefined ? 0 : ordinal + 1);
}

/** Whether some node of each capacity type takes the pod. */
export interface Room {
  readonly onDemand: boolean;
  readonly spot: boolean;
}

/** How {@link placementRoom} looks for room. */
export interface RoomOptions extends Pick<PlacementPatchOptions, 'capacityLabel' | 'spotToleration'> {
  /**
   * Nodes the autoscaler can add now: one template per node group (or Karpenter NodePool offer)
   * that can grow, empty. In an autoscaled cluster "no node has room now" is transient: a pod
   * that, placed for a type, passes every fit rule on an empty template of that type beside the
   * cluster's nodes (as Cluster Autoscaler tries its templates) is not stuck Pending, so the type
   * counts as having room. The simulator passes its growable groups, the live webhook Karpenter's
   * NodePool offers; none (or empty) when nothing can grow.
   */
  readonly growable?: readonly NodeView[];
  /**
   * Resources already promised to each type and not yet in the fit state: pods decided but not
   * bound, decisions not yet seen by the cache. The type's nodes that could take the pod must
   * have this much free between them on top of the pod.
   */
  readonly reserved?: Readonly<Record<PlacedCapacityType, Resources>>;
}

/** The filters that say whether a node could take the pod at all, resources aside. */
const _ELIGIBLE: readonly FilterPluginName[] = ['NodeUnschedulable', 'NodeReady', 'NodeAffinity', 'TaintToleration'];

/**
 * Whether some node of each capacity type takes `pod` as the webhook would patch it for that
 * type (required on the type, spot pods with the spot toleration), with the full fit rules of
 * `checkFit`, against `state`; see {@link RoomOptions} for growth and reservations.
 *
 * @example
 * placementRoom(state, pod, { capacityLabel, spotToleration }); // { onDemand: true, spot: false }
 */
export function placementRoom(state: FitState, pod: PodView, options: RoomOptions): Room {
  return { onDemand: _roomOn(state, pod, 'on-demand', options), spot: _roomOn(state, pod, 'spot', options) };
}

function _roomOn(state: FitState, pod: PodView, type: PlacedCapacityType, options: RoomOptions): boolean {
  const placed = applyPlacement(pod, { capacityType: type, required: true }, { ...DEFAULT_PLACEMENT_PATCH_OPTIONS, ...options });
  if (options.growable !== undefined && _fitsGrowable(state, placed, type, options.growable)) return true;
  const nodes = _nodesOfType(state, type);
  const reserved = options.reserved?.[type];
  const names = reserved === undefined ? [] : Object.keys(reserved).filter((name) => (reserved[name] ?? 0) > 0);
  if (names.length === 0) return firstFeasibleNode(state, placed, nodes) !== undefined;
  // What the eligible nodes must hold between them: this pod and what is promised to the type.
  // The scan stops once that is covered and one node takes the pod, so a roomy type answers early.
  const needed = names.map((name) => (placed.requests[name] ?? 0) + (reserved?.[name] ?? 0));
  const total = names.map(() => 0);
  let fitsSome = false;
  for (const name of nodes) {
    if (!checkFit(state, placed, name, _ELIGIBLE).ok) continue;
    const node = state.node(name);
    const requested = state.requested(name);
    for (let i = 0; i < names.length; i++) {
      const resource = names[i] as string;
      // A node without a `pods` allocatable has no pod limit (real nodes always have one).
      const allocatable = node?.allocatable[resource] ?? (resource === 'pods' ? Number.MAX_SAFE_INTEGER : 0);
      total[i] = (total[i] ?? 0) + Math.max(0, allocatable - (requested[resource] ?? 0));
    }
    if (!fitsSome) fitsSome = checkFit(state, placed, name).ok;
    if (fitsSome && total.every((t, i) => t >= (needed[i] ?? 0))) return true;
  }
  return false;
}

/**
 * Whether `placed` passes every fit rule on an empty template of `type` from `growable`, added to
 * `state` for the check beside its nodes (zone spread and affinity see the cluster's pods) and
 * removed again: the state is as it was when this returns. A template whose name the state holds
 * is skipped.
 */
function _fitsGrowable(state: FitState, placed: PodView, type: PlacedCapacityType, growable: readonly NodeView[]): boolean {
  for (const template of growable) {
    if (template.capacityType !== type || state.node(template.name) !== undefined) continue;
    state.addNode(template);
    try {
      if (checkFit(state, placed, template.name).ok) return true;
    } finally {
      state.removeNode(template.name);
    }
  }
  return false;
}

/** The state's nodes of one capacity type, in its order; memoized per node set (the state drops the memo when nodes come or go). */
function _nodesOfType(state: FitState, type: PlacedCapacityType): readonly string[] {
  return state.nodeMemo(`placement/nodes-of-type/${type}`, () => state.nodeNames.filter((name) => state.node(name)?.capacityType === type));
}

/** A new pod to place against a fit state, with the pods it is counted with. */
export interface NewPodPlacement {
  /** The pod as created (no node yet); for a StatefulSet its name gives the ordinal. */
  readonly pod: PodView;
  readonly workload: WorkloadRef & { readonly kind: PlacedWorkloadKind };
  /** `spec.replicas` of the workload. */
  readonly replicas: number | undefined;
  /** The pods of the new pod's group ({@link placementGroup}), as counting reads them. */
  readonly members: Iterable<CountedPod>;
  /** Decisions made but not yet among `members`; none for a caller that sees every pod at once. */
  readonly reserved?: CapacityCounts;
  readonly policy: PlacementPolicy;
  /** The nodes and their pods, for the room; each node's capacity type is read from it too. */
  readonly state: FitState;
  readonly options: PlacementPatchOptions & Pick<RoomOptions, 'growable' | 'reserved'>;
}

/**
 * The whole placement of one new pod from a fit state: counts, room, decision, and the pod as the
 * patch leaves it. The simulator places its pods with it; the webhook computes the same inputs
 * from its informer cache (a differential test holds the two together).
 *
 * @example
 * const { decision, pod } = placeNewPod({ pod, workload, replicas: 3, members, policy, state, options });
 */
export function placeNewPod(args: NewPodPlacement): { readonly input: PlacementInput; readonly decision: PlacementDecision; readonly pod: PodView } {
  const { state, options } = args;
  const live = countPlacement(args.members, (name) => state.node(name)?.capacityType);
  const reserved = args.reserved ?? { onDemand: 0, spot: 0 };
  const ordinal = args.workload.kind === 'StatefulSet' ? statefulSetOrdinal(args.pod.name, args.workload.name) : undefined;
  const spotToleration = args.policy.spotToleration ?? options.spotToleration;
  const roomOptions: RoomOptions = {
    capacityLabel: options.capacityLabel,
    ...(spotToleration === undefined ? {} : { spotToleration }),
    ...(options.growable === undefined ? {} : { growable: options.growable }),
    ...(options.reserved === undefined ? {} : { reserved: options.reserved }),
  };
  const input: PlacementInput = {
    workload: args.workload,
    desiredReplicas: replicasForFloor(args.replicas, live, reserved, ordinal),
    live,
    reserved,
    ...(ordinal === undefined ? {} : { ordinal }),
    room: placementRoom(state, args.pod, roomOptions),
    policy: args.policy,
  };
  const decision = decidePlacement(input);
  const patchOptions: PlacementPatchOptions = { capacityLabel: options.capacityLabel, deletionCost: options.deletionCost, preferredWeight: options.preferredWeight, ...(spotToleration === undefined ? {} : { spotToleration }) };
  return { input, decision, pod: applyPlacement(args.pod, decision, patchOptions) };
}

function _isOurs(r: { readonly key: string; readonly operator: string; readonly values?: readonly string[] | undefined }, key: string, value: string): boolean {
  return r.key === key && r.operator === 'In' && r.values?.length === 1 && r.values[0] === value;
}

/** A pod as far as placing it reads and writes: its scheduling constraints and annotations. */
export type PlaceablePod = Pick<PodView, 'constraints' | 'annotations'>;

/**
 * `pod` as the webhook's JSON Patch (`placementPatch`) leaves it, in the model's shape: the same
 * merge, rule for rule, so the simulator and the descheduler see the pods the live webhook makes
 * (a differential test holds the two together):
 *
 * - required: the capacity-type requirement joins every required node selector term that does not
 *   name the capacity label, or forms the only term;
 * - preferred: a preferred term for the type, unless an identical one is there;
 * - spot pods get the spot toleration, unless the same toleration is there;
 * - `controller.kubernetes.io/pod-deletion-cost` (unless set) and `stowage.io/capacity-type`.
 *
 * A pod whose `nodeSelector` names the capacity label keeps its node affinity (the user pinned it).
 *
 * @example
 * applyPlacement(podView, { capacityType: 'spot', required: true }, options).constraints.nodeAffinity;
 * // { required: [{ matchExpressions: [{ key: 'node.kubernetes.io/capacity', operator: 'In', values: ['spot'] }] }] }
 */
export function applyPlacement<T extends PlaceablePod>(pod: T, decision: Pick<PlacementDecision, 'capacityType' | 'required'>, options: Partial<PlacementPatchOptions> = {}): T {
  const { capacityLabel, deletionCost, preferredWeight, spotToleration } = { ...DEFAULT_PLACEMENT_PATCH_OPTIONS, ...options };
  const { key, values } = capacityLabel;
  const requirement = { key, operator: 'In' as const, values: [values[decision.capacityType]] };
  const c = pod.constraints;
  let nodeAffinity = c.nodeAffinity;
  if (c.nodeSelector?.[key] === undefined) {
    if (decision.required) {
      const terms = nodeAffinity?.required ?? [];
      const required =
        terms.length === 0
          ? [{ matchExpressions: [requirement] }]
          : terms.map((t) => ((t.matchExpressions ?? []).some((r) => r.key === key) ? t : { ...t, matchExpressions: [...(t.matchExpressions ?? []), requirement] }));
      nodeAffinity = { ...nodeAffinity, required };
    } else {
      const preferred = nodeAffinity?.preferred ?? [];
      const present = preferred.some((p) => p.preference.matchExpressions?.length === 1 && _isOurs(p.preference.matchExpressions[0] as typeof requirement, key, requirement.values[0] as string));
      if (!present) nodeAffinity = { ...nodeAffinity, preferred: [...preferred, { weight: preferredWeight, preference: { matchExpressions: [requirement] } }] };
    }
  }
  let tolerations = c.tolerations;
  if (decision.capacityType === 'spot' && spotToleration !== undefined && !(tolerations ?? []).some((t) => sameToleration(t, spotToleration))) {
    tolerations = [...(tolerations ?? []), spotToleration];
  }
  const annotations = { ...pod.annotations };
  if (annotations[POD_DELETION_COST_ANNOTATION] === undefined) annotations[POD_DELETION_COST_ANNOTATION] = String(deletionCost[decision.capacityType]);
  annotations[CAPACITY_TYPE_ANNOTATION] = decision.capacityType;
  const constraints: SchedulingConstraints = {
    ...c,
    ...(nodeAffinity === undefined ? {} : { nodeAffinity }),
    ...(tolerations === undefined ? {} : { tolerations }),
  };
  return { ...pod, constraints, annotations };
}

/**
 * `pod` as its controller recreates it, before the webhook places it again: the webhook's earlier
 * requirement and preferred term (found through the `stowage.io/capacity-type` annotation) and
 * that annotation are taken out. A pod whose `nodeSelector` names the label keeps its constraints.
 */
export function withoutPlacement<T extends PlaceablePod>(pod: T, capacityLabel: PlacementPatchOptions['capacityLabel'] = DEFAULT_PLACEMENT_PATCH_OPTIONS.capacityLabel): T {
  const previous = pod.annotations[CAPACITY_TYPE_ANNOTATION];
  if (previous === undefined) return pod;
  const { [CAPACITY_TYPE_ANNOTATION]: _previous, ...annotations } = pod.annotations;
  const { key, values } = capacityLabel;
  const c = pod.constraints;
  const previousValue = previous === 'spot' || previous === 'on-demand' ? values[previous] : undefined;
  if (c.nodeSelector?.[key] !== undefined || previousValue === undefined) return { ...pod, annotations };
  const required = (c.nodeAffinity?.required ?? [])
    .map((t) => (t.matchExpressions ? { ...t, matchExpressions: t.matchExpressions.filter((r) => !_isOurs(r, key, previousValue)) } : t))
    .filter((t) => (t.matchExpressions?.length ?? 0) + (t.matchFields?.length ?? 0) > 0);
  const preferred = (c.nodeAffinity?.preferred ?? []).filter((p) => !(p.preference.matchExpressions?.length === 1 && _isOurs(p.preference.matchExpressions[0] as NonNullable<typeof p.preference.matchExpressions>[number], key, previousValue)));
  const { nodeAffinity: _old, ...rest } = c;
  const nodeAffinity = { ...(required.length > 0 ? { required } : {}), ...(preferred.length > 0 ? { preferred } : {}) };
  const constraints: SchedulingConstraints = { ...rest, ...(required.length > 0 || preferred.length > 0 ? { nodeAffinity } : {}) };
  return { ...pod, constraints, annotations };
}
