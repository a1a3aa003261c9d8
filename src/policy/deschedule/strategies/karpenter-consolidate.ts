/**
 * karpenter-consolidate: consolidation as Karpenter's disruption controller does it, not waiting
 * for the autoscaler. Ideas ported from Karpenter v1 (`pkg/controllers/disruption`:
 * emptiness, single-node and multi-node consolidation), not its code:
 *
 * - **Any node whose pods fit elsewhere goes**, however full: Karpenter simulates scheduling the
 *   candidate's pods on the rest of the cluster and deletes the node when they all fit. Cluster
 *   Autoscaler only looks below its utilisation threshold (50%) and after its unneeded time.
 * - **Multi-node first**: the candidates, cheapest to disrupt first (Karpenter's disruption cost:
 *   the pods to evict, each weighted by its `controller.kubernetes.io/pod-deletion-cost` and
 *   priority), are searched for the longest prefix of at most `maxNodesPerAction` nodes whose pods
 *   all fit on the nodes that stay, by binary search as Karpenter does; each try is a tentative
 *   plan of the whole set (`PlanningSession.trial`), so one set's pods never land on another of
 *   its nodes. The set goes as one action: its saving is the sum of its nodes' prices, judged
 *   against the minimum together.
 * - **Then single nodes, by savings per disruption** (Karpenter's `SavingsRatio`: the node's
 *   price over the cost of disrupting its pods), so a cycle with a small budget spends it on the
 *   moves that save the most for the least churn.
 * - **The drained node is deleted directly** (`NodeDrain.deleteNode`) instead of waiting out the
 *   autoscaler's scale-down timers; the executor deletes it when its node group allows (a
 *   Karpenter NodePool's node live; a group above its minimum size in the simulator), and
 *   otherwise holds it tainted for the autoscaler as consolidate does.
 * - **Every action carries its $/h saving** and is skipped below `minSavingUsdPerHour`
 *   (`not-worth-it`).
 *
 * Availability is the shared planner's: PDBs, surge-first moves of workloads that can't lose a
 * replica, the anti-flap rest, and no surge-first pod lands on a node the autoscaler will remove.
 * Without a replacement node a set's drains are each valid alone (their pods go to nodes that
 * stay), so the executor runs them one after the other like any drains of a plan. Not yet:
 * Karpenter's replace decision (one or several nodes by one cheaper node from the catalogue).
 */
