/**
 * Carrying out a descheduling plan, as one pure state machine that both executors drive: the live
 * one (`controllers/deschedule/executor.ts`) turns its effects into API calls, the simulated one
 * (`sim/descheduler.ts`) into model events. Same behaviour in both by construction.
 *
 * `beginExecution` takes the plan; `stepExecution` takes the state and one observation (a fresh
 * snapshot, an effect that failed, a stop) and returns the next state and the effects to carry
 * out, in order: plain data both ways. The rules:
 *
 * - **One job at a time.** A job is a node drain, or one move outside any drain (balance). Jobs
 *   run in plan order, one after the other, so each starts from a fresh look at the cluster and
 *   at most one node is being drained: a bad plan costs one node, not all of them.
 * - **Recheck before each step.** Before a job starts (and before each later wave), the pods it
 *   moves are checked on a fresh snapshot with the planner's own guard (`recheckStep`), and the
 *   surges of the wave that must land safely with its own prediction of the scheduler's choice
 *   (`recheckLanding`: the scheduler, not the plan, places a surged pod). A job
 *   refused before it started is `skipped`: nothing was touched; a refusal rooted in the
 *   workload's configuration backs off (`refusalBacksOff`). A wave refused mid-drain fails the job.
 * - **Taint, then move.** A drain taints its node first (with a record on the node, so a crash
 *   can be rolled back); a single move does not taint its node.
 * - **Waves.** Wave n of a job starts when every move of wave n − 1 is settled: the moved pod is
 *   gone and its workload has its replicas Ready again; after a surge-first move (a rollout), every
 *   pod the workload had when it started is gone too, and then its strategy is given back.
 * - **Verified, not assumed.** A settled move counts only where the plan meant its replacement
 *   to run (`_verify`): off the node it left and, when the move says so (`landOn`), on that
 *   capacity type, as the snapshot (the API) shows. A misplaced one fails its job: no saving is
 *   claimed, the node backs off, and later jobs of the plan leave the workload alone.
 * - **Anti-flap.** Every settled move is recorded in the history (`anti-flap.ts`) the next plans
 *   read: a workload moved lately rests, and the moves of any hour are capped.
 * - **Rollback.** A failed effect (an eviction refused), a wave not settled within the timeout, or a
 *   stop fails the job: its node is untainted and the failure recorded for backoff. A rollout
 *   already started goes on (maxUnavailable 0 keeps it safe); the driver gives its strategy back
 *   once it is done.
 * - **Untaint on every terminal state**, with two exceptions: a consolidate drain that emptied its
 *   node keeps the taint for `holdMs` (`hold`), so the scheduler does not refill the node before
 *   the autoscaler removes it; the hold is written on the node with its end, and released by
 *   `releaseHolds` once over. A drain that asks for its node's deletion (`deleteNode`) ends with
 *   `delete-node`: deleted where its group allows, else held the same way.
 * - **Replacement first.** A node the plan launches (`NodeLaunch`, Karpenter's replace) is a job of
 *   its own, before the drains of the nodes it replaces: `launch-node`, which the driver answers
 *   with `launched`, naming THE node its provisioner launched (live: the NodeClaim's
 *   `status.nodeName`), then looks until that node is Ready, schedulable and carries no NoSchedule
 *   or NoExecute taint the offer does not (a startup or unregistered taint still on it). Never a node found by type or
 *   zone: one the autoscaler launches at the same moment would look the same. The drains that
 *   wait for it (`NodeDrain.replacement`) start only then, and their surges may land on it while
 *   it fills (the plan judged its final fill). A launch that fails, is not Ready within the wave
 *   timeout or is stopped is undone (`cancel-launch`: nothing left behind), and those drains are
 *   skipped (`launch-failed`). A launched node none of its drains moved a pod onto (all skipped,
 *   or the plan stopped first) is undone the same way once the last of them is over: an empty
 *   replacement only costs.
 * - **A set is tainted first** (Karpenter's multi-node consolidation and replacement: the nodes a
 *   launch `replaces`, or drains named `together`). The jobs of such an action run one after the
 *   other like any, but before the first of them starts, every drain of the set is rechecked on
 *   the same snapshot and every node of the set tainted, as Karpenter taints its candidates
 *   (`karpenter.sh/disrupted`) before it launches or evicts: the scheduler puts no pod of one node
 *   of the set on another, nor any newcomer on them while the replacement comes up. A refusal
 *   then skips the whole action untouched. Once under way, a job of the set that fails or is
 *   refused ends the action: every node of it still tainted is untainted, and its jobs not started
 *   are skipped (`set-failed`, or `launch-failed` after a failed launch); the drains done stay done.
 * - **A replacement left below the threshold is emptied again.** When an action that launched a
 *   node ends, done or not, and some of its drains moved pods, a job of its own looks at that node
 *   on a fresh snapshot (`NodeLaunch.removalThreshold`). The plan judged the node's final fill;
 *   a drain stopped half-way (a later surge's landing turned unsafe) or evicted pods the scheduler
 *   placed elsewhere can leave it below the autoscaler's removal threshold, often with a single
 *   replica alone on it, and the autoscaler's drain would then evict that replica with nothing
 *   in its place. So the job drains the node as any drain (`replacement-undone`: the pods that
 *   stay on it read off the snapshot, the guard's modes, surges first, each landing predicted,
 *   the node tainted, then deleted), or keeps a node full enough (`replacement-kept`: no drain, so
 *   no outcome).
 * - **A replacement is protected from scale-down while it fills.** Once the launched node is
 *   Ready, before any pod moves onto it, it is annotated so neither Cluster Autoscaler nor
 *   Karpenter removes it (`protect`): a drain stopped half-way can leave a single replica alone
 *   on it, below the removal threshold, and the autoscaler would remove it within minutes, the
 *   replica with it, while no surge may yet land safely elsewhere. The job that looks at the node
 *   after the action takes the protection off a node it keeps (`unprotect`) and deletes a node it
 *   empties; a node it cannot empty now stays protected, and a later plan takes the protection
 *   off once the node holds enough or nothing to lose (`Plan.releases`), or drains it.
 */
