/**
 * The simulated cluster's state: nodes, pods and the indexes every model reads, kept up to date
 * incrementally so that no event scans the whole cluster.
 *
 * Two views of the same state serve two kinds of reader:
 * - the plain-data `NodeView`/`PodView` objects of `src/core/model.ts`, cached per object and
 *   rebuilt only when that object changes, so a `ClusterSnapshot` for the descheduler costs an
 *   array of references;
 * - one long-lived `FitState` (the shared fit policy's working view) that the scheduler and the
 *   autoscaler ask "would it fit". It is updated with `assume`/`forget` on every bind and
 *   termination, never rebuilt per decision. Its node set is fixed at construction, so it is
 *   built with spare node slots per node group: a launched node takes a spare slot (cordoned
 *   until Ready), a removed node is cordoned and dropped at the next rebuild, and a rebuild
 *   happens only when a group runs out of spares.
 */
import type { CapacityType, ClusterSnapshot, NodeView, PdbView, PodView, SchedulingConstraints, Taint, WorkloadRef, WorkloadView } from '../core/model.js';
import { FitState, type NodeInfo } from '../policy/fit/index.js';
import type { NodeGroup } from './node-group.js';
import type { SimEvent } from './engine.js';

/** Node labels the simulated nodes carry, as EKS nodes do. */
export const NodeLabel = {
  Hostname: 'kubernetes.io/hostname',
  InstanceType: 'node.kubernetes.io/instance-type',
  Zone: 'topology.kubernetes.io/zone',
  /** The label the placement webhook's affinity selects on (see `DEFAULT_PLACEMENT_PATCH_OPTIONS`). */
  Capacity: 'node.kubernetes.io/capacity',
  EksCapacityType: 'eks.amazonaws.com/capacityType',
  NodeGroup: 'eks.amazonaws.com/nodegroup',
} as const;

/** Why a node takes no new pods; each adds its taint, as the component that set it would. */
export const CordonReason = {
  /** Cluster Autoscaler's `ToBeDeletedByClusterAutoscaler` taint while it drains and deletes the node. */
  AutoscalerDelete: 'autoscaler-delete',
  /** aws-node-termination-handler cordons on a spot interruption notice. */
  SpotNotice: 'spot-notice',
  /** Stowage's descheduler taints a node it drains. */
  StowageDrain: 'stowage-drain',
} as const;
/** One of {@link CordonReason}. */
export type CordonReason = (typeof CordonReason)[keyof typeof CordonReason];

