/**
 * Stowage's descheduler in the loop: every interval it takes a snapshot of the simulated cluster,
 * asks the shared planner (`planDescheduling`, the same function the live loop calls) for a plan,
 * and carries it out with the live loop's semantics:
 *
 * - a drained node is tainted first, so nothing new lands on it;
 * - moves go in waves: wave n starts once the workloads moved in wave n − 1 are settled again
 *   (every replica Ready); an eviction goes through the Eviction API (a PDB may refuse it);
 * - a surge-first move is what the live executor does, a rollout of the Deployment with maxSurge 1
 *   and maxUnavailable 0: every pod the Deployment has when it starts is replaced, one at a time,
 *   each old pod deleted once its replacement is Ready, the moved pod last. With one replica that
 *   is the moved pod alone; with more, the workload is in flight until the last one is replaced;
 * - a drain that cannot finish (an eviction refused, a wave not settled within the timeout) is
 *   abandoned: the node is untainted and its failure recorded, so the planner backs off from it;
 * - a consolidated node keeps its taint until the autoscaler removes it (it is empty and under
 *   the autoscaler's threshold); other drains leave the node schedulable again.
 */
import { planDescheduling } from '../policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../policy/deschedule/plan.js';
import { recordDrainFailure } from '../policy/deschedule/guards.js';
import type { DrainFailure } from '../policy/deschedule/guards.js';
import type { DeschedulingContext, Move, NodeDrain, Plan } from '../policy/deschedule/types.js';
import type { PriceTable } from '../core/pricing.js';
import { workloadKey } from '../core/snapshot.js';
import type { PlacementPolicy } from '../policy/placement/policy.js';
import { CordonReason } from './cluster.js';
import type { SimCluster, SimNode, SimPod } from './cluster.js';
import type { Engine } from './engine.js';
import { DeletionCause } from './pods.js';
import { Service } from './workloads.js';
import type { Workloads } from './workloads.js';

/** How often an executing drain checks whether its wave has settled. */
const _POLL_MS = 5_000;
/** A consolidated node the autoscaler has not removed within this time is untainted again. */
const _CONSOLIDATED_TAINT_MS = 30 * 60_000;

/** Counters for the result's diagnostics and for tests. */
export interface DeschedulerStats {
  cycles: number;
  plannedMoves: number;
  startedDrains: number;
  completedDrains: number;
  failedDrains: number;
  evictions: number;
  /** Surge-first moves started (each a rollout of its Deployment). */
  surges: number;
  /** Pods those rollouts replaced besides the moved ones (multi-replica Deployments). */
  rolloutSurges: number;
  planningMs: number;
}

/** Settings of the descheduler model. */
export interface DeschedulerOptions {
  readonly config: DeschedulingConfig;
  readonly intervalMs: number;
  /** A wave not settled within this time fails the drain. */
  readonly waveTimeoutMs: number;
  readonly prices: PriceTable;
  /** The placement webhook's policy when the arm runs one. */
  readonly placement: PlacementPolicy | undefined;
  /** Wall-clock reader for the planning-time diagnostic only; never feeds the model. */
  readonly wallClock?: () => number;
}

interface _Execution {
  readonly drain: NodeDrain;
  readonly node: SimNode;
  readonly waves: readonly (readonly Move[])[];
  wave: number;
  waveStartedAt: number;
  /** Moves of the current wave not started yet: their workload has a move in flight elsewhere. */
  pending: Move[];
  /** Services moved in the current wave, which must settle before the next. */
  touched: Set<Service>;
}

/** Runs the shared planner on the simulated cluster and applies its plans. */
export class DeschedulerModel {
  readonly stats: DeschedulerStats = { cycles: 0, plannedMoves: 0, startedDrains: 0, completedDrains: 0, failedDrains: 0, evictions: 0, surges: 0, rolloutSurges: 0, planningMs: 0 };
  readonly #engine: Engine;
  readonly #cluster: SimCluster;
  readonly #workloads: Workloads;
  readonly #options: DeschedulerOptions;
  readonly #executions = new Map<string, _Execution>();
  #failures: ReadonlyMap<string, DrainFailure> = new Map();
  /** Plain moves (balance) in flight, by workload key. */
  readonly #looseMoves = new Map<string, Service>();
  /** Surge-first rollouts under way: Deployment → its old pods still to replace, in order. */
  readonly #rollouts = new Map<Service, SimPod[]>();