import type { ClusterSnapshot, PodView, WorkloadRef } from '../../core/model.js';
import { holdsResources, indexSnapshot, workloadKey } from '../../core/snapshot.js';
import { EMPTY_MOVE_HISTORY, recordMove } from '../deschedule/anti-flap.js';
import type { MoveHistory } from '../deschedule/anti-flap.js';
import { recordDrainFailure } from '../deschedule/guards.js';
import type { DrainFailure } from '../deschedule/guards.js';
import { reason, refusalBacksOff } from '../deschedule/reasons.js';
import type { Reason } from '../deschedule/reasons.js';
import type { Move, NodeDrain, NodeLaunch, Plan } from '../deschedule/types.js';
import { AvailabilityGuard } from '../deschedule/guards.js';
import { leavesSoon, removalUtilization } from '../deschedule/autoscaler.js';
import type { SafeLanding } from '../deschedule/landing.js';
import { addResources } from '../../core/resources.js';
import { CAPACITY_TYPE_ANNOTATION } from '../placement/patch.js';
import { recheckLanding, recheckStep } from './recheck.js';

/** How a plan is carried out; the same values in the live loop and the simulator. */
export interface ExecutionOptions {
  /** A wave not settled within this time fails its job. */
  readonly waveTimeoutMs: number;
  /** How long to wait between looks while a wave settles. */
  readonly pollMs: number;
  /** A consolidated, emptied node keeps its taint this long for the autoscaler to remove it. */
  readonly holdMs: number;
}

/** Five minutes for a wave, a look every 500 ms, a 30-minute hold of a consolidated node. */
export const DEFAULT_EXECUTION_OPTIONS: ExecutionOptions = { waveTimeoutMs: 5 * 60_000, pollMs: 500, holdMs: 30 * 60_000 };

/** One job: a node drain (tainted), a single move outside any drain (not tainted), or a node to launch. */
export interface Job {
  /** For a launch, the launch's name in place of a node, nothing to move. */
  readonly drain: NodeDrain;
  /** Set on a launch job (see the module comment). */
  readonly launch?: NodeLaunch;
  readonly moves: readonly Move[];
  /** The wave numbers of `moves`, ascending. */
  readonly waves: readonly number[];
  readonly taint: boolean;
  /** Set on every job of an action that takes a set of nodes, or launches (see the module comment). */
  readonly action?: JobAction;
  /**
   * Set on the job that looks at the node an action launched once the action ended (see the module
   * comment): its moves are read off that node when it starts; `safeLanding` is the action's.
   */
  readonly undo?: { readonly launch: NodeLaunch; readonly safeLanding?: SafeLanding };
}

/** Consecutive jobs that go as one action: a set of nodes tainted together, and the launch of their replacement. */
export interface JobAction {
  /** The index in `jobs` of the action's first job (its launch, when it has one) and of its last. */
  readonly first: number;
  readonly last: number;
  /** The drains of the set, in the order they run: all their nodes are tainted before the first job starts. */
  readonly drains: readonly NodeDrain[];
}

/** How a job ended. */
export interface JobOutcome {
  readonly node: string;
  readonly strategy: string;
  readonly outcome: 'done' | 'failed' | 'skipped';
  /** `namespace/name` of the pods moved, in order. */
  readonly moved: readonly string[];
  readonly reason: Reason;
  /** The saving the job realised: the drain's when done, else 0. */
  readonly savingUsdPerHour: number;
}

/** An effect for the driver to carry out, in order. `taint`, `evict` and `surge` may fail: report it with a `failed` observation. */
export type Effect =
  /** Taint the node `stowage.io/draining:NoSchedule` and record the drain on it. */
  | { readonly type: 'taint'; readonly node: string; readonly drain: NodeDrain }
  /** Remove the taint and the record. */
  | { readonly type: 'untaint'; readonly node: string }
  /** Keep the taint until `until` (ms since the epoch), and say so in the record. */
  | { readonly type: 'hold'; readonly node: string; readonly until: number }
  /**
   * Delete the drained node (a `deleteNode` drain) when its node group allows: live, a node of a
   * Karpenter NodePool (its termination finalizer stops the instance); else hold it like `hold`.
   */
  | { readonly type: 'delete-node'; readonly node: string; readonly holdUntil: number }
  /**
   * Launch a node of the launch's offer; answer with `launched` (the new node's name, once the
   * provisioner named it) or `failed`. The machine then watches the snapshots for that node.
   */
  | { readonly type: 'launch-node'; readonly launch: NodeLaunch }
  /** Undo a launch that failed, timed out, was stopped or went unused: delete what was created for it (gone already counts as done). */
  | { readonly type: 'cancel-launch'; readonly launch: NodeLaunch; readonly node?: string }
  /**
   * Protect the node from the autoscalers' scale-down (`ScaleDownProtection`: their documented
   * node annotations, and Stowage's record of setting them), or take that protection off again
   * (only where the record says Stowage set it). A `protect` that fails fails its job.
   */
  | { readonly type: 'protect' | 'unprotect'; readonly node: string }
  | { readonly type: 'evict'; readonly move: Move }
  /** Start a rollout of the move's Deployment with maxSurge 1, maxUnavailable 0. */
  | { readonly type: 'surge'; readonly move: Move }
  /** Give the Deployment back the strategy a surge replaced. */
  | { readonly type: 'restore-strategy'; readonly workload: WorkloadRef }
  /**
   * After `afterMs`, observe a fresh snapshot: for a recheck, the whole cluster with `node`, its
   * pods and their PDBs read fresh (a cache's lag must not let a stale step start); while a wave
   * settles, at least `workloads` and their pods.
   */
  | { readonly type: 'observe'; readonly afterMs: number; readonly node?: string; readonly workloads?: readonly WorkloadRef[] }
  /** Something worth a log line, a metric or an Event. */
  | { readonly type: 'notice'; readonly notice: Notice };

/** What happened, for logs, metrics and Events. */
export type Notice =
  | { readonly kind: 'job-started'; readonly job: Job }
  | { readonly kind: 'move-started'; readonly move: Move }
  | { readonly kind: 'moved'; readonly move: Move }
  /** The move settled, but its replacement runs where the plan did not mean it to: it fails its job. */
  | { readonly kind: 'misplaced'; readonly move: Move; readonly reason: Reason }
  | { readonly kind: 'job-finished'; readonly job: Job; readonly outcome: JobOutcome };

