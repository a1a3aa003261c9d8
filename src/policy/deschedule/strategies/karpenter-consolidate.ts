/**
 * karpenter-consolidate: consolidation as Karpenter's disruption controller does it, not waiting
 * for the autoscaler. Ideas ported from Karpenter v1 (`pkg/controllers/disruption`:
 * emptiness, single-node and multi-node consolidation), not its code:
 *
 * - **Any node whose pods fit elsewhere goes**, however full: Karpenter simulates scheduling the
 *   candidate's pods on the rest of the cluster and deletes the node when they all fit. Cluster
 *   Autoscaler only looks below its utilisation threshold (50%) and after its unneeded time.
 * - **Candidates by savings per disruption** (Karpenter's `SavingsRatio`: the node's price over
 *   the cost of disrupting its pods), so a cycle with a small budget spends it on the moves that
 *   save the most for the least churn.
 * - **The drained node is deleted directly** (`NodeDrain.deleteNode`) instead of waiting out the
 *   autoscaler's scale-down timers; the executor deletes it when its node group allows (a
 *   Karpenter NodePool's node live; a group above its minimum size in the simulator), and
 *   otherwise holds it tainted for the autoscaler as consolidate does.
 * - **Every action carries its $/h saving** and is skipped below `minSavingUsdPerHour`.
 *
 * Availability is the shared planner's: PDBs, surge-first moves of workloads that can't lose a
 * replica, the anti-flap rest, and no surge-first pod lands on a node the autoscaler will remove.
 * Not yet: Karpenter's replace decision (one or several nodes by one cheaper node, which needs
 * the executor to launch a node first) and so multi-node consolidation, which only pays with a
 * replacement: without one, draining nodes one after the other, each seeing the moves planned
 * before it, deletes the same nodes.
 */
import { z } from 'zod';
import type { ClusterSnapshot, NodeView } from '../../../core/model.js';
import type { StrategyResult } from '../types.js';
import { reason } from '../reasons.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { removalUtilization } from '../autoscaler.js';
import { settlingReason, sortNodes, StrategyResultBuilder } from './strategy.js';

/** The `strategies.karpenter-consolidate` config. */
export const karpenterConsolidateConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Actions saving less than this per hour are not worth their disruption. */
  minSavingUsdPerHour: z.number().min(0).default(0.01),
  /** A node is left alone until this long after it was created or last received a pod (Karpenter's consolidateAfter). */
  settleSeconds: z.number().int().min(0).default(300),
  /** Delete a drained node directly instead of leaving it to the autoscaler. */
  deleteNodes: z.boolean().default(true),
});
/** The parsed `strategies.karpenter-consolidate` config. */
export type KarpenterConsolidateConfig = z.infer<typeof karpenterConsolidateConfigSchema>;

/** Plans karpenter-consolidate; see the module comment. */
export function planKarpenterConsolidate(snapshot: ClusterSnapshot, config: KarpenterConsolidateConfig, ctx: StrategyContext): StrategyResult {
  const { session } = ctx;
  const strategy = 'karpenter-consolidate';
  const result = new StrategyResultBuilder(strategy);

  const used = new Map<string, number>();
  const ratio = new Map<string, number>();
  for (const node of snapshot.nodes) {
    used.set(node.name, removalUtilization(session.state.requested(node.name), node.allocatable));
    // Karpenter's SavingsRatio: the node's price per unit of disruption (one per pod to move, plus the node itself).
    ratio.set(node.name, session.price(node) / (1 + session.index.podsOnNode(node.name).length));
  }
  const candidates = sortNodes(snapshot.nodes.map((n) => n.name), (n) => [-(ratio.get(n) ?? 0)]);
  // Destinations: the fullest first, so the pods pack onto nodes that stay.
  const targets = sortNodes(
    snapshot.nodes.filter((n) => n.ready && !n.unschedulable).map((n) => n.name),
    (name) => [-(used.get(name) ?? 0)],
  );

  for (const name of candidates) {
    const node = session.node(name) as NodeView;
    // Asked as each node comes up: a node that receives pods of an earlier drain stays.
    const skip = session.nodeSkipReason(node) ?? settlingReason(node, config.settleSeconds, ctx.now, session.index.podsOnNode(name));
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
      deleteNode: config.deleteNodes,
      why: `Node "${name}" costs $${price.toFixed(4)}/h at ${Math.round((used.get(name) ?? 0) * 100)}% requested`,
      accept: ({ saving }) =>
        saving < config.minSavingUsdPerHour ? reason('not-worth-it', `Deleting node "${name}" saves $${saving.toFixed(4)}/h, below the minimum of $${config.minSavingUsdPerHour}/h`) : undefined,
    });
    result.add(name, attempt);
  }
  return result.result();
}

/** The karpenter-consolidate strategy, for the registry. */
export const karpenterConsolidate: Strategy<'karpenter-consolidate', KarpenterConsolidateConfig> = {
  name: 'karpenter-consolidate',
  configSchema: karpenterConsolidateConfigSchema,
  plan: planKarpenterConsolidate,
};
