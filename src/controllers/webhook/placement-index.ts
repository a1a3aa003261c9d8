/**
 * What the webhook knows about the cluster, fed by informer events: pods grouped by the workload
 * that owns them, a fit state of the nodes and their pods (for room with the full fit rules), and
 * the Deployments, StatefulSets, ReplicaSets and namespaces a decision reads. The rules that turn
 * this into the decision's inputs (group, counts, room) are the shared ones of
 * `policy/placement/inputs.ts`, which the descheduler and the simulator use as well. Everything is rebuilt
 * from the informers' first LIST, so a restarted webhook counts what the cluster runs, not what
 * it remembers; a deletion or eviction lowers the counts as soon as its watch event arrives.
 *
 * Plain data in, plain data out: no client, no clock, so tests feed it objects directly.
 */
import type { CapacityTypeRule } from '../../core/capacity.js';
import {
  nodeFromKube,
  ownerResolver,
  podFromKube,
  podRequests,
  schedulingConstraintsFromKube,
  workloadFromKube,
  type KubeNode,
  type KubePod,
  type KubeReplicaSet,
  type KubeWorkload,
} from '../../core/from-kube.js';
import type { NodeView, PodView, Resources, WorkloadRef, WorkloadView } from '../../core/model.js';
import { addResources, subtractResources } from '../../core/resources.js';
import { workloadKey } from '../../core/snapshot.js';
import { FitState } from '../../policy/fit/index.js';
import type { CapacityCounts, PlacedCapacityType } from '../../policy/placement/decide.js';
import { countPlacement, decidedCapacityType, pendingCapacityType, placementGroup, placementRoom, type CountedPod, type Room } from '../../policy/placement/inputs.js';
import type { PlacementPatchOptions } from '../../policy/placement/patch.js';
import type { Toleration } from '../../core/model.js';
import { DEFAULT_PRICE_TABLE } from '../../core/pricing.js';
import type { KarpenterNodeClaim, KarpenterNodePool } from '../../kube/node-pools.js';
import { growableTemplates } from './growth.js';
import { RESERVATION_ANNOTATION } from './ledger.js';

export { placementGroup, type Room } from '../../policy/placement/inputs.js';

/** How the index reads capacity types from nodes and pods. */
export interface PlacementIndexOptions {
  /** Node labels → capacity type, first match wins. */
  readonly capacityTypeRules: readonly CapacityTypeRule[];
  /** The label pods are pinned with, to read the type of a pod that is not bound yet. */
  readonly capacityLabel: PlacementPatchOptions['capacityLabel'];
  /** Called with the reservation id of every pod seen, so the ledger can release it. */
  readonly onReservationSeen?: (id: string) => void;
}

/** What the index keeps of one pod: what counting reads, and the object for the fit state. */
interface _PodRecord extends CountedPod {
  /** Deployment or StatefulSet key (`Kind/ns/name`), when the pod belongs to one. */
  readonly workload: string | undefined;
  /** The counting group (see {@link placementGroup}). */
  readonly group: string | undefined;
  readonly owner: WorkloadRef;
  readonly requests: Resources;
  /** Holds its node's resources: not finished (terminating pods still do, as in the scheduler). */
  readonly holds: boolean;
  /** The object as the informer delivered it; read into a `PodView` only when the fit state needs it. */
  readonly raw: KubePod;
}

const NO_RESOURCES: Resources = Object.freeze({});

