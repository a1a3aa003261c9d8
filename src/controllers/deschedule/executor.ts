/**
 * Carries out a descheduling plan against the live cluster, one node at a time, never below a
 * workload's floor:
 *
 * 1. Re-check the drain against live state with the policy's own `AvailabilityGuard` (every PDB
 *    on the node, settled workloads, the one-Ready-replica rule); a stale or refused drain is not
 *    touched at all.
 * 2. Taint the node `stowage.io/draining:NoSchedule` and record the drain on the node, so nothing
 *    lands there and a restart can roll it back.
 * 3. Move pods wave by wave: `evict` through the Eviction API (a 429 from a PDB aborts the drain),
 *    `surge-first` by a rolling update with maxSurge 1 / maxUnavailable 0, in which the Deployment
 *    controller removes each old pod only once a replacement is Available. The rollout replaces
 *    every pod of the Deployment, so a surge-first move waits for it to finish, and a later move of
 *    a pod it already replaced starts nothing. A wave starts only when the replacements of the one
 *    before are Ready.
 * 4. Always untaint and clear the record, on success and on failure; a failed drain is remembered
 *    with backoff so the next plan skips the node for a while.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type CoreV1Api, type V1Deployment, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { matchesLabelSelector } from '../../core/labels.js';
import type { ClusterSnapshot, LabelSelector, PodView, WorkloadRef } from '../../core/model.js';
import { holdsResources, indexSnapshot } from '../../core/snapshot.js';
import type { SnapshotFocus } from '../../kube/cluster-cache.js';
import { describeApiError } from '../../kube/errors.js';
import { evictPod } from '../../kube/evict.js';
import type { EventRecorder } from '../../kube/events.js';
import { withRetry } from '../../kube/retry.js';
import type { Logger } from '../../observability/log.js';
import { AvailabilityGuard, recordDrainFailure } from '../../policy/deschedule/guards.js';
import type { DrainFailure } from '../../policy/deschedule/guards.js';
import { reason, refusalBacksOff } from '../../policy/deschedule/reasons.js';
import type { Reason, ReasonCode } from '../../policy/deschedule/reasons.js';
import type { Move, NodeDrain, Plan } from '../../policy/deschedule/types.js';
import {
  decodeDrainRecord,
  DRAIN_ANNOTATION,
  encodeDrainRecord,
  hasDrainingTaint,
  MOVED_AT_ANNOTATION,
  SURGE_ANNOTATION,
  surgesSafely,
  withDrainingTaint,
  withoutDrainingTaint,
} from './drain-state.js';
import type { DeschedulerMetrics } from './metrics.js';

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
  /** How long a replacement may take to be Ready before the drain is abandoned. */
  readonly replacementTimeoutMs?: number;
  /** How often the executor looks at pods while it waits. */
  readonly pollMs?: number;
  /** The backoff for failed drains, as the plan's config says. */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Stops waiting and rolls the current drain back (SIGTERM). */
  readonly signal?: AbortSignal;
}

/** How one drain ended. */
export interface DrainOutcome {
  readonly node: string;
  readonly strategy: string;
  readonly outcome: 'done' | 'failed' | 'skipped';
  readonly moved: readonly string[];
  readonly reason: Reason;
  readonly savingUsdPerHour: number;
}

/** What a plan's execution did. */
export interface ExecutionReport {
  readonly planId: string;
  readonly drains: readonly DrainOutcome[];
  readonly realisedSavingUsdPerHour: number;
}

/** A drain that stopped: the node is rolled back, the reason is reported. */
class DrainAborted extends Error {
  override readonly name = 'DrainAborted';
  readonly code: ReasonCode;

