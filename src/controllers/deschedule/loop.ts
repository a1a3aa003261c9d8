/**
 * The descheduling loop: read the cluster, plan with the policy, explain, carry out; then wait the
 * housekeeping interval. A dry run plans exactly as a real cycle does and writes nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterSnapshot } from '../../core/model.js';
import type { PriceTable } from '../../core/pricing.js';
import type { EventRecorder } from '../../kube/events.js';
import type { Logger } from '../../observability/log.js';
import type { MoveHistory } from '../../policy/deschedule/anti-flap.js';
import { needsPodUsage, planDescheduling, type DeschedulingConfig } from '../../policy/deschedule/plan.js';
import { podUsageByUid, type PodMetricsRead } from '../../kube/pod-metrics.js';
import type { NodeOffer, PlacementContext, Plan } from '../../policy/deschedule/types.js';
import type { PoolOffers } from '../../kube/node-pools.js';
import { NODEPOOL_LABEL, type DisruptionBudget } from '../../policy/deschedule/disruption-budget.js';
import { newPlanId, type ExecutionReport, type PlanExecutor } from './executor.js';
import type { DeschedulerMetrics } from './metrics.js';

/** What a cycle needs. */
export interface CycleOptions {
  readonly readSnapshot: () => Promise<ClusterSnapshot>;
  readonly config: DeschedulingConfig;
  readonly prices: PriceTable;
  /**
   * The placement webhook's policy (with the namespaces' annotations, read each cycle), so that
   * spot-reschedule keeps each workload's on-demand floor; absent when no webhook runs.
   */
  readonly readPlacement?: () => Promise<PlacementContext>;
  /**
   * The node types a replacement may be launched of (Karpenter's NodePools), read only when
   * karpenter-consolidate replaces; none when absent or unreadable (it then only deletes).
   */
  readonly readOffers?: (snapshot: ClusterSnapshot) => Promise<PoolOffers>;
  /** What pods use (metrics.k8s.io), read only when a strategy balances use. */
  readonly readPodUsage?: () => Promise<PodMetricsRead>;
  readonly log: Logger;
  readonly now?: () => number;
  /** Absent in a dry run: nothing is written. */
  readonly executor?: PlanExecutor;
  /** Without an executor (a dry run): the moves earlier runs made, so the plan rests the workloads a real cycle would. */
  readonly history?: MoveHistory;
  readonly metrics?: DeschedulerMetrics;
  readonly events?: EventRecorder;
}

/** One cycle's plan and, unless dry, what carrying it out did. */
export interface CycleResult {
  readonly planId: string;
  readonly plan: Plan;
  readonly report?: ExecutionReport;
}

/** Plans one cycle and, with an executor, carries it out. */
export async function runCycle(options: CycleOptions): Promise<CycleResult> {
  const now = options.now ?? Date.now;
  const measure = options.readPodUsage !== undefined && needsPodUsage(options.config) ? options.readPodUsage : undefined;
  const [read, placement, usage] = await Promise.all([options.readSnapshot(), options.readPlacement?.(), measure?.()]);
  let snapshot = read;
  if (usage?.ok === true) snapshot = { ...read, podUsage: podUsageByUid(read, usage.usage) };
  else if (usage !== undefined) options.log.warn(`Balancing on use plans nothing this cycle: ${usage.message}`);
  const pools = options.readOffers !== undefined && _readsPools(options.config) ? await _pools(options, snapshot) : undefined;
  const offers = _replaces(options.config) ? pools?.offers : undefined;
  const planId = newPlanId(now());
  const plan = planDescheduling(snapshot, options.config, {
    now: now(),
    prices: options.prices,
    ...(offers === undefined ? {} : { offers }),
    ...(pools?.budgets === undefined ? {} : { nodePoolBudgets: pools.budgets }),
    ...(placement === undefined ? {} : { placement }),
    ...(options.executor === undefined ? (options.history === undefined ? {} : { history: options.history }) : { failures: options.executor.failures, history: options.executor.history }),
  });
  options.metrics?.projectedSaving.set(plan.savingUsdPerHour);
  options.log.info({ planId, drains: plan.drains.length, moves: plan.moves.length, skipped: plan.skipped.length, savingUsdPerHour: plan.savingUsdPerHour }, 'Planned');
  if (options.executor === undefined) return { planId, plan };
  for (const skip of plan.skipped) {
    options.metrics?.skipped.inc({ strategy: skip.strategy, reason: skip.reason.code });
    options.log.debug({ planId, node: skip.node, strategy: skip.strategy, code: skip.reason.code, reason: skip.reason.message }, 'Node skipped');
    await options.events?.record({ kind: 'Node', name: skip.node, apiVersion: 'v1' }, 'Normal', 'DeschedulingSkipped', `${skip.strategy}: ${skip.reason.message}`);
  }
  const report = await options.executor.execute(plan, planId);
  options.log.info({ planId, drains: report.drains.map((d) => ({ node: d.node, outcome: d.outcome, moved: d.moved.length, code: d.reason.code, reason: d.reason.message })), realisedSavingUsdPerHour: report.realisedSavingUsdPerHour }, 'Cycle done');
  return { planId, plan, report };
}