const _TAINTS: Readonly<Record<CordonReason, Taint>> = {
  'autoscaler-delete': { key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' },
  'spot-notice': { key: 'aws-node-termination-handler/spot-itn', effect: 'NoSchedule' },
  'stowage-drain': { key: 'stowage.io/draining', effect: 'NoSchedule' },
};

/**
 * Cluster Autoscaler's soft taint on a node it found unneeded: the scheduler prefers other nodes
 * (PreferNoSchedule), so the node is not refilled while its unneeded time runs. CA's
 * `DeletionCandidateTaint`; its value is the Unix time the taint was set.
 */
export const DELETION_CANDIDATE_TAINT_KEY = 'DeletionCandidateOfClusterAutoscaler';

/** A node's life: launched (not yet registered), Ready, or terminated. */
export type NodeState = 'provisioning' | 'ready' | 'gone';

/** A node (an instance) from launch request to termination. */
export class SimNode {
  readonly name: string;
  readonly group: NodeGroup;
  /** Run time (ms) of the launch request. */
  readonly launchedAt: number;
  state: NodeState = 'provisioning';
  readyAt: number | undefined;
  goneAt: number | undefined;
  /** Run time of the spot interruption notice, when one came. */
  noticeAt: number | undefined;
  readonly pods = new Set<SimPod>();
  cpuRequested = 0;
  memoryRequested = 0;
  readonly cordons = new Set<CordonReason>();
  /** Run time Cluster Autoscaler soft-tainted the node as a deletion candidate, when it carries the taint. */
  deletionCandidateSince: number | undefined;
  /** Index in `SimCluster.readyNodes`, for O(1) removal. */
  _readyIndex = -1;
  #view: NodeView | undefined;
  #fitState: FitState | undefined;
  #fitInfo: NodeInfo | undefined;
  readonly #epochOffset: number;

  constructor(name: string, group: NodeGroup, launchedAt: number, epochOffset: number) {
    this.name = name;
    this.group = group;
    this.launchedAt = launchedAt;
    this.#epochOffset = epochOffset;
  }

  get capacityType(): 'spot' | 'on-demand' {
    return this.group.capacityType;
  }

  /** This node in the fit state `state`, looked up once per state (the object is updated in place). */
  fitInfo(state: FitState): NodeInfo | undefined {
    if (this.#fitState !== state) {
      this.#fitState = state;
      this.#fitInfo = state.nodeInfo(this.name);
    }
    return this.#fitInfo;
  }

  /** Takes new pods: Ready and not cordoned. */
  get schedulable(): boolean {
    return this.state === 'ready' && this.cordons.size === 0;
  }

  /** The plain-data view, rebuilt only after a change. */
  view(): NodeView {
    if (this.#view === undefined) {
      const g = this.group;
      const taints = this.#taints();
      this.#view = {
        name: this.name,
        labels: { ...g.labels, [NodeLabel.Hostname]: this.name },
        annotations: {},
        taints,
        allocatable: g.allocatable,
        capacity: g.capacity,
        // aws-node-termination-handler cordons (spec.unschedulable); the others only taint.
        unschedulable: this.cordons.has(CordonReason.SpotNotice),
        ready: this.state === 'ready',
        capacityType: g.capacityType as CapacityType,
        instanceType: g.instanceType.name,
        zone: g.zone,
        createdAt: this.#epochOffset + this.launchedAt,
      };
    }
    return this.#view;
  }

  /** The group's taints, then Cluster Autoscaler's soft taint, then one per cordon reason. */
  #taints(): Taint[] {
    const taints = [...this.group.taints];
    if (this.deletionCandidateSince !== undefined) taints.push(_deletionCandidateTaint(this.#epochOffset + this.deletionCandidateSince));
    for (const reason of [...this.cordons].sort()) taints.push(_TAINTS[reason]);
    return taints;
  }

  /** The taints the fit state holds for the node: its view's less those its cordon already stands for. */
  fitTaints(): readonly Taint[] {
    return this.deletionCandidateSince === undefined ? this.group.taints : [...this.group.taints, _deletionCandidateTaint(this.#epochOffset + this.deletionCandidateSince)];
  }

  /** Call after changing state or cordons. */
  invalidate(): void {
    this.#view = undefined;
  }
}

function _deletionCandidateTaint(epochMs: number): Taint {
  return { key: DELETION_CANDIDATE_TAINT_KEY, value: String(Math.floor(epochMs / 1000)), effect: 'PreferNoSchedule' };
}

/** What a pod's controller is told about its pods. Implemented by services and jobs. */
export interface PodOwner {
  readonly ref: WorkloadRef;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The pod became Ready. */
  onPodReady(pod: SimPod): void;
  /** The pod stopped being Ready, or is deleted (terminating) while not Ready. */
  onPodDeleting(pod: SimPod, wasReady: boolean): void;
  /** The pod is gone from the cluster (terminated, or killed with its node). */
  onPodGone(pod: SimPod): void;
  /** A running pod finished on its own (a job's work is done). */
  onPodSucceeded?(pod: SimPod): void;
}

/** What a controller creates a pod from: fixed for the pod's life. Cpu in millicores, memory in bytes. */
export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly owner: PodOwner;
  readonly cpu: number;
  readonly memory: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly constraints: SchedulingConstraints;
  readonly hasLocalStorage: boolean;
  readonly priority: number;
  /** Start-up (pull, start, readiness probe) once bound, ms. */
  readonly startupMs: number;
  /** Graceful shutdown once deleted, ms (already cut at the grace period). */
  readonly shutdownMs: number;
  /** For a job pod: how long it runs once Ready before it succeeds. */
  readonly runMs?: number;
}

/** The pod phases the simulator uses (no `Unknown`: it never loses track of a pod). */
export type SimPodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** A pod from creation to deletion. */
export class SimPod {
  readonly uid: string;
  readonly spec: PodSpec;
  readonly createdAt: number;
  node: SimNode | undefined;
  phase: SimPodPhase = 'Pending';
  ready = false;
  boundAt: number | undefined;
  readyAt: number | undefined;
  deletionRequestedAt: number | undefined;
  /** Set by the scheduler when a scheduling attempt failed (PodScheduled=False, Unschedulable). */
  unschedulable = false;
  /** Scheduling attempts, for the backoff. */
  attempts = 0;
  /** Run time before which the scheduler does not retry the pod. */
  backoffUntil = 0;
  /** The replacement waiting for this pod, for a surge-first move. */
  surgeFor: SimPod | undefined;
  /** Pending timers of this pod (start-up, run, shutdown), cancelled when it is killed. */
  timer: SimEvent | undefined;
  #view: PodView | undefined;
  readonly #epochOffset: number;

  constructor(uid: string, spec: PodSpec, createdAt: number, epochOffset: number) {
    this.uid = uid;
    this.spec = spec;
    this.createdAt = createdAt;
    this.#epochOffset = epochOffset;
  }

  get owner(): PodOwner {
    return this.spec.owner;
  }

  get terminating(): boolean {
    return this.deletionRequestedAt !== undefined;
  }

  /** The plain-data view, rebuilt only after a change. */
  view(): PodView {
    if (this.#view === undefined) {
      const s = this.spec;
      const offset = this.#epochOffset;
      this.#view = {
        namespace: s.namespace,
        name: s.name,
        uid: this.uid,
        labels: s.labels,
        annotations: s.annotations,
        requests: { cpu: s.cpu, memory: s.memory, pods: 1 },
        nodeName: this.node?.name ?? '',
        phase: this.phase,
        ready: this.ready,
        priority: s.priority,
        priorityClassName: '',
        schedulerName: 'default-scheduler',
        owner: s.owner.ref,
        controllerRef: { kind: s.owner.ref.kind === 'Deployment' ? 'ReplicaSet' : s.owner.ref.kind, name: s.owner.ref.name, uid: s.owner.uid },
        constraints: s.constraints,
        createdAt: offset + this.createdAt,
        ...(this.deletionRequestedAt !== undefined ? { deletionRequestedAt: offset + this.deletionRequestedAt } : {}),
        hasLocalStorage: s.hasLocalStorage,
        isMirror: false,
        pvcNames: [],
      };
    }
    return this.#view;
  }

  invalidate(): void {
    this.#view = undefined;
  }
}

/** Supplies the workload and PDB views of a snapshot (the workload models own them). */
export interface WorkloadViews {
  workloads(): readonly WorkloadView[];
  pdbs(): readonly PdbView[];
}

/** Options of {@link SimCluster}. */
export interface SimClusterOptions {
  /** Epoch ms of run time 0, so views carry wall-clock instants like a live cluster's. */
  readonly epochOffset: number;
  /** All node groups the run may launch into: each gets spare slots in the fit state. */
  readonly groups: readonly NodeGroup[];
}

/**
 * The cluster: nodes and pods with incremental indexes, the fit state, and the time-weighted
 * requested-utilisation integral.
 */
export class SimCluster {
  readonly epochOffset: number;
  /** Nodes not yet gone (provisioning and ready), by name. */
  readonly nodes = new Map<string, SimNode>();
  /** Ready nodes, in the order they became Ready (swap-removed): what the scheduler iterates. */
  readonly readyNodes: SimNode[] = [];
  #schedulableNodes: readonly SimNode[] | undefined;
  /** Pods not yet gone, by uid. */
  readonly pods = new Map<string, SimPod>();
  /** Pending pods not yet bound, in creation order. */
  readonly pending = new Set<SimPod>();
  readonly #fit: _FitIndex;
  #nextPod = 0;
  /** Sum of allocatable and requested cpu/memory over ready nodes, for utilisation. */
  #allocCpu = 0;
  #allocMemory = 0;
  #reqCpu = 0;
  #reqMemory = 0;
  #utilLast = 0;
  #utilIntegral = 0;
  #utilFrom = 0;
  #workloadViews: WorkloadViews | undefined;

  constructor(options: SimClusterOptions) {
    this.epochOffset = options.epochOffset;
    this.#fit = new _FitIndex(options.groups, () => this.#boundPodViews());
  }

  /** The shared fit state, kept in step with the cluster. */
  get fit(): FitState {
    return this.#fit.state;
  }

  /** Rebuilds of the fit state so far (for the benchmark's diagnostics). */
  get fitRebuilds(): number {
    return this.#fit.rebuilds;
  }

  /** Makes sure the fit state holds `count` spare slots of `group`, as templates for the autoscaler. */
  ensureSpare(group: NodeGroup, count: number): void {
    this.#fit.ensureSpare(group, count);
  }

  /** Spare slot names of `group` in the fit state (cordoned; never bound to). */
  spareSlots(group: NodeGroup): readonly string[] {
    return this.#fit.spareSlots(group);
  }

  setWorkloadViews(views: WorkloadViews): void {
    this.#workloadViews = views;
  }

  // --- nodes -----------------------------------------------------------------------------------

  /** Registers a launched instance under a fresh name from its group's spare slots. */
  addNode(group: NodeGroup, now: number): SimNode {
    const name = this.#fit.take(group);
    const node = new SimNode(name, group, now, this.epochOffset);
    this.nodes.set(name, node);
    return node;
  }

  /** The node registered and became Ready: it counts for utilisation and takes pods. */
  markReady(node: SimNode, now: number): void {
    this.#accrue(now);
    node.state = 'ready';
    node.readyAt = now;
    node.invalidate();
    node._readyIndex = this.readyNodes.length;
    this.readyNodes.push(node);
    this.#allocCpu += node.group.allocatable['cpu'] ?? 0;
    this.#allocMemory += node.group.allocatable['memory'] ?? 0;
    this.#reqCpu += node.cpuRequested;
    this.#reqMemory += node.memoryRequested;
    this.#syncCordon(node);
  }

  /** The instance is gone. Its pods must have been removed first. */
  removeNode(node: SimNode, now: number): void {
    if (node.pods.size > 0) throw new Error(`Cannot remove node "${node.name}": ${node.pods.size} pods still on it`);
    this.#accrue(now);
    if (node.state === 'ready') {
      const last = this.readyNodes.pop() as SimNode;
      if (last !== node) {
        this.readyNodes[node._readyIndex] = last;
        last._readyIndex = node._readyIndex;
      }
      node._readyIndex = -1;
      this.#allocCpu -= node.group.allocatable['cpu'] ?? 0;
      this.#allocMemory -= node.group.allocatable['memory'] ?? 0;
      this.#reqCpu -= node.cpuRequested;
      this.#reqMemory -= node.memoryRequested;
    }
    node.state = 'gone';
    node.goneAt = now;
    this.#schedulableNodes = undefined;
    node.invalidate();
    this.nodes.delete(node.name);
    this.#fit.release(node.name);
  }

  cordon(node: SimNode, reason: CordonReason): void {
    if (node.cordons.has(reason)) return;
    node.cordons.add(reason);
    node.invalidate();
    this.#syncCordon(node);
  }

  uncordon(node: SimNode, reason: CordonReason): void {
    if (!node.cordons.delete(reason)) return;
    node.invalidate();
    this.#syncCordon(node);
  }

  /**
   * Sets or clears Cluster Autoscaler's soft deletion-candidate taint: the node's view and the fit
   * state carry it, so the scheduler's TaintToleration score steers pods away from the node.
   */
  setDeletionCandidate(node: SimNode, candidate: boolean, now: number): void {
    if ((node.deletionCandidateSince !== undefined) === candidate) return;
    node.deletionCandidateSince = candidate ? now : undefined;
    node.invalidate();
    this.#fit.setTaints(node.name, node.fitTaints());
  }

  #syncCordon(node: SimNode): void {
    this.#fit.setSchedulable(node.name, node.schedulable);
    this.#schedulableNodes = undefined;
  }

  /**
   * The Ready, uncordoned nodes, in `readyNodes` order: the scheduler's node list, kept until a
   * node joins, leaves, or is cordoned or uncordoned. Do not change it.
   */
  get schedulableNodes(): readonly SimNode[] {
    if (this.#schedulableNodes === undefined) {
      const nodes: SimNode[] = [];
      for (const node of this.readyNodes) if (node.schedulable) nodes.push(node);
      this.#schedulableNodes = nodes;
    }
    return this.#schedulableNodes;
  }

  // --- pods ------------------------------------------------------------------------------------

  /** Creates a pending pod. */
  createPod(spec: PodSpec, now: number): SimPod {
    const pod = new SimPod(`pod-${++this.#nextPod}`, spec, now, this.epochOffset);
    this.pods.set(pod.uid, pod);
    this.pending.add(pod);
    return pod;
  }

  /** Binds a pending pod to a node: it now holds the node's resources. */
  bind(pod: SimPod, node: SimNode, now: number): void {
    if (pod.node !== undefined) throw new Error(`Cannot bind pod "${pod.spec.name}": already bound to "${pod.node.name}"`);
    this.#accrue(now);
    this.pending.delete(pod);
    pod.node = node;
    pod.boundAt = now;
    pod.unschedulable = false;
    pod.invalidate();
    node.pods.add(pod);
    node.cpuRequested += pod.spec.cpu;
    node.memoryRequested += pod.spec.memory;
    if (node.state === 'ready') {
      this.#reqCpu += pod.spec.cpu;
      this.#reqMemory += pod.spec.memory;
    }
    this.#fit.state.assume(pod.view(), node.name);
  }

  /**
   * A bound pod began terminating: the fit state gets its new view, as the scheduler's cache gets
   * the pod's update. It still holds its node's resources, but spread counts skip it, as upstream.
   */
  markTerminating(pod: SimPod): void {
    if (pod.node === undefined) return;
    this.#fit.state.forget(pod.uid);
    this.#fit.state.assume(pod.view(), pod.node.name);
  }

  /** Removes a pod from the cluster (terminated, finished, or killed); frees its node's resources. */
  removePod(pod: SimPod, now: number): void {
    if (!this.pods.delete(pod.uid)) return;
    this.pending.delete(pod);
    const node = pod.node;
    if (node !== undefined) {
      this.#accrue(now);
      node.pods.delete(pod);
      node.cpuRequested -= pod.spec.cpu;
      node.memoryRequested -= pod.spec.memory;
      if (node.state === 'ready') {
        this.#reqCpu -= pod.spec.cpu;
        this.#reqMemory -= pod.spec.memory;
      }
      this.#fit.state.forget(pod.uid);
    }
  }

  // --- snapshot and accounting -----------------------------------------------------------------

  /** The cluster as the live informers would show it: registered nodes, every pod not gone. */
  snapshot(now: number): ClusterSnapshot {
    const nodes: NodeView[] = [];
    for (const node of this.readyNodes) nodes.push(node.view());
    const pods: PodView[] = [];
    for (const pod of this.pods.values()) pods.push(pod.view());
    return {
      takenAt: this.epochOffset + now,
      nodes,
      pods,
      workloads: this.#workloadViews?.workloads() ?? [],
      pdbs: this.#workloadViews?.pdbs() ?? [],
    };
  }

  /** Requested / allocatable over ready nodes now, cpu and memory averaged (0 with no nodes). */
  requestedUtilisation(): number {
    if (this.#allocCpu <= 0 || this.#allocMemory <= 0) return 0;
    return (this.#reqCpu / this.#allocCpu + this.#reqMemory / this.#allocMemory) / 2;
  }

  /** Starts the utilisation integral at `now` (the end of the warm-up). */
  resetUtilisation(now: number): void {
    this.#accrue(now);
    this.#utilIntegral = 0;
    this.#utilFrom = now;
  }

  /** Time-weighted mean requested utilisation since the last reset. */
  meanUtilisation(now: number): number {
    this.#accrue(now);
    const span = now - this.#utilFrom;
    return span > 0 ? this.#utilIntegral / span : this.requestedUtilisation();
  }

  #accrue(now: number): void {
    if (now > this.#utilLast) {
      this.#utilIntegral += (now - this.#utilLast) * this.requestedUtilisation();
      this.#utilLast = now;
    }
  }

  *#boundPodViews(): Iterable<PodView> {
    for (const pod of this.pods.values()) if (pod.node !== undefined) yield pod.view();
  }
}

