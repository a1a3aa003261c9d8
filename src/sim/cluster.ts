/**
 * The simulated cluster's state: nodes, pods and the indexes every model reads, kept up to date
 * incrementally so that no event scans the whole cluster.
 *
 * Two views of the same state serve two kinds of reader:
 * - the plain-data `NodeView`/`PodView` objects of `src/core/model.ts`, cached per object and
 *   rebuilt only when that object changes, so a `ClusterSnapshot` for the descheduler costs an
 *   array of references;
 * - one long-lived `FitState` (the shared fit policy's working view) that the scheduler and the
 *   autoscaler ask "would it fit", holding the registered (Ready) nodes as the scheduler's cache
 *   does. It is updated with `assume`/`forget` on every bind and termination, `addNode` when a
 *   node becomes Ready, `removeNode` when it goes, and cordon or taint changes, never rebuilt.
 */
import type { CapacityType, ClusterSnapshot, LabelSelector, NodeView, PdbView, PodView, SchedulingConstraints, Taint, WorkloadRef, WorkloadView } from '../core/model.js';
import { FitState, type NodeInfo } from '../policy/fit/index.js';
import type { PriceTable } from '../core/pricing.js';
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
  /**
   * The kubelet stopped reporting Ready: the node-lifecycle controller's `not-ready` taint (its
   * NoExecute twin evicts only after the pods' 300 s toleration, which no run here reaches).
   */
  NotReady: 'not-ready',
} as const;
/** One of {@link CordonReason}. */
export type CordonReason = (typeof CordonReason)[keyof typeof CordonReason];