/** Whether karpenter-consolidate is on: only then are the NodePools read (offers, disruption budgets). */
function _readsPools(config: DeschedulingConfig): boolean {
  return config.strategies['karpenter-consolidate'].enabled;
}

/** Whether karpenter-consolidate may replace nodes: only then are the offers used. */
function _replaces(config: DeschedulingConfig): boolean {
  const section = config.strategies['karpenter-consolidate'];
  return section.enabled && section.replace;
}

/**
 * The NodePools' offers and budgets, logged. An unreadable source (no RBAC, the apiserver away)
 * gives no offers and a warning, not a failed cycle; the budgets then allow nothing for the pools
 * the nodes name (Karpenter fails closed on a budget it cannot read too).
 */
async function _pools(options: CycleOptions, snapshot: ClusterSnapshot): Promise<{ readonly offers?: readonly NodeOffer[]; readonly budgets: ReadonlyMap<string, readonly DisruptionBudget[]> }> {
  try {
    const read = await (options.readOffers as (s: ClusterSnapshot) => Promise<PoolOffers>)(snapshot);
    for (const r of read.refused) options.log.info({ nodePool: r.pool, reason: r.reason }, 'NodePool offers no replacement node');
    options.log.debug({ offers: read.offers.length }, 'Replacement offers read');
    return { offers: read.offers, budgets: read.budgets ?? new Map() };
  } catch (error) {
    options.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'Cannot read the NodePools: karpenter-consolidate does not replace, nor delete Karpenter nodes (their disruption budgets unknown), this cycle');
    const named = new Set(snapshot.nodes.map((n) => n.labels[NODEPOOL_LABEL]).filter((p): p is string => p !== undefined));
    return { budgets: new Map([...named].map((pool) => [pool, [{ nodes: '0' }]] as const)) };
  }
}

/** The wait before retrying after `failures` failed cycles in a row: 1 s doubling, at most the interval. */
export function retryDelayMs(failures: number, intervalMs: number): number {
  return Math.min(intervalMs, 1000 * 2 ** Math.min(failures - 1, 16));
}

/**
 * Runs cycles every `intervalMs` until `signal` aborts. A failed cycle (the apiserver away, a
 * 429) is logged and retried with backoff, sooner than the interval: 1 s, 2 s, 4 s, ...
 */
export async function runLoop(options: CycleOptions & { readonly intervalMs: number; readonly signal: AbortSignal }): Promise<void> {
  let failures = 0;
  while (!options.signal.aborted) {
    const end = options.metrics?.cycleSeconds.startTimer();
    let waitMs = options.intervalMs;
    try {
      await runCycle(options);
      options.metrics?.cycles.inc({ outcome: 'ok' });
      failures = 0;
    } catch (error) {
      options.metrics?.cycles.inc({ outcome: 'error' });
      failures += 1;
      waitMs = retryDelayMs(failures, options.intervalMs);
      options.log.error({ error: error instanceof Error ? error.message : String(error), failures, retryInMs: waitMs }, 'Cycle failed');
    }
    end?.();
    try {
      await sleep(waitMs, undefined, { signal: options.signal });
    } catch {
      return;
    }
  }
}