/**
 * The fit state with spare node slots. Slot views are fixed (a `FitState` never changes its
 * nodes): they carry the group's labels, allocatable and `ready: true`; whether a slot takes pods
 * is expressed with `cordon`, so a provisioning node, a spare and a departed node are all cordoned.
 */
class _FitIndex {
  #state: FitState;
  readonly #groups: readonly NodeGroup[];
  readonly #pods: () => Iterable<PodView>;
  /** Unused slot names per group, taken from the front. */
  readonly #spare = new Map<string, string[]>();
  readonly #slotGroup = new Map<string, NodeGroup>();
  readonly #live = new Set<string>();
  readonly #schedulable = new Set<string>();
  readonly #views = new Map<string, NodeView>();
  /** Live slots whose taints differ from their group's. */
  readonly #taints = new Map<string, readonly Taint[]>();
  #dead = 0;
  #counter = 0;
  rebuilds = 0;

  constructor(groups: readonly NodeGroup[], pods: () => Iterable<PodView>) {
    this.#groups = groups;
    this.#pods = pods;
    for (const g of groups) this.#spare.set(g.id, []);
    this.#state = this.#build(() => 8);
  }

  get state(): FitState {
    return this.#state;
  }

  /** A fresh slot name for a new node of `group` (cordoned until `setSchedulable`). */
  take(group: NodeGroup): string {
    let spare = this.#spare.get(group.id) as string[];
    if (spare.length === 0) {
      this.#state = this.#build((g) => (g === group ? this.#defaultSpare(g) : Math.max(1, (this.#spare.get(g.id) as string[]).length)));
      spare = this.#spare.get(group.id) as string[];
    }
    const name = spare.shift() as string;
    this.#live.add(name);
    return name;
  }

