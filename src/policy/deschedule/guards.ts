/**
 * Availability guards every strategy plans under: a workload never drops below its floor (its
 * PodDisruptionBudget; without one, the Ready replicas a rolling update with the Deployment's
 * default maxUnavailable of 25% keeps, and always one Ready replica), moves one pod per workload
 * at a time, and stays within the eviction budgets; a node whose drain failed waits out a backoff.
 * A Deployment that may not lose a replica moves surge-first instead (make before break).
 *
 * Moves are grouped in waves: a wave starts only when the replacements of the previous wave are
 * Ready, so within a wave each workload loses at most one pod and each PDB at most what it allows.
 */
import { scaledIntOrPercent } from '../../core/int-or-percent.js';
import { matchesLabelSelector } from '../../core/labels.js';
import type { LabelSelector, PdbView, PodView, WorkloadKind, WorkloadRef } from '../../core/model.js';
import { holdsResources, workloadKey } from '../../core/snapshot.js';
import type { SnapshotIndex } from '../../core/snapshot.js';
import { reason } from './reasons.js';
import type { Reason } from './reasons.js';

/** How a pod leaves its node: evicted, or after a replacement was surged and is Ready (make before break). */
export type MoveMode = 'evict' | 'surge-first';

/** A PDB's disruptions allowed: what its status says, what the snapshot says, and the stricter. */
export interface PdbAllowance {
  readonly fromStatus: number;
  readonly computed: number;
  readonly allowed: number;
}

/**
 * The disruptions a PDB allows, computed like the disruption controller (healthy pods minus
 * desired healthy) from `pods` (the pods it selects), and compared with its status: the smaller
 * wins, so a stale status or a snapshot that lags can only make the guard stricter.
 * `expectedPods` is the scale of the selected pods' controllers (for percentages).
 */
export function pdbAllowance(pdb: PdbView, pods: readonly PodView[], expectedPods: number): PdbAllowance {
  const live = pods.filter(holdsResources);
  const healthy = live.filter((p) => p.ready && p.deletionRequestedAt === undefined).length;
  const computed = Math.max(0, healthy - pdbDesiredHealthy(pdb, expectedPods));
  const fromStatus = Math.max(0, pdb.disruptionsAllowed);
  return { fromStatus, computed, allowed: Math.min(fromStatus, computed) };
}

/**
 * The healthy pods a PDB asks to keep, as the disruption controller computes it: `minAvailable`,
 * or `expectedPods − maxUnavailable`, percentages of `expectedPods` rounded up (an unreadable one
 * counts as all pods); 0 with neither. Its disruptions allowed are the healthy pods above this.
 */
export function pdbDesiredHealthy(pdb: Pick<PdbView, 'minAvailable' | 'maxUnavailable'>, expectedPods: number): number {
  // Upstream rounds PDB percentages up for both minAvailable and maxUnavailable; an unreadable one counts as all pods.
  if (pdb.minAvailable !== undefined) return scaledIntOrPercent(pdb.minAvailable, expectedPods, true) ?? expectedPods;
  if (pdb.maxUnavailable !== undefined) return Math.max(0, expectedPods - (scaledIntOrPercent(pdb.maxUnavailable, expectedPods, true) ?? expectedPods));
  return 0;
}

/** The maxUnavailable a Deployment's rolling update defaults to, and the budget of a workload without a PDB. */
export const DEFAULT_MAX_UNAVAILABLE = '25%';

/**
 * The fewest Ready replicas a workload without a PodDisruptionBudget keeps: what a rolling update
 * keeps, `desired − maxUnavailable`, with a percentage of `desired` rounded down as the Deployment
 * controller resolves it (25% of 2 or 3 replicas is 0: such a workload can't lose one).
 *
 * @example
 * implicitFloor(3); // 3
 * implicitFloor(8); // 6
 * implicitFloor(4, 2); // 2
 */
export function implicitFloor(desired: number, maxUnavailable: number | string = DEFAULT_MAX_UNAVAILABLE): number {
  const unavailable = scaledIntOrPercent(maxUnavailable, desired, false) ?? 0;
  return Math.max(0, desired - Math.max(0, Math.floor(unavailable)));
}

