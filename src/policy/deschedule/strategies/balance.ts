/**
 * balance: even out requests across nodes, after the upstream descheduler's LowNodeUtilization.
 * A node is overutilized when any of cpu, memory or pods is above its high threshold,
 * underutilized when all are below its low one. Pods move from overutilized nodes to
 * underutilized ones of the same capacity type (so no pod moves to dearer capacity), until the
 * source is no longer above its high threshold and without taking a destination above it. No node
 * is added or removed, so the cost stays as it is; each move is a plain move, never a drain.
 *
 * The thresholds follow the packing the scheduler itself produces, since balancing against the
 * scheduler only makes it undo the moves:
 * - a spreading scheduler (NodeResourcesFit LeastAllocated, kube-scheduler's default) aims at
 *   even nodes, so "uneven" means far from the mean: thresholds are the mean requests of the
 *   nodes of the capacity type plus and minus `deviation` points (upstream's
 *   `useDeviationThresholds`). A fixed 70% would call every node of a well-packed cluster
 *   overutilized;
 * - a packing scheduler (MostAllocated) fills nodes to allocatable on purpose, so that emptied
 *   nodes can be removed: a full node is its goal, not an imbalance, and moving its pods to the
 *   emptier nodes keeps alive the nodes the autoscaler would remove (upstream pairs MostAllocated
 *   with HighNodeUtilization, which is `consolidate` here). balance then plans no move.
 *
 * Fixed `low`/`high` thresholds (percent of allocatable), when configured, replace both rules.
 *
 * `basis: usage` balances what the pods use, not what they request (upstream's
 * `metricsUtilization`): a node's load is the measured use of its pods (the snapshot's
 * `podUsage`: `metrics.k8s.io` live, the usage model in the simulator; a pod not measured yet
 * counts at its request), judged on cpu, and on memory when the measurements carry it; the pod
 * count is not load and is not judged. Use against the mean is uneven whatever the scheduler's
 * scoring (it packs requests, not use), so the deviation rule applies under MostAllocated too.
 * A moved pod's replacement is expected to use what the pod used.
 */
import { z } from 'zod';
import type { ClusterSnapshot, NodeView, PodView } from '../../../core/model.js';
import type { Move, SkippedNode, StrategyResult } from '../types.js';
import type { PlanningSession } from '../session.js';
import { reason } from '../reasons.js';
import type { Reason } from '../reasons.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { sortNodes } from './strategy.js';
import { profilePacks } from '../landing.js';

const thresholdsSchema = z.strictObject({
  cpu: z.number().min(0).max(100),
  memory: z.number().min(0).max(100),
  pods: z.number().min(0).max(100),
});

/** What balance evens out: requested resources, or measured use. */
export const BALANCE_BASES = ['requests', 'usage'] as const;
/** One of {@link BALANCE_BASES}. */
export type BalanceBasis = (typeof BALANCE_BASES)[number];

/** The NodeResourcesFit scoring strategy of the cluster's scheduler: spreading or packing. */
export const SCHEDULER_SCORING = ['LeastAllocated', 'MostAllocated'] as const;
/** One of {@link SCHEDULER_SCORING}. */
export type SchedulerScoring = (typeof SCHEDULER_SCORING)[number];

/** The `strategies.balance` config. Off by default. */
export const balanceConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Requested resources (the default), or measured use (needs metrics.k8s.io live). */
    basis: z.enum(BALANCE_BASES).default('requests'),
    /**
     * How the cluster's scheduler scores resources. Unset, it follows `scheduler.profile` (the one
     * place the config names the cluster's scheduler): MostAllocated when that profile packs.
     */
    schedulerScoring: z.enum(SCHEDULER_SCORING).optional(),
    /** Points of allocatable above (over) and below (under) the mean of the nodes of a capacity type. */
    deviation: thresholdsSchema.default({ cpu: 10, memory: 10, pods: 10 }),
    /** Fixed thresholds in percent of allocatable, replacing the ones derived from the scheduler. */
    low: thresholdsSchema.optional(),
    high: thresholdsSchema.optional(),
  })
  .refine((c) => (c.low === undefined) === (c.high === undefined), { message: 'set both low and high thresholds, or neither' })
  .refine((c) => c.low === undefined || c.high === undefined || (c.low.cpu <= c.high.cpu && c.low.memory <= c.high.memory && c.low.pods <= c.high.pods), {
    message: 'low thresholds must not exceed high ones',
  });
