/**
 * The working state one planning pass shares across its strategies: the fit state with the moves
 * planned so far, the availability guard, the budgets, and where the placement webhook will send
 * each recreated pod. Strategies decide which nodes to try and where to look for room; the session
 * carries out a tentative drain all or nothing, so no strategy can leave a node half-drained.
 * @internal Built by `planDescheduling`; strategies receive it in their context.
 */
import type { ClusterSnapshot, LabelSelector, NodeView, PodView, Resources, WorkloadView } from '../../core/model.js';
import { addResources, fitsIn, subtractResources, wouldFit } from '../../core/resources.js';
import { holdsResources, indexSnapshot } from '../../core/snapshot.js';
import type { SnapshotIndex } from '../../core/snapshot.js';
import { FitState } from '../fit/state.js';
import { checkFit, describeUnschedulable } from '../fit/filter.js';
import type { FitFailure } from '../fit/result.js';
import { decidePlacement, isPlacedKind, podsKeptByFloor, statefulSetOrdinal } from '../placement/decide.js';
import type { CapacityCounts, PlacedCapacityType, PlacedPod } from '../placement/decide.js';
import { countedCapacityType, countedPod, placementGroupOf, replicasForFloor } from '../placement/inputs.js';
import { CAPACITY_TYPE_ANNOTATION, DEFAULT_PLACEMENT_PATCH_OPTIONS } from '../placement/patch.js';
import type { PlacementPatchOptions } from '../placement/patch.js';
import type { PlacementPolicy } from '../placement/policy.js';
import { resolvePlacementPolicy } from '../placement/policy.js';
import { replacementPod } from '../placement/replacement.js';
import { movesInLastHour, restingUntil } from './anti-flap.js';
import type { AntiFlapOptions } from './anti-flap.js';
import { autoscalerDraining, autoscalerRemoving, DEFAULT_AUTOSCALER_AWARENESS, leavesSoon, nodeOptOut, removalUtilization, stayingRequests } from './autoscaler.js';
import type { AutoscalerAwareness } from './autoscaler.js';
import { evictionBlockers } from './evictable.js';
import { predictLanding, surgedPod } from './landing.js';
import type { SafeLanding, SchedulerAwareness } from './landing.js';
import type { EvictionBlock, EvictionOptions } from './evictable.js';
import { AvailabilityGuard, BudgetLedger, drainRetryAt } from './guards.js';
import type { Admission, BackoffOptions, EvictionBudgets } from './guards.js';
import { reason } from './reasons.js';
import type { Reason } from './reasons.js';
import type { DeschedulingContext, Move, NodeDrain, NodeOffer, PodRef } from './types.js';

/** The settings every strategy plans under. */
export interface SessionSettings {
  readonly eviction: EvictionOptions;
  readonly budgets: EvictionBudgets;
  readonly backoff: BackoffOptions;
  /** The autoscaler's removal threshold; Cluster Autoscaler's default when absent. */
  readonly autoscaler?: AutoscalerAwareness;
  readonly antiFlap: AntiFlapOptions;
  /** The cluster's scheduler, to predict where a surged pod lands (`landing.ts`); no prediction when absent. */
  readonly scheduler?: SchedulerAwareness;
}

/** How a strategy drains one node. */
export interface DrainRequest {
  readonly strategy: string;
  /** Candidate destinations, in the order to try them; the node itself and drained nodes are passed over. */
  readonly targets: readonly string[];
  /** Leave the on-demand floor's pods where they are instead of moving them (spot-reschedule). */
  readonly keepFloor: boolean;
  /** Whether the node is worth draining once the staying pods are known; return a skip reason to refuse. */
  readonly accept?: (outcome: { readonly emptied: boolean; readonly saving: number }) => Reason | undefined;
  /**
   * Whether a drain that leaves pods on the node is still worth it, asked once its moves are
   * planned (the state then holds them, the node schedulable); return a skip reason to refuse.
   */
  readonly confirmKept?: (nodeName: string) => Reason | undefined;
  /** Why the drain is wanted, for the plan's explanation. */
  readonly why: string;
  /** The capacity type the moves are for (spot-reschedule: spot); the replacements must run there (see `Move.landOn`). */
  readonly landOn?: PlacedCapacityType;
  /**
   * Never move a pod whose workload can't lose a replica (it moves surge-first) onto a node below
   * the autoscaler's removal threshold, not even as a last resort: the autoscaler evicts without
   * surging, so its drain of that node would take the workload below its floor. Consolidation
   * sets it: it drains a node so the autoscaler removes it, and moving a pod onto another node the
   * autoscaler will remove only moves the removal one node over, with an unsurged disruption.
   * Since the scheduler, not the plan, chooses where a surged pod runs, the destination is the
   * node the scheduler is predicted to choose, and the pod does not move unless that is safe
   * (`predictLanding`, when the session knows the cluster's scheduler).
   */
  readonly surgeAvoidsRemovalCandidates?: boolean;
  /** Delete the node once drained instead of leaving it to the autoscaler (see `NodeDrain.deleteNode`). */
  readonly deleteNode?: boolean;
  /**
   * The planned node (`addPlannedNode`) some pods may move to, and the share of its price this
   * drain bears: the drain's saving is the node's price less that share (see `NodeDrain.replacement`).
   */
  readonly replacement?: { readonly name: string; readonly shareUsdPerHour: number };
  /**
   * Take the quick no-room check's bound over the targets afresh for this drain (the most free of
   * each resource on them when the drain first looks, the drained node left out) instead of the
   * bound kept across drains, which is only ever raised. For targets that differ from drain to
   * drain (spot-reschedule's whole drain: the other on-demand nodes). Both bounds give the same
   * decision; the refusal's wording can differ, as the quick check names only what every target lacks.
   */
  readonly boundsPerDrain?: boolean;
}

/** A drain planned, or why the node was left alone. */
export type DrainAttempt = { readonly ok: true; readonly drain: NodeDrain; readonly moves: readonly Move[] } | { readonly ok: false; readonly reason: Reason };

interface _Tentative {
  readonly original: PodView;
  readonly replacement: PodView;
  readonly target: string;
  readonly capacityType: PlacedCapacityType | undefined;
  readonly group: string | undefined;
}

/** Where the webhook will send a recreated pod, and what it will look like. */
export interface Replacement {
  readonly pod: PodView;
  readonly capacityType: PlacedCapacityType | undefined;
  /** The revision group whose counts the decision used, when the webhook places the workload. */
  readonly group: string | undefined;
}

