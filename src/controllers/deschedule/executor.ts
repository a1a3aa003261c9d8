/**
 * Carries out a descheduling plan against the live cluster: a thin driver of the pure execution
 * state machine (`policy/execute/machine.ts`), which decides every step — the jobs one at a time,
 * the recheck before each, the taint, the waves, surge-then-evict, rollback and backoff. This file
 * turns its effects into API calls and feeds it what it asks to see:
 *
 * - `taint`: the `stowage.io/draining:NoSchedule` taint and the drain record, in one write;
 * - `evict`: the Eviction API (a 429 from a PDB is reported back as a failed effect);
 * - `surge`: a rollout with maxSurge 1 / maxUnavailable 0, the old strategy saved on the Deployment;
 * - `untaint`, `hold`, `restore-strategy`: the record and the strategy given back;
 * - `launch-node`: a NodeClaim of the offer's NodePool (Karpenter), answered with the node its
 *   `status.nodeName` names; `cancel-launch`: that NodeClaim deleted;
 * - `observe`: a fresh snapshot from `readSnapshot` (a function, so a cache can feed it).
 *
 * At start-up `recover` rolls back what a crashed run left; each cycle first gives back the
 * strategies of finished rollouts and untaints consolidated nodes whose hold is over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type CoreV1Api, type V1Deployment, type V1Node } from '@kubernetes/client-node';
import type { ClusterSnapshot, WorkloadRef } from '../../core/model.js';
import type { SnapshotFocus } from '../../kube/cluster-cache.js';
import { describeApiError } from '../../kube/errors.js';
import { evictPod } from '../../kube/evict.js';
import type { EventRecorder } from '../../kube/events.js';
import { withRetry } from '../../kube/retry.js';
import type { Logger } from '../../observability/log.js';
import { EMPTY_MOVE_HISTORY } from '../../policy/deschedule/anti-flap.js';
import type { MoveHistory } from '../../policy/deschedule/anti-flap.js';
import type { MoveHistoryStore } from '../../kube/move-history-store.js';
import type { DrainFailure } from '../../policy/deschedule/guards.js';
import { reason } from '../../policy/deschedule/reasons.js';
import type { Reason } from '../../policy/deschedule/reasons.js';
import { ScaleDownProtection } from '../../policy/deschedule/autoscaler.js';
import type { Move, NodeDrain, NodeLaunch, Plan } from '../../policy/deschedule/types.js';
import { beginExecution, DEFAULT_EXECUTION_OPTIONS, effectsOnStop, realisedSaving, stepExecution } from '../../policy/execute/machine.js';
import type { Effect, ExecutionOptions, JobOutcome, Notice, Observation } from '../../policy/execute/machine.js';
import {
  decodeDrainRecord,
  DRAIN_ANNOTATION,
  encodeDrainRecord,
  hasDrainingTaint,
  leftoverDrainState,
  readLeftovers,
  MOVED_AT_ANNOTATION,
  podsKeepingNode,
  SURGE_ANNOTATION,
  surgesSafely,
  withDrainingTaint,
  withoutDrainingTaint,
  type LeftoverLaunch,
} from './drain-state.js';
import type { DeschedulerMetrics } from './metrics.js';
import type { NodeDeleter, NodeLauncher } from '../../kube/node-claims.js';

const _MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** What the executor needs; every effect is passed in. */
export interface ExecutorOptions {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  /**
   * The cluster just before a drain starts, with what `focus` names (the node, its pods and
   * their PDBs) read fresh from the apiserver: a cache's lag must not let a stale drain start.
   */
  readonly readSnapshot: (focus?: SnapshotFocus) => Promise<ClusterSnapshot>;
  readonly log: Logger;
  readonly metrics?: DeschedulerMetrics;
  readonly events?: EventRecorder;
  readonly now?: () => number;
  /** How long a wave's replacements may take to be Ready before the drain is abandoned. */
  readonly replacementTimeoutMs?: number;
  /** How often the executor looks at the cluster while a wave settles. */
  readonly pollMs?: number;
  /** How long a consolidated, emptied node keeps its taint for the autoscaler. */
  readonly holdMs?: number;
  /** Stops waiting and rolls the current drain back (SIGTERM). */
  readonly signal?: AbortSignal;
  /**
   * Deletes an emptied node whose drain asks for it (karpenter-consolidate) through the node's
   * provisioner (Karpenter's NodeClaim); absent, or for a node it did not launch, the node is held
   * for the autoscaler as consolidate's are.
   */
  readonly nodes?: NodeDeleter;
  /**
   * Launches a plan's replacement node (karpenter-consolidate's replace) through a NodeClaim of
   * its offer's NodePool; absent, a launch fails (`launch-failed`) and its drains are skipped.
   */
  readonly launcher?: NodeLauncher;
  /**
   * Where the move history (anti-flap) is kept between runs: loaded by `recover`, saved after each
   * plan that moved something. Absent, it lives in this process only.
   */
  readonly historyStore?: MoveHistoryStore;
}