function _key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/** Whether two views of a node differ in anything a filter reads. */
function _fitChanged(a: NodeView, b: NodeView): boolean {
  return (
    a.ready !== b.ready ||
    a.unschedulable !== b.unschedulable ||
    a.capacityType !== b.capacityType ||
    JSON.stringify(a.labels) !== JSON.stringify(b.labels) ||
    JSON.stringify(a.taints) !== JSON.stringify(b.taints) ||
    JSON.stringify(a.allocatable) !== JSON.stringify(b.allocatable)
  );
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
  readonly #nodePools = new Map<string, KarpenterNodePool>();
  readonly #nodeClaims = new Map<string, KarpenterNodeClaim>();
  /** What `growable()` answers until a NodePool, NodeClaim or node changes. */
  #growable: readonly NodeView[] | undefined;
  /**
   * The nodes and their bound pods as the fit filters read them. Built at the first room check;
   * pod events reach it through `#stale` at the next check (a burst of status updates of one pod
   * costs one update), and a node added, removed or changed in what filters read drops it, to be
   * rebuilt at the next check.
   */
  #fit: FitState | undefined;
  /** Pod keys whose fit-state entry is out of date. */
  readonly #stale = new Set<string>();
  /** Pod key → the uid it was assumed under in `#fit`. */
  readonly #assumed = new Map<string, string>();
  /** Requests of active pods decided for a type but not bound yet: they will take room there. */
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
    this.#stale.add(key);
  }

  /** Removes a pod (informer `delete`). */
  deletePod(pod: KubePod): void {
    const reservation = pod.metadata?.annotations?.[RESERVATION_ANNOTATION];
    if (reservation !== undefined) this.#options.onReservationSeen?.(reservation);
    const key = _key(pod.metadata?.namespace, pod.metadata?.name);
    this.#removePod(key);
    this.#stale.add(key);
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
    const old = this.#nodes.get(view.name);
    this.#nodes.set(view.name, view);
    // Heartbeats change nothing a filter reads: the fit state keeps the view it has.
    if (old === undefined || _fitChanged(old, view)) {
      this.#fit = undefined;
      // The offers read the nodes too (the zones a pool naming none launches in, a type's allocatable).
      this.#growable = undefined;
    }
  }

  deleteNode(node: KubeNode): void {
    if (this.#nodes.delete(node.metadata?.name ?? '')) {
      this.#fit = undefined;
      this.#growable = undefined;
    }
  }

  // --- what the autoscaler can add (Karpenter's NodePools and NodeClaims) ---------------------

  upsertNodePool(pool: KarpenterNodePool): void {
    this.#nodePools.set(pool.metadata?.name ?? '', pool);
    this.#growable = undefined;
  }

  deleteNodePool(pool: KarpenterNodePool): void {
    if (this.#nodePools.delete(pool.metadata?.name ?? '')) this.#growable = undefined;
  }

  upsertNodeClaim(claim: KarpenterNodeClaim): void {
    this.#nodeClaims.set(claim.metadata?.name ?? '', claim);
    this.#growable = undefined;
  }

  deleteNodeClaim(claim: KarpenterNodeClaim): void {
    if (this.#nodeClaims.delete(claim.metadata?.name ?? '')) this.#growable = undefined;
  }

  /** The empty nodes the autoscaler can add now (see `growableTemplates`); none without NodePools. */
  growable(): readonly NodeView[] {
    if (this.#growable === undefined) {
      this.#growable = this.#nodePools.size === 0 ? [] : growableTemplates([...this.#nodePools.values()], [...this.#nodeClaims.values()], [...this.#nodes.values()], DEFAULT_PRICE_TABLE, this.#options.capacityTypeRules);
    }
    return this.#growable;
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
   * Whether some node of each capacity type takes `pod` now, with the full fit rules on the
   * cached nodes and pods (see `placementRoom`): spot pods with `spotToleration`, and each type's
   * nodes must also hold what is promised to it between them: the pods decided for it but not
   * bound yet, and `inFlight` (decisions not yet in the cache).
   */
  room(pod: PodView, spotToleration: Toleration | undefined, inFlight: Readonly<Record<PlacedCapacityType, Resources>>): Room {
    const reserved = {
      'on-demand': addResources(this.#pending['on-demand'], inFlight['on-demand']),
      spot: addResources(this.#pending.spot, inFlight.spot),
    };
    const growable = this.growable();
    return placementRoom(this.#fitState(), pod, { capacityLabel: this.#options.capacityLabel, ...(spotToleration === undefined ? {} : { spotToleration }), reserved, ...(growable.length === 0 ? {} : { growable }) });
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
   * than everything else the webhook does per event; the fit state reads the view later, once
   * per burst of events.
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
    // Only an unbound pod needs its constraints read: where it is decided to go.
    const decided = nodeName === '' ? decidedCapacityType({ annotations: meta.annotations ?? {}, constraints: schedulingConstraintsFromKube(pod.spec ?? {}) }, this.#options.capacityLabel) : undefined;
    return {
      workload: placed ? workloadKey(owner) : undefined,
      group: placed ? placementGroup(owner, controllerUid) : undefined,
      owner,
      nodeName,
      decided,
      requests,
      active: meta.deletionTimestamp === undefined && !finished,
      holds: !finished,
      raw: pod,
    };
  }

  #removePod(key: string): void {
    const old = this.#pods.get(key);
    if (old === undefined) return;
    this.#pods.delete(key);
    if (old.group !== undefined) _removeFrom(this.#groups, old.group, key);
    if (old.workload !== undefined) _removeFrom(this.#workloadPods, old.workload, key);
    this.#account(old, -1);
  }

  /** Keeps `pendingRequests` of every pod, incrementally: every pod event of the cluster passes here. */
  #account(record: _PodRecord, sign: 1 | -1): void {
    const type = pendingCapacityType(record);
    if (type === undefined) return;
    const change = sign === 1 ? addResources : subtractResources;
    this.#pending = { ...this.#pending, [type]: change(this.#pending[type], record.requests) };
  }

  #count(keys: ReadonlySet<string> | undefined): CapacityCounts {
    const pods: _PodRecord[] = [];
    for (const key of keys ?? []) {
      const pod = this.#pods.get(key);
      if (pod !== undefined) pods.push(pod);
    }
    return countPlacement(pods, (name) => this.#nodes.get(name)?.capacityType);
  }

  /** The fit state, built when missing and brought up to date with the pods changed since. */
  #fitState(): FitState {
    if (this.#fit === undefined) {
      const pods: PodView[] = [];
      this.#assumed.clear();
      for (const [key, record] of this.#pods) {
        const view = this.#fitView(record);
        if (view === undefined) continue;
        pods.push(view);
        this.#assumed.set(key, view.uid);
      }
      this.#stale.clear();
      this.#fit = FitState.fromSnapshot({ takenAt: 0, nodes: [...this.#nodes.values()], pods, workloads: [], pdbs: [] });
      return this.#fit;
    }
    const fit = this.#fit;
    for (const key of this.#stale) {
      const uid = this.#assumed.get(key);
      if (uid !== undefined) {
        fit.forget(uid);
        this.#assumed.delete(key);
      }
      const record = this.#pods.get(key);
      const view = record === undefined ? undefined : this.#fitView(record);
      if (view === undefined || fit.node(view.nodeName) === undefined) continue;
      fit.assume(view, view.nodeName);
      this.#assumed.set(key, view.uid);
    }
    this.#stale.clear();
    return fit;
  }

  /** The view the fit state holds of a pod bound to a known node and holding its resources, else undefined. */
  #fitView(record: _PodRecord): PodView | undefined {
    if (record.nodeName === '' || !record.holds || !this.#nodes.has(record.nodeName)) return undefined;
    try {
      return podFromKube(record.raw, () => record.owner);
    } catch {
      // Requests the parser refuses (see #record): the pod still takes a pod slot there.
      return { ...podFromKube({ ...record.raw, spec: { ...record.raw.spec, containers: [] } }, () => record.owner), requests: record.requests };
    }
  }
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
