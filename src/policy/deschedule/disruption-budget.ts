/**
 * Karpenter's NodePool disruption budgets (`spec.disruption.budgets`), as its disruption
 * controller reads them (`pkg/apis/v1/nodepool.go` and the disruption helpers, ported as ideas):
 *
 * - A budget allows `nodes` of the pool's nodes to be disrupted at once: a count, or a percentage
 *   of the pool's nodes rounded up (as a PDB's maxUnavailable: 5% of 10 nodes allows 1).
 * - With `schedule` (cron, UTC) and `duration`, a budget is active only from each hit of the
 *   schedule for the duration; without both it is always active. An inactive budget limits nothing.
 * - `reasons` (`Empty`, `Underutilized`, `Drifted`) narrow a budget to those disruptions; without
 *   them it limits every reason.
 * - The pool allows the least of its active budgets for the reason, less the nodes of the pool
 *   already being disrupted: not Ready, marked for deletion (`karpenter.sh/disrupted`), or drained
 *   by the descheduler (its `stowage.io/draining` taint: its own jobs under way or held). A pool
 *   whose NodePool sets no budget has Karpenter's default, 10%.
 * - A budget that cannot be read (a bad count, schedule or duration) allows nothing: Karpenter
 *   fails closed too, not knowing what the user wanted.
 *
 * karpenter-consolidate charges each action against the budget of each pool its nodes belong to
 * (its `Empty` budget for an empty node, else `Underutilized`, as Karpenter's emptiness and
 * consolidation do), so no plan disrupts more of a pool's nodes at once than Karpenter itself
 * would. A node of no known pool (not Karpenter's) is not limited here.
 */
import { Cron } from 'croner';
import type { NodeView } from '../../core/model.js';
import { scaledIntOrPercent } from '../../core/int-or-percent.js';

/** The label naming a Karpenter node's NodePool. */
export const NODEPOOL_LABEL = 'karpenter.sh/nodepool';

/** One entry of a NodePool's `spec.disruption.budgets`. */
export interface DisruptionBudget {
  /** A count (`"2"`) or a percentage of the pool's nodes (`"10%"`). */
  readonly nodes: string;
  /** Cron (five fields or a `@daily`-style macro), read in UTC; with `duration`. */
  readonly schedule?: string;
  /** How long the budget is active after each hit of `schedule`: `"8h"`, `"30m"`, `"1h30m"`. */
  readonly duration?: string;
  /** The disruption reasons it limits; all when absent. */
  readonly reasons?: readonly string[];
}

/** Why Karpenter (or the descheduler) disrupts a node: an empty node goes for `Empty`, one with pods for `Underutilized`. */
export type DisruptionReason = 'Empty' | 'Underutilized' | 'Drifted';

/** A NodePool's budgets when it sets none (Karpenter's default). */
export const DEFAULT_DISRUPTION_BUDGETS: readonly DisruptionBudget[] = [{ nodes: '10%' }];

/** The taints that mark a node as being disrupted already. */
const _DISRUPTING_TAINTS = new Set(['karpenter.sh/disrupted', 'stowage.io/draining']);

/** `"1h30m"` (and Go's trailing `"0s"`) in milliseconds, or undefined when it is not one. */
export function parseBudgetDuration(text: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:0s)?$/.exec(text);
  if (m === null || (m[1] === undefined && m[2] === undefined)) return undefined;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60_000;
}

/**
 * Whether the budget is active at `now` (ms): always without a schedule; else when the
 * schedule's first hit after `now - duration` is not after `now`. A string is why it cannot be read.
 */