  constructor(engine: Engine, cluster: SimCluster, workloads: Workloads, options: DeschedulerOptions) {
    this.#engine = engine;
    this.#cluster = cluster;
    this.#workloads = workloads;
    this.#options = options;
  }

  start(): void {
    this.#engine.every(this.#options.intervalMs, this.#options.intervalMs, () => {
      this.tick();
    });
  }

  /** One descheduler cycle: plan on a fresh snapshot, then start what the plan says. */
  tick(): Plan {
    this.stats.cycles++;
    const now = this.#engine.now;
    const snapshot = this.#cluster.snapshot(now);
    const wall = this.#options.wallClock;
    const t0 = wall?.() ?? 0;
    const ctx: DeschedulingContext = {
      now: this.#cluster.epochOffset + now,
      prices: this.#options.prices,
      ...(this.#options.placement !== undefined ? { placement: { defaults: this.#options.placement } } : {}),
      failures: this.#failures,
      inFlight: this.#inFlight(),
    };
    const plan = planDescheduling(snapshot, this.#options.config, ctx);
    if (wall !== undefined) this.stats.planningMs += wall() - t0;
    this.stats.plannedMoves += plan.moves.length;
    const byNode = new Map<string, Move[]>();
    for (const move of plan.moves) {
      const list = byNode.get(move.fromNode);
      if (list) list.push(move);
      else byNode.set(move.fromNode, [move]);
    }
    const drained = new Set<string>();
    for (const drain of plan.drains) {
      drained.add(drain.node);
      this.#startDrain(drain, byNode.get(drain.node) ?? []);
    }
    // Moves outside drains (balance) go one wave at a time like the rest, without a taint.
    for (const [nodeName, moves] of byNode) {
      if (drained.has(nodeName)) continue;
      for (const move of moves) if (move.wave === 0 && !this.#busy(move)) this.#startMove(move, undefined);
    }
    return plan;
  }

  /** Workload keys with a move still settling, so the planner plans around them. */
  #inFlight(): ReadonlySet<string> {
    const keys = new Set<string>();
    for (const exec of this.#executions.values()) for (const s of exec.touched) keys.add(_key(s));
    for (const [key, service] of this.#looseMoves) {
      if (this.#settled(service)) this.#looseMoves.delete(key);
      else keys.add(key);
    }
    for (const service of this.#rollouts.keys()) keys.add(_key(service));
    return keys;
  }

  #startDrain(drain: NodeDrain, moves: readonly Move[]): void {
    const node = this.#cluster.nodes.get(drain.node);
    if (node === undefined || node.state !== 'ready' || this.#executions.has(drain.node)) return;
    this.stats.startedDrains++;
    this.#cluster.cordon(node, CordonReason.StowageDrain);
    const waves: Move[][] = [];
    for (const move of moves) (waves[move.wave] ??= []).push(move);
    const exec: _Execution = { drain, node, waves: waves.filter((w) => w !== undefined), wave: -1, waveStartedAt: this.#engine.now, pending: [], touched: new Set() };
    this.#executions.set(drain.node, exec);
    this.#nextWave(exec);
  }

  #nextWave(exec: _Execution): void {
    exec.wave++;
    exec.touched = new Set();
    exec.waveStartedAt = this.#engine.now;
    const wave = exec.waves[exec.wave];
    if (wave === undefined) {
      this.#finish(exec, true);
      return;
    }
    exec.pending = [...wave];
    if (this.#startPending(exec)) this.#engine.after(_POLL_MS, () => this.#poll(exec));
  }

  /**
   * Starts the wave's moves whose workload has no move in flight in any drain: wave numbers are
   * per workload across the whole plan, and two drains run side by side, so without this check
   * two pods of one workload could be evicted at once. Returns false when the drain finished.
   */
  #startPending(exec: _Execution): boolean {
    const waiting: Move[] = [];
    for (const move of exec.pending) {
      if (this.#busy(move)) {
        waiting.push(move);
        continue;
      }
      if (this.#startMove(move, exec) === 'refused') {
        this.#finish(exec, false);
        return false;
      }
    }
    exec.pending = waiting;
    return true;
  }

  /** True while another move of the same workload is still settling. */
  #busy(move: Move): boolean {
    const key = workloadKey(move.workload);
    const loose = this.#looseMoves.get(key);
    if (loose !== undefined && !this.#settled(loose)) return true;
    for (const other of this.#executions.values()) {
      for (const service of other.touched) if (_key(service) === key && !this.#settled(service)) return true;
    }
    for (const service of this.#rollouts.keys()) if (_key(service) === key) return true;
    return false;
  }

  #poll(exec: _Execution): void {
    if (this.#executions.get(exec.drain.node) !== exec) return;
    if (exec.node.state === 'gone') {
      this.#executions.delete(exec.drain.node);
      return;
    }
    if (exec.pending.length > 0 && !this.#startPending(exec)) return;
    let settled = exec.pending.length === 0;
    for (const s of exec.touched) if (!this.#settled(s)) settled = false;
    if (settled) {
      this.#nextWave(exec);
      return;
    }
    if (this.#engine.now - exec.waveStartedAt >= this.#options.waveTimeoutMs) {
      this.#finish(exec, false);
      return;
    }
    this.#engine.after(_POLL_MS, () => this.#poll(exec));
  }

  /** Starts one move; `skipped` when the pod is no longer there, `refused` when a PDB said no. */
  #startMove(move: Move, exec: _Execution | undefined): 'started' | 'skipped' | 'refused' {
    const pod = this.#cluster.pods.get(move.pod.uid);
    if (pod === undefined || pod.terminating || pod.node?.name !== move.fromNode) return 'skipped';
    const owner = pod.owner;
    if (move.mode === 'surge-first' && owner instanceof Service) {
      if (!this.#startRollout(owner, pod)) return 'skipped';
      this.stats.surges++;
    } else {
      if (!this.#workloads.evict(pod, DeletionCause.Descheduler)) return 'refused';
      this.stats.evictions++;
    }
    if (owner instanceof Service) {
      if (exec !== undefined) exec.touched.add(owner);
      else this.#looseMoves.set(_key(owner), owner);
    }
    return 'started';
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

  /** Every replica there and Ready, none terminating, no surge or rollout under way. */
  #settled(service: Service): boolean {
    return !this.#rollouts.has(service) && _settled(service);
  }

  #finish(exec: _Execution, ok: boolean): void {
    this.#executions.delete(exec.drain.node);
    const node = exec.node;
    if (ok) {
      this.stats.completedDrains++;
      this.#failures = _withoutFailure(this.#failures, node.name);
      if (exec.drain.strategy === 'consolidate' && exec.drain.savingUsdPerHour > 0) {
        // Keep the taint so the autoscaler finds the node empty; give it back if it is not removed.
        this.#engine.after(_CONSOLIDATED_TAINT_MS, () => {
          if (node.state === 'ready') this.#cluster.uncordon(node, CordonReason.StowageDrain);
        });
        return;
      }
    } else {
      this.stats.failedDrains++;
      this.#failures = recordDrainFailure(this.#failures, node.name, this.#cluster.epochOffset + this.#engine.now);
    }
    if (node.state === 'ready') this.#cluster.uncordon(node, CordonReason.StowageDrain);
  }
}

function _key(service: Service): string {
  return workloadKey(service.ref);
}

/** Every replica there and Ready, none terminating, no surge under way. */
function _settled(service: Service): boolean {
  if (service.surges.size > 0) return false;
  let live = 0;
  for (const pod of service.pods) {
    if (pod.terminating) return false;
    live++;
  }
  return live === service.desired && service.ready === service.desired;
}

function _withoutFailure(failures: ReadonlyMap<string, DrainFailure>, node: string): ReadonlyMap<string, DrainFailure> {
  if (!failures.has(node)) return failures;
  const next = new Map(failures);
  next.delete(node);
  return next;
}