/** The parsed `strategies.balance` config. */
export type BalanceConfig = z.infer<typeof balanceConfigSchema>;

type _Usage = { readonly cpu: number; readonly memory: number; readonly pods: number };

/** A node's load in percent of allocatable, with `extra` placed on it; see {@link _meter}. */
type _Meter = (node: NodeView, extra?: PodView) => _Usage;

const _pct = (used: number, total: number | undefined): number => (total !== undefined && total > 0 ? (100 * used) / total : 0);

/**
 * How the plan measures a node's load: its requests, or its pods' measured use (see the module
 * comment). Both follow the moves planned so far, as the session's state does.
 */
function _meter(session: PlanningSession, snapshot: ClusterSnapshot, basis: BalanceBasis): _Meter {
  if (basis === 'requests') {
    return (node, extra) => {
      const requested = session.state.requested(node.name);
      return {
        cpu: _pct((requested['cpu'] ?? 0) + (extra?.requests['cpu'] ?? 0), node.allocatable['cpu']),
        memory: _pct((requested['memory'] ?? 0) + (extra?.requests['memory'] ?? 0), node.allocatable['memory']),
        pods: _pct(session.state.podCount(node.name) + (extra ? 1 : 0), node.allocatable['pods']),
      };
    };
  }
  const measured = snapshot.podUsage ?? new Map<string, Readonly<Record<string, number>>>();
  let memoryMeasured = false;
  for (const u of measured.values()) {
    if (u['memory'] !== undefined) {
      memoryMeasured = true;
      break;
    }
  }
  const used = (pod: PodView, resource: string): number => measured.get(pod.uid)?.[resource] ?? pod.requests[resource] ?? 0;
  return (node, extra) => {
    let cpu = extra === undefined ? 0 : used(extra, 'cpu');
    let memory = extra === undefined || !memoryMeasured ? 0 : used(extra, 'memory');
    for (const pod of session.state.podsOn(node.name)) {
      cpu += used(pod, 'cpu');
      if (memoryMeasured) memory += used(pod, 'memory');
    }
    return { cpu: _pct(cpu, node.allocatable['cpu']), memory: _pct(memory, node.allocatable['memory']), pods: 0 };
  };
}

function _above(u: _Usage, t: _Usage): boolean {
  return u.cpu > t.cpu || u.memory > t.memory || u.pods > t.pods;
}

/** At or under every low threshold, as upstream's `isNodeWithLowUtilization` (a resource no pod requests is at 0, never over). */
function _below(u: _Usage, t: _Usage): boolean {
  return u.cpu <= t.cpu && u.memory <= t.memory && u.pods <= t.pods;
}

function _fmt(u: _Usage, basis: BalanceBasis): string {
  if (basis === 'usage') return `cpu ${Math.round(u.cpu)}%, memory ${Math.round(u.memory)}% in use`;
  return `cpu ${Math.round(u.cpu)}%, memory ${Math.round(u.memory)}%, pods ${Math.round(u.pods)}%`;
}

/** A node's low and high thresholds. */
interface _Thresholds {
  readonly low: _Usage;
  readonly high: _Usage;
}

/**
 * The thresholds of each node (see the module comment): fixed ones when configured, else the mean
 * of its capacity type ± the deviation; undefined when the scheduler packs.
 */
function _thresholds(meter: _Meter, nodes: readonly NodeView[], config: BalanceConfig, scoring: SchedulerScoring): ((node: NodeView) => _Thresholds) | undefined {
  if (config.low !== undefined && config.high !== undefined) {
    const fixed = { low: config.low, high: config.high };
    return () => fixed;
  }
  if (config.basis === 'requests' && scoring === 'MostAllocated') return undefined;
  const sums = new Map<string, { cpu: number; memory: number; pods: number; n: number }>();
  for (const node of nodes) {
    const u = meter(node);
    const sum = sums.get(node.capacityType) ?? { cpu: 0, memory: 0, pods: 0, n: 0 };
    sums.set(node.capacityType, { cpu: sum.cpu + u.cpu, memory: sum.memory + u.memory, pods: sum.pods + u.pods, n: sum.n + 1 });
  }
  const d = config.deviation;
  const byType = new Map<string, _Thresholds>();
  for (const [type, sum] of sums) {
    const mean = { cpu: sum.cpu / sum.n, memory: sum.memory / sum.n, pods: sum.pods / sum.n };
    byType.set(type, {
      low: { cpu: _low(mean.cpu, d.cpu), memory: _low(mean.memory, d.memory), pods: _low(mean.pods, d.pods) },
      high: { cpu: mean.cpu + d.cpu, memory: mean.memory + d.memory, pods: mean.pods + d.pods },
    });
  }
  const none: _Thresholds = { low: { cpu: 0, memory: 0, pods: 0 }, high: { cpu: 100, memory: 100, pods: 100 } };
  return (node) => byType.get(node.capacityType) ?? none;
}