/** How one drain (or single move) ended. */
export type DrainOutcome = JobOutcome;

/** What a plan's execution did. */
export interface ExecutionReport {
  readonly planId: string;
  readonly drains: readonly DrainOutcome[];
  readonly realisedSavingUsdPerHour: number;
}

/** A new plan id: time-ordered, unique enough to tell runs apart in annotations and logs. */
export function newPlanId(now: number): string {
  return `${now.toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** See the module comment. */
export class PlanExecutor {
  readonly #o: ExecutorOptions;
  readonly #now: () => number;
  readonly #options: ExecutionOptions;
  #failures: ReadonlyMap<string, DrainFailure> = new Map();
  #history: MoveHistory = EMPTY_MOVE_HISTORY;
  /** The plan under way, for what a launch's pods request. */
  #plan: Plan | undefined;
  /** NodeClaims created for the plan's launches: launch name → claim. */
  readonly #claims = new Map<string, string>();

  constructor(options: ExecutorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#options = {
      waveTimeoutMs: options.replacementTimeoutMs ?? DEFAULT_EXECUTION_OPTIONS.waveTimeoutMs,
      pollMs: options.pollMs ?? DEFAULT_EXECUTION_OPTIONS.pollMs,
      holdMs: options.holdMs ?? DEFAULT_EXECUTION_OPTIONS.holdMs,
    };
  }

  /** Nodes whose drains failed, for the next plan's backoff. */
  get failures(): ReadonlyMap<string, DrainFailure> {
    return this.#failures;
  }

  /** The moves carried out, for the next plan's anti-flap rule. */
  get history(): MoveHistory {
    return this.#history;
  }

  /**
   * Rolls back what a crashed run left (`leftoverDrainState` on a fresh snapshot), before any
   * planning. First the replacements it launched for a job it did not finish (`leftoverLaunches`):
   * a claim whose node no pod runs on (or that named none yet) is deleted — its node is tainted
   * and looked at again first, so no pod lands between the look and the deletion; one whose node
   * pods were moved onto is kept (deleting it would disrupt them a second time). This runs while
   * the set it replaced is still tainted, so a pod the crashed run evicted and the scheduler has
   * not placed yet waits for the set's nodes rather than land on a node about to go. Then every
   * node with a drain record or the draining taint is untainted and its record cleared (a
   * consolidated node still within its hold keeps it); every Deployment whose strategy a surge
   * changed gets it back once its rollout is done (the rollout goes on without us, with
   * maxUnavailable 0, and is waited for: that is the one step a crash leaves to resume).
   */
  async recover(): Promise<{ readonly nodes: readonly string[]; readonly deployments: readonly string[]; readonly claims: readonly string[] }> {
    // The moves an earlier run made still rest their workloads and count against the hourly budget.
    if (this.#o.historyStore !== undefined) this.#history = await this.#o.historyStore.load();
    const snapshot = await this.#o.readSnapshot();
    const launcher = this.#o.launcher;
    const leftovers = await readLeftovers(snapshot, this.#now(), launcher === undefined ? undefined : () => launcher.launchedClaims(), (error) =>
      this.#o.log.error({ error }, 'Cannot list NodeClaims: replacements an earlier run left are not looked for this time'),
    );
    const claims: string[] = [];
    const handled = new Set<string>();
    for (const left of leftovers.launches ?? []) {
      if (left.node !== undefined) handled.add(left.node);
      if (await this.#recoverLaunch(left)) claims.push(left.claim);
    }
    const nodes: string[] = [];
    for (const left of leftovers.nodes) {
      if (left.onStart === 'keep' || handled.has(left.node)) continue;
      await this.#rollback(left.node, 'startup');
      nodes.push(left.node);
      const planId = left.record?.planId ?? 'unknown';
      this.#o.log.warn({ node: left.node, planId, startedAt: left.record?.startedAt, tainted: left.tainted }, 'Rolled back a drain left by an earlier run');
      await this.#nodeEvent(left.node, 'Normal', 'DrainRolledBack', `Rolled back drain of plan "${planId}" left by an earlier run: node untainted`);
    }
    const deployments: string[] = [];
    for (const left of leftovers.surges) {
      const ref: WorkloadRef = { kind: 'Deployment', namespace: left.namespace, name: left.name };
      await this.#waitFor(`Deployment "${ref.namespace}/${ref.name}" to finish its rollout`, () => this.#rolledOut(ref));
      await this.#restoreStrategy(ref);
      deployments.push(`${ref.namespace}/${ref.name}`);
      this.#o.log.warn({ deployment: `${ref.namespace}/${ref.name}`, surgedAt: left.saved?.at }, 'Gave back a Deployment strategy a surge left by an earlier run replaced');
      await this.#o.events?.record({ kind: 'Deployment', namespace: ref.namespace, name: ref.name, apiVersion: 'apps/v1' }, 'Normal', 'StrategyRestored', 'Gave back the strategy a surge-first move left by an earlier run replaced, once its rollout was done');
    }
    this.#o.log.info({ nodes: nodes.length, deployments: deployments.length, nodeClaims: claims.length }, 'Start-up recovery done');
    return { nodes, deployments, claims };
  }

  /** Deletes or keeps a replacement a crashed run left (see `recover`); true when its claim was deleted. */
  async #recoverLaunch(left: LeftoverLaunch): Promise<boolean> {
    const launcher = this.#o.launcher as NodeLauncher;
    const log = this.#o.log.child({ planId: left.planId, launch: left.launch, nodeClaim: left.claim, node: left.node });
    let pods = left.pods;
    if (left.node !== undefined && pods.length === 0) {
      // Closed first: a pod bound between the look below and the deletion would be evicted by Karpenter.
      await this.#writeDrain(left.node, { planId: left.planId, strategy: 'recovery', pods: [], fresh: true });
      const seen = await this.#o.readSnapshot({ nodes: [left.node] });
      pods = podsKeepingNode(seen.pods, left.node).map((p) => `${p.namespace}/${p.name}`);
    }
    if (pods.length > 0) {
      if (left.node !== undefined) await this.#rollback(left.node, 'startup');
      log.warn({ pods }, 'Kept the replacement node an earlier run launched: pods were moved onto it');
      if (left.node !== undefined) await this.#nodeEvent(left.node, 'Normal', 'ReplacementKept', `Kept this replacement node of plan "${left.planId}" left by an earlier run: ${pods.length} pod(s) were moved onto it`);
      return false;
    }
    try {
      await launcher.deleteClaim(left.claim);
    } catch (error) {
      if (left.node !== undefined) await this.#rollback(left.node, 'startup');
      log.error({ error: error instanceof Error ? error.message : String(error) }, 'Cannot delete the NodeClaim of an empty replacement an earlier run left: the next start tries again');
      return false;
    }
    log.warn('Deleted the NodeClaim of an empty replacement an earlier run left');
    if (left.node !== undefined) await this.#nodeEvent(left.node, 'Normal', 'ReplacementCancelled', `Deleted NodeClaim "${left.claim}": an earlier run launched this node for plan "${left.planId}" and stopped before moving a pod onto it`);
    return true;
  }

  /** Carries out `plan` by driving the execution state machine to its end. */
  async execute(plan: Plan, planId: string): Promise<ExecutionReport> {
    await this.#restoreFinishedSurges();
    await this.#releaseHolds();
    this.#plan = plan;
    this.#claims.clear();
    let { state, effects } = beginExecution(plan, this.#options, this.#failures, this.#history);
    let stopped = false;
    let queue = [...effects];
    const feed = (observation: Observation): void => {
      ({ state, effects } = stepExecution(state, observation));
      queue = [...effects];
    };
    const stop = (): void => {
      stopped = true;
      const queued = queue;
      feed({ type: 'stop', now: this.#now() });
      queue = effectsOnStop(queued, queue);
    };
    while (queue.length > 0) {
      if (this.#o.signal?.aborted && !stopped) {
        stop();
        continue;
      }
      const effect = queue.shift() as Effect;
      const failure = await this.#perform(effect, planId);
      if (failure === 'observe') {
        try {
          await sleep(effect.type === 'observe' ? effect.afterMs : 0, undefined, this.#o.signal === undefined ? {} : { signal: this.#o.signal });
        } catch {
          // Aborted while waiting: roll the job back now.
          stop();
          continue;
        }
        let snapshot: ClusterSnapshot;
        try {
          snapshot = await this.#o.readSnapshot(effect.type === 'observe' && effect.node !== undefined ? { nodes: [effect.node] } : undefined);
        } catch (error) {
          feed({ type: 'failed', now: this.#now(), effect, reason: reason('api-error', `Cannot read the cluster: ${error instanceof Error ? error.message : String(error)}`) });
          continue;
        }
        feed({ type: 'observed', now: this.#now(), snapshot });
      } else if (typeof failure === 'object' && 'launched' in failure) {
        if (effect.type === 'launch-node') feed({ type: 'launched', now: this.#now(), launch: effect.launch.name, node: failure.launched });
      } else if (failure !== undefined) {
        // The rest of the batch is dropped: the machine decides again from the failure.
        feed({ type: 'failed', now: this.#now(), effect, reason: failure });
      }
    }
    this.#failures = state.failures;
    const moved = state.history !== this.#history;
    this.#history = state.history;
    if (moved) await this.#o.historyStore?.save(this.#history);
    return { planId, drains: state.outcomes, realisedSavingUsdPerHour: realisedSaving(state) };
  }

  /** Carries out one effect: undefined when done, a reason when it failed, `observe` when the machine wants a snapshot, the node a launch launched. */
  async #perform(effect: Effect, planId: string): Promise<Reason | 'observe' | { readonly launched: string } | undefined> {
    try {
      switch (effect.type) {
        case 'observe':
          return 'observe';
        case 'taint':
          await this.#taint(effect.drain, planId);
          return undefined;
        case 'untaint':
          await this.#rollback(effect.node, 'done');
          return undefined;
        case 'hold':
          await this.#hold(effect.node, effect.until);
          return undefined;
        case 'delete-node':
          await this.#deleteNode(effect.node, effect.holdUntil, planId);
          return undefined;
        case 'launch-node':
          return await this.#launch(effect.launch, planId);
        case 'cancel-launch':
          await this.#cancelLaunch(effect.launch, effect.node, planId);
          return undefined;
        case 'protect':
        case 'unprotect':
          await this.#protect(effect.node, effect.type === 'protect', planId);
          return undefined;
        case 'evict':
          return await this.#evict(effect.move);
        case 'surge':
          if (effect.move.workload.kind !== 'Deployment') return reason('single-replica', `Cannot surge pod "${effect.move.pod.namespace}/${effect.move.pod.name}": only a Deployment can start a replacement first`);
          await this.#surge(effect.move.workload);
          return undefined;
        case 'restore-strategy':
          await this.#restoreStrategy(effect.workload);
          return undefined;
        case 'notice':
          await this.#notice(effect.notice, planId);
          return undefined;
      }
    } catch (error) {
      // untaint never throws; a failed restore is retried by the next cycle's housekeeping.
      const message = error instanceof Error ? error.message : String(error);
      // A protection not taken off is taken off by a later plan (`Plan.releases`); a failed protect fails its job.
      if (effect.type === 'restore-strategy' || effect.type === 'hold' || effect.type === 'delete-node' || effect.type === 'notice' || effect.type === 'cancel-launch' || effect.type === 'unprotect') {
        this.#o.log.warn({ effect: effect.type, error: message }, 'Effect failed; the next cycle retries it');
        return undefined;
      }
      return reason('api-error', message);
    }
  }

  async #evict(move: Move): Promise<Reason | undefined> {
    const who = `${move.pod.namespace}/${move.pod.name}`;
    const outcome = await evictPod(this.#o.core, move.pod.namespace, move.pod.name, { uid: move.pod.uid });
    if (outcome.kind === 'blocked') {
      this.#o.metrics?.evictions.inc({ strategy: move.strategy, mode: move.mode, outcome: 'blocked' });
      return reason('eviction-refused', `Cannot evict pod "${who}": the apiserver refused (a PodDisruptionBudget): ${outcome.reason}`);
    }
    this.#o.log.info({ pod: who, outcome: outcome.kind }, 'Pod evicted');
    return undefined;
  }

  /** Logs, metrics and Events for what the machine reports. */
  async #notice(notice: Notice, planId: string): Promise<void> {
    if (notice.kind === 'job-started') {
      this.#o.log.info({ planId, node: notice.job.drain.node, strategy: notice.job.drain.strategy, pods: notice.job.moves.length }, 'Drain started');
      return;
    }
    if (notice.kind === 'move-started') {
      const m = notice.move;
      this.#o.log.info({ planId, pod: `${m.pod.namespace}/${m.pod.name}`, mode: m.mode, wave: m.wave }, m.mode === 'surge-first' ? 'Surge started: replacement first' : 'Eviction started');
      return;
    }
    if (notice.kind === 'moved') {
      const move = notice.move;
      this.#o.metrics?.evictions.inc({ strategy: move.strategy, mode: move.mode, outcome: 'done' });
      this.#o.log.info({ planId, pod: `${move.pod.namespace}/${move.pod.name}`, mode: move.mode, wave: move.wave, to: move.toNode }, 'Pod moved, replacement Ready');
      await this.#o.events?.record(
        { kind: 'Pod', namespace: move.pod.namespace, name: move.pod.name, uid: move.pod.uid, apiVersion: 'v1' },
        'Normal',
        'Descheduled',
        `Moved off node "${move.fromNode}" by ${move.strategy} (${move.mode}, plan "${planId}"): ${move.reason.message}`,
      );
      return;
    }
    if (notice.kind === 'misplaced') {
      const move = notice.move;
      this.#o.metrics?.evictions.inc({ strategy: move.strategy, mode: move.mode, outcome: 'misplaced' });
      this.#o.log.warn({ planId, pod: `${move.pod.namespace}/${move.pod.name}`, mode: move.mode, code: notice.reason.code, reason: notice.reason.message }, 'Pod moved, but its replacement runs where the plan did not mean');
      await this.#o.events?.record(
        { kind: 'Pod', namespace: move.pod.namespace, name: move.pod.name, uid: move.pod.uid, apiVersion: 'v1' },
        'Warning',
        'MoveMisplaced',
        `Moved off node "${move.fromNode}" by ${move.strategy} (plan "${planId}"), but not done: ${notice.reason.message}`,
      );
      return;
    }
    const { job, outcome } = notice;
    const log = this.#o.log.child({ planId, node: outcome.node, strategy: outcome.strategy });
    // A launch's job is named after the launch, not a node: its Events go to the nodes it replaces.
    const nodes = job.launch === undefined ? [outcome.node] : job.launch.replaces;
    this.#o.metrics?.drains.inc({ strategy: outcome.strategy, outcome: outcome.outcome });
    if (outcome.outcome === 'skipped') {
      log.info({ code: outcome.reason.code, reason: outcome.reason.message }, 'Drain skipped: live state differs from the plan');
      this.#o.metrics?.skipped.inc({ strategy: outcome.strategy, reason: outcome.reason.code });
      for (const node of nodes) await this.#nodeEvent(node, 'Warning', 'DrainSkipped', outcome.reason.message);
    } else if (outcome.outcome === 'done') {
      this.#o.metrics?.realisedSaving.inc({ strategy: outcome.strategy }, outcome.savingUsdPerHour);
      log.info({ moved: outcome.moved.length, savingUsdPerHour: outcome.savingUsdPerHour }, 'Drain done');
      if (job.taint) await this.#nodeEvent(outcome.node, 'Normal', 'Drained', `Moved ${outcome.moved.length} pod(s) by ${outcome.strategy} (plan "${planId}"): ${outcome.reason.message}`);
    } else {
      log.warn({ code: outcome.reason.code, reason: outcome.reason.message, moved: outcome.moved.length }, 'Drain failed: rolled back');
      for (const node of nodes) await this.#nodeEvent(node, 'Warning', 'DrainFailed', `Drain by ${outcome.strategy} stopped after ${outcome.moved.length} pod(s): ${outcome.reason.message}`);
    }
  }

  /** Untaints consolidated nodes whose hold is over (the autoscaler did not remove them). */
  async #releaseHolds(): Promise<void> {
    // The snapshot (the cluster cache in a loop) says which nodes carry a record: no LIST per cycle.
    const { nodes } = await this.#o.readSnapshot();
    for (const node of nodes) {
      const record = decodeDrainRecord(node.annotations[DRAIN_ANNOTATION]);
      if (record?.heldUntil === undefined || Date.parse(record.heldUntil) > this.#now()) continue;
      await this.#rollback(node.name, 'done');
      this.#o.log.info({ node: node.name, heldUntil: record.heldUntil }, 'Hold over: consolidated node untainted');
    }
  }

  /** Keeps the node's taint and writes the end of the hold into its record. */
  /**
   * Deletes an emptied node through its NodeClaim. It is held first, as a consolidated node is:
   * should the deletion not happen (no provisioner, a node it did not launch, an API error), the
   * node is untainted when the hold ends. Only an empty node is deleted: a pod other than a
   * DaemonSet's or a mirror pod that reached it since (one tolerating the taint) keeps it.
   */
  async #deleteNode(nodeName: string, holdUntil: number, planId: string): Promise<void> {
    await this.#hold(nodeName, holdUntil);
    const deleter = this.#o.nodes;
    if (deleter === undefined) return;
    const { pods } = await this.#o.readSnapshot({ nodes: [nodeName] });
    const left = podsKeepingNode(pods, nodeName);
    if (left.length > 0) {
      this.#o.log.info({ planId, node: nodeName, pods: left.map((p) => `${p.namespace}/${p.name}`) }, 'Drained node not deleted: pods reached it since; held for the autoscaler');
      return;
    }
    const claim = await deleter.claimOf(nodeName);
    if (claim === undefined) {
      this.#o.log.info({ planId, node: nodeName }, 'Drained node has no NodeClaim (not launched by Karpenter): held for the autoscaler');
      return;
    }
    await deleter.deleteClaim(claim);
    this.#o.log.info({ planId, node: nodeName, nodeClaim: claim }, 'Deleted the drained node\'s NodeClaim');
    await this.#nodeEvent(nodeName, 'Normal', 'NodeClaimDeleted', `Deleted NodeClaim "${claim}" of the drained node (plan "${planId}"): Karpenter terminates it`);
  }

  /**
   * Creates the NodeClaim of the launch's offer and waits, within the wave timeout, for the node
   * it launched to be named (`status.nodeName`); the machine then waits for that node to be Ready.
   * A claim Karpenter gives up on, a timeout or a stop deletes the claim: nothing is left behind.
   */
  async #launch(launch: NodeLaunch, planId: string): Promise<Reason | { readonly launched: string }> {
    const what = `${launch.offer.node.capacityType} ${launch.offer.node.instanceType}`;
    const launcher = this.#o.launcher;
    if (launcher === undefined) return reason('launch-failed', `Cannot launch a ${what} node for "${launch.name}": no node provisioner (Karpenter) is configured`);
    let claim: string;
    try {
      claim = await launcher.launch(launch.offer.id, await this.#launchRequests(launch), `${planId}/${launch.name}`);
    } catch (error) {
      return reason('launch-failed', `Cannot launch a ${what} node for "${launch.name}": ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#claims.set(launch.name, claim);
    this.#o.log.info({ planId, launch: launch.name, nodeClaim: claim, offer: launch.offer.id, usdPerHour: launch.offer.usdPerHour, replaces: launch.replaces }, 'Created a NodeClaim for a replacement node');
    for (const node of launch.replaces) await this.#nodeEvent(node, 'Normal', 'ReplacementLaunched', `Created NodeClaim "${claim}" (${what}, $${launch.offer.usdPerHour.toFixed(4)}/h) to replace this node (plan "${planId}")`);
    const deadline = this.#now() + this.#options.waveTimeoutMs;
    let failure: string;
    for (;;) {
      if (this.#o.signal?.aborted) {
        failure = 'Stopped by a signal';
        break;
      }
      try {
        const state = await launcher.claimState(claim);
        if (state.kind === 'launched') return { launched: state.nodeName };
        if (state.kind === 'gone') {
          failure = state.message;
          break;
        }
      } catch (error) {
        if (!describeApiError((error as { cause?: unknown }).cause ?? error).retryable) {
          failure = error instanceof Error ? error.message : String(error);
          break;
        }
      }
      if (this.#now() > deadline) {
        failure = `NodeClaim "${claim}" named no node within ${Math.round(this.#options.waveTimeoutMs / 1000)}s`;
        break;
      }
      await sleep(this.#options.pollMs);
    }
    // Here, not only on the machine's cancel-launch: a stop may end the run before that is carried out.
    await this.#cancelLaunch(launch, undefined, planId);
    return reason('launch-failed', `Cannot launch a ${what} node for "${launch.name}": ${failure}`);
  }

  /** What the pods the plan moves onto the launch request, as a ResourceList: the NodeClaim's `resources.requests`, as the provisioner sets them. */
  async #launchRequests(launch: NodeLaunch): Promise<Record<string, string>> {
    const uids = new Set((this.#plan?.moves ?? []).filter((m) => m.toNode === launch.name).map((m) => m.pod.uid));
    if (uids.size === 0) return {};
    const { pods } = await this.#o.readSnapshot();
    const sum: Record<string, number> = {};
    for (const pod of pods) {
      if (!uids.has(pod.uid)) continue;
      for (const [name, amount] of Object.entries(pod.requests)) sum[name] = (sum[name] ?? 0) + amount;
    }
    // The scheduler's units: millicores for cpu, plain integers (bytes, counts) for the rest.
    return Object.fromEntries(Object.entries(sum).map(([name, amount]) => [name, name === 'cpu' ? `${amount}m` : String(amount)]));
  }

  /** Deletes the NodeClaim made for `launch` (its node goes with it); gone already counts as done. */
  async #cancelLaunch(launch: NodeLaunch, node: string | undefined, planId: string): Promise<void> {
    const launcher = this.#o.launcher;
    if (launcher === undefined) return;
    const claim = this.#claims.get(launch.name) ?? (node === undefined ? undefined : await launcher.claimOf(node));
    if (claim === undefined) return;
    await launcher.deleteClaim(claim);
    this.#o.log.info({ planId, launch: launch.name, nodeClaim: claim, node }, 'Deleted the NodeClaim of a replacement that failed or was not used');
    for (const replaced of launch.replaces) await this.#nodeEvent(replaced, 'Normal', 'ReplacementCancelled', `Deleted NodeClaim "${claim}" of this node's replacement (plan "${planId}"): it failed, timed out or took no pod`);
  }

  /**
   * Protects the node from the autoscalers' scale-down (Cluster Autoscaler's and Karpenter's
   * documented node annotations, with Stowage's record of when), or takes that off again. Only
   * what Stowage set: a node someone else annotated is left as it is, and only a node carrying
   * the record loses the annotations.
   */
  async #protect(nodeName: string, on: boolean, planId: string): Promise<void> {
    const node = await withRetry(`read node "${nodeName}"`, () => this.#o.core.readNode({ name: nodeName }));
    const annotations = node.metadata?.annotations ?? {};
    const ours = annotations[ScaleDownProtection.Record] !== undefined;
    if (on ? ours || annotations[ScaleDownProtection.ClusterAutoscaler] === 'true' : !ours) return;
    const values = on ? { [ScaleDownProtection.ClusterAutoscaler]: 'true', [ScaleDownProtection.Karpenter]: 'true', [ScaleDownProtection.Record]: new Date(this.#now()).toISOString() } : { [ScaleDownProtection.ClusterAutoscaler]: null, [ScaleDownProtection.Karpenter]: null, [ScaleDownProtection.Record]: null };
    const body = { metadata: { annotations: values } };
    await withRetry(`${on ? 'protect' : 'unprotect'} node "${nodeName}"`, () => this.#o.core.patchNode({ name: nodeName, body }, _MERGE));
    this.#o.log.info({ planId, node: nodeName }, on ? 'Replacement node protected from scale-down while it fills' : 'Scale-down protection taken off');
  }

  async #hold(nodeName: string, until: number): Promise<void> {
    const node = await withRetry(`read node "${nodeName}"`, () => this.#o.core.readNode({ name: nodeName }));
    const record = decodeDrainRecord(node.metadata?.annotations?.[DRAIN_ANNOTATION]);
    if (record === undefined) return;
    const body = { metadata: { resourceVersion: node.metadata?.resourceVersion, annotations: { [DRAIN_ANNOTATION]: encodeDrainRecord({ ...record, heldUntil: new Date(until).toISOString() }) } } };
    await withRetry(`hold node "${nodeName}"`, () => this.#o.core.patchNode({ name: nodeName, body }, _MERGE));
  }

  /**
   * Gives back the strategy of Deployments whose surge timed out in an earlier cycle, once their
   * rollout has finished; one still rolling keeps maxUnavailable 0, as giving Recreate back
   * mid-rollout would delete the old pod before the new one is Ready.
   */
  async #restoreFinishedSurges(): Promise<void> {
    // The snapshot (the cache in a loop) names the Deployments with a saved strategy: no LIST per cycle.
    for (const left of leftoverDrainState(await this.#o.readSnapshot(), this.#now()).surges) {
      const ref: WorkloadRef = { kind: 'Deployment', namespace: left.namespace, name: left.name };
      if (await this.#rolledOut(ref)) await this.#restoreStrategy(ref);
    }
  }

  /**
   * Starts a make-before-break move of a Deployment's pods: a rollout (a new template annotation)
   * under a strategy that surges one pod and takes none down, saving the old strategy on the
   * Deployment so a restart can give it back.
   */
  async #surge(ref: WorkloadRef): Promise<void> {
    const d = await withRetry(`read Deployment "${ref.namespace}/${ref.name}"`, () => this.#o.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace }));
    const replicas = d.spec?.replicas ?? 1;
    const safe = surgesSafely(d.spec?.strategy, replicas);
    const at = new Date(this.#now()).toISOString();
    const body = {
      metadata: {
        resourceVersion: d.metadata?.resourceVersion,
        ...(safe ? {} : { annotations: { [SURGE_ANNOTATION]: JSON.stringify({ strategy: d.spec?.strategy ?? null, at }) } }),
      },
      spec: {
        ...(safe ? {} : { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }),
        template: { metadata: { annotations: { [MOVED_AT_ANNOTATION]: at } } },
      },
    };
    await withRetry(`patch Deployment "${ref.namespace}/${ref.name}"`, () => this.#o.apps.patchNamespacedDeployment({ name: ref.name, namespace: ref.namespace, body }, _MERGE));
  }

  async #rolledOut(ref: WorkloadRef): Promise<boolean> {
    const d: V1Deployment = await this.#o.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace });
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && (s.updatedReplicas ?? 0) === want && (s.readyReplicas ?? 0) >= want && (s.replicas ?? 0) === want;
  }

  /** Gives a Deployment back the strategy a surge replaced, if it did. */
  async #restoreStrategy(ref: WorkloadRef): Promise<void> {
    const d = await withRetry(`read Deployment "${ref.namespace}/${ref.name}"`, () => this.#o.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace }));
    const saved = d.metadata?.annotations?.[SURGE_ANNOTATION];
    if (saved === undefined) return;
    let strategy: { type?: string; rollingUpdate?: unknown } | null = null;
    try {
      strategy = (JSON.parse(saved) as { strategy?: { type?: string; rollingUpdate?: unknown } | null }).strategy ?? null;
    } catch {
      strategy = null;
    }
    // Merge patch: null removes a field, so Recreate loses the rollingUpdate the surge added.
    const restored = strategy === null ? { type: 'RollingUpdate', rollingUpdate: null } : { type: strategy.type ?? 'RollingUpdate', rollingUpdate: strategy.rollingUpdate ?? null };
    const body = { metadata: { resourceVersion: d.metadata?.resourceVersion, annotations: { [SURGE_ANNOTATION]: null } }, spec: { strategy: restored } };
    await withRetry(`patch Deployment "${ref.namespace}/${ref.name}"`, () => this.#o.apps.patchNamespacedDeployment({ name: ref.name, namespace: ref.namespace, body }, _MERGE));
  }

  /** Taints the node and records the drain on it, in one write guarded by the resourceVersion. */
  async #taint(drain: NodeDrain, planId: string): Promise<void> {
    await this.#writeDrain(drain.node, { planId, strategy: drain.strategy, pods: drain.pods.map((p) => `${p.namespace}/${p.name}`), fresh: false });
  }

  /**
   * Writes the draining taint and the drain record; `fresh`: the taint already there counts as
   * ours (a node Stowage launched carries it only from an earlier recovery), so rollback removes it.
   */
  async #writeDrain(nodeName: string, what: { readonly planId: string; readonly strategy: string; readonly pods: readonly string[]; readonly fresh: boolean }): Promise<void> {
    const node: V1Node = await withRetry(`read node "${nodeName}"`, () => this.#o.core.readNode({ name: nodeName }));
    const at = new Date(this.#now());
    const record = encodeDrainRecord({
      planId: what.planId,
      startedAt: at.toISOString(),
      strategy: what.strategy,
      pods: what.pods,
      previous: { hadTaint: !what.fresh && hasDrainingTaint(node.spec?.taints), unschedulable: node.spec?.unschedulable === true },
    });
    const body = { metadata: { resourceVersion: node.metadata?.resourceVersion, annotations: { [DRAIN_ANNOTATION]: record } }, spec: { taints: withDrainingTaint(node.spec?.taints, at) } };
    await withRetry(`taint node "${nodeName}"`, () => this.#o.core.patchNode({ name: nodeName, body }, _MERGE));
  }

  /**
   * Removes the taint and the record; retried on conflicts, since the kubelet (here kwok) writes
   * the node too. Never throws: a node left tainted is the one outcome to avoid, so it is logged loudly.
   */
  async #rollback(nodeName: string, cause: 'done' | 'startup'): Promise<void> {
    for (let attempt = 1; attempt <= 10; attempt++) {
      try {
        const node = await withRetry(`read node "${nodeName}"`, () => this.#o.core.readNode({ name: nodeName }));
        const record = decodeDrainRecord(node.metadata?.annotations?.[DRAIN_ANNOTATION]);
        const taints = record?.previous.hadTaint === true ? node.spec?.taints ?? [] : withoutDrainingTaint(node.spec?.taints);
        const body = { metadata: { resourceVersion: node.metadata?.resourceVersion, annotations: { [DRAIN_ANNOTATION]: null } }, spec: { taints } };
        await withRetry(`untaint node "${nodeName}"`, () => this.#o.core.patchNode({ name: nodeName, body }, _MERGE));
        if (cause === 'startup') this.#o.metrics?.rollbacks.inc({ cause });
        return;
      } catch (error) {
        const info = describeApiError((error as { cause?: unknown }).cause ?? error);
        if (info.status === 404) return;
        this.#o.log.error({ node: nodeName, attempt, error: error instanceof Error ? error.message : String(error) }, 'Cannot untaint node: retrying');
        await sleep(Math.min(5_000, 200 * attempt));
      }
    }
    this.#o.log.fatal({ node: nodeName }, `Node "${nodeName}" is still tainted "stowage.io/draining": the next start rolls it back`);
  }

  async #waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = this.#now() + this.#options.waveTimeoutMs;
    for (;;) {
      if (this.#o.signal?.aborted) throw new Error('Stopped by a signal');
      try {
        if (await check()) return;
      } catch (error) {
        // A passing API failure while waiting is not a reason to give up; the deadline is.
        if (!describeApiError(error).retryable) throw error;
      }
      if (this.#now() > deadline) throw new Error(`Timed out after ${Math.round(this.#options.waveTimeoutMs / 1000)}s waiting for ${what}`);
      await sleep(this.#options.pollMs);
    }
  }

  async #nodeEvent(name: string, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.#o.events?.record({ kind: 'Node', name, apiVersion: 'v1' }, type, reason, message);
  }
}
