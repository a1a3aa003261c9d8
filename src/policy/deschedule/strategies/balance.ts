/**
 * balance: even out requests across nodes, after the upstream descheduler's LowNodeUtilization.
 * A node is overutilized when any of cpu, memory or pods is above `high` percent of allocatable,
 * underutilized when all are below `low`. Pods move from overutilized nodes to underutilized ones
 * of the same capacity type (so no pod moves to dearer capacity), until the source is no longer
 * above `high` and without taking a destination above it. No node is added or removed, so the
 * cost stays as it is; each move is a plain move, never a drain.
 */
import { z } from 'zod';
import type { ClusterSnapshot, NodeView, PodView } from '../../../core/model.js';
import type { Move, SkippedNode, StrategyResult } from '../types.js';
import type { PlanningSession } from '../session.js';
import { reason } from '../reasons.js';
import type { Reason } from '../reasons.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { sortNodes } from './strategy.js';

const thresholdsSchema = z.strictObject({
  cpu: z.number().min(0).max(100),
  memory: z.number().min(0).max(100),
  pods: z.number().min(0).max(100),
});

/** The `strategies.balance` config: thresholds in percent of allocatable. Off by default. */
export const balanceConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    low: thresholdsSchema.default({ cpu: 20, memory: 20, pods: 20 }),
    high: thresholdsSchema.default({ cpu: 70, memory: 70, pods: 70 }),
  })
  .refine((c) => c.low.cpu <= c.high.cpu && c.low.memory <= c.high.memory && c.low.pods <= c.high.pods, { message: 'low thresholds must not exceed high ones' });
/** The parsed `strategies.balance` config. */
export type BalanceConfig = z.infer<typeof balanceConfigSchema>;

type _Usage = { readonly cpu: number; readonly memory: number; readonly pods: number };

function _usage(session: PlanningSession, node: NodeView, extra?: PodView): _Usage {
  const requested = session.state.requested(node.name);
  const pct = (used: number, total: number | undefined): number => (total !== undefined && total > 0 ? (100 * used) / total : 0);
  return {
    cpu: pct((requested['cpu'] ?? 0) + (extra?.requests['cpu'] ?? 0), node.allocatable['cpu']),
    memory: pct((requested['memory'] ?? 0) + (extra?.requests['memory'] ?? 0), node.allocatable['memory']),
    pods: pct(session.state.podCount(node.name) + (extra ? 1 : 0), node.allocatable['pods']),
  };
}

function _above(u: _Usage, t: _Usage): boolean {
  return u.cpu > t.cpu || u.memory > t.memory || u.pods > t.pods;
}

function _below(u: _Usage, t: _Usage): boolean {
  return u.cpu < t.cpu && u.memory < t.memory && u.pods < t.pods;
}

function _fmt(u: _Usage): string {
  return `cpu ${Math.round(u.cpu)}%, memory ${Math.round(u.memory)}%, pods ${Math.round(u.pods)}%`;
}

/** Plans balance; see the module comment. */
export function planBalance(snapshot: ClusterSnapshot, config: BalanceConfig, ctx: StrategyContext): StrategyResult {
  const { session } = ctx;
  const strategy = 'balance';
  const moves: Move[] = [];
  const skipped: SkippedNode[] = [];
  const usable = snapshot.nodes.filter((n) => n.ready && !n.unschedulable && !session.isDrained(n.name));
  const under = usable.filter((n) => _below(_usage(session, n), config.low));
  const over = usable.filter((n) => _above(_usage(session, n), config.high));
  if (under.length === 0 || over.length === 0) return { moves, drains: [], skipped };

  const load = (name: string): number => {
    const u = _usage(session, session.node(name) as NodeView);
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
      if (!_above(_usage(session, node), config.high) || session.budget.exhausted) break;
      const before = _fmt(_usage(session, node));
      const attempt = session.tryMove(pod, {
        strategy,
        targets,
        why: `Node "${name}" is above the high thresholds (${before})`,
        // Same capacity type only: a replacement the webhook sends elsewhere fails the fit check.
        accept: (target, replacement) => {
          const t = session.node(target) as NodeView;
          return t.capacityType === node.capacityType && !_above(_usage(session, t, replacement), config.high);
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
};
