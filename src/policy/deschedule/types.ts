/**
 * The shapes of a descheduling plan and of what planning takes besides the snapshot. Plain data
 * both ways, so the live loop and the simulator hand the same values in and read the same plan out.
 */
import type { NodeView, WorkloadRef } from '../../core/model.js';
import type { PriceTable } from '../../core/pricing.js';
import type { PlacedCapacityType } from '../placement/decide.js';
import type { PlacementPatchOptions } from '../placement/patch.js';
import type { PlacementPolicy } from '../placement/policy.js';
import type { DrainFailure, MoveMode } from './guards.js';
import type { MoveHistory } from './anti-flap.js';
import type { DisruptionBudget } from './disruption-budget.js';
import type { SafeLanding } from './landing.js';
import type { ProtectionRelease } from './autoscaler.js';
import type { Reason } from './reasons.js';

export type { Reason, ReasonCode } from './reasons.js';

/** How the placement webhook runs, so planning knows where a recreated pod will be sent. */
export interface PlacementContext {
  readonly defaults: PlacementPolicy;
  /** Namespace name → its annotations (policy overrides and opt-outs). */
  readonly namespaceAnnotations?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The node label carrying the capacity type, as the webhook writes it; the webhook's default when absent. */
  readonly capacityLabel?: PlacementPatchOptions['capacityLabel'];
  /** Namespaces whose pods the webhook never places, whatever their annotations say. */
  readonly optOutNamespaces?: readonly string[];
}

/** Everything planning takes besides the snapshot and the config: values, never effects. */
export interface DeschedulingContext {
  /** The clock value, milliseconds since the epoch. */
  readonly now: number;
  readonly prices: PriceTable;
  /** The placement webhook's policy; absent when no webhook runs (recreated pods keep their constraints). */
  readonly placement?: PlacementContext;
  /** Nodes whose drains failed, for backoff. */
  readonly failures?: ReadonlyMap<string, DrainFailure>;
  /** Workload keys (`workloadKey`) with a move still under way from an earlier cycle. */
  readonly inFlight?: ReadonlySet<string>;
  /** The moves carried out in earlier cycles, for the anti-flap rule. */
  readonly history?: MoveHistory;
  /**
   * Node types the executor can launch, for consolidation that replaces nodes by a cheaper one;
   * none (no replacement planned) when absent.
   */
  readonly offers?: readonly NodeOffer[];
  /**
   * Karpenter NodePools' disruption budgets (`spec.disruption.budgets`) by pool name: how many of a
   * pool's nodes karpenter-consolidate may disrupt at once (`disruption-budget.ts`). A pool
   * absent (or every pool, when this is absent) is not limited.
   */
  readonly nodePoolBudgets?: ReadonlyMap<string, readonly DisruptionBudget[]>;
}

/** A node type the cluster can launch: what a new node of it looks like, and its price. */
export interface NodeOffer {
  /** Names the offer to the launcher (the simulator: its node group's id). */
  readonly id: string;
  /** A node of the type as it joins the cluster: labels, taints, allocatable, zone (its name is replaced). */
  readonly node: NodeView;
  readonly usdPerHour: number;
  /**
   * Offers of one group differ only in instance type, capacity type and zone (live: a Karpenter
   * NodePool's), so pods that fit no offer of a group fit no smaller one of it; absent, all
   * offers are one group (the simulator's node groups share their labels and taints).
   */
  readonly group?: string;
}

/**
 * A node to launch before some drains of the plan (Karpenter's replacement): their moves count on
 * it. The executor launches it, waits for a new Ready node of the offer, and runs the drains that
 * name it (`NodeDrain.replacement`) only then.
 */
export interface NodeLaunch {
  /** The node's name in the plan (its moves' `toNode`); the launched node has its own. */
  readonly name: string;
  readonly offer: NodeOffer;
  /** The name of the registered strategy that planned it. */
  readonly strategy: string;
  /** The nodes it replaces. */
  readonly replaces: readonly string[];
  /**
   * The autoscaler's removal threshold the node was planned to end above. An action that ends
   * with the node below it (stopped half-way, or its evicted pods' replacements placed elsewhere)
   * has the executor empty it again, surge-first where a pod can't lose a replica, rather than
   * leave it to the autoscaler's drain (`machine.ts`); absent, the node is left as it ends.
   */
  readonly removalThreshold?: number;
  readonly reason: Reason;
}

