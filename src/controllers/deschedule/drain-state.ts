/**
 * The state of a drain, kept on the node itself: a NoSchedule taint so nothing new lands there,
 * and an annotation naming the plan, the start time and what the node looked like before. A
 * descheduler that restarts reads them back and rolls the drain back, so no node stays tainted
 * after a crash. Pure: the executor applies what these functions compute.
 */
import type { V1Taint } from '@kubernetes/client-node';
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
export function hasDrainingTaint(taints: readonly V1Taint[] | undefined): boolean {
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