const _TAINTS: Readonly<Record<CordonReason, Taint>> = {
  'autoscaler-delete': { key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' },
  'spot-notice': { key: 'aws-node-termination-handler/spot-itn', effect: 'NoSchedule' },
  'stowage-drain': { key: 'stowage.io/draining', effect: 'NoSchedule' },
  'not-ready': { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
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
  /** Run time a controller last took a pod off the node by choice (a rollout or a scale-down), for outage attribution. */
  controllerDeletedAt: number | undefined;
  /** Annotations a controller wrote on the node (Stowage's scale-down protection); change them through `SimCluster.annotate`. */
  readonly annotations = new Map<string, string>();
  /** Index in `SimCluster.readyNodes`, for O(1) removal. */
  _readyIndex = -1;
  /** Index in `SimCluster.schedulableNodes` (and its room arrays) while that list stands, else -1. */
  _schedulableIndex = -1;
  /**
   * The group's allocatable cpu (millicores), memory (bytes) and pod slots as plain fields: the
   * scheduler's and the autoscaler's hot loops read them for every node, many times a second.
   */
  readonly allocatableCpu: number;
  readonly allocatableMemory: number;
  readonly allocatablePods: number;
  #view: NodeView | undefined;
  #fitState: FitState | undefined;
  #fitInfo: NodeInfo | undefined;
  readonly #epochOffset: number;

  constructor(name: string, group: NodeGroup, launchedAt: number, epochOffset: number) {
    this.name = name;
    this.group = group;
    this.launchedAt = launchedAt;
    this.#epochOffset = epochOffset;
    this.allocatableCpu = group.allocatable['cpu'] ?? 0;
    this.allocatableMemory = group.allocatable['memory'] ?? 0;
    this.allocatablePods = group.allocatable['pods'] ?? Number.POSITIVE_INFINITY;
  }

  get capacityType(): 'spot' | 'on-demand' {
    return this.group.capacityType;
  }

  /** This node in the fit state `state`, looked up once per state (the object is updated in place). */
  fitInfo(state: FitState): NodeInfo | undefined {
    if (this.#fitState !== state || this.#fitInfo === undefined) {
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
        annotations: Object.fromEntries(this.annotations),
        taints,
        allocatable: g.allocatable,
        capacity: g.capacity,
        // aws-node-termination-handler cordons (spec.unschedulable); the others only taint.
        unschedulable: this.cordons.has(CordonReason.SpotNotice),
        ready: this.state === 'ready' && !this.cordons.has(CordonReason.NotReady),
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

  /** Requested utilisation as Cluster Autoscaler computes it for scale-down: the larger of the cpu and memory shares. */
  get utilisation(): number {
    return Math.max(this.cpuRequested / this.allocatableCpu, this.memoryRequested / this.allocatableMemory);
  }

  /** Call after changing state or cordons. */
  invalidate(): void {
    this.#view = undefined;
  }
}

function _deletionCandidateTaint(epochMs: number): Taint {
  return { key: DELETION_CANDIDATE_TAINT_KEY, value: String(Math.floor(epochMs / 1000)), effect: 'PreferNoSchedule' };
}

/** Why a pod was deleted; the evictions metric counts the voluntary ones by cause. */
export const DeletionCause = {
  /** The HPA scaled the workload down. */
  ScaleDown: 'scale-down',
  /** Cluster Autoscaler drained the node to remove it. */
  AutoscalerDrain: 'autoscaler-drain',
  /** Stowage's descheduler moved the pod. */
  Descheduler: 'descheduler',
  /** aws-node-termination-handler drained the node on a spot notice. */
  SpotDrain: 'spot-drain',
  /** The naive arm's periodic restart. */
  NaiveRestart: 'naive-restart',
  /** A surge replacement that was not Ready in time was withdrawn. */
  SurgeAbort: 'surge-abort',
  /** The pod's spot instance was reclaimed by EC2 and the pod died with it. */
  SpotReclaim: 'spot-reclaim',
  /** The autoscaler terminated the pod's node and the pod died with it. */
  NodeRemoved: 'node-removed',
  /** A Deployment rollout scaled down the pod's (old) ReplicaSet. */
  Rollout: 'rollout',
} as const;
/** One of {@link DeletionCause}. */
export type DeletionCause = (typeof DeletionCause)[keyof typeof DeletionCause];

/** What a pod's controller is told about its pods. Implemented by services and jobs. */
export interface PodOwner {
  readonly ref: WorkloadRef;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The pod became Ready. */
  onPodReady(pod: SimPod): void;
  /** The pod is deleted (terminating) or killed with its node, for `cause`; `wasReady` if it was Ready until then. */
  onPodDeleting(pod: SimPod, wasReady: boolean, cause: DeletionCause): void;
  /** The pod is gone from the cluster (terminated, or killed with its node). */
  onPodGone(pod: SimPod): void;
  /** A running pod finished on its own (a job's work is done). */
  onPodSucceeded?(pod: SimPod): void;
  /** A Ready pod stopped being Ready without being deleted (its node went NotReady). */
  onPodUnready?(pod: SimPod): void;
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
  /**
   * The uid of the pod's controller when it is not the owner's own: a Deployment's pods belong to
   * one ReplicaSet per revision (their labels then carry its `pod-template-hash`).
   */
  readonly controllerUid?: string;
  /** The Deployment revision (its ReplicaSet) the pod belongs to; 0 for every other pod. */
  readonly revision?: number;
}

/**
 * The pod's scheduling equivalence class, built once (its parts never change): pods of one
 * controller with the same requests and constraints object pass and fail the same filters (the
 * scheduler skips the rest of a class after one failed; the autoscaler's estimates group by it, as
 * Cluster Autoscaler's pod equivalence groups).
 */
export function schedulingClass(pod: SimPod): string {
  return (pod._schedulingClass ??= `${pod.spec.controllerUid ?? pod.owner.uid}|${pod.spec.cpu}|${pod.spec.memory}|${_constraintsId(pod.spec.constraints)}`);
}

const _constraintIds = new WeakMap<object, number>();
let _nextConstraintId = 0;

/** An identity for a pod's constraints object: workload models share one object per variant. */
function _constraintsId(constraints: SchedulingConstraints): number {
  let id = _constraintIds.get(constraints);
  if (id === undefined) {
    id = ++_nextConstraintId;
    _constraintIds.set(constraints, id);
  }
  return id;
}

/** The pod phases the simulator uses (no `Unknown`: it never loses track of a pod). */
export type SimPodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** A pod from creation to deletion. */
export class SimPod {
  readonly uid: string;
  readonly spec: PodSpec;
  /** `spec.owner`, held on the pod itself: the usage samples and the autoscaler read it for every pod. */
  readonly owner: PodOwner;
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
  /** Created by a move of Stowage's (a surge, or the replacement of a pod it evicted): where it runs is Stowage's doing. */
  movedByStowage = false;
  /** Pending timers of this pod (start-up, run, shutdown), cancelled when it is killed. */
  timer: SimEvent | undefined;
  /** `schedulingClass`'s key, built once. */
  _schedulingClass: string | undefined;
  /** The node the autoscaler's last removal simulation moved the pod to, tried first next time (CA's hinting simulator). */
  _autoscalerHint: SimNode | undefined;
  #view: PodView | undefined;
  readonly #epochOffset: number;

  constructor(uid: string, spec: PodSpec, createdAt: number, epochOffset: number) {
    this.uid = uid;
    this.spec = spec;
    this.owner = spec.owner;
    this.createdAt = createdAt;
    this.#epochOffset = epochOffset;
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
        controllerRef: { kind: s.owner.ref.kind === 'Deployment' ? 'ReplicaSet' : s.owner.ref.kind, name: s.owner.ref.name, uid: s.controllerUid ?? s.owner.uid },
        // The simulated ReplicaSets and StatefulSets select their pods by their labels (a revision's
        // carry its pod-template-hash), and there are no Services.
        ...(_SPREAD_KINDS.has(s.owner.ref.kind) ? { spreadSelector: _spreadSelectorOf(s.labels) } : {}),
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

/** One selector object per owner's labels: the fit state keys its counts by the object, and views are rebuilt often. */
const _spreadSelectors = new WeakMap<Readonly<Record<string, string>>, LabelSelector>();

function _spreadSelectorOf(labels: Readonly<Record<string, string>>): LabelSelector {
  let selector = _spreadSelectors.get(labels);
  if (selector === undefined) _spreadSelectors.set(labels, (selector = { matchLabels: labels }));
  return selector;
}

/** Owner kinds whose pods kube-scheduler's default spread selects (by their ReplicaSet or StatefulSet). */
const _SPREAD_KINDS: ReadonlySet<string> = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'ReplicationController']);

/** Free resources of the schedulable nodes by position (see `SimCluster.schedulableRoom`). */
export interface SchedulableRoom {
  readonly cpu: Float64Array;
  readonly memory: Float64Array;
  readonly pods: Float64Array;
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
  /** The run's prices, for the CostAware score of the cost-aware arm. */
  readonly prices?: PriceTable;
}

/**
 * A node of `group` named `name` as the fit state holds it: Ready, with the group's labels,
 * resources and `taints` (the group's, plus Cluster Autoscaler's soft taint when set). Cordons are
 * the state's `cordon`, not taints here. Also the autoscaler's template of a node not yet there.
 */
export function fitNodeView(name: string, group: NodeGroup, taints: readonly Taint[] = group.taints): NodeView {
  return {
    name,
    labels: { ...group.labels, [NodeLabel.Hostname]: name },
    annotations: {},
    taints,
    allocatable: group.allocatable,
    capacity: group.capacity,
    unschedulable: false,
    ready: true,
    capacityType: group.capacityType,
    instanceType: group.instanceType.name,
    zone: group.zone,
    createdAt: 0,
  };
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
  /** The last list built, whose nodes carry their `_schedulableIndex` until the next build. */
  #lastSchedulable: readonly SimNode[] = [];
  #room: SchedulableRoom = { cpu: new Float64Array(0), memory: new Float64Array(0), pods: new Float64Array(0) };
  /** Pods not yet gone, by uid. */
  readonly pods = new Map<string, SimPod>();
  /** Pending pods not yet bound, in creation order. */
  readonly pending = new Set<SimPod>();
  /** Nodes not gone that carry Cluster Autoscaler's soft deletion-candidate taint (`setDeletionCandidate`). */
  readonly #deletionCandidates = new Set<SimNode>();
  /** Ready nodes whose `utilisation` is below `#underThreshold`, once `trackUnderUtilised` set one. */
  readonly #underUtilised = new Set<SimNode>();
  #underThreshold: number | undefined;
  readonly #fit: FitState;
  #nextPod = 0;
  #nextNode = 0;
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
    // Prices only for the CostAware score (the cost-aware arm); no other plugin reads them.
    this.#fit = FitState.fromSnapshot({ takenAt: 0, nodes: [], pods: [], workloads: [], pdbs: [] }, options.prices === undefined ? {} : { prices: options.prices });
  }

  /** The shared fit state, kept in step with the cluster: the Ready nodes and their pods. */
  get fit(): FitState {
    return this.#fit;
  }

  setWorkloadViews(views: WorkloadViews): void {
    this.#workloadViews = views;
  }

  // --- nodes -----------------------------------------------------------------------------------

  /** Registers a launched instance under a fresh name of its group, or under `name` (a live node's, replayed). */
  addNode(group: NodeGroup, now: number, name = `${group.namePrefix}-${(++this.#nextNode).toString(36).padStart(5, '0')}`): SimNode {
    if (this.nodes.has(name)) throw new Error(`Cannot add node "${name}": a node of that name exists`);
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
    this.#allocCpu += node.allocatableCpu;
    this.#allocMemory += node.allocatableMemory;
    this.#reqCpu += node.cpuRequested;
    this.#reqMemory += node.memoryRequested;
    this.#fit.addNode(fitNodeView(node.name, node.group, node.fitTaints()));
    this.#syncCordon(node);
    this.#noteUtilisation(node);
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
      this.#allocCpu -= node.allocatableCpu;
      this.#allocMemory -= node.allocatableMemory;
      this.#reqCpu -= node.cpuRequested;
      this.#reqMemory -= node.memoryRequested;
    }
    node.state = 'gone';
    node.goneAt = now;
    this.#deletionCandidates.delete(node);
    this.#underUtilised.delete(node);
    this.#schedulableNodes = undefined;
    node.invalidate();
    this.nodes.delete(node.name);
    if (this.#fit.node(node.name) !== undefined) this.#fit.removeNode(node.name);
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

  /** Sets the annotations given a value, removes those given undefined. */
  annotate(node: SimNode, values: Readonly<Record<string, string | undefined>>): void {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) node.annotations.delete(key);
      else node.annotations.set(key, value);
    }
    node.invalidate();
  }

  /**
   * Sets or clears Cluster Autoscaler's soft deletion-candidate taint: the node's view and the fit
   * state carry it, so the scheduler's TaintToleration score steers pods away from the node.
   */
  setDeletionCandidate(node: SimNode, candidate: boolean, now: number): void {
    if ((node.deletionCandidateSince !== undefined) === candidate) return;
    node.deletionCandidateSince = candidate ? now : undefined;
    if (candidate) this.#deletionCandidates.add(node);
    else this.#deletionCandidates.delete(node);
    node.invalidate();
    if (this.#fit.node(node.name) !== undefined) this.#fit.setTaints(node.name, node.fitTaints());
  }

  /** The nodes not gone that carry the soft deletion-candidate taint: a few, where `readyNodes` are a thousand. Do not change it. */
  get deletionCandidates(): ReadonlySet<SimNode> {
    return this.#deletionCandidates;
  }

  /**
   * From now on keeps `underUtilised`: the Ready nodes whose requested utilisation is below
   * `threshold` (Cluster Autoscaler's scale-down threshold), updated on every bind and removal,
   * so a scan every 10 s reads the tens of such nodes, not the thousand Ready ones.
   */
  trackUnderUtilised(threshold: number): void {
    this.#underThreshold = threshold;
    this.#underUtilised.clear();
    for (const node of this.readyNodes) this.#noteUtilisation(node);
  }

  /** The Ready nodes below the threshold given to `trackUnderUtilised`, in no particular order. Do not change it. */
  get underUtilised(): ReadonlySet<SimNode> {
    return this.#underUtilised;
  }

  #noteUtilisation(node: SimNode): void {
    const threshold = this.#underThreshold;
    if (threshold === undefined || node.state !== 'ready') return;
    if (node.utilisation < threshold) this.#underUtilised.add(node);
    else this.#underUtilised.delete(node);
  }

  #syncCordon(node: SimNode): void {
    this.#schedulableNodes = undefined;
    if (this.#fit.node(node.name) === undefined) return;
    const cordoned = this.#fit.isCordoned(node.name);
    if (node.schedulable && cordoned) this.#fit.uncordon(node.name);
    else if (!node.schedulable && !cordoned) this.#fit.cordon(node.name);
  }

  /**
   * The Ready, uncordoned nodes, in `readyNodes` order: the scheduler's node list, kept until a
   * node joins, leaves, or is cordoned or uncordoned. Do not change it.
   */
  get schedulableNodes(): readonly SimNode[] {
    if (this.#schedulableNodes === undefined) {
      for (const node of this.#lastSchedulable) node._schedulableIndex = -1;
      const nodes: SimNode[] = [];
      for (const node of this.readyNodes) {
        if (!node.schedulable) continue;
        node._schedulableIndex = nodes.length;
        nodes.push(node);
      }
      const room: SchedulableRoom = { cpu: new Float64Array(nodes.length), memory: new Float64Array(nodes.length), pods: new Float64Array(nodes.length) };
      this.#schedulableNodes = nodes;
      this.#lastSchedulable = nodes;
      this.#room = room;
      for (const node of nodes) this.#noteRoom(node);
    }
    return this.#schedulableNodes;
  }

  /**
   * The free cpu, memory and pod slots of each of `schedulableNodes`, at the same positions, kept
   * up to date on every bind and removal: what the scheduler's scan of every node reads, in
   * contiguous arrays rather than node by node. Valid while `schedulableNodes` stands.
   */
  get schedulableRoom(): SchedulableRoom {
    if (this.#schedulableNodes === undefined) void this.schedulableNodes;
    return this.#room;
  }

  #noteRoom(node: SimNode): void {
    const i = node._schedulableIndex;
    if (i < 0 || this.#schedulableNodes === undefined) return;
    const room = this.#room;
    room.cpu[i] = node.allocatableCpu - node.cpuRequested;
    room.memory[i] = node.allocatableMemory - node.memoryRequested;
    room.pods[i] = node.allocatablePods - node.pods.size;
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
    this.#noteRoom(node);
    this.#noteUtilisation(node);
    if (node.state === 'ready') {
      this.#reqCpu += pod.spec.cpu;
      this.#reqMemory += pod.spec.memory;
    }
    this.#fit.assume(pod.view(), node.name);
  }

  /**
   * A bound pod began terminating: the fit state gets its new view, as the scheduler's cache gets
   * the pod's update. It still holds its node's resources, but spread counts skip it, as upstream.
   */
  markTerminating(pod: SimPod): void {
    if (pod.node === undefined) return;
    this.#fit.forget(pod.uid);
    this.#fit.assume(pod.view(), pod.node.name);
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
      this.#noteRoom(node);
      this.#noteUtilisation(node);
      if (node.state === 'ready') {
        this.#reqCpu -= pod.spec.cpu;
        this.#reqMemory -= pod.spec.memory;
      }
      this.#fit.forget(pod.uid);
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

}
