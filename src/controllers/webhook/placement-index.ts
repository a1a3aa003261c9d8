/**
 * What the webhook knows about the cluster, fed by informer events: pods grouped by the workload
 * that owns them, nodes by capacity type with the resources their pods request, and the
 * Deployments, StatefulSets, ReplicaSets and namespaces a decision reads. Everything is rebuilt
 * from the informers' first LIST, so a restarted webhook counts what the cluster runs, not what
 * it remembers; a deletion or eviction lowers the counts as soon as its watch event arrives.
 *
 * Plain data in, plain data out: no client, no clock, so tests feed it objects directly.
 */
import type { CapacityTypeRule } from '../../core/capacity.js';
import {
  nodeFromKube,
  ownerResolver,
  podRequests,
  workloadFromKube,
  type KubeNode,
  type KubePod,
  type KubeReplicaSet,
  type KubeWorkload,
} from '../../core/from-kube.js';
import { matchesRequiredNodeAffinity, taintsNotTolerated } from '../../core/labels.js';
import type { NodeView, Resources, SchedulingConstraints, TaintEffect, Toleration, WorkloadRef, WorkloadView } from '../../core/model.js';
import { addResources, subtractResources } from '../../core/resources.js';
import { workloadKey } from '../../core/snapshot.js';
import type { CapacityCounts, PlacedCapacityType } from '../../policy/placement/decide.js';
import { CAPACITY_TYPE_ANNOTATION, pinnedCapacityType, type PlacementPatchOptions, type RawPod } from '../../policy/placement/patch.js';
import { RESERVATION_ANNOTATION } from './ledger.js';

/** How the index reads capacity types from nodes and pods. */
export interface PlacementIndexOptions {
  /** Node labels → capacity type, first match wins. */
  readonly capacityTypeRules: readonly CapacityTypeRule[];
  /** The label pods are pinned with, to read the type of a pod that is not bound yet. */
  readonly capacityLabel: PlacementPatchOptions['capacityLabel'];
  /** Called with the reservation id of every pod seen, so the ledger can release it. */
  readonly onReservationSeen?: (id: string) => void;
}

/** What the index keeps of one pod: only what counting and the room check read. */
interface _PodRecord {
  /** Deployment or StatefulSet key (`Kind/ns/name`), when the pod belongs to one. */
  readonly workload: string | undefined;
  /** The counting group (see {@link placementGroup}). */
  readonly group: string | undefined;
  readonly nodeName: string;
  /** The type the pod is pinned to (by the webhook's annotation or the user's selector), for pods not yet bound. */
  readonly pinned: PlacedCapacityType | undefined;
  readonly requests: Resources;
  /** Counts toward the split: not terminating, not finished. */
  readonly active: boolean;
  /** Holds its node's resources: not finished (terminating pods still do, as in the scheduler). */
  readonly holds: boolean;
}

interface _NodeUse {
  requested: Resources;
}

const NO_RESOURCES: Resources = Object.freeze({});
const SCHEDULING_EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'NoExecute'];

function _key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/**
 * The group whose pods a new pod is counted with: for a Deployment, the pod's own revision (its
 * ReplicaSet, by uid), as `decidePlacement` documents, so a rollout's new revision gets its own
 * on-demand replicas instead of leaning on old pods about to go; for a StatefulSet, the set.
 *
 * @example
 * placementGroup({ kind: 'Deployment', namespace: 'shop', name: 'cart' }, 'rs-uid'); // 'Deployment/shop/cart#rs-uid'
 */
export function placementGroup(owner: WorkloadRef, replicaSetUid: string | undefined): string {
  const key = workloadKey(owner);
  return owner.kind === 'Deployment' ? `${key}#${replicaSetUid ?? ''}` : key;
}

/** Whether some node of each capacity type has room for a pod (see {@link PlacementIndex.room}). */
export interface Room {
  readonly onDemand: boolean;
  readonly spot: boolean;
}

/** A Deployment or StatefulSet with its pods counted by capacity type, for the per-workload gauges. */
export interface WorkloadSplit {
  readonly workload: WorkloadView;
  readonly live: CapacityCounts;
}

/**
 * The informer-fed view. Counts are computed at query time from group membership and the
 * current node labels, so a node deleted or relabelled is reflected at once without revisiting
 * its pods; the resources requested per node are kept incrementally.
 *
 * @example
 * const index = new PlacementIndex({ capacityTypeRules, capacityLabel });
 * podInformer.on('add', (pod) => index.upsertPod(pod));
 * index.liveCounts(placementGroup(owner, rsUid)); // { onDemand: 1, spot: 2 }
 */