/** The pods of `namespace` that `selector` matches (undefined matches none). */
export type PodSelection = (namespace: string, selector: LabelSelector | undefined) => readonly PodView[];

/** A pod admitted to move: how, and in which wave. */
export interface Admission {
  readonly pod: PodView;
  readonly mode: MoveMode;
  readonly wave: number;
  /** Why this mode: the floor that applies. */
  readonly reason: Reason;
}

/** The moves of a group, or why the group may not move. */
export type AdmitResult = { readonly ok: true; readonly admissions: readonly Admission[] } | { readonly ok: false; readonly reason: Reason };

interface _WorkloadState {
  readonly kind: WorkloadKind;
  readonly label: string;
  readonly ready: number;
  /** Desired replicas, for the kinds that have them (the implicit budget applies to those only). */
  readonly desired?: number;
  /** Why the workload is not settled (a move or rollout in progress), if it is not. */
  readonly unsettled?: string;
}

/** An allowing decision of `_decide`. */
type _Allowed = Extract<ReturnType<typeof _decide>, { ok: true }>;

interface _PdbState {
  readonly key: string;
  readonly label: string;
  readonly allowance: PdbAllowance;
}

function _workloadLabel(ref: WorkloadRef): string {
  return `${ref.kind} "${ref.namespace}/${ref.name}"`;
}

/**
 * The availability floors of the workloads in a snapshot, and the waves already given out.
 * `admit` checks a group of pods (one node's drain) all or nothing without changing anything;
 * `commit` records an admitted group. Workloads and PDBs are looked at on first use only.
 */
export class AvailabilityGuard {
  readonly #index: SnapshotIndex;
  readonly #selectPods: PodSelection;
  readonly #inFlight: ReadonlySet<string>;
  readonly #resting: (workloadKey: string) => number | undefined;
  readonly #workloads = new Map<string, _WorkloadState>();
  readonly #pdbs = new Map<PdbView, _PdbState>();
  /** Workload → PDB (or none) → the allowing decision `_decide` made for them. */
  readonly #allowed = new Map<_WorkloadState, Map<_PdbState | undefined, _Allowed>>();
  /** workload key → waves holding one of its pods. */
  readonly #workloadWaves = new Map<string, Set<number>>();
  /** pdb key → wave → pods planned. */
  readonly #pdbWaves = new Map<string, Map<number, number>>();

  /**
   * @param index the snapshot's index
   * @param selectPods the pods of a namespace a selector matches (a label index makes PDBs cheap);
   *   by default a scan of the snapshot's pods
   * @param inFlight workload keys with a move already under way (from the live loop's or simulator's memory)
   * @param resting how long (ms) a workload moved lately must still rest (the anti-flap rule), or undefined when it may move
   */
  constructor(index: SnapshotIndex, selectPods?: PodSelection, inFlight: ReadonlySet<string> = new Set(), resting: (workloadKey: string) => number | undefined = () => undefined) {
    this.#index = index;
    this.#selectPods = selectPods ?? ((namespace, selector) => index.snapshot.pods.filter((p) => p.namespace === namespace && matchesLabelSelector(selector, p.labels)));
    this.#inFlight = inFlight;
    this.#resting = resting;
  }

  /** The PDB's allowance, computed on first ask. */
  pdbAllowance(pdb: PdbView): PdbAllowance {
    return this.#pdb(pdb).allowance;
  }