/** What the driver tells the machine. `now` is the clock value, ms since the epoch. */
export type Observation =
  | { readonly type: 'observed'; readonly now: number; readonly snapshot: ClusterSnapshot }
  | { readonly type: 'failed'; readonly now: number; readonly effect: Effect; readonly reason: Reason }
  /** A `launch-node` was carried out: `node` is the name of the node launched for `launch` (its `NodeLaunch.name`). */
  | { readonly type: 'launched'; readonly now: number; readonly launch: string; readonly node: string }
  | { readonly type: 'stop'; readonly now: number };

interface _Started {
  readonly move: Move;
  /** Uids of the workload's pods when the move started: a rollout is done when all are gone. */
  readonly before: readonly string[];
}

/** The machine's state: plain data, replaced on every step. */
export interface ExecutionState {
  readonly options: ExecutionOptions;
  readonly jobs: readonly Job[];
  /** The job in progress or next to start. */
  readonly current: number;
  /** `recheck`: waiting for a snapshot to start wave `wave` of the current job; `wave`: waiting for it to settle. */
  readonly phase: 'recheck' | 'wave' | 'finished';
  readonly wave: number;
  readonly waveStartedAt: number;
  readonly started: readonly _Started[];
  /** Whether the current job's node carries our taint. */
  readonly tainted: boolean;
  readonly moved: readonly string[];
  readonly outcomes: readonly JobOutcome[];
  readonly failures: ReadonlyMap<string, DrainFailure>;
  /** Moves carried out, for the anti-flap rule of the next plans. */
  readonly history: MoveHistory;
  /** Workloads whose replacements landed where the plan did not mean: later jobs leave them alone. */
  readonly backedOff: ReadonlySet<string>;
  /** Launches seen Ready: the launch's name → the new node's. */
  readonly launched: ReadonlyMap<string, string>;
  /** Launches that failed: their drains are skipped. */
  readonly failedLaunches: ReadonlySet<string>;
  /** While a launch job waits: the name of the node the driver launched, once it said so. */
  readonly launching?: string;
  /** Launched nodes undone because no drain moved a pod onto them. */
  readonly unusedLaunches: ReadonlySet<string>;
  /** The nodes of the action under way that carry our taint and whose own job has not ended (see the module comment). */
  readonly setTainted: readonly string[];
}

/** A step's result. */
export interface Transition {
  readonly state: ExecutionState;
  readonly effects: readonly Effect[];
}

/**
 * The jobs of a plan, in the order they run: its drains, then the moves outside any drain. The
 * drains of one action (a launch's `replaces`, a drain's `together`) run one after the other,
 * after the launch, from where the first of them stands in the plan.
 */
export function jobsOf(plan: Plan): readonly Job[] {
  const jobs: Job[] = [];
  const drained = new Set(plan.drains.map((d) => d.node));
  const launches = [...(plan.launches ?? [])];
  const placed = new Set<string>();
  for (const drain of plan.drains) {
    if (placed.has(drain.node)) continue;
    const at = launches.findIndex((l) => l.name === drain.replacement || l.replaces.includes(drain.node));
    const launch = at < 0 ? undefined : (launches.splice(at, 1)[0] as NodeLaunch);
    const members = new Set([drain.node, ...(drain.together ?? []), ...(launch?.replaces ?? [])]);
    const set = plan.drains.filter((d) => members.has(d.node) && !placed.has(d.node));
    const first = jobs.length;
    if (launch !== undefined) {
      // Right before the drains that need it, so the node is not paid for while earlier jobs run.
      const placeholder: NodeDrain = { node: launch.name, strategy: launch.strategy, savingUsdPerHour: 0, pods: [], staying: [], reason: launch.reason };
      jobs.push({ drain: placeholder, launch, moves: [], waves: [], taint: false });
    }
    for (const member of set) {
      placed.add(member.node);
      const uids = new Set(member.pods.map((p) => p.uid));
      const moves = plan.moves.filter((m) => m.fromNode === member.node && uids.has(m.pod.uid));
      jobs.push({ drain: member, moves, waves: _waves(moves), taint: true });
    }
    if (launch === undefined && set.length < 2) continue;
    const action: JobAction = { first, last: jobs.length - 1, drains: set };
    for (let i = first; i < jobs.length; i++) jobs[i] = { ...(jobs[i] as Job), action };
  }
  for (const move of plan.moves) {
    if (drained.has(move.fromNode)) continue;
    const drain: NodeDrain = { node: move.fromNode, strategy: move.strategy, savingUsdPerHour: move.savingUsdPerHour, pods: [move.pod], staying: [], reason: move.reason };
    jobs.push({ drain, moves: [move], waves: [move.wave], taint: false });
  }
  return jobs;
}

/** Starts carrying out `plan`: the first effect asks for a snapshot. */
export function beginExecution(plan: Plan, options: ExecutionOptions, failures: ReadonlyMap<string, DrainFailure> = new Map(), history: MoveHistory = EMPTY_MOVE_HISTORY): Transition {
  const jobs = jobsOf(plan);
  const state: ExecutionState = {
    options,
    jobs,
    current: 0,
    phase: 'recheck',
    wave: 0,
    waveStartedAt: 0,
    started: [],
    tainted: false,
    moved: [],
    outcomes: [],
    failures,
    history,
    backedOff: new Set(),
    launched: new Map(),
    failedLaunches: new Set(),
    unusedLaunches: new Set(),
    setTainted: [],
  };
  const released: Effect[] = (plan.releases ?? []).map((r) => ({ type: 'unprotect', node: r.node }));
  if (jobs.length === 0) return { state: { ...state, phase: 'finished' }, effects: released };
  return { state, effects: [...released, { type: 'observe', afterMs: 0, node: (jobs[0] as Job).drain.node }] };
}

/** Whether the machine has finished: no effect will follow. */
export function isFinished(state: ExecutionState): boolean {
  return state.phase === 'finished';
}

/** The saving of the jobs carried out to the end. */
export function realisedSaving(state: ExecutionState): number {
  return state.outcomes.reduce((sum, o) => sum + o.savingUsdPerHour, 0);
}

/**
 * What a driver carries out when it stops with `queued` effects not yet performed: every effect
 * that gives something back (an untaint, a strategy to restore, a launch to undo) before the
 * stop's own rollback `stopping`; a scale-down protection to take off too. The machine already counts a queued untaint as done, so a driver
 * that dropped its queue on a stop would leave that node tainted until the next start-up's
 * recovery. A queued `hold` or `delete-node` becomes an untaint: a stopped run leaves no taint.
 */
