/**
 * Stowage's descheduler in the loop: a thin driver of the same code the live descheduler runs.
 * Each cycle it takes a snapshot of the simulated cluster, asks the shared planner
 * (`planDescheduling`) for a plan, and carries it out by driving the shared execution state
 * machine (`policy/execute/machine.ts`): its effects become model events here (a taint is a
 * cordon, an eviction goes through the workload's PDB, a surge starts the Deployment
 * controller's rollout model) and its observations are snapshots of the model. The next cycle
 * starts an interval after the plan is carried out, as the live loop sleeps its interval after
 * each cycle.
 *
 * A surge-first move is what the live executor does, a rollout of the Deployment with maxSurge 1
 * and maxUnavailable 0: every pod the Deployment has when it starts is replaced, one at a time,
 * each old pod deleted once its replacement is Ready, the moved pod last.
 */
import { needsPodUsage, planDescheduling } from '../policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../policy/deschedule/plan.js';
import { EMPTY_MOVE_HISTORY } from '../policy/deschedule/anti-flap.js';
import type { MoveHistory } from '../policy/deschedule/anti-flap.js';
import type { DrainFailure } from '../policy/deschedule/guards.js';
import { reason } from '../policy/deschedule/reasons.js';
import { ScaleDownProtection } from '../policy/deschedule/autoscaler.js';
import type { Reason } from '../policy/deschedule/reasons.js';
import type { DeschedulingContext, NodeOffer, PlacementContext, Plan } from '../policy/deschedule/types.js';
import { beginExecution, DEFAULT_EXECUTION_OPTIONS, stepExecution } from '../policy/execute/machine.js';
import type { Effect, ExecutionOptions, ExecutionState, Notice, Observation } from '../policy/execute/machine.js';
import type { ClusterSnapshot, PodView, Resources, WorkloadRef, WorkloadView } from '../core/model.js';
import type { PriceTable } from '../core/pricing.js';
import { workloadKey } from '../core/snapshot.js';
import { CordonReason } from './cluster.js';
import type { SimCluster, SimNode, SimPod } from './cluster.js';
import type { Engine } from './engine.js';
import { DeletionCause } from './pods.js';
import { Service } from './workloads.js';
import type { Workloads } from './workloads.js';

/** How often an executing wave is looked at. */
const _POLL_MS = 5_000;

/** Counters for the result's diagnostics and for tests. */
export interface DeschedulerStats {
  cycles: number;
  plannedMoves: number;
  startedDrains: number;
  completedDrains: number;
  failedDrains: number;
  /** Drains refused on the recheck before they started. */
  skippedDrains: number;
  /** Moves whose replacement ran where the plan did not mean (each fails its job). */
  misplacedMoves: number;
  /** Drained nodes deleted directly (karpenter-consolidate), not left to the autoscaler. */
  nodesDeleted: number;
  /** Replacement nodes launched (karpenter-consolidate's replace). */
  nodesLaunched: number;
  /** Of those, the ones launched to replace several nodes at once (multi-node replace). */
  setsReplaced: number;
  evictions: number;
  /** Surge-first moves started (each a rollout of its Deployment). */
  surges: number;
  /** Pods those rollouts replaced besides the moved ones (multi-replica Deployments). */
  rolloutSurges: number;
  planningMs: number;
}

/** One action the descheduler took, for the differential test against the live one. */
export type DeschedulerAction =
  | { readonly action: 'taint' | 'untaint' | 'hold' | 'delete' | 'launch' | 'protect' | 'unprotect'; readonly node: string }
  /** `at` is the engine time (ms), `workload` its key (`workloadKey`), `cycle` the number of the cycle whose plan moved it. */
  | { readonly action: 'evict' | 'surge'; readonly pod: string; readonly node: string; readonly workload: string; readonly at: number; readonly cycle: number };