function _ref(pod: PodView): PodRef {
  return { namespace: pod.namespace, name: pod.name, uid: pod.uid };
}

function _byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** See the module comment. */
export class PlanningSession {
  readonly snapshot: ClusterSnapshot;
  readonly context: DeschedulingContext;
  readonly settings: SessionSettings;
  readonly state: FitState;
  readonly guard: AvailabilityGuard;
  readonly budget: BudgetLedger;
  readonly index: SnapshotIndex;
  readonly #policies = new Map<WorkloadView, PlacementPolicy | undefined>();
  readonly #capacityLabel: PlacementPatchOptions['capacityLabel'];
  /** Revision group → live pods per capacity type, as the webhook counts them; changes as moves are planned. */
  readonly #counts = new Map<string, CapacityCounts>();
  /** Pod uid → the floor that keeps it on on-demand. */
  readonly #kept = new Map<string, string>();
  readonly #counted = new WeakSet<WorkloadView>();
  readonly #blockers = new Map<string, readonly EvictionBlock[]>();
  readonly #drained = new Set<string>();
  readonly #receiving = new Set<string>();
  readonly #free = new Map<string, Resources>();
  readonly #stayingByNode = new Map<string, Resources>();
  readonly #targetsByType = new WeakMap<readonly string[], Map<PlacedCapacityType, string[]>>();
  readonly #bounds = new WeakMap<readonly string[], _Bound>();
  readonly #boundList: _Bound[] = [];
  /** The lists `#ofCapacityType` made, and the one capacity type of each. */
  readonly #listType = new WeakMap<readonly string[], string>();
  /** Per capacity type: bumped whenever a node of it gains or loses room or is drained or no longer; what `#exact` is checked against. */
  readonly #typeVersion = new Map<string | undefined, number>();
  /** Bounds of one capacity type's lists, exact as of `version` (see `#drainBound`). */
  readonly #exact = new WeakMap<readonly string[], { readonly members: ReadonlySet<string>; version: number; value: _BoundValue }>();
  /** While a drain takes its own bounds (`DrainRequest.boundsPerDrain`): the bounds it took, by list. */
  #drainBounds: Map<readonly string[], _BoundValue> | undefined;
  readonly #messages = new Map<string, string>();
  /** Node name → whether the autoscaler is removing it or means to (its taints); nodes never change in a plan. */
  readonly #removing = new Map<string, boolean>();
  readonly #removalThreshold: number;
  /** Nodes the scheduler searches (Ready, not cordoned), counted once. */
  #schedulable: number | undefined;
  #stuck: readonly PodView[] | undefined;
  /** Nodes the plan launches: name → the node as planned and its offer. */
  readonly #planned = new Map<string, { readonly view: NodeView; readonly offer: NodeOffer }>();
  /** While a `trial` runs: how to undo each drain and move it planned, in order. */
  #trialLog: (() => void)[] | undefined;

  constructor(snapshot: ClusterSnapshot, settings: SessionSettings, context: DeschedulingContext) {
    this.snapshot = snapshot;
    this.context = context;
    this.settings = settings;
    this.state = FitState.fromSnapshot(snapshot, { prices: context.prices });
    this.index = indexSnapshot(snapshot);
    const selectPods = (namespace: string, selector: LabelSelector | undefined): readonly PodView[] => {
      const pods: PodView[] = [];
      this.state.forEachMatchingPod([namespace], selector, (pod) => pods.push(pod));
      return pods;
    };
    const resting = (key: string): number | undefined => {
      const until = restingUntil(context.history, key, context.now, settings.antiFlap);
      return until === undefined ? undefined : until - context.now;
    };
    this.guard = new AvailabilityGuard(this.index, selectPods, context.inFlight, resting);
    const hourlyLeft = context.history === undefined ? settings.antiFlap.maxMovesPerHour : settings.antiFlap.maxMovesPerHour - movesInLastHour(context.history, context.now);
    this.budget = new BudgetLedger(settings.budgets, { maxMovesPerHour: settings.antiFlap.maxMovesPerHour, left: hourlyLeft });
    this.#capacityLabel = context.placement?.capacityLabel ?? DEFAULT_PLACEMENT_PATCH_OPTIONS.capacityLabel;
    this.#removalThreshold = (settings.autoscaler ?? DEFAULT_AUTOSCALER_AWARENESS).scaleDownUtilizationThreshold;
  }

  /**
   * Runs `attempt` tentatively: the drains and moves it plans stay when `keep` says so, else every
   * change they made to the session (fit state, guards, budgets, counts) is undone, last first.
   * How a strategy judges a set of nodes together, as Karpenter's multi-node consolidation
   * simulates a set of candidates before it disrupts any. Trials nest.
   */
  trial<T>(attempt: () => T, keep: (result: T) => boolean): T {
    const outer = this.#trialLog;
    const log: (() => void)[] = [];
    this.#trialLog = log;
    let result: T;
    try {
      result = attempt();
    } catch (error) {
      this.#trialLog = outer;
      _rollback(log);
      throw error;
    }
    this.#trialLog = outer;
    if (keep(result)) outer?.push(...log);
    else _rollback(log);
    return result;
  }

  /**
   * Pending pods that fit on no node of the snapshot: each waits for the autoscaler to add a node
   * (computed once per plan, on the state before any move).
   */
  stuckPendingPods(): readonly PodView[] {
    if (this.#stuck === undefined) {
      const stuck: PodView[] = [];
      for (const pod of this.snapshot.pods) {
        if (pod.nodeName !== '' || pod.phase !== 'Pending' || pod.deletionRequestedAt !== undefined || pod.owner.kind === 'DaemonSet') continue;
        if (stuck.length >= _MAX_STUCK_PODS) break;
        if (!this.state.nodeNames.some((name) => wouldFit(pod.requests, this.free(name)) && checkFit(this.state, pod, name).ok)) stuck.push(pod);
      }
      this.#stuck = stuck;
    }
    return this.#stuck;
  }

  /** Whether the autoscaler is removing the node or means to (see `autoscalerRemoving`): never a destination. */
  isRemovedByAutoscaler(nodeName: string): boolean {
    let removing = this.#removing.get(nodeName);
    if (removing === undefined) {
      const node = this.node(nodeName);
      removing = node !== undefined && autoscalerRemoving(node) !== undefined;
      this.#removing.set(nodeName, removing);
    }
    return removing;
  }