export function effectsOnStop(queued: readonly Effect[], stopping: readonly Effect[]): Effect[] {
  const out: Effect[] = [];
  const seen = new Set<string>();
  const give = (key: string, effect: Effect): void => {
    if (seen.has(key)) return;
    seen.add(key);
    out.push(effect);
  };
  /** Gives `effect` back once when it releases something; false when it releases nothing. */
  const release = (effect: Effect): boolean => {
    if (effect.type === 'untaint' || effect.type === 'hold' || effect.type === 'delete-node') give(`node ${effect.node}`, { type: 'untaint', node: effect.node });
    else if (effect.type === 'restore-strategy') give(`workload ${effect.workload.namespace}/${effect.workload.name}`, effect);
    else if (effect.type === 'cancel-launch') give(`launch ${effect.launch.name}`, effect);
    // A protection not needed any longer; a queued `protect` is dropped (its launch is undone or its node kept as is).
    else if (effect.type === 'unprotect') give(`protection ${effect.node}`, effect);
    else return false;
    return true;
  };
  for (const effect of queued) release(effect);
  // The stop's own effects in order, each release once (it may repeat one already queued).
  for (const effect of stopping) if (!release(effect)) out.push(effect);
  return out;
}

/** See the module comment. */
export function stepExecution(state: ExecutionState, observation: Observation): Transition {
  if (state.phase === 'finished') return { state, effects: [] };
  const effects: Effect[] = [];
  let next: ExecutionState;
  switch (observation.type) {
    case 'stop': {
      // The job under way is rolled back; the ones after it are not started.
      next = state.phase === 'wave' || state.tainted || state.setTainted.length > 0 ? _fail(state, reason('stopped', 'Stopped by a signal'), observation.now, effects) : state;
      next = _releaseUnused({ ...next, phase: 'finished' }, effects);
      return { state: next, effects: effects.filter((e) => e.type !== 'observe') };
    }
    case 'failed':
      next = _fail(state, observation.reason, observation.now, effects);
      break;
    case 'launched': {
      const job = _job(state);
      // Only the launch under way: a late answer for another is not this job's node.
      if (state.phase !== 'wave' || job.launch?.name !== observation.launch) return { state, effects };
      next = { ...state, launching: observation.node };
      effects.push({ type: 'observe', afterMs: 0, node: observation.node });
      break;
    }
    case 'observed':
      next =
        state.phase === 'recheck'
          ? _startStep(state, observation.snapshot, observation.now, effects)
          : _job(state).launch !== undefined
            ? _pollLaunch(state, observation.snapshot, observation.now, effects)
            : _poll(state, observation.snapshot, observation.now, effects);
      break;
  }
  return { state: next, effects };
}

function _job(state: ExecutionState): Job {
  return state.jobs[state.current] as Job;
}

/** Starts wave `state.wave` of the current job (the job itself on wave 0), or refuses it. */
function _startStep(state: ExecutionState, snapshot: ClusterSnapshot, now: number, effects: Effect[]): ExecutionState {
  for (;;) {
    const job = _job(state);
    const action = job.action;
    if (action !== undefined && state.current === action.first && state.wave === 0 && state.setTainted.length === 0) {
      // The whole set is rechecked on one snapshot, then tainted at once: nothing moves before every node of it is closed.
      const refused = _recheckSet(state, action, snapshot);
      if (refused !== undefined) {
        state = _skipSet(state, action, refused, now, effects);
        if (state.phase !== 'recheck') return state;
        continue;
      }
      for (const d of action.drains) effects.push({ type: 'taint', node: d.node, drain: d });
      state = { ...state, setTainted: action.drains.map((d) => d.node) };
    }
    if (job.undo !== undefined && job.moves.length === 0) {
      // What is on the launched node now decides: a drain of it like any, or nothing to do.
      const undo = _undoJob(job, snapshot);
      if ('moves' in undo) {
        state = { ...state, jobs: state.jobs.map((j, i) => (i === state.current ? undo : j)) };
        continue;
      }
      if (undo.cancel) effects.push({ type: 'cancel-launch', launch: job.undo.launch, node: job.drain.node });
      else if (undo.reason.code === 'replacement-kept') effects.push({ type: 'unprotect', node: job.drain.node });
      // A node kept, empty or gone is no drain: only a drain refused (it stays protected) is reported.
      const refused = undo.reason.code !== 'replacement-kept' && undo.reason.code !== 'node-gone';
      const outcome = _outcome(job, 'skipped', [], undo.reason);
      if (refused) effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
      state = _releaseUnused(_nextJob(refused ? { ...state, outcomes: [...state.outcomes, outcome] } : state), effects);
      if (state.phase !== 'recheck') return state;
      continue;
    }
    if (job.launch !== undefined) {
      effects.push({ type: 'notice', notice: { kind: 'job-started', job } });
      // The driver answers with `launched` or `failed`; the wave timeout counts from now.
      effects.push({ type: 'launch-node', launch: job.launch });
      return { ...state, phase: 'wave', waveStartedAt: now };
    }
    const first = state.wave === 0;
    const waveNumber = job.waves[state.wave] as number;
    // The whole job is rechecked before it starts, so a drain that can't finish is not begun.
    const moves = first ? job.moves : job.moves.filter((m) => m.wave === waveNumber);
    const resting = moves.find((m) => state.backedOff.has(workloadKey(m.workload)));
    const replacement = job.drain.replacement;
    const landsOn = replacement === undefined ? undefined : state.launched.get(replacement);
    const stepChecked =
      replacement !== undefined && landsOn === undefined
        ? ({ ok: false, reason: reason('launch-failed', `Node "${job.drain.node}" waits for its replacement "${replacement}", which was not launched`) } as const)
        : resting === undefined
          ? recheckStep(snapshot, job.drain, moves, job.taint)
          : ({ ok: false, reason: reason('recently-moved', `Cannot move pod "${resting.pod.namespace}/${resting.pod.name}": its workload's replacement just landed where it was not meant to (anti-flap)`) } as const);
    // The surges of this wave only: later waves' are predicted on the snapshot before they start.
    // The replacement is being filled by the plan: a surge may land on it (the plan judged its final fill).
    // The set's nodes are closed to the scheduler by our taint, though the snapshot may not show it yet.
    const unsafe = stepChecked.ok ? recheckLanding(_closed(snapshot, state.setTainted), stepChecked.start.filter((m) => m.wave === waveNumber), landsOn === undefined ? undefined : new Set([landsOn])) : undefined;
    const checked = unsafe === undefined ? stepChecked : ({ ok: false, reason: unsafe } as const);
    if (!checked.ok) {
      if (!first) return _fail(state, checked.reason, now, effects);
      const failures = refusalBacksOff(checked.reason.code) ? recordDrainFailure(state.failures, job.drain.node, now) : state.failures;
      const outcome = _outcome(job, 'skipped', [], checked.reason);
      // A set under way: its nodes still tainted are untainted first, its jobs not started skipped.
      const untainted = state.setTainted.length > 0;
      const ended = untainted ? _endSet(state, effects) : state;
      effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
      state = _releaseUnused(_skipRestOfSet(_nextJob({ ...ended, failures, outcomes: [...ended.outcomes, outcome] }), job, checked.reason, effects), effects);
      if (state.phase !== 'recheck') return state;
      // Nodes were untainted: the next job's recheck needs a snapshot that shows it.
      if (untainted) return _observeNext(state, effects);
      // Nothing was touched: the same snapshot serves the next job's recheck.
      continue;
    }
    if (first) {
      effects.push({ type: 'notice', notice: { kind: 'job-started', job } });
      if (job.taint && !state.setTainted.includes(job.drain.node)) effects.push({ type: 'taint', node: job.drain.node, drain: job.drain });
    }
    const inWave = new Set(job.moves.filter((m) => m.wave === waveNumber).map((m) => m.pod.uid));
    const started: _Started[] = [];
    for (const move of [...checked.start, ...checked.alreadyReplaced]) {
      if (!inWave.has(move.pod.uid)) continue;
      const starts = checked.start.includes(move);
      // A move an earlier rollout carried out waits only for its workload to be Ready.
      started.push({ move, before: starts ? _podsOf(snapshot, move.workload).map((p) => p.uid) : [] });
      if (starts) {
        effects.push({ type: move.mode === 'surge-first' ? 'surge' : 'evict', move });
        effects.push({ type: 'notice', notice: { kind: 'move-started', move } });
      }
    }
    effects.push(_observeWave(state.options.pollMs, started));
    return { ...state, phase: 'wave', waveStartedAt: now, started, tainted: state.tainted || job.taint };
  }
}