  /**
   * Whether every pod of `pods` may move, and how: the first pod that may not makes the whole
   * group fail with its reason. Pods of one workload, or beyond what a PDB allows at once, go to
   * later waves.
   */
  admit(pods: readonly PodView[]): AdmitResult {
    const workloadWaves = new Map<string, Set<number>>();
    const pdbWaves = new Map<string, Map<number, number>>();
    const admissions: Admission[] = [];
    for (const pod of pods) {
      const key = workloadKey(pod.owner);
      const who = `pod "${pod.namespace}/${pod.name}"`;
      if (this.#inFlight.has(key)) return { ok: false, reason: reason('in-flight', `Cannot move ${who}: ${_workloadLabel(pod.owner)} has a move in flight`) };
      const resting = this.#resting(key);
      if (resting !== undefined) return { ok: false, reason: reason('recently-moved', `Cannot move ${who}: ${_workloadLabel(pod.owner)} was moved lately and rests another ${Math.ceil(resting / 1000)}s (anti-flap)`) };
      const workload = this.#workload(pod.owner, key);
      if (workload.unsettled !== undefined) return { ok: false, reason: reason('unsettled', `Cannot move ${who}: ${workload.unsettled}`) };
      const pdbViews = this.#index.pdbsForPod(pod);
      if (pdbViews.length > 1) {
        const names = pdbViews.map((p) => `"${p.namespace}/${p.name}"`).join(', ');
        return { ok: false, reason: reason('multiple-pdbs', `Cannot move ${who}: ${pdbViews.length} PodDisruptionBudgets select it (${names}), and the Eviction API refuses such pods`) };
      }
      const pdb = pdbViews[0] === undefined ? undefined : this.#pdb(pdbViews[0]);
      const decision = this.#decide(workload, pdb, who);
      if (!decision.ok) return decision;
      const { mode } = decision;
      // A surge-first move evicts nothing: the Deployment controller removes the old pod only once
      // its replacement is Ready, so the PDB's healthy count never drops and it spends no
      // disruption. Only evictions are held to the PDB (a single replica under minAvailable: 1,
      // the common pattern, would otherwise never move).
      const budgeted = mode === 'evict' ? pdb : undefined;

      // The first wave that neither holds a pod of the workload nor has used up the PDB's allowance
      // (a loop rather than a closure: admit runs for every pod of every node a plan tries).
      const held = this.#workloadWaves.get(key);
      const heldHere = workloadWaves.get(key);
      const pdbHeld = budgeted === undefined ? undefined : this.#pdbWaves.get(budgeted.key);
      const pdbHeldHere = budgeted === undefined ? undefined : pdbWaves.get(budgeted.key);
      let wave = 0;
      while (
        (held?.has(wave) ?? false) ||
        (heldHere?.has(wave) ?? false) ||
        (budgeted !== undefined && (pdbHeld?.get(wave) ?? 0) + (pdbHeldHere?.get(wave) ?? 0) >= budgeted.allowance.allowed)
      )
        wave++;
      _addWave(workloadWaves, key, wave);
      if (budgeted !== undefined) _countWave(pdbWaves, budgeted.key, wave);

      admissions.push({ pod, mode, wave, reason: decision.reason });
    }
    return { ok: true, admissions };
  }

  /** Records admitted moves, so later groups see their waves taken. */
  commit(admissions: readonly Admission[]): void {
    for (const a of admissions) {
      _addWave(this.#workloadWaves, workloadKey(a.pod.owner), a.wave);
      const pdb = this.#index.pdbsForPod(a.pod)[0];
      if (pdb !== undefined && a.mode === 'evict') _countWave(this.#pdbWaves, this.#pdb(pdb).key, a.wave);
    }
  }

  /** Takes back moves `commit` recorded (a tentative group the planner rolls back), exactly undoing it. */
  uncommit(admissions: readonly Admission[]): void {
    for (const a of admissions) {
      const key = workloadKey(a.pod.owner);
      // `admit` gave each workload a wave it did not hold yet, so the wave is this group's alone.
      this.#workloadWaves.get(key)?.delete(a.wave);
      const pdb = this.#index.pdbsForPod(a.pod)[0];
      if (pdb === undefined || a.mode !== 'evict') continue;
      const waves = this.#pdbWaves.get(this.#pdb(pdb).key);
      const n = waves?.get(a.wave) ?? 0;
      if (n <= 1) waves?.delete(a.wave);
      else waves?.set(a.wave, n - 1);
    }
  }

  /** `_decide`, its allowing decisions kept per workload and PDB: they do not depend on the pod, and admit asks for every pod a plan tries. */
  #decide(workload: _WorkloadState, pdb: _PdbState | undefined, who: string): ReturnType<typeof _decide> {
    let byPdb = this.#allowed.get(workload);
    const kept = byPdb?.get(pdb);
    if (kept !== undefined) return kept;
    const decision = _decide(workload, pdb, who);
    if (decision.ok) {
      if (byPdb === undefined) this.#allowed.set(workload, (byPdb = new Map<_PdbState | undefined, _Allowed>()));
      byPdb.set(pdb, decision);
    }
    return decision;
  }

  #workload(ref: WorkloadRef, key: string): _WorkloadState {
    let state = this.#workloads.get(key);
    if (state !== undefined) return state;
    const view = this.#index.workload(key);
    const live = this.#index.podsOfWorkload(key).filter(holdsResources);
    const terminating = live.filter((p) => p.deletionRequestedAt !== undefined).length;
    const current = live.filter((p) => p.deletionRequestedAt === undefined);
    const ready = current.filter((p) => p.ready).length;
    const label = _workloadLabel(ref);
    let unsettled: string | undefined;
    if (terminating > 0) unsettled = `${label} has ${terminating} terminating pod${terminating === 1 ? '' : 's'}`;
    else if (ready < current.length) unsettled = `${label} has ${current.length - ready} of ${current.length} pods not Ready`;
    else if (view?.replicas !== undefined && current.length !== view.replicas) unsettled = `${label} has ${current.length} pods for ${view.replicas} replicas`;
    else if (ref.kind === 'Deployment') {
      // Pods of two ReplicaSets: a rollout is under way (or paused) even when the counts look settled
      // for a moment. The Deployment controller spends its own maxUnavailable on it; an eviction on top
      // would take the workload below what the rollout keeps, and an old pod is about to be replaced anyway.
      const revisions = _revisions(current);
      if (revisions > 1) unsettled = `${label} has pods of ${revisions} ReplicaSets (a rollout in progress)`;
    }
    state = { kind: ref.kind, label, ready, ...(view?.replicas === undefined ? {} : { desired: view.replicas }), ...(unsettled === undefined ? {} : { unsettled }) };
    this.#workloads.set(key, state);
    return state;
  }

  #pdb(pdb: PdbView): _PdbState {
    let state = this.#pdbs.get(pdb);
    if (state !== undefined) return state;
    const selected = this.#selectPods(pdb.namespace, pdb.selector);
    const key = `${pdb.namespace}/${pdb.name}`;
    state = { key, label: `PodDisruptionBudget "${key}"`, allowance: pdbAllowance(pdb, selected, this.#expectedPods(selected)) };
    this.#pdbs.set(pdb, state);
    return state;
  }

  /** The scale of the selected pods' workloads, as the disruption controller reads it; pods count themselves when unknown. */
  #expectedPods(selected: readonly PodView[]): number {
    const seen = new Set<string>();
    let expected = 0;
    for (const pod of selected) {
      if (!holdsResources(pod)) continue;
      const key = workloadKey(pod.owner);
      const replicas = this.#index.workload(key)?.replicas;
      if (replicas === undefined) expected += 1;
      else if (!seen.has(key)) {
        seen.add(key);
        expected += replicas;
      }
    }
    return expected;
  }
}

/**
 * How one pod of `workload` may move, or why it may not; wave and budget bookkeeping aside. In
 * order: a single Ready replica moves only surge-first (a Deployment) or not at all; a PDB decides
 * alone for the rest; without one, an eviction must leave the implicit floor (`implicitFloor`)
 * Ready, else a Deployment moves surge-first and other kinds stay. Kinds without a replica count
 * (Job, CronJob, a custom controller) have no rollout budget: one Ready replica is their floor.
 */
function _decide(workload: _WorkloadState, pdb: _PdbState | undefined, who: string): { readonly ok: true; readonly mode: MoveMode; readonly reason: Reason } | { readonly ok: false; readonly reason: Reason } {
  const { label, ready, desired } = workload;
  const deployment = workload.kind === 'Deployment';
  // Whatever a PDB allows, a workload never goes without a Ready replica; only a Deployment can surge one first.
  if (ready <= 1) {
    if (!deployment) return { ok: false, reason: reason('single-replica', `Cannot move ${who}: ${label} has ${ready} Ready replica, and only a Deployment can surge a replacement first`) };
    return { ok: true, mode: 'surge-first', reason: reason('surge-single-replica', `${label} has ${ready} Ready replica: surge a replacement first`) };
  }
  if (pdb !== undefined) {
    if (pdb.allowance.allowed < 1) {
      const { fromStatus, computed } = pdb.allowance;
      return { ok: false, reason: reason('pdb', `Cannot move ${who}: ${pdb.label} allows 0 disruptions (status ${fromStatus}, computed ${computed})`) };
    }
    return { ok: true, mode: 'evict', reason: reason('pdb-allows', `${pdb.label} allows ${pdb.allowance.allowed}`) };
  }
  if (desired === undefined) return { ok: true, mode: 'evict', reason: reason('no-replica-count', `${label} keeps a Ready replica of ${ready}`) };
  const floor = implicitFloor(desired);
  const budget = `no PodDisruptionBudget, and a rollout of ${desired} replica${desired === 1 ? '' : 's'} keeps ${floor} Ready (maxUnavailable ${DEFAULT_MAX_UNAVAILABLE}, rounded down)`;
  if (ready - 1 >= floor) return { ok: true, mode: 'evict', reason: reason('rollout-budget', `${label} keeps ${ready - 1} of ${ready} Ready replicas: ${budget}`) };
  if (deployment) return { ok: true, mode: 'surge-first', reason: reason('surge-rollout-floor', `${label} has ${budget}, so an eviction would leave ${ready - 1}: surge a replacement first`) };
  return { ok: false, reason: reason('implicit-floor', `Cannot move ${who}: ${label} has ${budget}, so an eviction would leave ${ready - 1}, and only a Deployment can surge a replacement first`) };
}

/** The distinct controllers (a Deployment's ReplicaSets, one per revision) of `pods`. */
function _revisions(pods: readonly PodView[]): number {
  const first = pods[0]?.controllerRef?.uid;
  let other: Set<string> | undefined;
  for (const pod of pods) {
    const uid = pod.controllerRef?.uid;
    if (uid === undefined || uid === first) continue;
    (other ??= new Set()).add(uid);
  }
  return (first === undefined ? 0 : 1) + (other?.size ?? 0);
}

function _addWave(map: Map<string, Set<number>>, key: string, wave: number): void {
  const set = map.get(key);
  if (set) set.add(wave);
  else map.set(key, new Set([wave]));
}

function _countWave(map: Map<string, Map<number, number>>, key: string, wave: number): void {
  let waves = map.get(key);
  if (!waves) map.set(key, (waves = new Map<number, number>()));
  waves.set(wave, (waves.get(wave) ?? 0) + 1);
}

/** Eviction limits, from the config file. */
export interface EvictionBudgets {
  readonly maxEvictionsPerCycle: number;
  readonly maxEvictionsPerNode: number;
  readonly maxEvictionsPerNamespace: number;
}

/** 50 evictions a cycle, 40 a node (a well-filled node drains whole), 20 a namespace. */
export const DEFAULT_EVICTION_BUDGETS: EvictionBudgets = { maxEvictionsPerCycle: 50, maxEvictionsPerNode: 40, maxEvictionsPerNamespace: 20 };

/** What the plan has spent of the budgets; `check` a group of moves, then `spend` it. */
export class BudgetLedger {
  readonly #budgets: EvictionBudgets;
  readonly #hourly: { readonly maxMovesPerHour: number; readonly left: number } | undefined;
  #total = 0;
  readonly #perNamespace = new Map<string, number>();
  readonly #perNode = new Map<string, number>();