  /**
   * Whether the node, given the moves planned so far and `incoming` placed on it, stays below the
   * autoscaler's removal threshold once the pods about to leave it have left (Job pods, which run
   * to completion, and pods being deleted): the autoscaler will try to remove it, so it is a
   * destination of last resort. Counting only the pods that stay matters: a node kept above the
   * threshold by a batch of Job pods falls below it minutes later, and a pod moved there is
   * disrupted again when the autoscaler removes the node.
   */
  isBelowRemovalThreshold(nodeName: string, incoming?: PodView): boolean {
    const node = this.node(nodeName);
    // A planned node is being filled by the plan: the strategy that planned it judges its final fill.
    if (node === undefined || this.#planned.has(nodeName)) return false;
    const staying = this.#staying(nodeName);
    return removalUtilization(incoming === undefined ? staying : addResources(staying, incoming.requests), node.allocatable) < this.#removalThreshold;
  }

  /** Requests of the node's pods that stay on it (not Job pods, not being deleted), with the moves planned so far; memoized like `free`. */
  #staying(nodeName: string): Resources {
    let staying = this.#stayingByNode.get(nodeName);
    if (staying === undefined) {
      staying = stayingRequests(this.state, nodeName);
      this.#stayingByNode.set(nodeName, staying);
    }
    return staying;
  }

  /** The node's view, or undefined. */
  node(name: string): NodeView | undefined {
    return this.#planned.get(name)?.view ?? this.index.node(name);
  }

  /** The node's hourly price: its offer's for a planned node, else from the price table, or estimated from its size. */
  price(node: NodeView): number {
    return this.#planned.get(node.name)?.offer.usdPerHour ?? this.context.prices.hourlyPriceOfNode(node).usdPerHour;
  }