/** Looks at the wave: settled, still settling, or timed out. */
function _poll(state: ExecutionState, snapshot: ClusterSnapshot, now: number, effects: Effect[]): ExecutionState {
  const pending = state.started.filter((s) => !_settled(s, snapshot));
  if (pending.length > 0) {
    if (now - state.waveStartedAt >= state.options.waveTimeoutMs) {
      const first = pending[0] as _Started;
      const who = `the replacement of pod "${first.move.pod.namespace}/${first.move.pod.name}"`;
      return _fail(state, reason('timeout', `Timed out after ${Math.round(state.options.waveTimeoutMs / 1000)}s waiting for ${who} to be Ready`), now, effects);
    }
    effects.push(_observeWave(state.options.pollMs, state.started));
    return state;
  }
  const moved = [...state.moved];
  const restored = new Set<string>();
  let history = state.history;
  let backedOff = state.backedOff;
  let misplaced: Reason | undefined;
  const verdicts = _verify(state.started, snapshot);
  for (const s of state.started) {
    const key = workloadKey(s.move.workload);
    // Every move counts for the anti-flap rule, the misplaced ones too: moving them again at once is the flap.
    history = recordMove(history, key, now);
    if (s.move.mode === 'surge-first' && s.move.workload.kind === 'Deployment' && !restored.has(key)) {
      restored.add(key);
      effects.push({ type: 'restore-strategy', workload: s.move.workload });
    }
    moved.push(`${s.move.pod.namespace}/${s.move.pod.name}`);
    const wrong = verdicts.get(s.move.pod.uid);
    if (wrong === undefined) {
      effects.push({ type: 'notice', notice: { kind: 'moved', move: s.move } });
      continue;
    }
    misplaced ??= wrong;
    backedOff = new Set([...backedOff, key]);
    effects.push({ type: 'notice', notice: { kind: 'misplaced', move: s.move, reason: wrong } });
  }
  const job = _job(state);
  // A move counts only where the plan meant it to run: else the job fails and claims no saving.
  if (misplaced !== undefined) return _fail({ ...state, moved, history, backedOff }, misplaced, now, effects);
  if (state.wave + 1 < job.waves.length) {
    effects.push({ type: 'observe', afterMs: 0, node: job.drain.node });
    return { ...state, phase: 'recheck', wave: state.wave + 1, started: [], moved, history, backedOff };
  }
  // Done: the node is left schedulable, except a consolidated node the autoscaler should remove.
  if (state.tainted) {
    if (job.drain.deleteNode === true) effects.push({ type: 'delete-node', node: job.drain.node, holdUntil: now + state.options.holdMs });
    // An emptied replacement with Job pods still on it waits for them tainted, as a consolidated node does.
    else if ((job.drain.strategy === 'consolidate' && job.drain.savingUsdPerHour > 0) || job.undo !== undefined) effects.push({ type: 'hold', node: job.drain.node, until: now + state.options.holdMs });
    else effects.push({ type: 'untaint', node: job.drain.node });
    // Only Job pods left on the emptied replacement: nothing to lose, the autoscaler may take it.
    if (job.undo !== undefined && job.drain.deleteNode !== true) effects.push({ type: 'unprotect', node: job.drain.node });
  }
  const failures = new Map(state.failures);
  failures.delete(job.drain.node);
  const outcome = _outcome(job, 'done', moved, job.drain.reason);
  effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
  const setTainted = state.setTainted.filter((n) => n !== job.drain.node);
  return _observeNext(_nextJob({ ...state, failures, moved, history, backedOff, setTainted, outcomes: [...state.outcomes, outcome] }), effects);
}

