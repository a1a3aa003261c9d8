/**
 * A Cluster Autoscaler model, with CA's defaults and rules:
 *
 * - **Scale-up**, every scan: pods the scheduler marked Unschedulable, less those that fit on
 *   existing nodes or on nodes already being provisioned, are bin-packed onto template nodes of
 *   each node group (first fit, largest pods first, as CA's binpacking estimator); the expander
 *   (least-waste by default) picks one group, scaled by the nodes it needs within its max size
 *   and the cluster's max total. Groups scale from zero. A failed launch backs the group off
 *   (5 min, doubling to 30 min).
 * - **Scale-down**: a node whose requested utilisation (the larger of cpu and memory, DaemonSet
 *   pods included) is under 50%, and whose pods can all move elsewhere, is unneeded; after 10
 *   minutes unneeded it is removed. A pod cannot move when annotated safe-to-evict "false", when
 *   it has local storage (unless safe-to-evict "true"), or when its PDB allows fewer disruptions
 *   than the node would take. Empty nodes go in bulk (up to 10); a non-empty node is drained one
 *   at a time: tainted, its pods evicted through the Eviction API (retried for 2 minutes while a
 *   PDB refuses), then deleted once its pods are gone. No scale-down for 10 minutes after a
 *   scale-up, nor for 3 minutes after a failed one. A node found unremovable is not simulated
 *   again for 5 minutes (CA's unremovable-node recheck timeout).
 *
 * "Would it fit" is the shared fit policy (`checkFit`) on the cluster's fit state. Upcoming nodes
 * and each group's template nodes are added to the state for the trial, as CA forks its cluster
 * snapshot and adds template NodeInfos; every trial node and placement is rolled back.
 */
import { checkFit, firstFeasibleNode } from '../policy/fit/index.js';
import type { FitState, NodeInfo } from '../policy/fit/index.js';
import { EvictionAnnotation } from '../policy/deschedule/evictable.js';
import { ScaleDownProtection } from '../policy/deschedule/autoscaler.js';
import type { NodeView, PodView } from '../core/model.js';
import type { Cloud } from './cloud.js';
import type { NodeGroup } from './node-group.js';
import { CordonReason, fitNodeView, schedulingClass } from './cluster.js';
import type { SimCluster, SimNode, SimPod } from './cluster.js';
import type { Engine } from './engine.js';
import type { RandomStream } from './random.js';
import type { Scenario } from './scenario.js';
import { DeletionCause } from './pods.js';
import { Service } from './workloads.js';
import type { Workloads } from './workloads.js';

/** How often a drain retries evictions a PDB refused. */
const _EVICTION_RETRY_MS = 10_000;
/** How often a drain checks whether its evicted pods are gone. */
const _DRAIN_POLL_MS = 5_000;
/** CA's `--unremovable-node-recheck-timeout`: a node found unremovable is not simulated again for this long. */
const _UNREMOVABLE_RECHECK_MS = 5 * 60_000;
/** CA's `--max-bulk-soft-taint-count`: soft taints added per scan. */
const _MAX_BULK_SOFT_TAINT_COUNT = 10;
/** CA's `--max-nodes-per-scaleup` is 1000; a cap keeps the template nodes of one estimate few in a small run. */
const _MAX_NODES_PER_SCALE_UP = 200;

/** Counters for the benchmark and tests. */
export interface AutoscalerStats {
  scaleUps: number;
  nodesAdded: number;
  nodesRemoved: number;
  drains: number;
  failedDrains: number;
  launchFailures: number;
}

interface _Drain {
  readonly node: SimNode;
  readonly startedAt: number;
  evictedAllAt: number | undefined;
}

interface _Option {
  readonly group: NodeGroup;
  readonly nodes: number;
  readonly pods: readonly SimPod[];
  readonly waste: number;
}