import { z } from 'zod';
import type { ClusterSnapshot, NodeView, PodView } from '../../../core/model.js';
import type { StrategyResult } from '../types.js';
import type { DrainAttempt, PlanningSession } from '../session.js';
import type { Reason } from '../reasons.js';
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
  /** The most nodes one multi-node action takes together (Karpenter looks at up to 100); 1 plans single nodes only. */
  maxNodesPerAction: z.number().int().min(1).default(10),
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

  if (config.maxNodesPerAction > 1) {
    const set = _multiNode(snapshot, config, ctx, targets);
    if (set !== undefined) for (const [name, attempt] of set) result.add(name, attempt);
  }

  for (const name of candidates) {
    const node = session.node(name) as NodeView;
    // Asked as each node comes up: a node that receives pods of an earlier drain stays.
    const skip = _skipReason(session, node, config, ctx.now);
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

/** Why a node can't be a candidate now, or undefined. */
function _skipReason(session: PlanningSession, node: NodeView, config: KarpenterConsolidateConfig, now: number): Reason | undefined {
  return session.nodeSkipReason(node) ?? settlingReason(node, config.settleSeconds, now, session.index.podsOnNode(node.name));
}

/**
 * The cost of evicting the pod, as Karpenter's `EvictionCost`: 1, raised or lowered by the
 * ReplicaSet controller's pod-deletion-cost annotation and the pod's priority, kept within ±10.
 */
export function evictionCost(pod: PodView): number {
  const deletionCost = Number(pod.annotations['controller.kubernetes.io/pod-deletion-cost'] ?? 0);
  const cost = 1 + (Number.isFinite(deletionCost) ? deletionCost : 0) / 2 ** 27 + pod.priority / 2 ** 25;
  return Math.max(-10, Math.min(10, cost));
}

/** What disrupting the node costs: its pods' eviction costs (DaemonSet and mirror pods stay). */
function _disruptionCost(session: PlanningSession, name: string): number {
  let cost = 0;
  for (const pod of session.index.podsOnNode(name)) if (pod.owner.kind !== 'DaemonSet' && !pod.isMirror) cost += evictionCost(pod);
  return cost;
}

type _SetAttempt = { readonly ok: true; readonly drains: readonly (readonly [string, DrainAttempt])[] } | { readonly ok: false };

/**
 * Multi-node consolidation: the longest prefix (two nodes or more) of the candidates, cheapest to
 * disrupt first, whose nodes all drain together onto the nodes that stay, saving at least the
 * minimum together; found by binary search over the prefix length as Karpenter does (not
 * exhaustive: a longer prefix may fit where a shorter one did not). Planned into the session, or
 * nothing changes.
 */
function _multiNode(snapshot: ClusterSnapshot, config: KarpenterConsolidateConfig, ctx: StrategyContext, targets: readonly string[]): readonly (readonly [string, DrainAttempt])[] | undefined {
  const { session } = ctx;
  const cost = new Map<string, number>();
  // As Karpenter's candidates: nodes with pods to move and none that may not move (do-not-disrupt, local storage...).
  const movable = (name: string): boolean => {
    const pods = session.podsOn(name).filter((p) => p.owner.kind !== 'DaemonSet' && !p.isMirror);
    return pods.length > 0 && pods.every((p) => !session.blockers(p).some((b) => b.kind === 'blocking'));
  };
  const eligible = snapshot.nodes.filter((n) => _skipReason(session, n, config, ctx.now) === undefined && movable(n.name)).map((n) => n.name);
  for (const name of eligible) cost.set(name, _disruptionCost(session, name));
  const pool = sortNodes(eligible, (n) => [cost.get(n) ?? 0, -session.price(session.node(n) as NodeView)]).slice(0, config.maxNodesPerAction);
  const attempt = (size: number): _SetAttempt => _drainSet(session, pool.slice(0, size), config, targets);
  let low = 2;
  let high = pool.length;
  let best = 0;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (session.trial(() => attempt(mid), () => false).ok) {
      best = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  if (best === 0) return undefined;
  const chosen = session.trial(() => attempt(best), (r) => r.ok);
  return chosen.ok ? chosen.drains : undefined;
}

/** Drains every node of `set` with none of them a destination; all or nothing is the caller's trial. */
function _drainSet(session: PlanningSession, set: readonly string[], config: KarpenterConsolidateConfig, targets: readonly string[]): _SetAttempt {
  const members = new Set(set);
  const staying = targets.filter((t) => !members.has(t));
  let total = 0;
  for (const name of set) total += session.price(session.node(name) as NodeView);
  if (total < config.minSavingUsdPerHour) return { ok: false };
  const drains: (readonly [string, DrainAttempt])[] = [];
  for (const name of set) {
    const price = session.price(session.node(name) as NodeView);
    const attempt = session.tryDrain(name, {
      strategy: 'karpenter-consolidate',
      targets: staying,
      keepFloor: false,
      surgeAvoidsRemovalCandidates: true,
      deleteNode: config.deleteNodes,
      why: `Node "${name}" costs $${price.toFixed(4)}/h; deleted with ${set.length - 1} other node(s), the set saves $${total.toFixed(4)}/h (multi-node consolidation)`,
    });
    if (!attempt.ok) return { ok: false };
    drains.push([name, attempt]);
  }
  return { ok: true, drains };
}

/** The karpenter-consolidate strategy, for the registry. */
export const karpenterConsolidate: Strategy<'karpenter-consolidate', KarpenterConsolidateConfig> = {
  name: 'karpenter-consolidate',
  configSchema: karpenterConsolidateConfigSchema,
  plan: planKarpenterConsolidate,
};