/**
 * Looks at the launched node, the one the driver named: Ready, schedulable, and without a
 * NoSchedule or NoExecute taint the offer does not carry (the provisioner's startup or
 * unregistered taints keep pods off it).
 * Ready: the drains waiting for it may start; not within the wave timeout: failed and undone.
 */
function _pollLaunch(state: ExecutionState, snapshot: ClusterSnapshot, now: number, effects: Effect[]): ExecutionState {
  const job = _job(state);
  const launch = job.launch as NodeLaunch;
  const want = launch.offer.node;
  const named = state.launching === undefined ? undefined : snapshot.nodes.find((n) => n.name === state.launching);
  const offered = new Set(want.taints.map((t) => `${t.key}:${t.effect}`));
  // A PreferNoSchedule taint keeps no pod off (the autoscaler's soft taint lands on any new empty node at once).
  const keptOff = named?.taints.some((t) => t.effect !== 'PreferNoSchedule' && !offered.has(`${t.key}:${t.effect}`)) ?? true;
  const node = named !== undefined && named.ready && !named.unschedulable && !keptOff ? named : undefined;
  if (node === undefined) {
    if (now - state.waveStartedAt >= state.options.waveTimeoutMs) {
      const what = state.launching === undefined ? `No ${want.instanceType} node was launched` : `Node "${state.launching}" (${want.instanceType}) was not Ready`;
      return _fail(state, reason('launch-failed', `${what} within ${Math.round(state.options.waveTimeoutMs / 1000)}s of launching "${launch.name}"`), now, effects);
    }
    effects.push({ type: 'observe', afterMs: state.options.pollMs, ...(state.launching === undefined ? {} : { node: state.launching }) });
    return state;
  }
  const outcome = _outcome(job, 'done', [], reason('replace', `${launch.reason.message}; launched as node "${node.name}"`));
  // Before any pod lands on it (a failed protect fails this job, and the launch is undone).
  if (launch.removalThreshold !== undefined) effects.push({ type: 'protect', node: node.name });
  effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
  const launched = new Map(state.launched).set(launch.name, node.name);
  return _observeNext(_nextJob({ ...state, launched, outcomes: [...state.outcomes, outcome] }), effects);
}

/**
 * Fails the current job: untaint (every node of its set still tainted, when it is part of one),
 * remember the failure, skip the rest of its set, go on with the next job.
 */
function _fail(state: ExecutionState, why: Reason, now: number, effects: Effect[]): ExecutionState {
  const job = _job(state);
  if (state.setTainted.length > 0) state = _endSet(state, effects);
  else if (state.tainted) effects.push({ type: 'untaint', node: job.drain.node });
  if (job.launch !== undefined) {
    // What the driver created is undone; the drains waiting for the node are skipped.
    effects.push({ type: 'cancel-launch', launch: job.launch, ...(state.launching === undefined ? {} : { node: state.launching }) });
    const outcome = _outcome(job, 'failed', [], why);
    effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
    const failedLaunches = new Set(state.failedLaunches).add(job.launch.name);
    return _observeNext(_skipRestOfSet(_nextJob({ ...state, failedLaunches, outcomes: [...state.outcomes, outcome] }), job, why, effects), effects);
  }
  const outcome = _outcome(job, 'failed', state.moved, why);
  effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
  const failures = recordDrainFailure(state.failures, job.drain.node, now);
  return _observeNext(_skipRestOfSet(_nextJob({ ...state, failures, outcomes: [...state.outcomes, outcome] }), job, why, effects), effects);
}

/** Untaints every node of the set under way that is still tainted (the current job's included). */
function _endSet(state: ExecutionState, effects: Effect[]): ExecutionState {
  for (const node of state.setTainted) effects.push({ type: 'untaint', node });
  return { ...state, setTainted: [], tainted: false };
}

/**
 * After `ended`, a job of a set that failed or was refused, skips the jobs of its set not started
 * (the state's current job is the one after `ended`): the set goes as one action.
 */
function _skipRestOfSet(state: ExecutionState, ended: Job, why: Reason, effects: Effect[]): ExecutionState {
  const action = ended.action;
  if (action === undefined) return state;
  let next = state;
  while (next.phase === 'recheck' && next.current <= action.last) {
    const job = _job(next);
    const code = ended.launch !== undefined ? 'launch-failed' : 'set-failed';
    const message =
      ended.launch !== undefined
        ? `Node "${job.drain.node}" waits for its replacement "${ended.launch.name}", which was not launched: ${why.message}`
        : `Node "${job.drain.node}" goes with node "${ended.drain.node}", whose drain did not go through: ${why.message}`;
    const outcome = _outcome(job, 'skipped', [], reason(code, message));
    effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
    next = _nextJob({ ...next, outcomes: [...next.outcomes, outcome] });
  }
  return next;
}

/** The first drain of the set that must not start on `snapshot`, with why; undefined when all may. */
function _recheckSet(state: ExecutionState, action: JobAction, snapshot: ClusterSnapshot): { readonly job: number; readonly reason: Reason } | undefined {
  for (let i = action.first; i <= action.last; i++) {
    const job = state.jobs[i] as Job;
    if (job.launch !== undefined) continue;
    const checked = recheckStep(snapshot, job.drain, job.moves, true);
    if (!checked.ok) return { job: i, reason: checked.reason };
  }
  return undefined;
}

/** Skips every job of a set refused before it started: nothing was touched; the refused node backs off as a single drain would. */
function _skipSet(state: ExecutionState, action: JobAction, refused: { readonly job: number; readonly reason: Reason }, now: number, effects: Effect[]): ExecutionState {
  const culprit = state.jobs[refused.job] as Job;
  const failures = refusalBacksOff(refused.reason.code) ? recordDrainFailure(state.failures, culprit.drain.node, now) : state.failures;
  let next: ExecutionState = { ...state, failures };
  while (next.phase === 'recheck' && next.current <= action.last) {
    const job = _job(next);
    const why = next.current === refused.job ? refused.reason : reason('set-failed', `Node "${job.drain.node}" goes with node "${culprit.drain.node}", which cannot be drained now: ${refused.reason.message}`);
    const outcome = _outcome(job, 'skipped', [], why);
    effects.push({ type: 'notice', notice: { kind: 'job-finished', job, outcome } });
    next = _nextJob({ ...next, outcomes: [...next.outcomes, outcome] });
  }
  return next;
}

