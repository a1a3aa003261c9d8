/**
 * Typed reasons: every skip, refusal and decision of the descheduler is a `{ code, message }`
 * value made where the decision is taken. The code is stable and from a short list, so metrics
 * labels, backoff and tests key on it; the message is the sentence people read (dry-run tables,
 * Events, logs). Nothing parses a message back into a code.
 */

/**
 * The reason codes, grouped by where they arise. Adding one is fine; renaming one breaks
 * dashboards (it is a metrics label value).
 */
export const REASON_CODES = [
  // A node left alone before its pods are looked at.
  'node-not-ready',
  'node-cordoned',
  'node-gone',
  'node-drained',
  'node-receiving',
  'backoff',
  'budget',
  'no-spot-node',
  'settling',
  'utilized',
  'autoscaler-removing',
  /** The node is annotated karpenter.sh/do-not-disrupt or scale-down-disabled "true" by someone else (`autoscaler.ts`). */
  'node-do-not-disrupt',
  /** Karpenter's NodePool disruption budget has no room for the node (`disruption-budget.ts`). */
  'disruption-budget',
  // A pod that may not move at all (see `EvictionBlockCode` in the message's source).
  'not-movable',
  // Availability: the workload's floor or its state.
  'pdb',
  'multiple-pdbs',
  'implicit-floor',
  'single-replica',
  'unsettled',
  'in-flight',
  'recently-moved',
  'churn-budget',
  // Where to: no room, nothing to do, nothing gained.
  'no-fit',
  /** The scheduler would likely put a surged pod on a node the autoscaler will remove (`landing.ts`). */
  'unsafe-landing',
  /** A move would leave its node below the autoscaler's removal threshold with a single replica on it (`session.ts`). */
  'strands-replica',
  'no-pod',
  'not-worth-it',
  // Carrying a plan out.
  'stale-plan',
  'eviction-refused',
  'timeout',
  'stopped',
  'api-error',
  'misplaced',
  /** A replacement node was not launched, or did not come up in time: the drains waiting for it do not start. */
  'launch-failed',
  /** Another node of the same action (a set taken together) failed or was refused: the action goes as one. */
  'set-failed',
  /** A replacement node an action left below the autoscaler's removal threshold is emptied again (`machine.ts`). */
  'replacement-undone',
  /** A replacement node the action filled enough to stay above the removal threshold is kept as it is. */
  'replacement-kept',
  /** A node Stowage protected from scale-down holds enough, or nothing to lose: the protection comes off. */
  'protection-released',
  // Decisions: why a move goes the way it does, why a drain is worth it.
  'pdb-allows',
  'rollout-budget',
  'no-replica-count',
  'surge-single-replica',
  'surge-rollout-floor',
  'drain-empties',
  'replace',
  'drain-keeps-floor',
  'move',
] as const;

/** One of `REASON_CODES`. */
export type ReasonCode = (typeof REASON_CODES)[number];

/** Why: a stable code for machines, a sentence for people. */
export interface Reason<C extends ReasonCode = ReasonCode> {
  readonly code: C;
  readonly message: string;
}

/** A reason value. */
export function reason<C extends ReasonCode>(code: C, message: string): Reason<C> {
  return { code, message };
}

/**
 * Refusals that say something about the workload's own configuration (its PDB, its replica count,
 * an opt-out) rather than a passing state: trying the node again next cycle would meet the same
 * answer, so a drain refused for one of these backs off like a failed drain. A workload that is
 * merely unsettled, a plan gone stale or a node that changed is tried again next cycle.
 */
const _PERSISTENT: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['pdb', 'multiple-pdbs', 'implicit-floor', 'single-replica', 'not-movable']);

/** Whether a drain refused (not started) for `code` is remembered as a failure, for backoff. */
export function refusalBacksOff(code: ReasonCode): boolean {
  return _PERSISTENT.has(code);
}