  /** Makes sure `group` has at least `count` spare slots (rebuilding the state if not). */
  ensureSpare(group: NodeGroup, count: number): void {
    const spare = this.#spare.get(group.id) as string[];
    if (spare.length >= count) return;
    this.#state = this.#build((g) => (g === group ? Math.max(count, this.#defaultSpare(g)) : (this.#spare.get(g.id) as string[]).length));
  }

  /** The group's spare slot names, in the order `take` hands them out. */
  spareSlots(group: NodeGroup): readonly string[] {
    return this.#spare.get(group.id) ?? [];
  }

  #defaultSpare(group: NodeGroup): number {
    return Math.max(8, Math.ceil(this.#liveIn(group) / 4));
  }

  /** Sets a live slot's taints (in this state and in every rebuild). */
  setTaints(name: string, taints: readonly Taint[]): void {
    if (!this.#live.has(name)) return;
    const group = this.#slotGroup.get(name) as NodeGroup;
    if (taints === group.taints) this.#taints.delete(name);
    else this.#taints.set(name, taints);
    this.#views.delete(name);
    this.#state.setTaints(name, this.#view(name, group).taints);
  }

  release(name: string): void {
    if (!this.#live.delete(name)) return;
    this.#taints.delete(name);
    this.#schedulable.delete(name);
    if (!this.#state.isCordoned(name)) this.#state.cordon(name);
    this.#dead++;
    // Departed slots cost filter time in every plugin that walks all nodes; drop them now and then.
    if (this.#dead > 32 && this.#dead > this.#live.size / 2) this.#state = this.#build((g) => this.#defaultSpare(g));
  }

  setSchedulable(name: string, schedulable: boolean): void {
    if (!this.#live.has(name)) return;
    if (schedulable) this.#schedulable.add(name);
    else this.#schedulable.delete(name);
    const cordoned = this.#state.isCordoned(name);
    if (schedulable && cordoned) this.#state.uncordon(name);
    else if (!schedulable && !cordoned) this.#state.cordon(name);
  }

  #liveIn(group: NodeGroup): number {
    let n = 0;
    for (const name of this.#live) if (this.#slotGroup.get(name) === group) n++;
    return n;
  }

  #view(name: string, group: NodeGroup): NodeView {
    let view = this.#views.get(name);
    if (view === undefined) {
      view = {
        name,
        labels: { ...group.labels, [NodeLabel.Hostname]: name },
        annotations: {},
        taints: this.#taints.get(name) ?? group.taints,
        allocatable: group.allocatable,
        capacity: group.capacity,
        unschedulable: false,
        ready: true,
        capacityType: group.capacityType,
        instanceType: group.instanceType.name,
        zone: group.zone,
        createdAt: 0,
      };
      this.#views.set(name, view);
    }
    return view;
  }

  /** A new fit state: live slots with their pods, and `spareOf(group)` spare slots per group. */
  #build(spareOf: (group: NodeGroup) => number): FitState {
    this.rebuilds++;
    const views: NodeView[] = [];
    const slotGroup = new Map<string, NodeGroup>();
    for (const name of this.#live) {
      const group = this.#slotGroup.get(name) as NodeGroup;
      slotGroup.set(name, group);
      views.push(this.#view(name, group));
    }
    for (const g of this.#groups) {
      const spare = this.#spare.get(g.id) as string[];
      const want = spareOf(g);
      if (spare.length > want) spare.length = want;
      while (spare.length < want) spare.push(`${g.namePrefix}-${(++this.#counter).toString(36).padStart(5, '0')}`);
      for (const name of spare) {
        slotGroup.set(name, g);
        views.push(this.#view(name, g));
      }
    }
    this.#slotGroup.clear();
    for (const [k, v] of slotGroup) this.#slotGroup.set(k, v);
    for (const name of this.#views.keys()) if (!slotGroup.has(name)) this.#views.delete(name);
    const state = FitState.fromSnapshot({ takenAt: 0, nodes: views, pods: [...this.#pods()], workloads: [], pdbs: [] });
    for (const view of views) if (!this.#schedulable.has(view.name)) state.cordon(view.name);
    this.#dead = 0;
    return state;
  }
}