export function budgetActive(budget: DisruptionBudget, now: number): boolean | string {
  if (budget.schedule === undefined && budget.duration === undefined) return true;
  if (budget.schedule === undefined || budget.duration === undefined) return 'Its schedule and duration must be set together';
  const duration = parseBudgetDuration(budget.duration);
  if (duration === undefined) return `Its duration "${budget.duration}" is not hours and minutes (e.g. "8h", "1h30m")`;
  let cron: Cron;
  try {
    cron = new Cron(budget.schedule, { timezone: 'UTC', mode: '5-part', paused: true });
  } catch (error) {
    return `Its schedule "${budget.schedule}" is not a cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
  // eslint-disable-next-line no-restricted-globals -- a conversion of the clock value passed in, not a reading of the clock
  const next = cron.nextRun(new Date(now - duration));
  return next !== null && next.getTime() <= now;
}

/** What a pool's budgets allow for one reason, before the nodes being disrupted are counted. */
export interface BudgetAllowance {
  /** Nodes that may be disrupted at once; Infinity when no active budget limits the reason. */
  readonly allowed: number;
  /** Why a budget could not be read (it then allows 0). */
  readonly problem?: string;
}

/** The least that the active `budgets` limiting `reason` allow of a pool of `total` nodes (see the module comment). */
export function allowedDisruptions(budgets: readonly DisruptionBudget[] | undefined, total: number, reason: DisruptionReason, now: number): BudgetAllowance {
  let allowed = Infinity;
  let problem: string | undefined;
  for (const budget of budgets === undefined || budgets.length === 0 ? DEFAULT_DISRUPTION_BUDGETS : budgets) {
    if (budget.reasons !== undefined && budget.reasons.length > 0 && !budget.reasons.includes(reason)) continue;
    const active = budgetActive(budget, now);
    let value: number | undefined;
    if (typeof active === 'string') {
      problem ??= active;
      value = 0;
    } else if (!active) continue;
    else {
      value = /^\d+$/.test(budget.nodes) ? Number(budget.nodes) : /^\d{1,3}%$/.test(budget.nodes) ? scaledIntOrPercent(budget.nodes, total, true) : undefined;
      if (value === undefined) {
        problem ??= `Its budget nodes "${budget.nodes}" is neither a count nor a percentage`;
        value = 0;
      }
    }
    allowed = Math.min(allowed, value);
  }
  return { allowed, ...(problem === undefined ? {} : { problem }) };
}

/** A pool's nodes as the budget counts them. */
export interface PoolNodes {
  readonly total: number;
  /** Not Ready, marked for deletion, or drained by the descheduler. */
  readonly disrupting: number;
}

/** Whether the node counts as being disrupted already (see the module comment). */
export function nodeDisrupting(node: NodeView): boolean {
  return !node.ready || node.taints.some((t) => _DISRUPTING_TAINTS.has(t.key));
}

/** The nodes of each pool named by `NODEPOOL_LABEL`, counted for the budgets. */
export function countPoolNodes(nodes: readonly NodeView[]): Map<string, PoolNodes> {
  const out = new Map<string, { total: number; disrupting: number }>();
  for (const node of nodes) {
    const pool = node.labels[NODEPOOL_LABEL];
    if (pool === undefined) continue;
    const counts = out.get(pool) ?? { total: 0, disrupting: 0 };
    counts.total += 1;
    if (nodeDisrupting(node)) counts.disrupting += 1;
    out.set(pool, counts);
  }
  return out;
}

/**
 * The budgets of one plan: what each pool still allows as actions are planned. Pools absent
 * from `budgets` (or nodes of no pool) are not limited.
 */
export class DisruptionLedger {
  readonly #budgets: ReadonlyMap<string, readonly DisruptionBudget[]>;
  readonly #counts: Map<string, PoolNodes>;
  readonly #now: number;
  /** Nodes this plan disrupts, per pool. */
  readonly #planned = new Map<string, number>();
  /** `allowedDisruptions` per pool and reason: the same all plan long (a cron parsed once). */
  readonly #allowance = new Map<string, BudgetAllowance>();

  constructor(nodes: readonly NodeView[], budgets: ReadonlyMap<string, readonly DisruptionBudget[]>, now: number) {
    this.#budgets = budgets;
    this.#counts = countPoolNodes(nodes);
    this.#now = now;
  }

  /** The pool whose budgets limit the node, or undefined when none does. */
  poolOf(node: NodeView): string | undefined {
    const pool = node.labels[NODEPOOL_LABEL];
    return pool !== undefined && this.#budgets.has(pool) ? pool : undefined;
  }

  /** How many more of the pool's nodes may be disrupted for `reason`: Infinity when not limited. */
  remaining(pool: string, reason: DisruptionReason): number {
    if (!this.#budgets.has(pool)) return Infinity;
    const counts = this.#counts.get(pool) ?? { total: 0, disrupting: 0 };
    return Math.max(0, this.#allowed(pool, reason).allowed - counts.disrupting - (this.#planned.get(pool) ?? 0));
  }

  #allowed(pool: string, reason: DisruptionReason): BudgetAllowance {
    const key = `${pool}\u0000${reason}`;
    let allowance = this.#allowance.get(key);
    if (allowance === undefined) {
      allowance = allowedDisruptions(this.#budgets.get(pool), this.#counts.get(pool)?.total ?? 0, reason, this.#now);
      this.#allowance.set(key, allowance);
    }
    return allowance;
  }

  /**
   * Why disrupting `nodes` (each for its reason) would pass a pool's budget, or undefined when
   * every pool allows it.
   */
  refusal(nodes: readonly { readonly node: NodeView; readonly reason: DisruptionReason }[]): string | undefined {
    const want = new Map<string, { count: number; reasons: Set<DisruptionReason> }>();
    for (const { node, reason } of nodes) {
      const pool = this.poolOf(node);
      if (pool === undefined) continue;
      const entry = want.get(pool) ?? { count: 0, reasons: new Set() };
      entry.count += 1;
      entry.reasons.add(reason);
      want.set(pool, entry);
    }
    for (const [pool, { count, reasons }] of want) {
      for (const reason of reasons) {
        const left = this.remaining(pool, reason);
        if (count <= left) continue;
        const counts = this.#counts.get(pool) ?? { total: 0, disrupting: 0 };
        const { allowed, problem } = this.#allowed(pool, reason);
        const why = problem !== undefined ? `a budget it cannot read allows none: ${problem}` : `its budget allows ${allowed} of its ${counts.total} node(s) at once for ${reason}, ${counts.disrupting} being disrupted already and ${this.#planned.get(pool) ?? 0} in this plan`;
        return `NodePool "${pool}" allows disrupting ${left} more node(s), ${count} wanted: ${why}`;
      }
    }
    return undefined;
  }

  /** Charges `nodes` to their pools' budgets. */
  charge(nodes: readonly NodeView[]): void {
    for (const node of nodes) {
      const pool = node.labels[NODEPOOL_LABEL];
      if (pool !== undefined) this.#planned.set(pool, (this.#planned.get(pool) ?? 0) + 1);
    }
  }
}
