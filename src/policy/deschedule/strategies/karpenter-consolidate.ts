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
 *   priority), are searched for the longest prefix of at most `maxNodesPerAction` nodes that goes
 *   as one action, by binary search as Karpenter does: deleted when all its pods fit on the nodes
 *   that stay, else replaced by one new node (below) when that pays (Karpenter's
 *   `computeConsolidation` for a prefix). Each try is a tentative plan of the whole set
 *   (`PlanningSession.trial`, undone unless kept), so one set's pods never land on another of its
 *   nodes. The set goes as one action: its saving is the sum of its nodes' prices (less the new
 *   node's), judged against the minimum together; its drains name the set (`NodeDrain.together`),
 *   so the executor taints all its nodes before the first pod moves, as Karpenter does.
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
 * - **Replace** (Karpenter's replace decision, `replace`): a node, or a set of nodes (multi-node
 *   replace, `multiNodeReplace`), whose pods fit nowhere else is replaced by one new on-demand node,
 *   the cheapest offer (`ctx.offers`: node types the executor can launch) that costs less than the
 *   node or the set together by the minimum and takes what fits nowhere else; it must end above the
 *   autoscaler's removal threshold. A set of spot nodes only is only deleted (Karpenter without its
 *   spot-to-spot feature). For a set, an offer of the same type as one of its nodes and no cheaper
 *   is no replacement (Karpenter's `filterOutSameType`): it amounts to keeping that node and
 *   deleting the others, which a shorter set does with fewer pods moved. The plan carries the
 *   launch (`NodeLaunch`); the executor taints the nodes replaced, launches the node, waits until
 *   it is Ready, then drains onto it (`machine.ts`).
 *
 * Availability is the shared planner's: PDBs, surge-first moves of workloads that can't lose a
 * replica, the anti-flap rest, and no surge-first pod lands on a node the autoscaler will remove
 * (a replacement being filled excepted: its final fill was judged). A set's drains run one after
 * the other like any drains of a plan, but its nodes are all tainted before the first starts, so
 * the scheduler puts no pod of the first on the next (before that, a set replaced by one node
 * left the new node half-filled, seen in the simulator); a drain of the set that fails untaints
 * the rest and skips them.
 *
 * Live, the offers are the Karpenter NodePools' (`kube/node-pools.ts`: the types their
 * requirements and limits allow, priced from the planner's table), and the executor launches by
 * creating a NodeClaim of the NodePool, as Karpenter's provisioner would; a cluster without
 * Karpenter gets no offers, so karpenter-consolidate only deletes there. Not left to Karpenter's
 * provisioner (surge the pods and let it launch for them): it would size a node for the one pod
 * Pending at a time, not for the planned set.
 */
import { z } from 'zod';
import type { ClusterSnapshot, NodeView, PodView } from '../../../core/model.js';
import type { NodeLaunch, NodeOffer, StrategyResult } from '../types.js';
import type { DrainAttempt, PlanningSession } from '../session.js';
import type { Reason } from '../reasons.js';
import { reason } from '../reasons.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { removalUtilization } from '../autoscaler.js';
import { DisruptionLedger, type DisruptionReason } from '../disruption-budget.js';
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
  /** With `replace`, also replace a set of several nodes by one (Karpenter's multi-node replace); false: sets are only deleted. */
  multiNodeReplace: z.boolean().default(true),
  /**
   * Replace one or several nodes by one cheaper node from the offers the executor can launch
   * (Karpenter's replace decision). Needs offers: the simulator gives its node groups; the live
   * descheduler the Karpenter NodePools (none without Karpenter: it then only deletes).
   */
  replace: z.boolean().default(true),
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

  const offers = config.replace ? _offers(ctx) : [];
  // Karpenter's NodePool disruption budgets: every action is charged to its nodes' pools.
  const ledger = new DisruptionLedger(snapshot.nodes, ctx.nodePoolBudgets ?? new Map(), ctx.now);
  const record = (set: _SetAttempt & { readonly ok: true }): void => {
    if (set.launch !== undefined) result.launch(set.launch);
    for (const [name, attempt] of set.drains) result.add(name, attempt);
    ledger.charge(set.drains.map(([name]) => session.node(name) as NodeView));
  };
  if (config.maxNodesPerAction > 1) {
    const set = _multiNode(snapshot, config, ctx, targets, config.multiNodeReplace ? offers : [], ledger);
    if (set !== undefined) record(set);
  }

  for (const name of candidates) {
    const node = session.node(name) as NodeView;
    // Asked as each node comes up: a node that receives pods of an earlier drain stays.
    const skip = _skipReason(session, node, config, ctx.now);
    if (skip !== undefined) {
      result.skip(name, skip);
      continue;
    }
    const overBudget = ledger.refusal([{ node, reason: _disruptionReason(session, name) }]);
    if (overBudget !== undefined) {
      result.skip(name, reason('disruption-budget', `Node "${name}" is left alone: ${overBudget}`));
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
    // Its pods fit on no node that stays: maybe on one cheaper new node (Karpenter's single-node replace).
    if (!attempt.ok && attempt.reason.code === 'no-fit' && offers.length > 0) {
      const replaced = _replaceSet(session, [name], config, targets, offers);
      if (replaced.ok) {
        record(replaced);
        continue;
      }
      // A replacement that saves something, but less than the minimum, is the reason to say.
      const cheaper = config.minSavingUsdPerHour > 0 ? session.trial(() => _replaceSet(session, [name], { ...config, minSavingUsdPerHour: 0 }, targets, offers), () => false) : { ok: false as const };
      if (cheaper.ok && cheaper.launch !== undefined) {
        const saving = price - cheaper.launch.offer.usdPerHour;
        result.skip(name, reason('not-worth-it', `Replacing node "${name}" by one ${cheaper.launch.offer.node.instanceType} saves $${saving.toFixed(4)}/h, below the minimum of $${config.minSavingUsdPerHour}/h`));
        continue;
      }
    }
    result.add(name, attempt);
    if (attempt.ok) ledger.charge([node]);
  }
  return result.result();
}

/** Karpenter's reason for disrupting the node: `Empty` without pods to move, else `Underutilized`. */
function _disruptionReason(session: PlanningSession, name: string): DisruptionReason {
  return session.podsOn(name).some((p) => p.owner.kind !== 'DaemonSet' && !p.isMirror) ? 'Underutilized' : 'Empty';
}

/**
 * The first `limit` candidates a multi-node action may take: in order, each while its pool's
 * budget has room for it and the candidates taken before it of the same pool (as Karpenter filters
 * its candidates by the budgets before it forms a set). One pass, each pool's room looked up once
 * per reason: candidates can be thousands.
 */
function _withinBudgets(session: PlanningSession, candidates: readonly string[], ledger: DisruptionLedger, limit: number): string[] {
  const taken: string[] = [];
  const perPool = new Map<string, { count: number; reasons: ReadonlySet<DisruptionReason> }>();
  for (const name of candidates) {
    if (taken.length >= limit) break;
    const pool = ledger.poolOf(session.node(name) as NodeView);
    if (pool === undefined) {
      taken.push(name);
      continue;
    }
    const entry = perPool.get(pool) ?? { count: 0, reasons: new Set<DisruptionReason>() };
    const reasons = new Set(entry.reasons).add(_disruptionReason(session, name));
    if (![...reasons].every((r) => entry.count + 1 <= ledger.remaining(pool, r))) continue;
    perPool.set(pool, { count: entry.count + 1, reasons });
    taken.push(name);
  }
  return taken;
}

/**
 * The offers a replacement may be of, cheapest first: on-demand only. As Karpenter without its
 * spot-to-spot feature, a spot node is only ever deleted, never replaced (a spot replacement
 * would need many instance types to stay clear of reclaims; an on-demand one costs more).
 */
function _offers(ctx: StrategyContext): readonly NodeOffer[] {
  return [...(ctx.offers ?? [])].filter((o) => o.node.capacityType === 'on-demand').sort((a, b) => a.usdPerHour - b.usdPerHour || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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

type _SetAttempt =
  | { readonly ok: true; readonly drains: readonly (readonly [string, DrainAttempt])[]; readonly launch?: NodeLaunch }
  /** `noFit`: a pod found no room (the offer, if any, was too small for what fits nowhere else). */
  | { readonly ok: false; readonly noFit?: boolean };

/**
 * Multi-node consolidation: the longest prefix (two nodes or more) of the candidates, cheapest to
 * disrupt first, whose nodes all drain together onto the nodes that stay or, when their pods do
 * not fit there, onto those and one new node of `offers` (`_replaceSet`), saving at least the
 * minimum together; found by binary search over the prefix length as Karpenter does (not
 * exhaustive: a longer prefix may fit where a shorter one did not). Planned into the session, or
 * nothing changes.
 */
function _multiNode(snapshot: ClusterSnapshot, config: KarpenterConsolidateConfig, ctx: StrategyContext, targets: readonly string[], offers: readonly NodeOffer[], ledger: DisruptionLedger): (_SetAttempt & { readonly ok: true }) | undefined {
  const { session } = ctx;
  const cost = new Map<string, number>();
  // As Karpenter's candidates: nodes with pods to move and none that may not move (do-not-disrupt, local storage...).
  const movable = (name: string): boolean => {
    const pods = session.podsOn(name).filter((p) => p.owner.kind !== 'DaemonSet' && !p.isMirror);
    return pods.length > 0 && pods.every((p) => !session.blockers(p).some((b) => b.kind === 'blocking'));
  };
  const eligible = snapshot.nodes.filter((n) => _skipReason(session, n, config, ctx.now) === undefined && movable(n.name)).map((n) => n.name);
  for (const name of eligible) cost.set(name, _disruptionCost(session, name));
  const pool = _withinBudgets(session, sortNodes(eligible, (n) => [cost.get(n) ?? 0, -session.price(session.node(n) as NodeView)]), ledger, config.maxNodesPerAction);
  const attempt = (size: number): _SetAttempt => {
    const set = pool.slice(0, size);
    const deleted = session.trial(() => _drainSet(session, set, config, targets, undefined), (r) => r.ok);
    // Karpenter's computeConsolidation: deleted when every pod fits on the nodes that stay, else one new node if it pays.
    if (deleted.ok || deleted.noFit !== true || offers.length === 0) return deleted;
    return _replaceSet(session, set, config, targets, offers);
  };
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
  return chosen.ok ? chosen : undefined;
}

/**
 * Replaces `set` by one new node: the cheapest offer that costs less than the set by at least the
 * minimum and takes, with the nodes that stay, every pod of the set (Karpenter launches the
 * cheapest instance type the pods fit on, among those cheaper than the candidates together). The
 * new node must end above the autoscaler's removal threshold, or the autoscaler would remove it
 * and disrupt the pods a second time. Planned into the session, or nothing changes.
 */
function _replaceSet(session: PlanningSession, set: readonly string[], config: KarpenterConsolidateConfig, targets: readonly string[], offers: readonly NodeOffer[]): _SetAttempt {
  let total = 0;
  let onDemand = false;
  const nodes = set.map((name) => session.node(name) as NodeView);
  for (const node of nodes) {
    onDemand ||= node.capacityType === 'on-demand';
    total += session.price(node);
  }
  // An on-demand replacement for spot nodes costs more than they do: a set of spot nodes only is only deleted.
  if (!onDemand) return { ok: false };
  const tooSmall: NodeOffer[] = [];
  for (const offer of offers) {
    // Offers come cheapest first: once one does not pay (it must cost less, by the minimum), none after it does.
    if (total - offer.usdPerHour <= 0 || total - offer.usdPerHour < config.minSavingUsdPerHour) break;
    // No bigger than one the pods did not fit on: it fails the same way (the same type in another
    // zone included, unless a zonal volume held a pod to the zone; a shortcut that can only miss).
    if (tooSmall.some((small) => small.group === offer.group && _noBigger(offer, small))) continue;
    // Karpenter's filterOutSameType: a node of the set's own type at no lower price is that node
    // kept and the others deleted, which a shorter set does with fewer pods moved; every later
    // offer costs as much or more, so none will do.
    const sameType = set.length > 1 && nodes.some((n) => n.instanceType === offer.node.instanceType && session.price(n) <= offer.usdPerHour);
    const replaced = session.trial(() => _drainSet(session, set, config, targets, offer), (r) => r.ok && !sameType);
    if (replaced.ok) return sameType ? { ok: false } : replaced;
    if (replaced.noFit === true) tooSmall.push(offer);
  }
  return { ok: false };
}

/** Whether `a` offers no more of any resource than `b`. */
function _noBigger(a: NodeOffer, b: NodeOffer): boolean {
  for (const [name, amount] of Object.entries(a.node.allocatable)) if (amount > (b.node.allocatable[name] ?? 0)) return false;
  return true;
}

/**
 * Drains every node of `set` with none of them a destination, onto the nodes that stay and, with
 * an `offer`, a new node of it (tried last, so it takes only what fits nowhere else); all or
 * nothing is the caller's trial.
 */
function _drainSet(session: PlanningSession, set: readonly string[], config: KarpenterConsolidateConfig, targets: readonly string[], offer: NodeOffer | undefined): _SetAttempt {
  const members = new Set(set);
  const staying = targets.filter((t) => !members.has(t));
  const prices = new Map(set.map((name) => [name, session.price(session.node(name) as NodeView)] as const));
  let total = 0;
  for (const price of prices.values()) total += price;
  const launchPrice = offer?.usdPerHour ?? 0;
  const saving = total - launchPrice;
  if (saving < config.minSavingUsdPerHour) return { ok: false };
  const launchName = offer === undefined ? undefined : `replacement-for-${set[0] as string}`;
  if (offer !== undefined && launchName !== undefined) session.addPlannedNode(launchName, offer);
  const destinations = launchName === undefined ? staying : [...staying, launchName];
  const what =
    offer === undefined
      ? set.length === 1
        ? 'deleted'
        : `deleted with ${set.length - 1} other node(s), the set saves $${saving.toFixed(4)}/h (multi-node consolidation)`
      : `replaced${set.length === 1 ? '' : ` with ${set.length - 1} other node(s)`} by one ${offer.node.instanceType} at $${launchPrice.toFixed(4)}/h, saving $${saving.toFixed(4)}/h`;
  const drains: (readonly [string, DrainAttempt])[] = [];
  // The executor taints the whole set before the first pod moves: no surge of it is predicted to land on another of its nodes.
  if (set.length > 1) session.closeNodes(set);
  for (const name of set) {
    const price = prices.get(name) ?? 0;
    const attempt = session.tryDrain(name, {
      strategy: 'karpenter-consolidate',
      targets: destinations,
      keepFloor: false,
      surgeAvoidsRemovalCandidates: true,
      deleteNode: config.deleteNodes,
      ...(launchName === undefined ? {} : { replacement: { name: launchName, shareUsdPerHour: total > 0 ? (launchPrice * price) / total : 0 } }),
      why: `Node "${name}" costs $${price.toFixed(4)}/h; ${what}`,
    });
    if (!attempt.ok) return { ok: false, noFit: attempt.reason.code === 'no-fit' };
    // The set goes as one action: the executor taints all its nodes before the first pod moves.
    drains.push([name, set.length > 1 ? { ...attempt, drain: { ...attempt.drain, together: set } } : attempt]);
  }
  if (offer === undefined || launchName === undefined) return { ok: true, drains };
  const fill = removalUtilization(session.state.requested(launchName), offer.node.allocatable);
  // Nothing on it: deleting alone would do (and is tried first); too little: the autoscaler would remove it.
  if (session.state.podCount(launchName) === 0 || fill < session.removalThreshold) return { ok: false };
  const launch: NodeLaunch = {
    name: launchName,
    offer,
    strategy: 'karpenter-consolidate',
    replaces: set,
    removalThreshold: session.removalThreshold,
    reason: reason('replace', `${set.length} node(s) at $${total.toFixed(4)}/h replaced by one ${offer.node.instanceType} at $${launchPrice.toFixed(4)}/h, ${Math.round(fill * 100)}% requested: saves $${saving.toFixed(4)}/h`),
  };
  return { ok: true, drains, launch };
}

/** The karpenter-consolidate strategy, for the registry. */
export const karpenterConsolidate: Strategy<'karpenter-consolidate', KarpenterConsolidateConfig> = {
  name: 'karpenter-consolidate',
  configSchema: karpenterConsolidateConfigSchema,
  plan: planKarpenterConsolidate,
};