  constructor(code: ReasonCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A new plan id: time-ordered, unique enough to tell runs apart in annotations and logs. */
export function newPlanId(now: number): string {
  return `${now.toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** See the module comment. */
export class PlanExecutor {
  readonly #o: ExecutorOptions;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  #failures: ReadonlyMap<string, DrainFailure> = new Map();

  constructor(options: ExecutorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.replacementTimeoutMs ?? 5 * 60_000;
    this.#pollMs = options.pollMs ?? 500;
  }

  /** Nodes whose drains failed, for the next plan's backoff. */
  get failures(): ReadonlyMap<string, DrainFailure> {
    return this.#failures;
  }

  /**
   * Rolls back what a crashed run left: every node with a drain record or the draining taint is
   * untainted and its record cleared; every Deployment whose strategy a surge changed gets it back
   * once its rollout is done. Returns the nodes rolled back.
   */
  async recover(): Promise<readonly string[]> {
    const nodes = (await withRetry('list nodes', () => this.#o.core.listNode())).items;
    const rolled: string[] = [];
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      const record = decodeDrainRecord(node.metadata?.annotations?.[DRAIN_ANNOTATION]);
      if (record === undefined && node.metadata?.annotations?.[DRAIN_ANNOTATION] === undefined && !hasDrainingTaint(node.spec?.taints)) continue;
      await this.#rollback(name, 'startup');
      rolled.push(name);
      this.#o.log.warn({ node: name, planId: record?.planId, startedAt: record?.startedAt }, 'Rolled back a drain left by an earlier run');
      await this.#o.events?.record({ kind: 'Node', name, uid: node.metadata?.uid ?? '', apiVersion: 'v1' }, 'Normal', 'DrainRolledBack', `Rolled back drain of plan "${record?.planId ?? 'unknown'}" left by an earlier run: node untainted`);
    }
    const deployments = (await withRetry('list deployments', () => this.#o.apps.listDeploymentForAllNamespaces())).items;
    for (const d of deployments) {
      if (d.metadata?.annotations?.[SURGE_ANNOTATION] === undefined) continue;
      const ref: WorkloadRef = { kind: 'Deployment', namespace: d.metadata.namespace ?? '', name: d.metadata.name ?? '' };
      // The rollout goes on without us, with maxUnavailable 0; give the strategy back once it is done.
      await this.#waitFor(`Deployment "${ref.namespace}/${ref.name}" to finish its rollout`, () => this.#rolledOut(ref));
      await this.#restoreStrategy(ref);
    }
    return rolled;
  }

  /** Carries out `plan`: its drains in order, then moves outside any drain (balance). */
  async execute(plan: Plan, planId: string): Promise<ExecutionReport> {
    await this.#restoreFinishedSurges();
    const outcomes: DrainOutcome[] = [];
    const drained = new Set(plan.drains.map((d) => d.node));
    for (const drain of plan.drains) {
      if (this.#o.signal?.aborted) break;
      const moves = plan.moves.filter((m) => m.fromNode === drain.node && drain.pods.some((p) => p.uid === m.pod.uid));
      outcomes.push(await this.#drain(drain, moves, planId));
    }
    for (const move of plan.moves.filter((m) => !drained.has(m.fromNode))) {
      if (this.#o.signal?.aborted) break;
      const single: NodeDrain = { node: move.fromNode, strategy: move.strategy, savingUsdPerHour: move.savingUsdPerHour, pods: [move.pod], staying: [], reason: move.reason };
      outcomes.push(await this.#drain(single, [move], planId, false));
    }
    const realised = outcomes.filter((o) => o.outcome === 'done').reduce((sum, o) => sum + o.savingUsdPerHour, 0);
    return { planId, drains: outcomes, realisedSavingUsdPerHour: realised };
  }

  /**
   * Gives back the strategy of Deployments whose surge timed out in an earlier cycle, once their
   * rollout has finished; one still rolling keeps maxUnavailable 0, as giving Recreate back
   * mid-rollout would delete the old pod before the new one is Ready.
   */
  async #restoreFinishedSurges(): Promise<void> {
    const deployments = (await withRetry('list deployments', () => this.#o.apps.listDeploymentForAllNamespaces())).items;
    for (const d of deployments) {
      if (d.metadata?.annotations?.[SURGE_ANNOTATION] === undefined) continue;
      const ref: WorkloadRef = { kind: 'Deployment', namespace: d.metadata.namespace ?? '', name: d.metadata.name ?? '' };
      if (await this.#rolledOut(ref)) await this.#restoreStrategy(ref);
    }
  }

  async #drain(drain: NodeDrain, moves: readonly Move[], planId: string, taint = true): Promise<DrainOutcome> {
    const log = this.#o.log.child({ planId, node: drain.node, strategy: drain.strategy });
    const base = { node: drain.node, strategy: drain.strategy, savingUsdPerHour: drain.savingUsdPerHour };
    const refused = await this.#recheck(drain, moves, taint);
    if (refused !== undefined) {
      log.info({ code: refused.code, reason: refused.message }, 'Drain skipped: live state differs from the plan');
      this.#o.metrics?.drains.inc({ strategy: drain.strategy, outcome: 'skipped' });
      this.#o.metrics?.skipped.inc({ strategy: drain.strategy, reason: refused.code });
      await this.#nodeEvent(drain.node, 'Warning', 'DrainSkipped', refused.message);
      // A refusal rooted in the workload's own configuration would repeat next cycle: back off like a failed drain.
      if (refusalBacksOff(refused.code)) this.#failures = recordDrainFailure(this.#failures, drain.node, this.#now());
      return { ...base, outcome: 'skipped', moved: [], reason: refused };
    }

    const moved: string[] = [];
    if (taint) await this.#taint(drain, planId);
    log.info({ pods: moves.length }, 'Drain started');
    try {
      const waves = [...new Set(moves.map((m) => m.wave))].sort((a, b) => a - b);
      for (const wave of waves) {
        const inWave = moves.filter((m) => m.wave === wave);
        for (const move of inWave) {
          this.#checkSignal();
          await this.#start(move, log);
        }
        for (const move of inWave) {
          await this.#waitReplaced(move);
          moved.push(`${move.pod.namespace}/${move.pod.name}`);
          this.#o.metrics?.evictions.inc({ strategy: move.strategy, mode: move.mode, outcome: 'done' });
          log.info({ pod: `${move.pod.namespace}/${move.pod.name}`, mode: move.mode, wave, to: move.toNode }, 'Pod moved, replacement Ready');
          await this.#o.events?.record(
            { kind: 'Pod', namespace: move.pod.namespace, name: move.pod.name, uid: move.pod.uid, apiVersion: 'v1' },
            'Normal',
            'Descheduled',
            `Moved off node "${move.fromNode}" by ${move.strategy} (${move.mode}, plan "${planId}"): ${move.reason.message}`,
          );
        }
      }
      const next = new Map(this.#failures);
      next.delete(drain.node);
      this.#failures = next;
      this.#o.metrics?.drains.inc({ strategy: drain.strategy, outcome: 'done' });
      this.#o.metrics?.realisedSaving.inc({ strategy: drain.strategy }, drain.savingUsdPerHour);
      log.info({ moved: moved.length, savingUsdPerHour: drain.savingUsdPerHour }, 'Drain done');
      if (taint) await this.#nodeEvent(drain.node, 'Normal', 'Drained', `Moved ${moved.length} pod(s) by ${drain.strategy} (plan "${planId}"): ${drain.reason.message}`);
      return { ...base, outcome: 'done', moved, reason: drain.reason };
    } catch (error) {
      const why = error instanceof DrainAborted ? reason(error.code, error.message) : reason('api-error', error instanceof Error ? error.message : String(error));
      this.#failures = recordDrainFailure(this.#failures, drain.node, this.#now());
      this.#o.metrics?.drains.inc({ strategy: drain.strategy, outcome: 'failed' });
      log.warn({ code: why.code, reason: why.message, moved: moved.length }, 'Drain failed: rolling back');
      await this.#nodeEvent(drain.node, 'Warning', 'DrainFailed', `Drain by ${drain.strategy} stopped after ${moved.length} pod(s): ${why.message}`);
      return { ...base, outcome: 'failed', moved, reason: why };
    } finally {
      // Whatever happened, the node is left schedulable and without a record.
      if (taint) await this.#rollback(drain.node, 'done');
    }
  }

  /**
   * Why the drain must not start on the live state, or undefined: the pods the plan moves must
   * still be on the node, no unplanned pod may have arrived, and the policy's guard must admit
   * them all (every PDB on the node re-read from the apiserver).
   */
  async #recheck(drain: NodeDrain, moves: readonly Move[], wholeNode: boolean): Promise<Reason | undefined> {
    const snapshot = await this.#o.readSnapshot({ nodes: [drain.node] });
    const index = indexSnapshot(snapshot);
    const node = index.node(drain.node);
    if (node === undefined) return reason('node-gone', `Node "${drain.node}" is gone`);
    if (node.unschedulable) return reason('node-cordoned', `Node "${drain.node}" was cordoned since planning`);
    const live = index.podsOnNode(drain.node).filter(holdsResources);
    const byUid = new Map(live.map((p) => [p.uid, p] as const));
    const pods: PodView[] = [];
    for (const ref of drain.pods) {
      const pod = byUid.get(ref.uid);
      if (pod === undefined) return reason('stale-plan', `Pod "${ref.namespace}/${ref.name}" changed since planning: no longer on node "${drain.node}"`);
      pods.push(pod);
    }
    const known = new Set([...drain.pods, ...drain.staying].map((p) => p.uid));
    // A single move (balance) leaves the rest of the node alone, so only a drain minds newcomers.
    const arrived = wholeNode ? live.filter((p) => !known.has(p.uid) && p.owner.kind !== 'DaemonSet' && !p.isMirror) : [];
    if (arrived.length > 0) return reason('stale-plan', `Node "${drain.node}" changed since planning: ${arrived.length} new pod(s), first "${arrived[0]?.namespace}/${arrived[0]?.name}"`);
    const admitted = new AvailabilityGuard(index).admit(pods);
    if (!admitted.ok) return admitted.reason;
    for (const a of admitted.admissions) {
      const move = moves.find((m) => m.pod.uid === a.pod.uid);
      if (move !== undefined && move.mode !== a.mode) return reason('stale-plan', `Pod "${a.pod.namespace}/${a.pod.name}" changed since planning: it now needs ${a.mode}, the plan says ${move.mode}`);
    }
    return undefined;
  }

  async #start(move: Move, log: Logger): Promise<void> {
    const who = `${move.pod.namespace}/${move.pod.name}`;
    if (move.mode === 'surge-first') {
      if (move.workload.kind !== 'Deployment') throw new DrainAborted('single-replica', `Cannot surge pod "${who}": only a Deployment can start a replacement first`);
      // An earlier surge-first move of this Deployment restarted all its pods, this one included.
      if (await this.#gone(move.pod.namespace, move.pod.name, move.pod.uid)) {
        log.info({ pod: who, workload: move.workload.name }, 'Pod already replaced by an earlier rollout');
        return;
      }
      await this.#surge(move.workload);
      log.info({ pod: who, workload: move.workload.name }, 'Surge started: replacement first');
      return;
    }
    const outcome = await evictPod(this.#o.core, move.pod.namespace, move.pod.name, { uid: move.pod.uid });
    if (outcome.kind === 'blocked') {
      this.#o.metrics?.evictions.inc({ strategy: move.strategy, mode: move.mode, outcome: 'blocked' });
      throw new DrainAborted('eviction-refused', `Cannot evict pod "${who}": the apiserver refused (a PodDisruptionBudget): ${outcome.reason}`);
    }
    log.info({ pod: who, outcome: outcome.kind }, 'Pod evicted');
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

  /**
   * Waits until the moved pod is gone and its workload has all its replicas Ready again; after a
   * surge, until the Deployment's rollout is done, then gives its strategy back.
   */
  async #waitReplaced(move: Move): Promise<void> {
    const who = `pod "${move.pod.namespace}/${move.pod.name}"`;
    await this.#waitFor(`the replacement of ${who} to be Ready`, async () => {
      if (!(await this.#gone(move.pod.namespace, move.pod.name, move.pod.uid))) return false;
      return this.#workloadReady(move.workload, move.pod.uid);
    });
    if (move.mode === 'surge-first' && move.workload.kind === 'Deployment') {
      // With more than one replica, the moved pod may be gone while the rollout still replaces
      // others: giving back Recreate or a maxUnavailable above 0 then would take replicas down.
      const ref = move.workload;
      await this.#waitFor(`Deployment "${ref.namespace}/${ref.name}" to finish its rollout`, () => this.#rolledOut(ref));
      await this.#restoreStrategy(ref);
    }
  }

  async #gone(namespace: string, name: string, uid: string): Promise<boolean> {
    try {
      const pod = await this.#o.core.readNamespacedPod({ name, namespace });
      return pod.metadata?.uid !== uid;
    } catch (error) {
      if (describeApiError(error).status === 404) return true;
      throw error;
    }
  }

  /**
   * Whether the workload has as many Ready, not terminating pods as it wants; for kinds without a
   * replica count, true (the pod being gone is all there is to wait for).
   */
  async #workloadReady(ref: WorkloadRef, movedUid: string): Promise<boolean> {
    let replicas: number;
    let selector: LabelSelector | undefined;
    if (ref.kind === 'Deployment') {
      const d = await this.#o.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace });
      replicas = d.spec?.replicas ?? 1;
      selector = d.spec?.selector as LabelSelector | undefined;
    } else if (ref.kind === 'StatefulSet') {
      const s = await this.#o.apps.readNamespacedStatefulSet({ name: ref.name, namespace: ref.namespace });
      replicas = s.spec?.replicas ?? 1;
      selector = s.spec?.selector as LabelSelector | undefined;
    } else {
      return true;
    }
    const pods = (await this.#o.core.listNamespacedPod({ namespace: ref.namespace })).items;
    // Pods still on the node count: later waves move them, and until then they serve.
    const ready = pods.filter((p) => matchesLabelSelector(selector, p.metadata?.labels ?? {}) && _isReady(p) && p.metadata?.deletionTimestamp === undefined && p.metadata?.uid !== movedUid);
    return ready.length >= replicas;
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
    const node: V1Node = await withRetry(`read node "${drain.node}"`, () => this.#o.core.readNode({ name: drain.node }));
    const at = new Date(this.#now());
    const record = encodeDrainRecord({
      planId,
      startedAt: at.toISOString(),
      strategy: drain.strategy,
      pods: drain.pods.map((p) => `${p.namespace}/${p.name}`),
      previous: { hadTaint: hasDrainingTaint(node.spec?.taints), unschedulable: node.spec?.unschedulable === true },
    });
    const body = { metadata: { resourceVersion: node.metadata?.resourceVersion, annotations: { [DRAIN_ANNOTATION]: record } }, spec: { taints: withDrainingTaint(node.spec?.taints, at) } };
    await withRetry(`taint node "${drain.node}"`, () => this.#o.core.patchNode({ name: drain.node, body }, _MERGE));
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
    const deadline = this.#now() + this.#timeoutMs;
    for (;;) {
      this.#checkSignal();
      try {
        if (await check()) return;
      } catch (error) {
        // A passing API failure while waiting is not a reason to give up; the deadline is.
        if (!describeApiError(error).retryable) throw error;
      }
      if (this.#now() > deadline) throw new DrainAborted('timeout', `Timed out after ${Math.round(this.#timeoutMs / 1000)}s waiting for ${what}`);
      await sleep(this.#pollMs);
    }
  }

  #checkSignal(): void {
    if (this.#o.signal?.aborted) throw new DrainAborted('stopped', 'Stopped by a signal');
  }

  async #nodeEvent(name: string, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.#o.events?.record({ kind: 'Node', name, apiVersion: 'v1' }, type, reason, message);
  }
}

function _isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