  /**
   * Adds a node of `offer` named `name` to the plan: a replacement the executor launches before
   * the drains that move pods onto it. A destination like any other, except that the autoscaler's
   * removal threshold is not asked of it while the plan fills it (the strategy that planned it
   * judges its final fill). A trial's rollback takes it out again.
   */
  addPlannedNode(name: string, offer: NodeOffer): NodeView {
    const view: NodeView = { ...offer.node, name, labels: { ...offer.node.labels, 'kubernetes.io/hostname': name }, ready: true, unschedulable: false, createdAt: this.context.now };
    this.state.addNode(view);
    this.#planned.set(name, { view, offer });
    this.#roomChanged(name);
    this.#trialLog?.push(() => {
      this.#roomChanged(name);
      this.state.removeNode(name);
      this.#planned.delete(name);
      this.#free.delete(name);
      this.#stayingByNode.delete(name);
    });
    return view;
  }

  /**
   * Closes `names` to new pods in the plan's view (cordoned in the fit state), as the executor's
   * taint of a set taken as one action closes them before any of its pods moves (see
   * `NodeDrain.together`): the scheduler's predicted choice for a surge passes them over too. A
   * trial's rollback opens them again; call it within a trial.
   */
  closeNodes(names: readonly string[]): void {
    for (const name of names) {
      if (this.state.isCordoned(name)) continue;
      this.state.cordon(name);
      this.#trialLog?.push(() => this.state.uncordon(name));
    }
  }

  /** The autoscaler's removal threshold planning works with. */
  get removalThreshold(): number {
    return this.#removalThreshold;
  }

  /** Whether `name` is a node the plan launches (`addPlannedNode`). */
  isPlanned(name: string): boolean {
    return this.#planned.has(name);
  }

  /** The pods on the node in the current (tentative) state, by name. */
  podsOn(nodeName: string): readonly PodView[] {
    return [...this.state.podsOn(nodeName)].sort(_byName);
  }

  /** Free resources of the node in the current state (allocatable minus requested). */
  free(nodeName: string): Resources {
    let free = this.#free.get(nodeName);
    if (free === undefined) {
      free = subtractResources(this.node(nodeName)?.allocatable ?? {}, this.state.requested(nodeName));
      this.#free.set(nodeName, free);
    }
    return free;
  }

  /** Whether a strategy emptied the node in this plan (a drain that leaves floor pods does not count). */
  isDrained(nodeName: string): boolean {
    return this.#drained.has(nodeName);
  }

  /** Whether the node receives pods in this plan (it is then not drained itself). */
  isReceiving(nodeName: string): boolean {
    return this.#receiving.has(nodeName);
  }

  /** Why the node can't be drained this cycle before looking at its pods, or undefined. */
  nodeSkipReason(node: NodeView): Reason | undefined {
    if (this.#drained.has(node.name)) return reason('node-drained', `Node "${node.name}" is already drained by this plan`);
    if (this.#receiving.has(node.name)) return reason('node-receiving', `Node "${node.name}" receives pods moved by this plan`);
    if (!node.ready) return reason('node-not-ready', `Node "${node.name}" is not Ready`);
    if (node.unschedulable) return reason('node-cordoned', `Node "${node.name}" is cordoned`);
    const optOut = nodeOptOut(node);
    if (optOut !== undefined) return reason('node-do-not-disrupt', optOut);
    if (autoscalerDraining(node)) return reason('autoscaler-removing', `${autoscalerRemoving(node) ?? `Node "${node.name}" is being removed by the autoscaler`}: it drains the node itself`);
    const retryAt = drainRetryAt(this.context.failures?.get(node.name), this.settings.backoff);
    if (retryAt !== undefined && this.context.now < retryAt) {
      const failure = this.context.failures?.get(node.name);
      return reason('backoff', `Node "${node.name}" failed to drain ${failure?.count ?? 0} time(s): retrying in ${Math.ceil((retryAt - this.context.now) / 1000)}s`);
    }
    const spent = this.budget.exhaustion();
    if (spent !== undefined) return spent;
    return undefined;
  }

  /** Why the pod may not move (memoized per pod). */
  blockers(pod: PodView): readonly EvictionBlock[] {
    let blocks = this.#blockers.get(pod.uid);
    if (blocks === undefined) {
      blocks = evictionBlockers(pod, this.index.workload(pod.owner), this.settings.eviction, this.context.now);
      this.#blockers.set(pod.uid, blocks);
    }
    return blocks;
  }

  /** The floor that keeps this pod on on-demand, or undefined. */
  keptByFloor(pod: PodView): string | undefined {
    this.#countWorkload(pod);
    return this.#kept.get(pod.uid);
  }

  /** The placement policy of the pod's workload, or undefined when the webhook leaves it alone. */
  policyOf(pod: PodView): PlacementPolicy | undefined {
    const workload = this.index.workload(pod.owner);
    return workload === undefined ? undefined : this.#policyOfWorkload(workload);
  }

  #policyOfWorkload(workload: WorkloadView): PlacementPolicy | undefined {
    if (this.#policies.has(workload)) return this.#policies.get(workload);
    const placement = this.context.placement;
    let policy: PlacementPolicy | undefined;
    const optedOut = placement?.optOutNamespaces?.includes(workload.ref.namespace) === true;
    if (placement !== undefined && !optedOut && isPlacedKind(workload.ref.kind) && workload.replicas !== undefined) {
      const resolved = resolvePlacementPolicy(workload.annotations, placement.namespaceAnnotations?.get(workload.ref.namespace), placement.defaults);
      policy = resolved.optOut ? undefined : resolved.policy;
    }
    this.#policies.set(workload, policy);
    return policy;
  }

  /**
   * The pod the controller will recreate after `pod` is evicted, with the capacity type the
   * webhook will decide given the moves planned so far. Does not change the counts; `tryDrain`
   * and `tryMove` do when they place it.
   */
  replacement(pod: PodView): Replacement {
    const policy = this.policyOf(pod);
    const workload = this.index.workload(pod.owner);
    if (policy === undefined || workload?.replicas === undefined || (pod.owner.kind !== 'Deployment' && pod.owner.kind !== 'StatefulSet')) {
      const stale = pod.annotations[CAPACITY_TYPE_ANNOTATION] !== undefined;
      return { pod: stale ? replacementPod(pod, undefined, { capacityLabel: this.#capacityLabel }) : pod, capacityType: undefined, group: undefined };
    }
    this.#countWorkload(pod);
    const group = this.#group(pod);
    const counts = this.#counts.get(group) ?? { onDemand: 0, spot: 0 };
    const own = this.#capacityOf(pod);
    const live = { onDemand: counts.onDemand - (own === 'on-demand' ? 1 : 0), spot: counts.spot - (own === 'spot' ? 1 : 0) };
    const ordinal = pod.owner.kind === 'StatefulSet' ? statefulSetOrdinal(pod.name, pod.owner.name) : undefined;
    const reserved = { onDemand: 0, spot: 0 };
    const decision = decidePlacement({
      workload: { ...pod.owner, kind: pod.owner.kind },
      desiredReplicas: replicasForFloor(workload.replicas, live, reserved, ordinal),
      live,
      reserved,
      ...(ordinal === undefined ? {} : { ordinal }),
      // Room only decides whether the webhook requires the type or merely prefers it, never which
      // type: `findTarget` looks for room on that type itself, node by node, with the moves planned so far.
      room: { onDemand: true, spot: true },
      policy,
    });
    const options = { capacityLabel: this.#capacityLabel, ...(policy.spotToleration === undefined ? {} : { spotToleration: policy.spotToleration }) };
    return { pod: replacementPod(pod, decision.capacityType, options), capacityType: decision.capacityType, group };
  }

  /**
   * The first of `targets` where the replacement pod fits with the full fit rules, given the
   * moves planned so far; or why none does. The node the pod leaves, drained nodes and nodes of
   * another capacity type than the webhook will require are passed over. So are nodes the
   * autoscaler is removing or means to (its taints), and nodes below its removal threshold are
   * tried only after all the others: a pod moved there would be disrupted again when the node
   * goes, or would keep alive a node the autoscaler wants to remove. `lastResort: false` passes
   * them over too (see `DrainRequest.surgeAvoidsRemovalCandidates`).
   */
  findTarget(
    replacement: Replacement,
    from: string,
    targets: readonly string[],
    accept?: (target: string) => boolean,
    lastResort = true,
  ): { readonly ok: true; readonly node: string } | { readonly ok: false; readonly reason: string; readonly unsafeLanding?: true } {
    const found = this.#findTarget(replacement, from, targets, accept, lastResort);
    const scheduler = this.settings.scheduler;
    if (!found.ok || lastResort || scheduler === undefined) return found;
    // A destination of ours is a wish: the scheduler places the surged pod, so the plan follows its
    // choice, whether or not `accept` would have chosen it (balance's wish is an even node, the
    // scheduler's may be the node the plan empties next).
    const landing = this.#landing(replacement.pod, from, scheduler);
    if (landing === undefined) return found;
    return landing.ok ? { ok: true, node: landing.node } : { ok: false, reason: landing.reason, unsafeLanding: true };
  }

  /**
   * The scheduler's predicted choice for `pod` leaving `from` (see `predictLanding`): undefined
   * when no node it fits on is one the autoscaler will remove, which is quick to rule out.
   */
  #landing(replacement: PodView, from: string, scheduler: SchedulerAwareness): ReturnType<typeof predictLanding> {
    const pod = surgedPod(replacement);
    const zone = pod.pvcNames.length > 0 ? (this.node(from)?.zone ?? '') : '';
    const fits = (target: string): boolean =>
      target !== from && !this.#drained.has(target) && (zone === '' || this.node(target)?.zone === zone) && wouldFit(pod.requests, this.free(target)) && checkFit(this.state, pod, target).ok;
    const unsafe = (target: string): boolean => this.isRemovedByAutoscaler(target) || this.isBelowRemovalThreshold(target, pod);
    const names = this.state.nodeNames;
    if (!names.some((n) => unsafe(n) && fits(n))) return undefined;
    this.#schedulable ??= this.snapshot.nodes.filter((n) => n.ready && !n.unschedulable).length;
    // The old pod stays on its node until the new one is Ready, so the scheduler counts it (topology spread, pod affinity).
    const original = this.index.podsOnNode(from).find((p) => p.uid === replacement.uid);
    const restore = original !== undefined && this.state.nodeOf(original) === undefined;
    if (restore) this.state.assume(original, from);
    try {
      return predictLanding(this.state, pod, names.filter(fits), unsafe, this.#schedulable, scheduler);
    } finally {
      if (restore) this.state.forget(original);
    }
  }

  #findTarget(
    replacement: Replacement,
    from: string,
    targets: readonly string[],
    accept: ((target: string) => boolean) | undefined,
    lastResort: boolean,
  ): { readonly ok: true; readonly node: string } | { readonly ok: false; readonly reason: string } {
    const pod = replacement.pod;
    // The webhook pins the replacement to its capacity type: other nodes would fail NodeAffinity anyway.
    const candidates = replacement.capacityType === undefined ? targets : this.#ofCapacityType(targets, replacement.capacityType);
    const taken = this.#drainBounds;
    const bound = taken === undefined ? this.#bound(candidates) : this.#drainBound(taken, candidates, from);
    if (!wouldFit(pod.requests, bound.max)) {
      // No candidate has that much free: every one lacks each resource the bound lacks. A drain's own bound leaves `from` out already.
      let considered = bound.available - (taken === undefined && this.#bound(candidates).members.has(from) && !this.#drained.has(from) ? 1 : 0);
      if (accept !== undefined) {
        considered = 0;
        for (const target of candidates) if (target !== from && !this.#drained.has(target) && accept(target)) considered++;
      }
      return { ok: false, reason: this.#allInsufficient(considered, fitsIn(pod.requests, bound.max)) };
    }
    const rejected: FitFailure[] = [];
    let considered = 0;
    // Zonal volumes (EBS, PD) follow their pod only within the zone; fit does not model volumes.
    const zone = pod.pvcNames.length > 0 ? (this.node(from)?.zone ?? '') : '';
    const fits = (target: string): boolean => {
      if (zone !== '' && this.node(target)?.zone !== zone) {
        rejected.push(_VOLUME_ZONE);
        return false;
      }
      // A shortcut past full nodes, in NodeResourcesFit's words; checkFit decides.
      const free = this.free(target);
      if (!wouldFit(pod.requests, free)) {
        for (const name of fitsIn(pod.requests, free)) rejected.push(_insufficient(name));
        return false;
      }
      const fit = checkFit(this.state, pod, target);
      if (fit.ok) return true;
      rejected.push(fit);
      return false;
    };
    let belowThreshold: string[] | undefined;
    for (const target of candidates) {
      if (target === from || this.#drained.has(target)) continue;
      if (accept !== undefined && !accept(target)) continue;
      considered++;
      if (this.isRemovedByAutoscaler(target)) {
        rejected.push(_REMOVED_BY_AUTOSCALER);
        continue;
      }
      if (this.isBelowRemovalThreshold(target, pod)) {
        if (lastResort) (belowThreshold ??= []).push(target);
        else rejected.push(_BELOW_REMOVAL_THRESHOLD);
        continue;
      }
      if (fits(target)) return { ok: true, node: target };
    }
    for (const target of belowThreshold ?? []) if (fits(target)) return { ok: true, node: target };
    return { ok: false, reason: describeUnschedulable(considered, rejected) };
  }

  /**
   * The most free of each resource over `candidates`: an upper bound that stays one as pods are
   * assumed, and is raised as they are forgotten, so a pod too big for every candidate fails
   * without a scan.
   */
  #bound(candidates: readonly string[]): _Bound {
    let bound = this.#bounds.get(candidates);
    if (bound === undefined) {
      bound = { members: new Set(candidates), ...this.#scanBound(candidates, undefined) };
      this.#bounds.set(candidates, bound);
      this.#boundList.push(bound);
    }
    return bound;
  }

  /**
   * The bound over `candidates` but `from` as this drain first sees it (`DrainRequest.boundsPerDrain`),
   * then held for the rest of the drain as `#bound` holds its own. A list of one capacity type
   * that `from` is not on keeps its exact bound from drain to drain until a node of that type
   * changes: a drain that finds spot full then costs no scan of the spot nodes.
   */
  #drainBound(taken: Map<readonly string[], _BoundValue>, candidates: readonly string[], from: string): _BoundValue {
    let bound = taken.get(candidates);
    if (bound !== undefined) return bound;
    const type = this.#listType.get(candidates);
    let exact = this.#exact.get(candidates);
    if (type !== undefined && exact === undefined) {
      exact = { members: new Set(candidates), version: -1, value: { max: {}, available: 0 } };
      this.#exact.set(candidates, exact);
    }
    if (exact !== undefined && !exact.members.has(from)) {
      const version = this.#typeVersion.get(type) ?? 0;
      if (exact.version !== version) {
        exact.value = this.#scanBound(candidates, undefined);
        exact.version = version;
      }
      bound = exact.value;
    } else {
      bound = this.#scanBound(candidates, from);
    }
    taken.set(candidates, bound);
    return bound;
  }

  /** The most free of each resource over `candidates` but `except`, and how many of them are not drained. */
  #scanBound(candidates: readonly string[], except: string | undefined): _BoundValue {
    const max: Record<string, number> = {};
    let available = 0;
    for (const name of candidates) {
      if (name === except) continue;
      _raise(max, this.free(name));
      if (!this.#drained.has(name)) available++;
    }
    return { max, available };
  }

  /** A node gained or lost room, or was drained or no longer: the exact bounds of its capacity type are stale. */
  #roomChanged(node: string): void {
    const type = this.node(node)?.capacityType;
    this.#typeVersion.set(type, (this.#typeVersion.get(type) ?? 0) + 1);
  }

  /** The scheduler's message for `count` nodes each lacking every one of `resources`; memoized, as a full cluster repeats it per node. */
  #allInsufficient(count: number, resources: readonly string[]): string {
    const key = `${count}|${resources.join('|')}`;
    let message = this.#messages.get(key);
    if (message === undefined) {
      const failures = resources.map(_insufficient);
      message = describeUnschedulable(count, failures.flatMap((f) => new Array<FitFailure>(count).fill(f)));
      this.#messages.set(key, message);
    }
    return message;
  }

  /** `targets` of one capacity type, in their order; cached per list. */
  #ofCapacityType(targets: readonly string[], capacityType: PlacedCapacityType): readonly string[] {
    let byType = this.#targetsByType.get(targets);
    if (byType === undefined) {
      byType = new Map();
      for (const name of targets) {
        const type = this.node(name)?.capacityType;
        if (type !== 'spot' && type !== 'on-demand') continue;
        const list = byType.get(type);
        if (list) list.push(name);
        else byType.set(type, [name]);
      }
      for (const [type, list] of byType) this.#listType.set(list, type);
      this.#targetsByType.set(targets, byType);
    }
    return byType.get(capacityType) ?? [];
  }

  /**
   * Drains `nodeName` tentatively, all or nothing: every pod that must move gets a destination
   * (with the full fit rules, counting the pods planned before it) and passes the availability
   * guards and budgets, or nothing changes and the reason names the first pod that held it.
   */
  tryDrain(nodeName: string, request: DrainRequest): DrainAttempt {
    const node = this.node(nodeName);
    if (node === undefined) return { ok: false, reason: reason('node-gone', `Node "${nodeName}" is not in the snapshot`) };
    const movable: PodView[] = [];
    const staying: PodView[] = [];
    let floorStays = 0;
    for (const pod of this.podsOn(nodeName)) {
      // A floor pod stays whether or not it could move (safe-to-evict=false, local storage, too
      // young): it holds back only a drain that has to move it.
      if (request.keepFloor && this.keptByFloor(pod) !== undefined) {
        staying.push(pod);
        floorStays++;
        continue;
      }
      const blocks = this.blockers(pod);
      const blocking = blocks.find((b) => b.kind === 'blocking');
      if (blocking !== undefined) {
        const more = blocks.filter((b) => b.kind === 'blocking').length - 1;
        return { ok: false, reason: reason('not-movable', `${blocking.reason}${more > 0 ? ` (and ${more} more reason${more === 1 ? '' : 's'})` : ''}`) };
      }
      if (blocks.length > 0) staying.push(pod);
      else movable.push(pod);
    }
    if (movable.length === 0) return { ok: false, reason: reason('no-pod', `Node "${nodeName}" has no pod to move`) };
    const emptied = floorStays === 0;
    const saving = emptied ? this.price(node) - (request.replacement?.shareUsdPerHour ?? 0) : 0;
    const refused = request.accept?.({ emptied, saving });
    if (refused !== undefined) return { ok: false, reason: refused };

    const overBudget = this.budget.check(nodeName, movable);
    if (overBudget !== undefined) return { ok: false, reason: overBudget };
    const admitted = this.guard.admit(movable);
    if (!admitted.ok) return { ok: false, reason: admitted.reason };

    // Biggest pods first: they are the hardest to place, so a node that can't be drained fails early.
    // Surges that must land safely go first, as they will run (see `#landSafely`).
    const surgesFirst = this.#landsSafely(request);
    const rank = (a: Admission): number => (surgesFirst && a.mode === 'surge-first' ? 0 : 1);
    const order = [...admitted.admissions].sort((a, b) => rank(a) - rank(b) || _size(b.pod) - _size(a.pod) || _byName(a.pod, b.pod));
    this.state.cordon(nodeName);
    const done: _Tentative[] = [];
    const drainBounds = request.boundsPerDrain === true ? new Map<readonly string[], _BoundValue>() : undefined;
    for (const admission of order) {
      const replacement = this.replacement(admission.pod);
      this.#forget(admission.pod);
      const lastResort = request.surgeAvoidsRemovalCandidates !== true || admission.mode !== 'surge-first';
      // A pod the webhook does not place moves for the request's capacity type, whatever else `targets` offers.
      const targets = replacement.capacityType === undefined && request.landOn !== undefined ? this.#ofCapacityType(request.targets, request.landOn) : request.targets;
      this.#drainBounds = drainBounds;
      let found: ReturnType<PlanningSession['findTarget']>;
      try {
        found = this.findTarget(replacement, nodeName, targets, undefined, lastResort);
      } finally {
        this.#drainBounds = undefined;
      }
      if (!found.ok) {
        this.#assume(admission.pod, nodeName);
        this.#undo(done, nodeName);
        this.state.uncordon(nodeName);
        return { ok: false, reason: _noTarget(admission.pod, found) };
      }
      this.#assume(replacement.pod, found.node);
      this.#count(replacement.group, this.#capacityOfNode(nodeName), replacement.capacityType);
      done.push({ original: admission.pod, replacement: replacement.pod, target: found.node, capacityType: replacement.capacityType, group: replacement.group });
    }

    if (!emptied && request.confirmKept !== undefined) {
      this.state.uncordon(nodeName);
      const refusedKept = request.confirmKept(nodeName);
      if (refusedKept !== undefined) {
        this.state.cordon(nodeName);
        this.#undo(done, nodeName);
        this.state.uncordon(nodeName);
        return { ok: false, reason: refusedKept };
      }
      this.state.cordon(nodeName);
    }

    // A node that keeps floor pods stays schedulable: it can take pods, or be emptied by a later strategy.
    if (emptied) {
      this.#drained.add(nodeName);
      this.#roomChanged(nodeName);
      for (const bound of this.#boundList) if (bound.members.has(nodeName)) bound.available--;
    } else {
      this.state.uncordon(nodeName);
      this.#raiseBounds(nodeName);
    }
    const receiving = [...new Set(done.map((t) => t.target))].filter((t) => !this.#receiving.has(t));
    for (const t of receiving) this.#receiving.add(t);
    this.guard.commit(admitted.admissions);
    this.budget.spend(nodeName, movable);
    this.#trialLog?.push(() => {
      this.budget.refund(nodeName, movable);
      this.guard.uncommit(admitted.admissions);
      for (const t of receiving) this.#receiving.delete(t);
      if (emptied) {
        this.#drained.delete(nodeName);
        this.#roomChanged(nodeName);
        // Bounds made before the drain counted the node out; those made after never counted it.
        for (const bound of this.#boundList) if (bound.members.has(nodeName)) bound.available++;
      }
      this.state.cordon(nodeName);
      this.#undo(done, nodeName);
      this.state.uncordon(nodeName);
    });
    const byUid = new Map(done.map((t) => [t.original.uid, t] as const));
    const share = saving / movable.length;
    const moves = this.#landSafely(
      admitted.admissions.map((a) => this.#move(a, nodeName, byUid.get(a.pod.uid) as _Tentative, request, share)),
      order.map((a) => a.pod.uid),
      request,
    );
    const drain: NodeDrain = {
      node: nodeName,
      strategy: request.strategy,
      savingUsdPerHour: saving,
      pods: movable.map(_ref),
      staying: staying.map(_ref),
      ...(emptied && request.deleteNode === true ? { deleteNode: true } : {}),
      ...(request.replacement !== undefined && done.some((t) => t.target === request.replacement?.name) ? { replacement: request.replacement.name } : {}),
      reason: emptied
        ? reason('drain-empties', `${request.why}: all ${movable.length} movable pod(s) fit elsewhere, so the node can be removed`)
        : reason('drain-keeps-floor', `${request.why}: ${movable.length} pod(s) move; ${floorStays} pod(s) of an on-demand floor stay, so the node is not removed yet`),
    };
    return { ok: true, drain, moves };
  }

  /**
   * Plans a single move (balance): the guards, the budget and the destination, or why not.
   * `accept` restricts the destinations further.
   */
  tryMove(pod: PodView, request: Omit<DrainRequest, 'keepFloor' | 'accept'> & { readonly accept?: (target: string, replacement: PodView) => boolean }): { readonly ok: true; readonly move: Move } | { readonly ok: false; readonly reason: Reason } {
    const from = pod.nodeName;
    const blocking = this.blockers(pod).find((b) => b.kind === 'blocking' || b.kind === 'ignored');
    if (blocking !== undefined) return { ok: false, reason: reason('not-movable', blocking.reason) };
    const overBudget = this.budget.check(from, [pod]);
    if (overBudget !== undefined) return { ok: false, reason: overBudget };
    const admitted = this.guard.admit([pod]);
    if (!admitted.ok) return { ok: false, reason: admitted.reason };
    const admission = admitted.admissions[0] as Admission;
    const replacement = this.replacement(pod);
    this.#forget(pod);
    const accept = request.accept;
    const lastResort = request.surgeAvoidsRemovalCandidates !== true || admission.mode !== 'surge-first';
    const found = this.findTarget(replacement, from, request.targets, accept === undefined ? undefined : (t) => accept(t, replacement.pod), lastResort);
    if (!found.ok) {
      this.#assume(pod, from);
      return { ok: false, reason: _noTarget(pod, found) };
    }
    const stranded = this.#strandedByMove(from);
    if (stranded !== undefined) {
      this.#assume(pod, from);
      return { ok: false, reason: reason('strands-replica', `Cannot move pod "${pod.namespace}/${pod.name}": ${stranded}`) };
    }
    this.#assume(replacement.pod, found.node);
    this.#count(replacement.group, this.#capacityOfNode(from), replacement.capacityType);
    const newlyReceiving = !this.#receiving.has(found.node);
    this.#receiving.add(found.node);
    this.guard.commit([admission]);
    this.budget.spend(from, [pod]);
    this.#trialLog?.push(() => {
      this.budget.refund(from, [pod]);
      this.guard.uncommit([admission]);
      if (newlyReceiving) this.#receiving.delete(found.node);
      this.#forget(replacement.pod);
      this.#assume(pod, from);
      this.#count(replacement.group, replacement.capacityType, this.#capacityOfNode(from));
    });
    const tentative: _Tentative = { original: pod, replacement: replacement.pod, target: found.node, capacityType: replacement.capacityType, group: replacement.group };
    const move = this.#move(admission, from, tentative, request, 0);
    // As a drain's: the executor predicts the surge's landing again on a fresh snapshot right before it starts.
    return { ok: true, move: this.#landSafely([move], [pod.uid], request)[0] as Move };
  }

  /**
   * Why taking a pod off `from` (already forgotten in the state) would strand a single replica: the
   * node stays, below the autoscaler's removal threshold once the pod has gone, with a pod on it
   * whose workload has one Ready replica. The autoscaler would then drain the node and evict that
   * pod without a surge: an outage Stowage's move set up. Undefined when no replica is stranded.
   */
  #strandedByMove(from: string): string | undefined {
    if (this.#drained.has(from) || !this.isBelowRemovalThreshold(from)) return undefined;
    for (const p of this.state.podsOn(from)) {
      if (p.owner.kind === 'DaemonSet' || p.isMirror || leavesSoon(p)) continue;
      const ready = this.index.podsOfWorkload(p.owner).filter((q) => q.ready && q.deletionRequestedAt === undefined).length;
      if (ready <= 1) return `node "${from}" would fall below the autoscaler's removal threshold with pod "${p.namespace}/${p.name}" on it, its workload's only Ready replica, which the autoscaler's drain would evict without a replacement first`;
    }
    return undefined;
  }

  /** Whether the request's surge-first moves must land safely (see `Move.safeLanding`). */
  #landsSafely(request: Pick<DrainRequest, 'surgeAvoidsRemovalCandidates'>): boolean {
    return request.surgeAvoidsRemovalCandidates === true && this.settings.scheduler !== undefined;
  }

  /**
   * The moves of a drain with their surge-first moves asking for a safe landing (see
   * `Move.safeLanding`), when the request avoids removal candidates and the cluster's scheduler is
   * known. Each such move gets a wave of its own, first and in `planned` order (the order their
   * landings were predicted in), and the evictions follow: a surge the executor refuses on its
   * fresh look then costs no eviction, and the scheduler sees no evicted pod's replacement the
   * prediction did not count.
   */
  #landSafely(moves: readonly Move[], planned: readonly string[], request: Pick<DrainRequest, 'surgeAvoidsRemovalCandidates'>): readonly Move[] {
    const scheduler = this.settings.scheduler;
    if (!this.#landsSafely(request) || scheduler === undefined || !moves.some((m) => m.mode === 'surge-first')) return moves;
    const safeLanding: SafeLanding = { ...scheduler, scaleDownUtilizationThreshold: this.#removalThreshold };
    const waves = new Map<string, number>();
    for (const uid of planned) if (moves.find((m) => m.pod.uid === uid)?.mode === 'surge-first') waves.set(uid, waves.size);
    return moves.map((m) => (m.mode === 'surge-first' ? { ...m, wave: waves.get(m.pod.uid) ?? 0, safeLanding } : { ...m, wave: m.wave + waves.size }));
  }

  #move(a: Admission, from: string, t: _Tentative, request: Pick<DrainRequest, 'strategy' | 'why' | 'landOn'>, saving: number): Move {
    const { strategy, why } = request;
    // Only a strategy that moves for the capacity type checks it; the webhook's choice is the one that counts then.
    const landOn = request.landOn === undefined ? undefined : (t.capacityType ?? request.landOn);
    return {
      pod: _ref(a.pod),
      workload: a.pod.owner,
      fromNode: from,
      toNode: t.target,
      ...(t.capacityType === undefined ? {} : { capacityType: t.capacityType }),
      ...(landOn === undefined ? {} : { landOn }),
      strategy,
      mode: a.mode,
      wave: a.wave,
      reason: reason(a.reason.code, `${why}; ${a.reason.message}`),
      savingUsdPerHour: saving,
    };
  }

  #undo(done: readonly _Tentative[], source: string): void {
    for (const t of [...done].reverse()) {
      this.#forget(t.replacement);
      this.#assume(t.original, source);
      this.#count(t.group, t.capacityType, this.#capacityOfNode(source));
    }
  }

  #forget(pod: PodView): void {
    const node = this.state.nodeOf(pod);
    this.state.forget(pod);
    if (node === undefined) return;
    this.#free.delete(node);
    this.#roomChanged(node);
    this.#stayingByNode.delete(node);
    // A node being drained is cordoned: its room is no destination, so the bounds need not grow.
    if (!this.state.isCordoned(node)) this.#raiseBounds(node);
  }

  #raiseBounds(node: string): void {
    for (const bound of this.#boundList) if (bound.members.has(node)) _raise(bound.max, this.free(node));
  }

  #assume(pod: PodView, node: string): void {
    this.state.assume(pod, node);
    this.#free.delete(node);
    this.#roomChanged(node);
    this.#stayingByNode.delete(node);
  }

  /** Moves one pod of a revision group from one capacity type to another in the counts. */
  #count(group: string | undefined, from: string | undefined, to: string | undefined): void {
    if (group === undefined) return;
    const c = this.#counts.get(group) ?? { onDemand: 0, spot: 0 };
    const delta = (type: string | undefined): CapacityCounts => ({ onDemand: type === 'on-demand' ? 1 : 0, spot: type === 'spot' ? 1 : 0 });
    const minus = delta(from);
    const plus = delta(to);
    this.#counts.set(group, { onDemand: c.onDemand - minus.onDemand + plus.onDemand, spot: c.spot - minus.spot + plus.spot });
  }

  #capacityOfNode(nodeName: string): PlacedCapacityType | undefined {
    const type = this.node(nodeName)?.capacityType;
    return type === 'spot' || type === 'on-demand' ? type : undefined;
  }

  #capacityOf(pod: PodView): PlacedCapacityType | undefined {
    return this.#capacityOfNode(pod.nodeName);
  }

  /** The webhook counts a Deployment's pods per revision (ReplicaSet), a StatefulSet's as one. */
  #group(pod: PodView): string {
    return placementGroupOf(pod);
  }

  /**
   * Live counts per revision group, and the floor's pods, of the pod's workload when the webhook
   * places it; on first ask only, since a plan looks at a few workloads of thousands.
   */
  #countWorkload(pod: PodView): void {
    const workload = this.index.workload(pod.owner);
    if (workload === undefined || this.#counted.has(workload)) return;
    this.#counted.add(workload);
    const policy = this.#policyOfWorkload(workload);
    if (policy === undefined || workload.replicas === undefined) return;
    const groups = new Map<string, { readonly placed: PlacedPod[]; onDemand: number; spot: number }>();
    const nodeType = (name: string): NodeView['capacityType'] | undefined => this.node(name)?.capacityType;
    // A workload's pods share one or two revisions: the group of the pod before is reused when it
    // is the same (this runs for every pod of every workload a plan looks at).
    let last: { readonly owner: PodView['owner']; readonly revision: string | undefined; readonly entry: { readonly placed: PlacedPod[]; onDemand: number; spot: number } } | undefined;
    for (const member of this.index.podsOfWorkload(workload.ref)) {
      if (!holdsResources(member)) continue;
      // Counted as the webhook counts (unbound pods by their decision); only bound pods can hold the floor.
      const capacityType = countedCapacityType(countedPod(member, this.#capacityLabel), nodeType);
      const bound = member.nodeName !== '' && member.deletionRequestedAt === undefined;
      if (capacityType === undefined && !bound) continue;
      const owner = member.owner;
      let entry =
        last !== undefined && last.revision === member.controllerRef?.uid && last.owner.name === owner.name && last.owner.namespace === owner.namespace && last.owner.kind === owner.kind
          ? last.entry
          : undefined;
      if (entry === undefined) {
        const group = this.#group(member);
        entry = groups.get(group);
        if (entry === undefined) groups.set(group, (entry = { placed: [], onDemand: 0, spot: 0 }));
        last = { owner: member.owner, revision: member.controllerRef?.uid, entry };
      }
      if (bound) entry.placed.push({ pod: member, capacityType: capacityType ?? 'unknown' });
      if (capacityType === 'on-demand') entry.onDemand++;
      else if (capacityType === 'spot') entry.spot++;
    }
    const ref = workload.ref;
    for (const [group, entry] of groups) {
      this.#counts.set(group, { onDemand: entry.onDemand, spot: entry.spot });
      const kept = podsKeptByFloor(entry.placed, policy, workload.replicas);
      const why = `kept on on-demand by the floor of ${kept.length} of ${ref.kind} "${ref.namespace}/${ref.name}"`;
      for (const p of kept) this.#kept.set(p.uid, why);
    }
  }
}

function _rollback(log: readonly (() => void)[]): void {
  for (let i = log.length - 1; i >= 0; i--) (log[i] as () => void)();
}

interface _BoundValue {
  readonly max: Record<string, number>;
  /** Members not drained. */
  available: number;
}

interface _Bound extends _BoundValue {
  readonly members: ReadonlySet<string>;
}

function _raise(max: Record<string, number>, free: Resources): void {
  for (const name in free) {
    const amount = free[name] ?? 0;
    if (amount > (max[name] ?? -Infinity)) max[name] = amount;
  }
}

/** Upstream's VolumeBinding words; fit has no volume plugin, so the failure borrows NodeAffinity's name. */
const _VOLUME_ZONE: FitFailure = { ok: false, plugin: 'NodeAffinity', reason: 'node(s) had volume node affinity conflict' };

/** Pending pods looked at for a scale-up a drain could spare: enough to find one, bounded for big clusters. */
const _MAX_STUCK_PODS = 50;

/** A destination the autoscaler is removing or means to remove (`autoscalerRemoving`). */
const _REMOVED_BY_AUTOSCALER: FitFailure = { ok: false, plugin: 'TaintToleration', reason: 'node(s) were marked for removal by the autoscaler' };

/** A destination the autoscaler would remove, for a pod the autoscaler's own drain would take below its workload's floor. */
const _BELOW_REMOVAL_THRESHOLD: FitFailure = { ok: false, plugin: 'AutoscalerRemoval', reason: "node(s) were below the autoscaler's removal threshold" };

/** Why a pod has no destination: no room, or no node the scheduler would choose that is safe. */
function _noTarget(pod: PodView, found: { readonly reason: string; readonly unsafeLanding?: true }): Reason {
  const who = `Pod "${pod.namespace}/${pod.name}"`;
  return found.unsafeLanding === true ? reason('unsafe-landing', `${who} must not lose its replica, but ${found.reason}`) : reason('no-fit', `${who} fits nowhere else: ${found.reason}`);
}

const _INSUFFICIENT = new Map<string, FitFailure>();

/** The NodeResourcesFit failure for one resource, shared: failing nodes allocate nothing. */
function _insufficient(name: string): FitFailure {
  let failure = _INSUFFICIENT.get(name);
  if (failure === undefined) _INSUFFICIENT.set(name, (failure = { ok: false, plugin: 'NodeResourcesFit', reason: `Insufficient ${name}` }));
  return failure;
}

function _size(pod: PodView): number {
  return (pod.requests['cpu'] ?? 0) * 1e6 + (pod.requests['memory'] ?? 0) / 2 ** 20;
}