/**
 * The low threshold of one resource: the mean less the deviation. A resource the nodes use less
 * than the deviation on average (pods, on nodes of big pods) has no low side to speak of, so it
 * does not decide whether a node is underutilized.
 */
function _low(mean: number, deviation: number): number {
  return mean >= deviation ? mean - deviation : 100;
}

/** Plans balance; see the module comment. */
export function planBalance(snapshot: ClusterSnapshot, config: BalanceConfig, ctx: StrategyContext): StrategyResult {
  const { session } = ctx;
  const strategy = 'balance';
  const moves: Move[] = [];
  const skipped: SkippedNode[] = [];
  // No measurements (live: metrics.k8s.io not served): balancing requests instead would be a different strategy.
  if (config.basis === 'usage' && snapshot.podUsage === undefined) return { moves, drains: [], skipped };
  const usable = snapshot.nodes.filter((n) => n.ready && !n.unschedulable && !session.isDrained(n.name));
  const meter = _meter(session, snapshot, config.basis);
  const scoring = config.schedulerScoring ?? (profilePacks(session.settings.scheduler?.profile ?? 'default') ? 'MostAllocated' : 'LeastAllocated');
  const thresholdsOf = _thresholds(meter, usable, config, scoring);
  if (thresholdsOf === undefined) return { moves, drains: [], skipped };
  const under = usable.filter((n) => _below(meter(n), thresholdsOf(n).low));
  const over = usable.filter((n) => _above(meter(n), thresholdsOf(n).high));
  if (under.length === 0 || over.length === 0) return { moves, drains: [], skipped };

  const load = (name: string): number => {
    const u = meter(session.node(name) as NodeView);
    return Math.max(u.cpu, u.memory, u.pods);
  };
  const targets = sortNodes(under.map((n) => n.name), (name) => [load(name)]);
  const sources = sortNodes(over.map((n) => n.name), (name) => [-load(name)]);

  for (const name of sources) {
    const node = session.node(name) as NodeView;
    const skip = session.nodeSkipReason(node);
    if (skip !== undefined) {
      skipped.push({ node: name, strategy, reason: skip });
      continue;
    }
    // Lowest priority first, then the biggest, as upstream evicts the least important first.
    const pods = [...session.podsOn(name)].sort((a, b) => a.priority - b.priority || (b.requests['cpu'] ?? 0) - (a.requests['cpu'] ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let lastReason: Reason | undefined;
    let moved = 0;
    for (const pod of pods) {
      if (!_above(meter(node), thresholdsOf(node).high) || session.budget.exhausted) break;
      const before = _fmt(meter(node), config.basis);
      const attempt = session.tryMove(pod, {
        strategy,
        targets,
        // A surged pod on a node the autoscaler will remove is disrupted again when it goes, with no spare replica.
        surgeAvoidsRemovalCandidates: true,
        why: `Node "${name}" is above its high thresholds (${before}; high ${_fmt(thresholdsOf(node).high, config.basis)})`,
        // Same capacity type only: a replacement the webhook sends elsewhere fails the fit check.
        accept: (target, replacement) => {
          const t = session.node(target) as NodeView;
          return t.capacityType === node.capacityType && !_above(meter(t, replacement), thresholdsOf(t).high);
        },
      });
      if (attempt.ok) {
        moves.push(attempt.move);
        moved++;
      } else lastReason = attempt.reason;
    }
    if (moved === 0) skipped.push({ node: name, strategy, reason: lastReason ?? reason('no-pod', `Node "${name}" has no pod to move`) });
  }
  return { moves, drains: [], skipped };
}

/** The balance strategy, for the registry. */
export const balance: Strategy<'balance', BalanceConfig> = {
  name: 'balance',
  configSchema: balanceConfigSchema,
  plan: planBalance,
  needsPodUsage: (config) => config.basis === 'usage',
};