  /** @param hourly the churn budget: moves allowed an hour, and how many of them are left now */
  constructor(budgets: EvictionBudgets, hourly?: { readonly maxMovesPerHour: number; readonly left: number }) {
    this.#budgets = budgets;
    this.#hourly = hourly;
  }

  /** Moves planned so far. */
  get spent(): number {
    return this.#total;
  }

  /** Whether the cycle budget has room for even one more move. */
  get exhausted(): boolean {
    return this.#total >= this.#budgets.maxEvictionsPerCycle || (this.#hourly !== undefined && this.#total >= this.#hourly.left);
  }

  /** Why not even one more move fits, or undefined. */
  exhaustion(): Reason | undefined {
    if (this.#total >= this.#budgets.maxEvictionsPerCycle) return reason('budget', `The per-cycle budget of ${this.#budgets.maxEvictionsPerCycle} evictions is spent`);
    if (this.#hourly !== undefined && this.#total >= this.#hourly.left) return reason('churn-budget', `The churn budget of ${this.#hourly.maxMovesPerHour} moves an hour is spent`);
    return undefined;
  }

  /** Undefined when `pods` (moves from `nodeName`) fit every budget, else why not. */
  check(nodeName: string, pods: readonly PodView[]): Reason | undefined {
    const b = this.#budgets;
    const usedOnNode = this.#perNode.get(nodeName) ?? 0;
    if (usedOnNode + pods.length > b.maxEvictionsPerNode) {
      return reason('budget', usedOnNode === 0
        ? `Draining node "${nodeName}" needs ${pods.length} evictions, over the per-node budget of ${b.maxEvictionsPerNode}`
        : `Node "${nodeName}" needs ${pods.length} more evictions, and ${b.maxEvictionsPerNode - usedOnNode} of its ${b.maxEvictionsPerNode} per cycle are left`);
    }
    if (this.#hourly !== undefined && this.#total + pods.length > this.#hourly.left) {
      return reason('churn-budget', `Draining node "${nodeName}" needs ${pods.length} moves, and ${Math.max(0, this.#hourly.left - this.#total)} of the ${this.#hourly.maxMovesPerHour} an hour are left`);
    }
    if (this.#total + pods.length > b.maxEvictionsPerCycle) {
      return reason('budget', `Draining node "${nodeName}" needs ${pods.length} evictions, and ${b.maxEvictionsPerCycle - this.#total} of the ${b.maxEvictionsPerCycle} per cycle are left`);
    }
    const counts = new Map<string, number>();
    for (const p of pods) counts.set(p.namespace, (counts.get(p.namespace) ?? 0) + 1);
    for (const [namespace, n] of [...counts].sort(([a], [b2]) => (a < b2 ? -1 : a > b2 ? 1 : 0))) {
      const used = this.#perNamespace.get(namespace) ?? 0;
      if (used + n > b.maxEvictionsPerNamespace) {
        return reason('budget', `Draining node "${nodeName}" needs ${n} evictions in namespace "${namespace}", and ${b.maxEvictionsPerNamespace - used} of its ${b.maxEvictionsPerNamespace} per cycle are left`);
      }
    }
    return undefined;
  }

  /** Takes back a `spend` of the same pods (a tentative drain rolled back). */
  refund(nodeName: string, pods: readonly PodView[]): void {
    this.#total -= pods.length;
    this.#perNode.set(nodeName, (this.#perNode.get(nodeName) ?? 0) - pods.length);
    for (const p of pods) this.#perNamespace.set(p.namespace, (this.#perNamespace.get(p.namespace) ?? 0) - 1);
  }

  /** Records `pods` as evicted from `nodeName`. */
  spend(nodeName: string, pods: readonly PodView[]): void {
    this.#total += pods.length;
    this.#perNode.set(nodeName, (this.#perNode.get(nodeName) ?? 0) + pods.length);
    for (const p of pods) this.#perNamespace.set(p.namespace, (this.#perNamespace.get(p.namespace) ?? 0) + 1);
  }
}

/** A node's record of failed drains, kept by the caller between cycles. */
export interface DrainFailure {
  readonly count: number;
  /** Milliseconds since the epoch of the last failure. */
  readonly lastAt: number;
}

/** Exponential backoff after failed drains, from the config file. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Five minutes after the first failure, doubling, at most six hours. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5 * 60_000, maxMs: 6 * 3_600_000 };

/**
 * When a node that failed to drain may be tried again: `lastAt + min(max, base × 2^(count − 1))`.
 * Undefined for a node without failures.
 */
export function drainRetryAt(failure: DrainFailure | undefined, backoff: BackoffOptions): number | undefined {
  if (failure === undefined || failure.count <= 0) return undefined;
  const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(30, failure.count - 1));
  return failure.lastAt + delay;
}

/**
 * Records one more failed drain of a node: the new failure map for the caller to keep.
 * A successful drain should delete the node's entry.
 */
export function recordDrainFailure(failures: ReadonlyMap<string, DrainFailure>, nodeName: string, at: number): ReadonlyMap<string, DrainFailure> {
  const next = new Map(failures);
  next.set(nodeName, { count: (failures.get(nodeName)?.count ?? 0) + 1, lastAt: at });
  return next;
}