/** `snapshot` with `nodes` closed to new pods (taken just now, or a cache behind our taint may show them open). */
function _closed(snapshot: ClusterSnapshot, nodes: readonly string[]): ClusterSnapshot {
  if (nodes.length === 0) return snapshot;
  const closed = new Set(nodes);
  return { ...snapshot, nodes: snapshot.nodes.map((n) => (closed.has(n.name) && !n.unschedulable ? { ...n, unschedulable: true } : n)) };
}

function _nextJob(state: ExecutionState): ExecutionState {
  const current = state.current + 1;
  const { launching: _launching, ...rest } = state;
  const jobs = _withUndo(state);
  const reset = { current, wave: 0, started: [], tainted: false, moved: [], waveStartedAt: 0 };
  return { ...rest, jobs, ...reset, phase: current >= jobs.length ? 'finished' : 'recheck' };
}

/**
 * The jobs with, right after the current one, a job that looks at the node its action launched,
 * when the current job ends such an action (its last job, whatever its outcome, already recorded)
 * and a drain of the action moved pods: see the module comment.
 */
function _withUndo(state: ExecutionState): readonly Job[] {
  const action = _job(state).action;
  if (action === undefined || action.last !== state.current) return state.jobs;
  const launch = (state.jobs[action.first] as Job).launch;
  const node = launch === undefined ? undefined : state.launched.get(launch.name);
  if (launch?.removalThreshold === undefined || node === undefined) return state.jobs;
  const members = new Set(action.drains.map((d) => d.node));
  if (!state.outcomes.some((o) => members.has(o.node) && o.moved.length > 0)) return state.jobs;
  let safeLanding: SafeLanding | undefined;
  for (let i = action.first; i <= action.last && safeLanding === undefined; i++) safeLanding = (state.jobs[i] as Job).moves.find((m) => m.safeLanding !== undefined)?.safeLanding;
  const drain: NodeDrain = { node, strategy: launch.strategy, savingUsdPerHour: 0, pods: [], staying: [], reason: reason('replacement-undone', `Node "${node}" was launched to replace ${_names(launch.replaces)}`) };
  const undo: Job = { drain, moves: [], waves: [], taint: true, undo: { launch, ...(safeLanding === undefined ? {} : { safeLanding }) } };
  // Inserted after the action: the actions of the jobs after it move along by one.
  const at = state.current + 1;
  const shifted = new Map<JobAction, JobAction>();
  const jobs = state.jobs.map((j) => {
    if (j.action === undefined || j.action.first < at) return j;
    let moved = shifted.get(j.action);
    if (moved === undefined) {
      moved = { ...j.action, first: j.action.first + 1, last: j.action.last + 1 };
      shifted.set(j.action, moved);
    }
    return { ...j, action: moved };
  });
  jobs.splice(at, 0, undo);
  return jobs;
}

/**
 * The job that empties a replacement again, read off `snapshot`: the drain of the node's pods that
 * stay (DaemonSet and mirror pods stay put, Job pods run out on it), in the guard's modes, surges
 * first and one a wave, as the planner orders a drain that must land safely. Or nothing to do, and
 * why: the node is gone, holds nothing that stays, or enough to stay above the removal threshold;
 * or the guard refuses a pod. `cancel`: the node is empty, delete it.
 */
function _undoJob(job: Job, snapshot: ClusterSnapshot): Job | { readonly reason: Reason; readonly cancel: boolean } {
  const { launch, safeLanding } = job.undo as NonNullable<Job['undo']>;
  const index = indexSnapshot(snapshot);
  const name = job.drain.node;
  const node = index.node(name);
  if (node === undefined) return { reason: reason('node-gone', `Node "${name}" is gone`), cancel: false };
  const pods = index.podsOnNode(name).filter((p) => holdsResources(p) && p.deletionRequestedAt === undefined);
  const fixed = pods.filter((p) => p.owner.kind === 'DaemonSet' || p.isMirror);
  const leaving = pods.filter((p) => !fixed.includes(p) && leavesSoon(p));
  const movable = pods.filter((p) => !fixed.includes(p) && !leaving.includes(p));
  const threshold = launch.removalThreshold ?? 0;
  const fill = removalUtilization([...fixed, ...movable].reduce((sum, p) => addResources(sum, p.requests), {}), node.allocatable);
  const pct = (share: number): string => `${Math.round(share * 100)}%`;
  const launched = `Node "${name}", launched to replace ${_names(launch.replaces)},`;
  if (movable.length === 0) return { reason: reason('replacement-kept', `${launched} holds no pod to move: ${leaving.length === 0 ? 'deleted, empty' : 'left to its Job pods'}`), cancel: leaving.length === 0 };
  if (fill >= threshold) return { reason: reason('replacement-kept', `${launched} is ${pct(fill)} requested by pods that stay, not below the autoscaler's removal threshold (${pct(threshold)}): kept`), cancel: false };
  const admitted = new AvailabilityGuard(index).admit(movable);
  if (!admitted.ok) return { reason: admitted.reason, cancel: false };
  const surges = admitted.admissions.filter((a) => a.mode === 'surge-first');
  const moves: Move[] = admitted.admissions.map((a) => ({
    pod: { namespace: a.pod.namespace, name: a.pod.name, uid: a.pod.uid },
    workload: a.pod.owner,
    fromNode: name,
    // Off the node, wherever the scheduler puts it: each surge's landing is predicted before it starts.
    toNode: '',
    strategy: launch.strategy,
    mode: a.mode,
    wave: a.mode === 'surge-first' ? surges.indexOf(a) : a.wave + surges.length,
    reason: a.reason,
    savingUsdPerHour: 0,
    ...(a.mode === 'surge-first' && safeLanding !== undefined ? { safeLanding } : {}),
  }));
  const ref = (p: PodView): NodeDrain['pods'][number] => ({ namespace: p.namespace, name: p.name, uid: p.uid });
  const drain: NodeDrain = {
    ...job.drain,
    pods: movable.map(ref),
    staying: [...fixed, ...leaving].map(ref),
    // Deleted once empty, as karpenter-consolidate's drains; with Job pods still on it, held tainted until they end.
    ...(leaving.length === 0 ? { deleteNode: true } : {}),
    reason: reason(
      'replacement-undone',
      `${launched} was left ${pct(fill)} requested by pods that stay, below the autoscaler's removal threshold (${pct(threshold)}): emptied again, so the autoscaler's drain does not take the ${movable.length} pod(s) on it without a replacement first`,
    ),
  };
  return { ...job, drain, moves, waves: _waves(moves) };
}

