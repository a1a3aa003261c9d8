/**
 * The state of a drain, kept on the node itself: a NoSchedule taint so nothing new lands there,
 * and an annotation naming the plan, the start time and what the node looked like before. A
 * descheduler that restarts reads them back and rolls the drain back, so no node stays tainted
 * after a crash. Pure: the executor applies what these functions compute.
 */
import type { V1Taint } from '@kubernetes/client-node';
import type { ClusterSnapshot, Taint } from '../../core/model.js';
import { scaledIntOrPercent } from '../../core/int-or-percent.js';

/** The taint a node carries while it is drained. */
export const DRAINING_TAINT = { key: 'stowage.io/draining', effect: 'NoSchedule' } as const;

/** The node annotation holding the drain record (JSON). */
export const DRAIN_ANNOTATION = 'stowage.io/drain';

/** The Deployment annotation holding its strategy before a surge-first move changed it (JSON). */
export const SURGE_ANNOTATION = 'stowage.io/surge';

/** The pod template annotation a surge-first move sets to start a rollout. */
export const MOVED_AT_ANNOTATION = 'stowage.io/moved-at';

/** What the node annotation records. */
export interface DrainRecord {
  readonly planId: string;
  /** ISO time the drain started. */
  readonly startedAt: string;
  readonly strategy: string;
  /** Pods the drain moves, `namespace/name`. */
  readonly pods: readonly string[];
  /** The node's state before: whether it already carried the draining taint (then rollback keeps it). */
  readonly previous: { readonly hadTaint: boolean; readonly unschedulable: boolean };
  /** ISO time until which a consolidated node keeps the taint, for the autoscaler to remove it; absent while draining. */
  readonly heldUntil?: string;
}

/** The annotation value for a record. */
export function encodeDrainRecord(record: DrainRecord): string {
  return JSON.stringify(record);
}

/** Reads a node annotation; undefined when absent or not a record (then the taint is simply removed). */
export function decodeDrainRecord(value: string | undefined): DrainRecord | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<DrainRecord> | null;
    if (parsed === null || typeof parsed !== 'object' || typeof parsed.planId !== 'string' || typeof parsed.startedAt !== 'string') return undefined;
    return {
      planId: parsed.planId,
      startedAt: parsed.startedAt,
      strategy: typeof parsed.strategy === 'string' ? parsed.strategy : '',
      pods: Array.isArray(parsed.pods) ? parsed.pods.filter((p): p is string => typeof p === 'string') : [],
      previous: { hadTaint: parsed.previous?.hadTaint === true, unschedulable: parsed.previous?.unschedulable === true },
      ...(typeof parsed.heldUntil === 'string' && !Number.isNaN(Date.parse(parsed.heldUntil)) ? { heldUntil: parsed.heldUntil } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Whether `taints` hold the draining taint. */
export function hasDrainingTaint(taints: readonly (V1Taint | Taint)[] | undefined): boolean {
  return (taints ?? []).some((t) => t.key === DRAINING_TAINT.key && t.effect === DRAINING_TAINT.effect);
}

/** `taints` with the draining taint added (once). */
export function withDrainingTaint(taints: readonly V1Taint[] | undefined, at: Date): V1Taint[] {
  const list = [...(taints ?? [])];
  if (!hasDrainingTaint(list)) list.push({ key: DRAINING_TAINT.key, value: 'true', effect: DRAINING_TAINT.effect, timeAdded: at });
  return list;
}

/** `taints` without the draining taint. */
export function withoutDrainingTaint(taints: readonly V1Taint[] | undefined): V1Taint[] {
  return (taints ?? []).filter((t) => !(t.key === DRAINING_TAINT.key && t.effect === DRAINING_TAINT.effect));
}

/** The Deployment strategy saved before a surge-first move. */
export interface SavedStrategy {
  readonly strategy: unknown;
  /** ISO time of the move, to tell a stale record from a fresh one in logs. */
  readonly at: string;
}

/**
 * Whether a rolling update with these settings keeps `replicas` Ready pods while it moves one:
 * maxUnavailable resolves to 0 (percentages round down) and maxSurge to at least 1 (round up).
 */
export function surgesSafely(strategy: { readonly type?: string; readonly rollingUpdate?: { readonly maxSurge?: number | string; readonly maxUnavailable?: number | string } } | undefined, replicas: number): boolean {
  if (strategy?.type === 'Recreate') return false;
  // Upstream defaults are 25% and 25%.
  const surge = scaledIntOrPercent(strategy?.rollingUpdate?.maxSurge ?? '25%', replicas, true);
  const unavailable = scaledIntOrPercent(strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
  // An unreadable setting is not a safe one.
  return surge !== undefined && surge >= 1 && unavailable === 0;
}

/** A node a drain left: its taint, its record, or both. */
export interface LeftoverDrain {
  readonly node: string;
  readonly tainted: boolean;
  /** The record, when the annotation holds one; `annotated` without it is an unreadable record. */
  readonly record?: DrainRecord;
  readonly annotated: boolean;
  /**
   * What the next start does: `roll-back` (untaint, clear the record), or `keep` a consolidated
   * node whose hold is not over (the autoscaler is to remove it).
   */
  readonly onStart: 'roll-back' | 'keep';
}

/** A Deployment whose strategy a surge-first move replaced, not given back yet. */
export interface LeftoverSurge {
  readonly namespace: string;
  readonly name: string;
  /** The saved strategy and when it was replaced; undefined when the record is unreadable. */
  readonly saved?: SavedStrategy;
}

/** What drains left on the cluster objects: what a dry run reports and a start rolls back. */
export interface DrainLeftovers {
  readonly nodes: readonly LeftoverDrain[];
  readonly surges: readonly LeftoverSurge[];
}

/**
 * The drain state left on `snapshot`'s objects at `now` (ms): nodes with the draining taint or a
 * drain record, and Deployments with a saved strategy. Between cycles of a running descheduler
 * only held nodes are expected; anything else was left by a run that stopped half-way (a crash).
 */
export function leftoverDrainState(snapshot: ClusterSnapshot, now: number): DrainLeftovers {
  const nodes: LeftoverDrain[] = [];
  for (const node of snapshot.nodes) {
    const value = node.annotations[DRAIN_ANNOTATION];
    const tainted = hasDrainingTaint(node.taints);
    if (value === undefined && !tainted) continue;
    const record = decodeDrainRecord(value);
    const held = record?.heldUntil !== undefined && Date.parse(record.heldUntil) > now;
    nodes.push({ node: node.name, tainted, ...(record === undefined ? {} : { record }), annotated: value !== undefined, onStart: held ? 'keep' : 'roll-back' });
  }
  const surges: LeftoverSurge[] = [];
  for (const w of snapshot.workloads) {
    const value = w.ref.kind === 'Deployment' ? w.annotations[SURGE_ANNOTATION] : undefined;
    if (value === undefined) continue;
    const saved = decodeSavedStrategy(value);
    surges.push({ namespace: w.ref.namespace, name: w.ref.name, ...(saved === undefined ? {} : { saved }) });
  }
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  nodes.sort((a, b) => order(a.node, b.node));
  surges.sort((a, b) => order(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  return { nodes, surges };
}

/** Reads the Deployment annotation a surge wrote; undefined when it is not a record. */
export function decodeSavedStrategy(value: string | undefined): SavedStrategy | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as { strategy?: unknown; at?: unknown } | null;
    if (parsed === null || typeof parsed !== 'object' || typeof parsed.at !== 'string') return undefined;
    return { strategy: parsed.strategy ?? null, at: parsed.at };
  } catch {
    return undefined;
  }
}