/** A pod as a plan names it. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** One pod to move. */
export interface Move {
  readonly pod: PodRef;
  readonly workload: WorkloadRef;
  readonly fromNode: string;
  /** Where planning found room; the scheduler makes the real choice for the replacement. */
  readonly toNode: string;
  /** The capacity type the placement webhook will give the replacement, when it places this workload. */
  readonly capacityType?: PlacedCapacityType;
  /**
   * The capacity type the replacement must run on for the move to count as done, when the
   * strategy moves for the capacity type (spot-reschedule): the webhook's choice when it places
   * the workload, else the strategy's aim (spot). Absent when any node but the one left will do.
   */
  readonly landOn?: PlacedCapacityType;
  /**
   * A surge-first move whose replacement must not land where the autoscaler will remove it: the
   * executor predicts the scheduler's choice again right before the surge, on a fresh snapshot,
   * and does not start it when that choice is unsafe (`landing.ts`). Such moves run one per wave,
   * after the drain's evictions, so each prediction sees the cluster the scheduler will see.
   */
  readonly safeLanding?: SafeLanding;
  /** The name of the registered strategy that planned it. */
  readonly strategy: string;
  readonly mode: MoveMode;
  /** Moves of wave n start when the replacements of wave n − 1 are Ready. */
  readonly wave: number;
  /** Why this pod moves and why in this mode; the code is the availability decision's. */
  readonly reason: Reason;
  /** The share of the plan's saving this move carries (a drain's saving over its moves). */
  readonly savingUsdPerHour: number;
}

/** A node emptied of its movable pods, all or nothing. */
export interface NodeDrain {
  readonly node: string;
  /** The name of the registered strategy that planned it. */
  readonly strategy: string;
  /** The node's price when it ends empty (the autoscaler removes it), else 0. */
  readonly savingUsdPerHour: number;
  readonly pods: readonly PodRef[];
  /** Pods that stay: DaemonSet, mirror, and the on-demand floor's pods when moving them would only bring them back. */
  readonly staying: readonly PodRef[];
  /**
   * Delete the node once it is drained, rather than hold it tainted for the autoscaler to remove
   * (Karpenter-style consolidation): the executor does when the node's group allows, else holds it.
   */
  readonly deleteNode?: boolean;
  /** The `NodeLaunch.name` of the node some of its pods move to: the drain waits for it. */
  readonly replacement?: string;
  /**
   * The nodes of the one action this drain is part of, itself among them, when the action takes
   * several (Karpenter's multi-node consolidation, deleting or replacing a set). The executor taints
   * them all before any of them loses a pod, as Karpenter taints its candidates before it launches
   * or evicts, so no pod of one lands on another; when one of them fails, the others not drained
   * yet are untainted and left alone. (A replacement's `NodeLaunch.replaces` is such a set too.)
   */
  readonly together?: readonly string[];
  /** `drain-empties` or `drain-keeps-floor`. */
  readonly reason: Reason;
}

/** A node a strategy looked at and left alone, and why. */
export interface SkippedNode {
  readonly node: string;
  /** The name of the registered strategy that planned it. */
  readonly strategy: string;
  readonly reason: Reason;
}

/** What one strategy planned. */
export interface StrategyResult {
  readonly moves: readonly Move[];
  readonly drains: readonly NodeDrain[];
  readonly skipped: readonly SkippedNode[];
  /** Nodes to launch first (replacements); none when absent. */
  readonly launches?: readonly NodeLaunch[];
}

/** A descheduling plan: deterministic for the same snapshot, config and context. */
export interface Plan extends StrategyResult {
  readonly savingUsdPerHour: number;
  /** Nodes Stowage protected from scale-down that no longer need it (`protectionReleases`); none when absent. */
  readonly releases?: readonly ProtectionRelease[];
}