function _names(nodes: readonly string[]): string {
  return nodes.map((n) => `"${n}"`).join(', ');
}

/** Asks for the snapshot the next job's recheck needs, if there is one; first undoes launches no job will use. */
function _observeNext(state: ExecutionState, effects: Effect[]): ExecutionState {
  state = _releaseUnused(state, effects);
  if (state.phase === 'recheck') effects.push({ type: 'observe', afterMs: 0, node: _job(state).drain.node });
  return state;
}

/**
 * Undoes each launched node no drain moved a pod onto, once no job still to run waits for it (all
 * jobs, once finished): `cancel-launch`, so an empty replacement is not left running.
 */
function _releaseUnused(state: ExecutionState, effects: Effect[]): ExecutionState {
  let unused = state.unusedLaunches;
  const ahead = state.phase === 'finished' ? [] : state.jobs.slice(state.current);
  for (const [name, node] of state.launched) {
    if (unused.has(name) || ahead.some((j) => j.drain.replacement === name)) continue;
    const drained = new Set(state.jobs.filter((j) => j.drain.replacement === name).map((j) => j.drain.node));
    if (state.outcomes.some((o) => drained.has(o.node) && o.moved.length > 0)) continue;
    const launch = state.jobs.find((j) => j.launch?.name === name)?.launch as NodeLaunch;
    effects.push({ type: 'cancel-launch', launch, node });
    unused = new Set(unused).add(name);
  }
  return unused === state.unusedLaunches ? state : { ...state, unusedLaunches: unused };
}

function _outcome(job: Job, outcome: JobOutcome['outcome'], moved: readonly string[], why: Reason): JobOutcome {
  return { node: job.drain.node, strategy: job.drain.strategy, outcome, moved, reason: why, savingUsdPerHour: outcome === 'done' ? job.drain.savingUsdPerHour : 0 };
}

function _observeWave(pollMs: number, started: readonly _Started[]): Effect {
  const seen = new Set<string>();
  const workloads: WorkloadRef[] = [];
  for (const s of started) {
    const key = workloadKey(s.move.workload);
    if (seen.has(key)) continue;
    seen.add(key);
    workloads.push(s.move.workload);
  }
  return { type: 'observe', afterMs: pollMs, workloads };
}

function _podsOf(snapshot: ClusterSnapshot, ref: WorkloadRef): readonly PodView[] {
  const key = workloadKey(ref);
  return snapshot.pods.filter((p) => holdsResources(p) && workloadKey(p.owner) === key);
}

/**
 * Whether a started move is over: the moved pod is gone (after a rollout, every pod the workload
 * had when it started), and the workload has as many Ready, not terminating pods as it wants.
 * Kinds without a replica count wait for the pod to go only.
 */
function _settled(s: _Started, snapshot: ClusterSnapshot): boolean {
  const pods = _podsOf(snapshot, s.move.workload);
  const present = new Set(pods.map((p) => p.uid));
  if (present.has(s.move.pod.uid)) return false;
  if (s.move.mode === 'surge-first' && s.before.some((uid) => present.has(uid))) return false;
  const key = workloadKey(s.move.workload);
  const replicas = snapshot.workloads.find((w) => workloadKey(w.ref) === key)?.replicas;
  if (replicas === undefined) return true;
  return pods.filter((p) => p.ready && p.deletionRequestedAt === undefined).length >= replicas;
}

/**
 * Which settled moves did not land where the plan meant them to, with why; seen on the snapshot,
 * that is, through the API. A move's replacement is a pod its workload did not have when the move
 * started; it must run on another node than the one left and, when the move says so, on its
 * `landOn` capacity type. Moves of one workload share its new pods, each pod vouching for one
 * move. A workload with no new pod at all shrank meanwhile: no replacement was wanted.
 */
function _verify(started: readonly _Started[], snapshot: ClusterSnapshot): ReadonlyMap<string, Reason> {
  const wrong = new Map<string, Reason>();
  const types = new Map(snapshot.nodes.map((n) => [n.name, n.capacityType] as const));
  const used = new Set<string>();
  for (const s of started) {
    const before = new Set(s.before);
    const fresh = _podsOf(snapshot, s.move.workload).filter((p) => !before.has(p.uid) && p.deletionRequestedAt === undefined && p.nodeName !== '' && !used.has(p.uid));
    if (fresh.length === 0) continue;
    const fits = (p: PodView): boolean => p.nodeName !== s.move.fromNode && (s.move.landOn === undefined || types.get(p.nodeName) === s.move.landOn);
    const good = fresh.find(fits);
    if (good !== undefined) {
      used.add(good.uid);
      continue;
    }
    const landed = fresh[0] as PodView;
    used.add(landed.uid);
    wrong.set(s.move.pod.uid, _misplacedReason(s.move, landed, types.get(landed.nodeName)));
  }
  return wrong;
}

/** Where the replacement ran instead, and the likeliest why, from the webhook's record on the pod. */
function _misplacedReason(move: Move, landed: PodView, type: string | undefined): Reason {
  const who = `The replacement of pod "${move.pod.namespace}/${move.pod.name}"`;
  if (landed.nodeName === move.fromNode) return reason('misplaced', `${who} landed back on node "${landed.nodeName}", the node it left: no saving is claimed`);
  const placed = landed.annotations[CAPACITY_TYPE_ANNOTATION];
  const why =
    placed === undefined
      ? `nothing placed it on ${move.landOn ?? 'it'} (no placement webhook admitted it) and the scheduler chose that node`
      : placed === type
        ? `the placement policy put it on ${placed} at admission${placed === 'on-demand' ? ' (its on-demand floor)' : ''}`
        : 'the scheduler chose that node';
  return reason('misplaced', `${who} landed on ${type ?? 'unknown'} node "${landed.nodeName}", not on ${move.landOn ?? 'another node'} as planned: ${why}; no saving is claimed`);
}

function _waves(moves: readonly Move[]): number[] {
  return [...new Set(moves.map((m) => m.wave))].sort((a, b) => a - b);
}