export class PlacementIndex {
  readonly #options: PlacementIndexOptions;
  readonly #pods = new Map<string, _PodRecord>();
  readonly #groups = new Map<string, Set<string>>();
  readonly #workloadPods = new Map<string, Set<string>>();
  readonly #nodes = new Map<string, NodeView>();
  readonly #nodesByType: Record<PlacedCapacityType, Map<string, NodeView>> = { 'on-demand': new Map(), spot: new Map() };
  readonly #nodeUse = new Map<string, _NodeUse>();
  /** Requests of active pods pinned to a type but not bound yet: they will take room there. */
  #pending: Record<PlacedCapacityType, Resources> = { 'on-demand': NO_RESOURCES, spot: NO_RESOURCES };
  readonly #replicaSets = new Map<string, KubeReplicaSet>();
  readonly #workloads = new Map<string, WorkloadView>();
  readonly #namespaces = new Map<string, Readonly<Record<string, string>>>();

  constructor(options: PlacementIndexOptions) {
    this.#options = options;
  }

  // --- pods ---------------------------------------------------------------------------------

  /** Adds or replaces a pod (informer `add` and `update`). */
  upsertPod(pod: KubePod): void {
    const key = _key(pod.metadata?.namespace, pod.metadata?.name);
    const reservation = pod.metadata?.annotations?.[RESERVATION_ANNOTATION];
    if (reservation !== undefined) this.#options.onReservationSeen?.(reservation);
    this.#removePod(key);
    const record = this.#record(pod);
    this.#pods.set(key, record);
    if (record.group !== undefined) _addTo(this.#groups, record.group, key);
    if (record.workload !== undefined) _addTo(this.#workloadPods, record.workload, key);
    this.#account(record, 1);
  }

  /** Removes a pod (informer `delete`). */
  deletePod(pod: KubePod): void {
    const reservation = pod.metadata?.annotations?.[RESERVATION_ANNOTATION];
    if (reservation !== undefined) this.#options.onReservationSeen?.(reservation);
    this.#removePod(_key(pod.metadata?.namespace, pod.metadata?.name));
  }

  /** Pods currently indexed. */
  get podCount(): number {
    return this.#pods.size;
  }

  /**
   * Active pods of a group by capacity type: bound to a node of that type, or, while not bound,
   * pinned to it. Pods on a node of unknown type, or on a node the cache does not hold (deleted,
   * or not seen yet), are not counted: under-counting on-demand only ever adds an on-demand pod.
   */
  liveCounts(group: string): CapacityCounts {
    return this.#count(this.#groups.get(group));
  }

  /** Like {@link liveCounts}, over every revision of a workload. */
  workloadCounts(ref: WorkloadRef): CapacityCounts {
    return this.#count(this.#workloadPods.get(workloadKey(ref)));
  }

  // --- nodes --------------------------------------------------------------------------------

  upsertNode(node: KubeNode): void {
    const view = nodeFromKube(node, this.#options.capacityTypeRules);
    this.#removeNode(view.name);
    this.#nodes.set(view.name, view);
    if (view.capacityType !== 'unknown') this.#nodesByType[view.capacityType].set(view.name, view);
  }

  deleteNode(node: KubeNode): void {
    this.#removeNode(node.metadata?.name ?? '');
  }

  /** The capacity type of a node in the cache, or undefined when the cache does not hold it. */
  nodeCapacityType(name: string): NodeView['capacityType'] | undefined {
    return this.#nodes.get(name)?.capacityType;
  }

  /** Nodes by capacity type, for the startup check that the capacity label is in use. */
  nodeTypes(): Readonly<Record<NodeView['capacityType'], number>> {
    const counts = { spot: 0, 'on-demand': 0, unknown: 0 };
    for (const node of this.#nodes.values()) counts[node.capacityType]++;
    return counts;
  }

  /**
   * Whether a pod with these requests and constraints could be placed on each capacity type now.
   * Not the scheduler's full filter set: a node qualifies when it is Ready, schedulable, matches
   * the pod's nodeSelector and required node affinity, has no NoSchedule/NoExecute taint the pod
   * does not tolerate (spot pods also get `spotToleration`), and its free allocatable covers the
   * requests and one more pod; then the type's free resources summed over qualifying nodes must
   * still cover the pod after the pods pinned there but not bound yet, and `inFlight` (decisions
   * not yet in the cache). Pod affinity, spread and volume topology are not checked: a false
   * "room" only means the decision stays required, which is what it would be without a fallback.
   */
  room(requests: Resources, constraints: SchedulingConstraints, spotToleration: Toleration | undefined, inFlight: Readonly<Record<PlacedCapacityType, Resources>>): Room {
    const tolerations = constraints.tolerations ?? [];
    const spotTolerations = spotToleration === undefined ? tolerations : [...tolerations, spotToleration];
    return {
      onDemand: this.#roomOn('on-demand', requests, constraints, tolerations, inFlight['on-demand']),
      spot: this.#roomOn('spot', requests, constraints, spotTolerations, inFlight.spot),
    };
  }

  // --- owners, workloads, namespaces --------------------------------------------------------

  upsertReplicaSet(rs: KubeReplicaSet): void {
    const meta = rs.metadata ?? {};
    // Only what owner resolution reads, so old revisions cost little memory.
    this.#replicaSets.set(_key(meta.namespace, meta.name), {
      metadata: { name: meta.name ?? '', namespace: meta.namespace ?? '', uid: meta.uid ?? '', ...(meta.ownerReferences === undefined ? {} : { ownerReferences: meta.ownerReferences }) },
    });
  }

  deleteReplicaSet(rs: KubeReplicaSet): void {
    this.#replicaSets.delete(_key(rs.metadata?.namespace, rs.metadata?.name));
  }

  replicaSet(namespace: string, name: string): KubeReplicaSet | undefined {
    return this.#replicaSets.get(_key(namespace, name));
  }

  upsertWorkload(kind: 'Deployment' | 'StatefulSet', obj: KubeWorkload): void {
    const view = workloadFromKube(obj, kind);
    this.#workloads.set(workloadKey(view.ref), view);
  }

  deleteWorkload(kind: 'Deployment' | 'StatefulSet', obj: KubeWorkload): void {
    this.#workloads.delete(workloadKey({ kind, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' }));
  }

  workload(ref: WorkloadRef): WorkloadView | undefined {
    return this.#workloads.get(workloadKey(ref));
  }

  upsertNamespace(ns: { readonly metadata?: { readonly name?: string; readonly annotations?: Readonly<Record<string, string>> } }): void {
    this.#namespaces.set(ns.metadata?.name ?? '', ns.metadata?.annotations ?? {});
  }

  deleteNamespace(ns: { readonly metadata?: { readonly name?: string } }): void {
    this.#namespaces.delete(ns.metadata?.name ?? '');
  }

  /** A namespace's annotations, or undefined when the cache does not hold the namespace. */
  namespaceAnnotations(name: string): Readonly<Record<string, string>> | undefined {
    return this.#namespaces.get(name);
  }

  /** Every Deployment and StatefulSet with its pods' split over all revisions. */
  *workloadSplits(): Generator<WorkloadSplit> {
    for (const workload of this.#workloads.values()) yield { workload, live: this.#count(this.#workloadPods.get(workloadKey(workload.ref))) };
  }

  /**
   * The top-level owner of a pod through the cached ReplicaSets (see `ownerResolver`): a pod
   * whose ReplicaSet is not cached yet is still attributed to its Deployment by the
   * `pod-template-hash` naming rule.
   */
  ownerOf(pod: KubePod, replicaSet?: KubeReplicaSet): WorkloadRef {
    const controller = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
    const rs = replicaSet ?? (controller?.kind === 'ReplicaSet' ? this.replicaSet(pod.metadata?.namespace ?? '', controller.name ?? '') : undefined);
    return ownerResolver(rs === undefined ? [] : [rs], [])(pod);
  }

  // --- internals ----------------------------------------------------------------------------

  /**
   * Reads only what counting needs. Not `podFromKube`: every pod event of the cluster passes
   * here (binds, status changes), and building the full view (constraints, volumes) cost more
   * than everything else the webhook does per event.
   */
  #record(pod: KubePod): _PodRecord {
    const meta = pod.metadata ?? {};
    const owner = this.ownerOf(pod);
    const phase = pod.status?.phase;
    const nodeName = pod.spec?.nodeName ?? '';
    let requests: Resources;
    try {
      requests = podRequests(pod.spec ?? {});
    } catch {
      // A request the apiserver accepted but our parser does not: count the pod, without requests.
      requests = { pods: 1 };
    }
    const placed = owner.kind === 'Deployment' || owner.kind === 'StatefulSet';
    const finished = phase === 'Succeeded' || phase === 'Failed';
    const controllerUid = meta.ownerReferences?.find((r) => r.controller === true)?.uid;
    return {
      workload: placed ? workloadKey(owner) : undefined,
      group: placed ? placementGroup(owner, controllerUid) : undefined,
      nodeName,
      pinned: nodeName === '' ? this.#pinnedType(pod) : undefined,
      requests,
      active: meta.deletionTimestamp === undefined && !finished,
      holds: !finished,
    };
  }

  /** The webhook's own annotation first (it knows fallback decisions too), then the user's selector. */
  #pinnedType(pod: KubePod): PlacedCapacityType | undefined {
    const annotated = pod.metadata?.annotations?.[CAPACITY_TYPE_ANNOTATION];
    if (annotated === 'spot' || annotated === 'on-demand') return annotated;
    const pinned = pinnedCapacityType(pod as RawPod, { capacityLabel: this.#options.capacityLabel });
    return pinned === 'spot' || pinned === 'on-demand' ? pinned : undefined;
  }

  #removeNode(name: string): void {
    this.#nodes.delete(name);
    this.#nodesByType['on-demand'].delete(name);
    this.#nodesByType.spot.delete(name);
  }

  #removePod(key: string): void {
    const old = this.#pods.get(key);
    if (old === undefined) return;
    this.#pods.delete(key);
    if (old.group !== undefined) _removeFrom(this.#groups, old.group, key);
    if (old.workload !== undefined) _removeFrom(this.#workloadPods, old.workload, key);
    this.#account(old, -1);
  }

  #account(record: _PodRecord, sign: 1 | -1): void {
    const change = sign === 1 ? addResources : subtractResources;
    if (record.nodeName !== '' && record.holds) {
      const use = this.#nodeUse.get(record.nodeName) ?? { requested: NO_RESOURCES };
      use.requested = change(use.requested, record.requests);
      this.#nodeUse.set(record.nodeName, use);
    } else if (record.nodeName === '' && record.active && record.pinned !== undefined) {
      this.#pending = { ...this.#pending, [record.pinned]: change(this.#pending[record.pinned], record.requests) };
    }
  }

  #count(keys: ReadonlySet<string> | undefined): CapacityCounts {
    let onDemand = 0;
    let spot = 0;
    for (const key of keys ?? []) {
      const pod = this.#pods.get(key);
      if (pod === undefined || !pod.active) continue;
      const type = pod.nodeName === '' ? pod.pinned : this.#nodes.get(pod.nodeName)?.capacityType;
      if (type === 'on-demand') onDemand++;
      else if (type === 'spot') spot++;
    }
    return { onDemand, spot };
  }

  #roomOn(type: PlacedCapacityType, requests: Resources, constraints: SchedulingConstraints, tolerations: readonly Toleration[], inFlight: Resources): boolean {
    // What the type's qualifying nodes must hold between them: this pod, the pinned pods not
    // bound yet, and the decisions in flight. The scan stops as soon as that is covered and one
    // node fits the pod alone, so a roomy cluster answers after a few nodes.
    const pending = this.#pending[type];
    const names = Object.keys(requests).filter((name) => (requests[name] ?? 0) > 0);
    const needed = names.map((name) => (requests[name] ?? 0) + Math.max(0, pending[name] ?? 0) + Math.max(0, inFlight[name] ?? 0));
    const total = names.map(() => 0);
    let fitsSomeNode = false;
    for (const node of this.#nodesByType[type].values()) {
      if (!node.ready || node.unschedulable) continue;
      if (!matchesRequiredNodeAffinity(constraints, node)) continue;
      if (node.taints.length > 0 && taintsNotTolerated(tolerations, node.taints, SCHEDULING_EFFECTS).length > 0) continue;
      const requested = this.#nodeUse.get(node.name)?.requested ?? NO_RESOURCES;
      let fits = true;
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        // A node without a `pods` allocatable has no pod limit (real nodes always have one).
        const allocatable = node.allocatable[name] ?? (name === 'pods' ? Number.MAX_SAFE_INTEGER : 0);
        const free = allocatable - (requested[name] ?? 0);
        if ((requests[name] ?? 0) > free) fits = false;
        total[i] = (total[i] ?? 0) + Math.max(0, free);
      }
      if (fits) fitsSomeNode = true;
      if (fitsSomeNode && _covers(total, needed)) return true;
    }
    return false;
  }

}

function _covers(total: readonly number[], needed: readonly number[]): boolean {
  for (let i = 0; i < needed.length; i++) if ((total[i] ?? 0) < (needed[i] ?? 0)) return false;
  return true;
}

function _addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) map.set(key, new Set([value]));
  else set.add(value);
}

function _removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