/** Settings of the descheduler model. */
export interface DeschedulerOptions {
  readonly config: DeschedulingConfig;
  readonly intervalMs: number;
  /** A wave not settled within this time fails the drain. */
  readonly waveTimeoutMs: number;
  readonly prices: PriceTable;
  /** The placement webhook's policy when the arm runs one, as the live descheduler is given it. */
  readonly placement: PlacementContext | undefined;
  /** How long a consolidated node keeps its taint for the autoscaler; the live default when absent. */
  readonly holdMs?: number;
  /** Wall-clock reader for the planning-time diagnostic only; never feeds the model. */
  readonly wallClock?: () => number;
  /** Deletes a drained node when its node group allows (the cloud's API, as Karpenter would); false when it does not. */
  readonly deleteNode?: (node: SimNode) => boolean;
  /** The node types a replacement may be launched of now (the groups that can grow); none when absent. */
  readonly offers?: () => readonly NodeOffer[];
  /** Launches a node of the offer through the cloud's launch path: the new node's name, undefined when its group cannot grow. */
  readonly launchNode?: (offerId: string) => string | undefined;
  /** Terminates a node launched for a replacement that did not come up in time (or any longer wanted). */
  readonly cancelLaunch?: (nodeName: string) => void;
}

/** Runs the shared planner on the simulated cluster and carries its plans out with the shared state machine. */
export class DeschedulerModel {
  readonly stats: DeschedulerStats = { cycles: 0, plannedMoves: 0, startedDrains: 0, completedDrains: 0, failedDrains: 0, skippedDrains: 0, misplacedMoves: 0, nodesDeleted: 0, nodesLaunched: 0, setsReplaced: 0, evictions: 0, surges: 0, rolloutSurges: 0, planningMs: 0 };
  /** Every action taken, in order. */
  readonly actions: DeschedulerAction[] = [];
  readonly #engine: Engine;
  readonly #cluster: SimCluster;
  readonly #workloads: Workloads;
  readonly #options: DeschedulerOptions;
  readonly #execution: ExecutionOptions;
  /** Whether a strategy plans on the pods' measured use (balance on usage). */
  readonly #measuresUsage: boolean;
  readonly #services = new Map<string, Service>();
  #failures: ReadonlyMap<string, DrainFailure> = new Map();
  #history: MoveHistory = EMPTY_MOVE_HISTORY;
  #state: ExecutionState | undefined;
  #started = false;
  /** Consolidated nodes keeping their taint: node → the end of the hold (engine time). */
  readonly #held = new Map<string, number>();
  /** Surge-first rollouts under way: Deployment → its old pods still to replace, in order. */
  readonly #rollouts = new Map<Service, SimPod[]>();

  constructor(engine: Engine, cluster: SimCluster, workloads: Workloads, options: DeschedulerOptions) {
    this.#engine = engine;
    this.#cluster = cluster;
    this.#workloads = workloads;
    this.#options = options;
    this.#measuresUsage = needsPodUsage(options.config);
    this.#execution = { waveTimeoutMs: options.waveTimeoutMs, pollMs: _POLL_MS, holdMs: options.holdMs ?? DEFAULT_EXECUTION_OPTIONS.holdMs };
    for (const s of workloads.services) this.#services.set(workloadKey(s.ref), s);
  }

  start(): void {
    this.#started = true;
    this.#engine.after(this.#options.intervalMs, () => this.#cycle());
  }

  /** Whether a plan is being carried out. */
  get executing(): boolean {
    return this.#state !== undefined;
  }

