/**
 * consolidate: empty nodes whose pods fit on the others, so the autoscaler removes them; the
 * nodes that cost the most per used resource first. Every drain carries the node's hourly price
 * as its saving; a minimum saving, a settle time after the node's last change, and a utilization
 * ceiling keep it from churning nodes that were just made or are well used.
 */
import { z } from 'zod';
import type { ClusterSnapshot, NodeView } from '../../../core/model.js';
import type { StrategyResult } from '../types.js';
import { reason } from '../reasons.js';
import type { Reason } from '../reasons.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { requestedFractions, settlingReason, sortNodes, StrategyResultBuilder } from './strategy.js';

/** The `strategies.consolidate` config. */
export const consolidateConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Drains saving less than this per hour are not worth the disruption. */
  minSavingUsdPerHour: z.number().min(0).default(0.01),
  /** A node is left alone until this long after it was created or last received a pod. */
  settleSeconds: z.number().int().min(0).default(600),
  /** Nodes whose cpu or memory requests exceed this share are not candidates (like Cluster Autoscaler's 0.5). */
  maxUtilizationPercent: z.number().min(0).max(100).default(50),
});
/** The parsed `strategies.consolidate` config. */
export type ConsolidateConfig = z.infer<typeof consolidateConfigSchema>;

/** Plans consolidate; see the module comment. */
export function planConsolidate(snapshot: ClusterSnapshot, config: ConsolidateConfig, ctx: StrategyContext): StrategyResult {
  const { session } = ctx;
  const strategy = 'consolidate';
  const result = new StrategyResultBuilder(strategy);

  // Dollars per hour per used share of the node (the larger of cpu and memory); an idle node is dearest.
  const costPerUse = new Map<string, number>();
  const utilization = new Map<string, number>();
  for (const node of snapshot.nodes) {
    const f = requestedFractions(session.state.requested(node.name), node.allocatable);
    const used = Math.max(f.cpu, f.memory);
    utilization.set(node.name, used);
    costPerUse.set(node.name, session.price(node) / Math.max(used, 1e-3));
  }
  const names = snapshot.nodes.map((n) => n.name);
  const candidates = sortNodes(names, (name) => [-(costPerUse.get(name) ?? 0)]);
  // Destinations: the best value for money first, so pods land where they are cheapest to keep.
  const targets = sortNodes(
    snapshot.nodes.filter((n) => n.ready && !n.unschedulable).map((n) => n.name),
    (name) => [costPerUse.get(name) ?? Number.MAX_VALUE],
  );

  for (const name of candidates) {
    const node = session.node(name) as NodeView;
    const skip = session.nodeSkipReason(node) ?? _candidateSkip(node, config, ctx.now, utilization.get(name) ?? 0, session.index.podsOnNode(name));
    if (skip !== undefined) {
      result.skip(name, skip);
      continue;
    }
    const price = session.price(node);
    const attempt = session.tryDrain(name, {
      strategy,
      targets,
      keepFloor: false,
      surgeAvoidsRemovalCandidates: true,
      why: `Node "${name}" costs $${price.toFixed(4)}/h at ${Math.round((utilization.get(name) ?? 0) * 100)}% requested`,
      accept: ({ saving }) =>
        saving < config.minSavingUsdPerHour ? reason('not-worth-it', `Draining node "${name}" saves $${saving.toFixed(4)}/h, below the minimum of $${config.minSavingUsdPerHour}/h`) : undefined,
    });
    result.add(name, attempt);
  }
  return result.result();
}

function _candidateSkip(
  node: NodeView,
  config: ConsolidateConfig,
  now: number,
  utilization: number,
  pods: readonly { readonly createdAt: number }[],
): Reason | undefined {
  const settling = settlingReason(node, config.settleSeconds, now, pods);
  if (settling !== undefined) return settling;
  if (utilization * 100 > config.maxUtilizationPercent) {
    return reason('utilized', `Node "${node.name}" is ${Math.round(utilization * 100)}% requested, above the ${config.maxUtilizationPercent}% consolidation ceiling`);
  }
  return undefined;
}

/** The consolidate strategy, for the registry. */
export const consolidate: Strategy<'consolidate', ConsolidateConfig> = {
  name: 'consolidate',
  configSchema: consolidateConfigSchema,
  plan: planConsolidate,
};