/** The simulated Cluster Autoscaler. */
export class ClusterAutoscaler {
  readonly stats: AutoscalerStats = { scaleUps: 0, nodesAdded: 0, nodesRemoved: 0, drains: 0, failedDrains: 0, launchFailures: 0 };
  readonly #engine: Engine;
  readonly #cluster: SimCluster;
  readonly #cloud: Cloud;
  readonly #groups: readonly NodeGroup[];
  readonly #config: Scenario['autoscaler'];
  readonly #maxTotal: number;
  readonly #random: RandomStream;
  readonly #workloads: Workloads;
  readonly #unneededSince = new Map<SimNode, number>();
  /** Nodes a simulation found unremovable, and until when they are not simulated again. */
  readonly #unremovableUntil = new Map<SimNode, number>();
  readonly #backoff = new Map<NodeGroup, { until: number; failures: number }>();
  #lastScaleUp = Number.NEGATIVE_INFINITY;
  #lastScaleDownFailure = Number.NEGATIVE_INFINITY;
  #drain: _Drain | undefined;
  #candidateStart = 0;

  constructor(engine: Engine, cluster: SimCluster, cloud: Cloud, groups: readonly NodeGroup[], scenario: Scenario, random: RandomStream, workloads: Workloads) {
    this.#engine = engine;
    this.#cluster = cluster;
    this.#cloud = cloud;
    this.#groups = groups;
    this.#config = scenario.autoscaler;
    this.#maxTotal = scenario.nodeGroups.maxNodesTotal;
    this.#random = random;
    this.#workloads = workloads;
    cluster.trackUnderUtilised(this.#config.scaleDownUtilizationThreshold);
  }

  /** Starts the scan loop. */
  start(): void {
    this.#engine.every(this.#config.scanInterval, this.#config.scanInterval, () => this.runOnce());
  }

  /** The group's launch failed (no spot capacity): back it off, doubling. */
  onLaunchFailed(group: NodeGroup): void {
    this.stats.launchFailures++;
    const failures = (this.#backoff.get(group)?.failures ?? 0) + 1;
    const delay = Math.min(this.#config.maxBackoff, this.#config.initialBackoff * 2 ** (failures - 1));
    this.#backoff.set(group, { until: this.#engine.now + delay, failures });
  }

  /** A node of the group registered: the group is healthy again. */
  onNodeReady(node: SimNode): void {
    this.#backoff.delete(node.group);
  }

  /** A node disappeared (deleted, or reclaimed): forget it. */
  onNodeGone(node: SimNode): void {
    this.#unneededSince.delete(node);
    this.#unremovableUntil.delete(node);
    if (this.#drain?.node === node) this.#drain = undefined;
  }

  /** Whether the node is unneeded now, and since when (for tests). */
  unneededSince(node: SimNode): number | undefined {
    return this.#unneededSince.get(node);
  }

  /** One scan: scale up if pods wait, else track unneeded nodes and maybe remove some. */
  runOnce(): void {
    const now = this.#engine.now;
    if (this.#scaleUp()) {
      this.#lastScaleUp = now;
      return;
    }
    this.#updateUnneeded(now);
    if (this.#drain !== undefined) return;
    if (now - this.#lastScaleUp < this.#config.scaleDownDelayAfterAdd) return;
    if (now - this.#lastScaleDownFailure < this.#config.scaleDownDelayAfterFailure) return;
    this.#scaleDown(now);
  }

  // --- scale-up --------------------------------------------------------------------------------

  #scaleUp(): boolean {
    const pending: SimPod[] = [];
    for (const pod of this.#cluster.pending) if (pod.unschedulable && !pod.terminating && pod.owner.ref.kind !== 'DaemonSet') pending.push(pod);
    if (pending.length === 0) return false;
    const live = this.#cloud.liveNodes;
    const candidates = this.#groups.filter((g) => this.canGrow(g, live));
    const fit = this.#cluster.fit;
    const trial = new _Trial(fit);
    try {
      // Pods that fit on existing nodes wait for the scheduler; pods that fit on nodes already
      // coming are waiting for those (CA's filterOutSchedulable and upcoming-node simulation).
      // A node without room for the smallest pending pod takes none: left out before a slot is made
      // for it (`_placeFirstFit` would drop it first thing).
      const smallest = _smallest(pending);
      const existing: _Slot[] = [];
      for (const node of this.#cluster.schedulableNodes) {
        const info = _infoOf(fit, node.name, node.fitInfo(fit));
        if (_roomIn(info.requested, node.group, smallest)) existing.push({ name: node.name, group: node.group, info });
      }
      const upcoming: _Slot[] = [];
      for (const node of this.#cluster.nodes.values()) {
        if (node.state !== 'provisioning') continue;
        // An upcoming node is in the trial as it will be once Ready, with its DaemonSet pods, as
        // CA's upcoming-node templates hold them.
        trial.addNode(fitNodeView(node.name, node.group));
        this.#assumeDaemonPod(trial, node.name);
        upcoming.push({ name: node.name, group: node.group, info: _infoOf(fit, node.name, fit.nodeInfo(node.name)) });
      }
      let rest = _placeFirstFit(trial, pending, existing);
      rest = _placeFirstFit(trial, rest, upcoming);
      if (rest.length === 0) return false;
      const options: _Option[] = [];
      for (const g of candidates) {
        const option = this.#estimate(trial, g, rest, live);
        if (option !== undefined) options.push(option);
      }
      const chosen = this.#expand(options);
      if (chosen === undefined) return false;
      for (let i = 0; i < chosen.nodes; i++) this.#cloud.launch(chosen.group);
      this.stats.scaleUps++;
      this.stats.nodesAdded += chosen.nodes;
      return true;
    } finally {
      trial.rollback();
    }
  }

  /** Whether the group may get another node now: below its max, not backed off, cluster below its max total. */
  canGrow(g: NodeGroup, live: number = this.#cloud.liveNodes): boolean {
    const backoff = this.#backoff.get(g);
    if (backoff !== undefined && backoff.until > this.#engine.now) return false;
    return this.#cloud.groupSize(g) < g.maxSize && live < this.#maxTotal;
  }

  /**
   * CA's binpacking estimator on template nodes of the group, added to the trial one at a time as
   * pods open them (a pod opens at most one); trial nodes and placements are undone after.
   */
  #estimate(trial: _Trial, group: NodeGroup, pods: readonly SimPod[], live: number): _Option | undefined {
    const limit = Math.min(group.maxSize - this.#cloud.groupSize(group), this.#maxTotal - live, _MAX_NODES_PER_SCALE_UP, pods.length);
    if (limit <= 0) return undefined;
    const a = group.allocatable;
    // Sizes computed once per pod, not per comparison (the same numbers, so the same order).
    const sorted = pods.map((pod) => ({ pod, size: pod.spec.cpu / (a['cpu'] ?? 1) + pod.spec.memory / (a['memory'] ?? 1) }));
    sorted.sort((x, y) => y.size - x.size || x.pod.createdAt - y.pod.createdAt);
    const mark = trial.mark();
    const helped: SimPod[] = [];
    /** The template nodes opened so far, in order; a pod tries them first. */
    const opened: NodeInfo[] = [];
    const classes = new _ClassResume();
    let cpu = 0;
    let memory = 0;
    for (const { pod } of sorted) {
      const from = classes.from(pod);
      if (from < 0) continue;
      const view = pod.view();
      let placedAt = -1;
      for (let i = from; i < opened.length; i++) {
        const info = opened[i] as NodeInfo;
        if (_roomIn(info.requested, group, pod) && checkFit(trial.fit, view, info.view.name).ok) {
          trial.assume(view, info.view.name);
          placedAt = i;
          break;
        }
      }
      if (placedAt < 0 && opened.length < limit) {
        const slot = _templateName(group, opened.length);
        // A new node of the group starts with its DaemonSet pods, as CA's node-group template does.
        const before = trial.mark();
        trial.addNode(fitNodeView(slot, group));
        this.#assumeDaemonPod(trial, slot);
        if (checkFit(trial.fit, view, slot).ok) {
          trial.assume(view, slot);
          placedAt = opened.length;
          opened.push(_infoOf(trial.fit, slot, trial.fit.nodeInfo(slot)));
        } else trial.rollbackTo(before);
      }
      classes.record(pod, placedAt);
      if (placedAt >= 0) {
        helped.push(pod);
        cpu += pod.spec.cpu;
        memory += pod.spec.memory;
      }
    }
    trial.rollbackTo(mark);
    const used = opened.length;
    if (used === 0) return undefined;
    const waste = (used * (a['cpu'] ?? 0) - cpu) / (used * (a['cpu'] ?? 1)) + (used * (a['memory'] ?? 0) - memory) / (used * (a['memory'] ?? 1));
    return { group, nodes: used, pods: helped, waste };
  }

  /** Places, in the trial, the DaemonSet pod that a node of the slot will run once Ready. */
  #assumeDaemonPod(trial: _Trial, slot: string): void {
    const daemon = this.#workloads.daemonPodTemplate(slot);
    if (daemon !== undefined && trial.fit.nodeOf(daemon) === undefined) trial.assume(daemon, slot);
  }

  /** The expander: least-waste (ties at random), price, or random. */
  #expand(options: readonly _Option[]): _Option | undefined {
    if (options.length === 0) return undefined;
    if (options.length === 1) return options[0];
    switch (this.#config.expander) {
      case 'random':
        return this.#random.pick(options);
      case 'price': {
        const cost = (o: _Option): number => (o.nodes * o.group.hourlyPrice) / o.pods.reduce((s, p) => s + p.spec.cpu / 1000 + p.spec.memory / 2 ** 32, 0);
        return _best(options, cost, this.#random);
      }
      case 'least-waste':
        return _best(options, (o) => o.waste, this.#random);
    }
  }

  // --- scale-down ------------------------------------------------------------------------------

  /** Requested utilisation as CA computes it: the larger of cpu and memory. */
  static utilisation(node: SimNode): number {
    return node.utilisation;
  }

  #isCandidate(node: SimNode): boolean {
    // Utilisation first: it rules out most nodes of a packed cluster on two divisions.
    return (
      ClusterAutoscaler.utilisation(node) < this.#config.scaleDownUtilizationThreshold &&
      node.state === 'ready' &&
      // A node Stowage drained for consolidation stays a candidate: emptying it was the point.
      !node.cordons.has(CordonReason.AutoscalerDelete) &&
      !node.cordons.has(CordonReason.SpotNotice) &&
      // CA's annotation: a node annotated scale-down-disabled is never removed (Stowage protects a replacement it fills with it).
      node.annotations.get(ScaleDownProtection.ClusterAutoscaler) !== 'true' &&
      this.#cloud.groupSize(node.group) > node.group.minSize
    );
  }

  #updateUnneeded(now: number): void {
    const empty: SimNode[] = [];
    const nonEmpty: SimNode[] = [];
    const unneeded = this.#unneededSince;
    // The candidates in `readyNodes` order, from the few nodes under the threshold (kept by the
    // cluster on every bind and removal), not a pass over every Ready node.
    const candidates: SimNode[] = [];
    for (const node of this.#cluster.underUtilised) if (this.#isCandidate(node)) candidates.push(node);
    candidates.sort((a, b) => a._readyIndex - b._readyIndex);
    for (const node of candidates) {
      // Non-candidates leave the unneeded set below, in one pass over that set (tens of nodes),
      // not a map deletion per ready node per scan.
      if (!_hasMovablePods(node)) empty.push(node);
      else if ((this.#unremovableUntil.get(node) ?? 0) <= now) nonEmpty.push(node);
    }
    for (const node of unneeded.keys()) if (node.state === 'ready' && !this.#isCandidate(node)) unneeded.delete(node);
    for (const node of empty) if (!this.#unneededSince.has(node)) this.#unneededSince.set(node, now);
    // Nodes already unneeded are checked first so their clocks keep running; then the rest, from
    // a rotating start, up to CA's per-scan limit of non-empty candidates.
    const n = nonEmpty.length;
    const start = n === 0 ? 0 : this.#candidateStart % n;
    // Sort keys looked up once per node, not per comparison; the sort is stable, so nodes not yet
    // unneeded keep the rotation order.
    const keyed = nonEmpty.map((_, i) => {
      const node = nonEmpty[(start + i) % n] as SimNode;
      return { node, since: this.#unneededSince.get(node) ?? Number.POSITIVE_INFINITY };
    });
    keyed.sort((a, b) => a.since - b.since);
    const ordered = keyed.map((k) => k.node);
    const checked = ordered.slice(0, this.#config.scaleDownNonEmptyCandidatesCount);
    for (const node of ordered.slice(checked.length)) this.#unneededSince.delete(node);
    this.#candidateStart += checked.length;
    const trial = new _Trial(this.#cluster.fit);
    const removing = new Set<SimNode>(empty);
    try {
      this.#checkCandidates(trial, checked, removing, new _DisruptionsAllowed(), now);
    } finally {
      trial.rollback();
    }
    this.#updateSoftTaints(now);
  }

  /**
   * CA's soft taints (`UpdateSoftDeletionTaints`): nodes no longer unneeded lose
   * `DeletionCandidateOfClusterAutoscaler`; unneeded nodes get it, at most
   * `--max-bulk-soft-taint-count` (10) per scan. The scheduler then prefers other nodes, so an
   * unneeded node is not refilled while its unneeded time runs.
   */
  #updateSoftTaints(now: number): void {
    // From the tens of tainted and unneeded nodes, not the thousand Ready ones (every 10 s); the
    // budget goes to the first untainted unneeded nodes in `readyNodes` order, as a walk over them would.
    for (const node of this.#cluster.deletionCandidates) {
      if (node.state === 'ready' && !this.#unneededSince.has(node)) this.#cluster.setDeletionCandidate(node, false, now);
    }
    const untainted: SimNode[] = [];
    for (const node of this.#unneededSince.keys()) if (node.state === 'ready' && node.deletionCandidateSince === undefined) untainted.push(node);
    untainted.sort((a, b) => a._readyIndex - b._readyIndex);
    for (const node of untainted.slice(0, _MAX_BULK_SOFT_TAINT_COUNT)) this.#cluster.setDeletionCandidate(node, true, now);
  }

  /** Simulates the removal of each checked node, keeping the moves of those found removable. */
  #checkCandidates(trial: _Trial, checked: readonly SimNode[], removing: Set<SimNode>, allowed: _DisruptionsAllowed, now: number): void {
    for (const node of checked) {
      const mark = trial.mark();
      if (this.#canRemove(trial, node, removing, allowed)) {
        removing.add(node);
        if (!this.#unneededSince.has(node)) this.#unneededSince.set(node, now);
      } else {
        trial.rollbackTo(mark);
        this.#unneededSince.delete(node);
        this.#unremovableUntil.set(node, now + _UNREMOVABLE_RECHECK_MS);
      }
    }
  }

  /**
   * Whether every pod of `node` may be evicted and fits on another node (not one being removed);
   * the moves stay in `trial` so later candidates see them.
   */
  #canRemove(trial: _Trial, node: SimNode, removing: ReadonlySet<SimNode>, allowed: _DisruptionsAllowed): boolean {
    const pods = _movablePods(node);
    const perService = new Map<Service, number>();
    for (const pod of pods) {
      if (_blocksScaleDown(pod)) return false;
      const owner = pod.owner;
      if (owner instanceof Service && owner.spec.pdb !== undefined) perService.set(owner, (perService.get(owner) ?? 0) + 1);
    }
    for (const [service, count] of perService) if (allowed.of(service) < count) return false;
    // As CA's removal simulation: take the node's pods off it first, then place each elsewhere.
    for (const pod of pods) trial.forget(pod.view(), node.name);
    for (const pod of pods) {
      const dest = this.#destination(trial, pod, node, removing);
      if (dest === undefined) return false;
      trial.assume(pod.view(), dest.name);
      pod._autoscalerHint = dest;
    }
    return true;
  }

  #destination(trial: _Trial, pod: SimPod, from: SimNode, removing: ReadonlySet<SimNode>): SimNode | undefined {
    const fit = trial.fit;
    const view = pod.view();
    // Cheap checks on plain numbers first; the shared filters decide among the nodes that pass.
    // The node the pod was last placed on usually still takes it.
    // Held on the pod (a hint for a node since gone is no hint).
    const hint = pod._autoscalerHint;
    const hinted = hint === undefined || hint.state === 'gone' ? undefined : hint;
    if (hinted !== undefined && _eligible(hinted, from, removing)) {
      const info = hinted.fitInfo(fit);
      if (info !== undefined && _roomIn(info.requested, hinted.group, pod) && firstFeasibleNode(fit, view, [info]) !== undefined) return hinted;
    }
    // Read lazily: the search stops at the first feasible node, usually long before the last.
    const found = firstFeasibleNode(fit, view, _destinationCandidates(fit, this.#cluster.readyNodes, hinted, pod, from, removing));
    return found === undefined ? undefined : this.#cluster.nodes.get(found.view.name);
  }

  #scaleDown(now: number): void {
    const ripe: SimNode[] = [];
    for (const [node, since] of this.#unneededSince) {
      if (now - since >= this.#config.scaleDownUnneededTime && this.#isCandidate(node)) ripe.push(node);
    }
    if (ripe.length === 0) return;
    ripe.sort((a, b) => (this.#unneededSince.get(a) as number) - (this.#unneededSince.get(b) as number) || (a.name < b.name ? -1 : 1));
    const empty = ripe.filter((n) => !_hasMovablePods(n)).slice(0, this.#config.maxEmptyBulkDelete);
    if (empty.length > 0) {
      for (const node of empty) this.#delete(node);
      return;
    }
    // Re-check the node against the cluster as it is now, alone.
    const trial = new _Trial(this.#cluster.fit);
    const allowed = new _DisruptionsAllowed();
    for (const node of ripe) {
      let removable: boolean;
      try {
        removable = this.#canRemove(trial, node, new Set(), allowed);
      } finally {
        trial.rollback();
      }
      if (removable) {
        this.#startDrain(node, now);
        return;
      }
      this.#unneededSince.delete(node);
    }
  }

  #delete(node: SimNode): void {
    this.#cluster.cordon(node, CordonReason.AutoscalerDelete);
    this.#unneededSince.delete(node);
    this.stats.nodesRemoved++;
    this.#engine.after(0, () => this.#cloud.terminate(node));
  }

  #startDrain(node: SimNode, now: number): void {
    this.stats.drains++;
    this.#cluster.cordon(node, CordonReason.AutoscalerDelete);
    this.#unneededSince.delete(node);
    const drain: _Drain = { node, startedAt: now, evictedAllAt: undefined };
    this.#drain = drain;
    this.#evictStep(drain);
  }

  #evictStep(drain: _Drain): void {
    if (this.#drain !== drain || drain.node.state !== 'ready') return;
    const now = this.#engine.now;
    let blocked = 0;
    for (const pod of _movablePods(drain.node)) {
      if (pod.terminating) continue;
      if (!this.#workloads.evict(pod, DeletionCause.AutoscalerDrain)) blocked++;
    }
    if (blocked === 0) {
      drain.evictedAllAt = now;
      this.#waitStep(drain);
      return;
    }
    if (now - drain.startedAt >= this.#config.maxPodEvictionTime) {
      // A PDB held out for the whole eviction window: give the node back.
      this.stats.failedDrains++;
      this.#lastScaleDownFailure = now;
      this.#cluster.uncordon(drain.node, CordonReason.AutoscalerDelete);
      this.#drain = undefined;
      return;
    }
    this.#engine.after(_EVICTION_RETRY_MS, () => this.#evictStep(drain));
  }

  #waitStep(drain: _Drain): void {
    if (this.#drain !== drain || drain.node.state === 'gone') return;
    const remaining = _movablePods(drain.node).length;
    const waited = this.#engine.now - (drain.evictedAllAt ?? this.#engine.now);
    if (remaining === 0 || waited >= this.#config.maxGracefulTermination) {
      this.#drain = undefined;
      this.stats.nodesRemoved++;
      this.#cloud.terminate(drain.node);
      return;
    }
    this.#engine.after(_DRAIN_POLL_MS, () => this.#waitStep(drain));
  }
}

interface _Slot {
  readonly name: string;
  readonly group: NodeGroup;
  /** The slot in the fit state, updated in place by trial placements: read without a lookup by name. */
  readonly info: NodeInfo;
}

function _infoOf(fit: FitState, name: string, info: NodeInfo | undefined): NodeInfo {
  if (info === undefined) throw new Error(`Cannot simulate a scale-up: node "${name}" is not in the fit state`);
  return info;
}

/**
 * Places each pod on the first slot it fits (trial placements), returning the pods that fit
 * nowhere. Slots too full for the smallest pod are dropped as they fill, so a long list of
 * pending pods against many nodes stays near-linear; a pod of an equivalence class skips the slots
 * that already refused one of its class (see `_ClassResume`).
 */
function _placeFirstFit(trial: _Trial, pods: readonly SimPod[], slots: readonly _Slot[]): SimPod[] {
  if (pods.length === 0 || slots.length === 0) return [...pods];
  const smallest = _smallest(pods);
  /** Positions in `slots` of the slots with room for the smallest pod, in order. */
  let open: number[] = [];
  for (let k = 0; k < slots.length; k++) if (_roomIn((slots[k] as _Slot).info.requested, (slots[k] as _Slot).group, smallest)) open.push(k);
  const classes = new _ClassResume();
  const rest: SimPod[] = [];
  for (const pod of pods) {
    const from = classes.from(pod);
    let placedAt = -1;
    if (from >= 0) {
      const view = pod.view();
      for (const k of open) {
        if (k < from) continue;
        const slot = slots[k] as _Slot;
        if (_roomIn(slot.info.requested, slot.group, pod) && checkFit(trial.fit, view, slot.name).ok) {
          trial.assume(view, slot.name);
          placedAt = k;
          break;
        }
      }
    }
    classes.record(pod, placedAt);
    if (placedAt < 0) rest.push(pod);
    else if (!_roomIn((slots[placedAt] as _Slot).info.requested, (slots[placedAt] as _Slot).group, smallest)) open = open.filter((k) => k !== placedAt);
  }
  return rest;
}

/** The smallest cpu and the smallest memory any of `pods` asks, as a pod: a slot without room for it takes none of them. */
function _smallest(pods: readonly SimPod[]): SimPod {
  let minCpu = Number.POSITIVE_INFINITY;
  let minMemory = Number.POSITIVE_INFINITY;
  for (const pod of pods) {
    minCpu = Math.min(minCpu, pod.spec.cpu);
    minMemory = Math.min(minMemory, pod.spec.memory);
  }
  return { spec: { cpu: minCpu, memory: minMemory } } as SimPod;
}

/**
 * Cluster Autoscaler's pod equivalence groups in a first-fit pass over slots that only fill: where
 * the last pod of a class went. Pods of one class (`schedulingClass`) pass and fail the same
 * filters, and while pods are only added, a slot that refused a pod keeps refusing its class —
 * unless the pod has required pod affinity or a hard topology spread constraint, which more pods
 * can satisfy: those pods try every slot. So the next pod of a class starts at the slot the last
 * one took, and a class that fitted nowhere is not tried again.
 */
class _ClassResume {
  /** Class → the position the last pod of the class took, or -1 when it fitted nowhere. */
  readonly #at = new Map<string, number>();

  /** The first position worth trying for `pod`, or -1 when a pod of its class fitted nowhere. */
  from(pod: SimPod): number {
    if (!_rejectionsLast(pod)) return 0;
    return this.#at.get(schedulingClass(pod)) ?? 0;
  }

  /** Notes where `pod` went (its position, or -1 for nowhere). */
  record(pod: SimPod, at: number): void {
    if (_rejectionsLast(pod)) this.#at.set(schedulingClass(pod), at);
  }
}

/**
 * Whether a filter that refuses the pod keeps refusing it while pods are only added: resources
 * fill, anti-affinity gains carriers, taints and node affinity stay. Not so for required pod
 * affinity or a hard topology spread constraint, which added pods can satisfy.
 */
function _rejectionsLast(pod: SimPod): boolean {
  const c = pod.spec.constraints;
  if ((c.podAffinity?.required?.length ?? 0) > 0) return false;
  for (const t of c.topologySpread ?? []) if (t.whenUnsatisfiable === 'DoNotSchedule') return false;
  return true;
}

/** The name of the `i`th template node of `group` in an estimate: not a name the cluster gives a node. */
function _templateName(group: NodeGroup, i: number): string {
  return `${group.namePrefix}-template-${i}`;
}

/** Whether the node runs a pod a drain moves (`_movablePods` is not empty), without building the list. */
function _hasMovablePods(node: SimNode): boolean {
  for (const pod of node.pods) if (pod.owner.ref.kind !== 'DaemonSet') return true;
  return false;
}

/** Pods of the node that a drain moves: everything but DaemonSet pods. */
function _movablePods(node: SimNode): SimPod[] {
  const pods: SimPod[] = [];
  for (const pod of node.pods) if (pod.owner.ref.kind !== 'DaemonSet') pods.push(pod);
  return pods;
}

/** CA's drain rules for one pod (PDBs are checked per node by the caller). */
function _blocksScaleDown(pod: SimPod): boolean {
  const safeToEvict = pod.spec.annotations[EvictionAnnotation.SafeToEvict];
  if (safeToEvict === 'false') return true;
  if (pod.spec.hasLocalStorage && safeToEvict !== 'true') return true;
  return false;
}

/**
 * The nodes `pod` may move to off `from`, in `readyNodes` order, as fit-state entries (each looked
 * up once per state): eligible, with room on plain numbers, and not the hinted node (tried first).
 */
function* _destinationCandidates(fit: FitState, nodes: readonly SimNode[], hinted: SimNode | undefined, pod: SimPod, from: SimNode, removing: ReadonlySet<SimNode>): Generator<NodeInfo> {
  for (const node of nodes) {
    if (node === hinted || !_eligible(node, from, removing)) continue;
    const info = node.fitInfo(fit);
    if (info !== undefined && _roomIn(info.requested, node.group, pod)) yield info;
  }
}

/** A node a pod of `from` may be moved to at all: another schedulable node that is not being removed. */
function _eligible(node: SimNode, from: SimNode, removing: ReadonlySet<SimNode>): boolean {
  return node !== from && node.schedulable && !removing.has(node);
}

/** Cheap necessary condition before the full filters: free cpu and memory given a fit-state slot's requests, trial placements included. */
function _roomIn(requested: Readonly<Record<string, number>>, group: NodeGroup, pod: SimPod): boolean {
  const a = group.allocatable;
  return (a['cpu'] ?? 0) - (requested['cpu'] ?? 0) >= pod.spec.cpu && (a['memory'] ?? 0) - (requested['memory'] ?? 0) >= pod.spec.memory;
}

function _best(options: readonly _Option[], score: (o: _Option) => number, random: RandomStream): _Option | undefined {
  let best = Number.POSITIVE_INFINITY;
  let ties: _Option[] = [];
  for (const o of options) {
    const s = score(o);
    if (s < best - 1e-12) {
      best = s;
      ties = [o];
    } else if (Math.abs(s - best) <= 1e-12) ties.push(o);
  }
  return ties.length <= 1 ? ties[0] : random.pick(ties);
}

/**
 * The disruptions each service's PDB allows, read once per scan: a scan's removal simulations move
 * pods in a trial only, so what the PDBs allow stays as it was when the scan began.
 */
class _DisruptionsAllowed {
  readonly #allowed = new Map<Service, number>();

  of(service: Service): number {
    let allowed = this.#allowed.get(service);
    if (allowed === undefined) {
      allowed = service.disruptionsAllowed();
      this.#allowed.set(service, allowed);
    }
    return allowed;
  }
}

/** What a trial step did, for its undo. */
const _Step = { Assumed: 0, Forgotten: 1, AddedNode: 2 } as const;
type _Step = (typeof _Step)[keyof typeof _Step];

/** Trial placements on the fit state, undone in reverse order. */
class _Trial {
  readonly fit: FitState;
  /** The undo log, newest last, in three parallel arrays (no closure per step): the step, its pod (none for a node) and its node. */
  readonly #steps: _Step[] = [];
  readonly #pods: (PodView | undefined)[] = [];
  readonly #nodes: string[] = [];

  constructor(fit: FitState) {
    this.fit = fit;
  }

  assume(pod: PodView, node: string): void {
    this.fit.assume(pod, node);
    this.#log(_Step.Assumed, pod, node);
  }

  forget(pod: PodView, from: string): void {
    this.fit.forget(pod);
    this.#log(_Step.Forgotten, pod, from);
  }

  /** Adds a node that is not there yet (upcoming, or a template); undone by removing it. */
  addNode(view: NodeView): void {
    this.fit.addNode(view);
    this.#log(_Step.AddedNode, undefined, view.name);
  }

  mark(): number {
    return this.#steps.length;
  }

  rollbackTo(mark: number): void {
    const steps = this.#steps;
    const pods = this.#pods;
    const nodes = this.#nodes;
    for (let i = steps.length - 1; i >= mark; i--) {
      const step = steps[i] as _Step;
      if (step === _Step.Assumed) this.fit.forget(pods[i] as PodView);
      else if (step === _Step.Forgotten) this.fit.assume(pods[i] as PodView, nodes[i] as string);
      else this.fit.removeNode(nodes[i] as string);
    }
    if (steps.length > mark) {
      steps.length = mark;
      pods.length = mark;
      nodes.length = mark;
    }
  }

  rollback(): void {
    this.rollbackTo(0);
  }

  #log(step: _Step, pod: PodView | undefined, node: string): void {
    this.#steps.push(step);
    this.#pods.push(pod);
    this.#nodes.push(node);
  }
}