  /** A cycle; the next is scheduled when its plan is carried out (`#run`). */
  #cycle(): void {
    this.tick();
  }

  /**
   * One descheduler cycle: plan on a fresh snapshot, then start carrying it out (the rest follows
   * as engine events). A cycle while a plan is still carried out plans nothing, as the live loop
   * plans only after the last plan is done.
   */
  tick(): Plan {
    if (this.#state !== undefined) return { moves: [], drains: [], skipped: [], savingUsdPerHour: 0 };
    this.stats.cycles++;
    const cluster = this.#cluster.snapshot(this.#engine.now);
    const snapshot = this.#measuresUsage ? { ...cluster, podUsage: this.#podUsage() } : cluster;
    const wall = this.#options.wallClock;
    const t0 = wall?.() ?? 0;
    const ctx: DeschedulingContext = {
      now: this.#epochNow(),
      prices: this.#options.prices,
      ...(this.#options.placement !== undefined ? { placement: this.#options.placement } : {}),
      failures: this.#failures,
      history: this.#history,
      ...(this.#options.offers !== undefined ? { offers: this.#options.offers() } : {}),
    };
    const plan = planDescheduling(snapshot, this.#options.config, ctx);
    if (wall !== undefined) this.stats.planningMs += wall() - t0;
    this.stats.plannedMoves += plan.moves.length;
    const { state, effects } = beginExecution(plan, this.#execution, this.#failures, this.#history);
    this.#state = state;
    this.#run(effects);
    return plan;
  }

  /**
   * What each running pod uses now, as metrics.k8s.io would report it to the live descheduler:
   * a pod that is starting or stopping has no measurement (the planner counts it at its request).
   */
  #podUsage(): ReadonlyMap<string, Resources> {
    const epoch = this.#epochNow();
    const usage = new Map<string, Resources>();
    for (const pod of this.#cluster.pods.values()) {
      if (pod.phase === 'Running' && !pod.terminating) usage.set(pod.uid, { cpu: this.#workloads.cpuUsage(pod, epoch) });
    }
    return usage;
  }

  #epochNow(): number {
    return this.#cluster.epochOffset + this.#engine.now;
  }

  #feed(observation: Observation): readonly Effect[] {
    const { state, effects } = stepExecution(this.#state as ExecutionState, observation);
    this.#state = state;
    return effects;
  }

  /** Carries out effects until the machine waits for time to pass or finishes. */
  #run(initial: readonly Effect[]): void {
    let queue = [...initial];
    while (queue.length > 0) {
      const effect = queue.shift() as Effect;
      if (effect.type === 'observe') {
        if (effect.afterMs > 0) {
          this.#engine.after(effect.afterMs, () => this.#run(this.#feed({ type: 'observed', now: this.#epochNow(), snapshot: this.#observe(effect.workloads) })));
          return;
        }
        queue = [...this.#feed({ type: 'observed', now: this.#epochNow(), snapshot: this.#observe(effect.workloads) })];
        continue;
      }
      const failure = this.#perform(effect);
      if (typeof failure === 'string' && effect.type === 'launch-node') queue = [...this.#feed({ type: 'launched', now: this.#epochNow(), launch: effect.launch.name, node: failure })];
      else if (typeof failure === 'object') queue = [...this.#feed({ type: 'failed', now: this.#epochNow(), effect, reason: failure })];
    }
    const state = this.#state as ExecutionState;
    if (state.phase !== 'finished') return;
    this.#failures = state.failures;
    this.#history = state.history;
    this.#state = undefined;
    if (this.#started) this.#engine.after(this.#options.intervalMs, () => this.#cycle());
  }

  /**
   * A snapshot holding at least what the machine asked for: the whole cluster, or (while a wave
   * settles) the nodes and the named workloads with their pods, which is all it reads then.
   */
  #observe(refs: readonly WorkloadRef[] | undefined): ClusterSnapshot {
    if (refs === undefined) return this.#cluster.snapshot(this.#engine.now);
    const pods: PodView[] = [];
    const workloads: WorkloadView[] = [];
    for (const ref of refs) {
      const service = this.#services.get(workloadKey(ref));
      if (service === undefined) continue;
      workloads.push(service.view());
      for (const pod of service.pods) pods.push(pod.view());
    }
    return { takenAt: this.#epochNow(), nodes: this.#cluster.readyNodes.map((n) => n.view()), pods, workloads, pdbs: [] };
  }

  /** Carries out one effect on the model; the reason when it failed, the node's name when it launched one. */
  #perform(effect: Exclude<Effect, { readonly type: 'observe' }>): Reason | string | undefined {
    switch (effect.type) {
      case 'taint': {
        const node = this.#cluster.nodes.get(effect.node);
        if (node === undefined || node.state !== 'ready') return reason('node-gone', `Node "${effect.node}" is gone`);
        this.#held.delete(effect.node);
        this.#cluster.cordon(node, CordonReason.StowageDrain);
        this.actions.push({ action: 'taint', node: effect.node });
        return undefined;
      }
      case 'untaint': {
        this.#release(effect.node);
        this.actions.push({ action: 'untaint', node: effect.node });
        return undefined;
      }
      case 'delete-node': {
        const node = this.#cluster.nodes.get(effect.node);
        if (node !== undefined && node.state === 'ready' && this.#options.deleteNode?.(node) === true) {
          this.#held.delete(effect.node);
          this.stats.nodesDeleted++;
          this.actions.push({ action: 'delete', node: effect.node });
          return undefined;
        }
        return this.#perform({ type: 'hold', node: effect.node, until: effect.holdUntil });
      }
      case 'launch-node': {
        const launched = this.#options.launchNode?.(effect.launch.offer.id);
        if (launched === undefined) {
          return reason('launch-failed', `Cannot launch a ${effect.launch.offer.node.instanceType} node for "${effect.launch.name}": its node group cannot grow`);
        }
        this.stats.nodesLaunched++;
        if (effect.launch.replaces.length > 1) this.stats.setsReplaced++;
        this.actions.push({ action: 'launch', node: effect.launch.name });
        return launched;
      }
      case 'cancel-launch': {
        if (effect.node !== undefined) this.#options.cancelLaunch?.(effect.node);
        return undefined;
      }
      case 'hold': {
        const until = effect.until - this.#cluster.epochOffset;
        this.#held.set(effect.node, until);
        this.actions.push({ action: 'hold', node: effect.node });
        this.#engine.after(Math.max(0, until - this.#engine.now), () => {
          if (this.#held.get(effect.node) === until) this.#release(effect.node);
        });
        return undefined;
      }
      case 'evict': {
        const pod = this.#cluster.pods.get(effect.move.pod.uid);
        if (pod === undefined || pod.terminating) return undefined;
        if (!this.#workloads.evict(pod, DeletionCause.Descheduler)) {
          return reason('eviction-refused', `Cannot evict pod "${effect.move.pod.namespace}/${effect.move.pod.name}": the apiserver refused (a PodDisruptionBudget)`);
        }
        this.stats.evictions++;
        this.actions.push({ action: 'evict', pod: `${effect.move.pod.namespace}/${effect.move.pod.name}`, node: effect.move.fromNode, workload: workloadKey(effect.move.workload), at: this.#engine.now, cycle: this.stats.cycles });
        return undefined;
      }
      case 'surge': {
        const pod = this.#cluster.pods.get(effect.move.pod.uid);
        const owner = pod?.owner;
        if (pod === undefined || pod.terminating) return undefined;
        if (!(owner instanceof Service)) return reason('single-replica', `Cannot surge pod "${effect.move.pod.namespace}/${effect.move.pod.name}": only a Deployment can start a replacement first`);
        // A rollout already under way replaces this pod too.
        if (this.#startRollout(owner, pod)) this.stats.surges++;
        this.actions.push({ action: 'surge', pod: `${effect.move.pod.namespace}/${effect.move.pod.name}`, node: effect.move.fromNode, workload: workloadKey(effect.move.workload), at: this.#engine.now, cycle: this.stats.cycles });
        return undefined;
      }
      case 'protect': {
        const node = this.#cluster.nodes.get(effect.node);
        if (node === undefined || node.state !== 'ready') return reason('node-gone', `Node "${effect.node}" is gone`);
        this.#cluster.annotate(node, { [ScaleDownProtection.ClusterAutoscaler]: 'true', [ScaleDownProtection.Karpenter]: 'true', [ScaleDownProtection.Record]: new Date(this.#epochNow()).toISOString() });
        this.actions.push({ action: 'protect', node: effect.node });
        return undefined;
      }
      case 'unprotect': {
        const node = this.#cluster.nodes.get(effect.node);
        // Only what Stowage set: its record says so.
        if (node === undefined || !node.annotations.has(ScaleDownProtection.Record)) return undefined;
        this.#cluster.annotate(node, { [ScaleDownProtection.ClusterAutoscaler]: undefined, [ScaleDownProtection.Karpenter]: undefined, [ScaleDownProtection.Record]: undefined });
        this.actions.push({ action: 'unprotect', node: effect.node });
        return undefined;
      }
      case 'restore-strategy':
        // The model has no Deployment strategy to give back.
        return undefined;
      case 'notice':
        this.#count(effect.notice);
        return undefined;
    }
  }

  #release(nodeName: string): void {
    this.#held.delete(nodeName);
    const node = this.#cluster.nodes.get(nodeName);
    if (node !== undefined && node.state === 'ready') this.#cluster.uncordon(node, CordonReason.StowageDrain);
  }

  #count(notice: Notice): void {
    if (notice.kind === 'job-started' && notice.job.taint) this.stats.startedDrains++;
    if (notice.kind === 'misplaced') this.stats.misplacedMoves++;
    if (notice.kind !== 'job-finished' || !notice.job.taint) return;
    if (notice.outcome.outcome === 'done') this.stats.completedDrains++;
    else if (notice.outcome.outcome === 'failed') this.stats.failedDrains++;
    else this.stats.skippedDrains++;
  }

  /**
   * Starts the rollout a surge-first move is: the Deployment's pods (those it has now) are
   * replaced one at a time, each old pod deleted once its replacement is Ready, the moved pod
   * last. The ReplicaSet controller deletes first the old pods sharing a node with new ones (its
   * doubled-up rank), and no new pod lands on the tainted node, so the moved pod tends to go last
   * live too; its slot, on a node being drained, could not take the next replacement. False when
   * a rollout of the Deployment is already under way or no pod could be surged.
   */
  #startRollout(service: Service, pod: SimPod): boolean {
    if (this.#rollouts.has(service)) return false;
    const others = [...service.pods].filter((p) => p !== pod && !p.terminating && p.surgeFor === undefined && !service.surges.has(p));
    const queue = [...others, pod];
    this.#rollouts.set(service, queue);
    if (!this.#surgeNext(service, queue)) {
      this.#rollouts.delete(service);
      return false;
    }
    this.#engine.after(_POLL_MS, () => this.#advanceRollout(service));
    return true;
  }

  /** Surges the next old pod of `queue` still there; false when none is left. */
  #surgeNext(service: Service, queue: SimPod[]): boolean {
    for (;;) {
      const next = queue.shift();
      if (next === undefined) return false;
      // A pod scaled down, evicted or interrupted meanwhile is not replaced.
      if (service.pods.has(next) && !next.terminating && service.surge(next)) return true;
    }
  }

  /** maxSurge 1, maxUnavailable 0: the next old pod is surged once the previous replacement is Ready. */
  #advanceRollout(service: Service): void {
    const queue = this.#rollouts.get(service);
    if (queue === undefined) return;
    if (service.surges.size === 0) {
      if (!this.#surgeNext(service, queue)) {
        this.#rollouts.delete(service);
        return;
      }
      this.stats.rolloutSurges++;
    }
    this.#engine.after(_POLL_MS, () => this.#advanceRollout(service));
  }

}

