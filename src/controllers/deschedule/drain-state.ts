/**
 * The state of a drain, kept on the node itself: a NoSchedule taint so nothing new lands there,
 * and an annotation naming the plan, the start time and what the node looked like before. A
 * descheduler that restarts reads them back and rolls the drain back, so no node stays tainted
 * after a crash. Pure: the executor applies what these functions compute.
 */
import type { V1Taint } from '@kubernetes/client-node';
import type { ClusterSnapshot, PodView, Taint } from '../../core/model.js';
import { scaledIntOrPercent } from '../../core/int-or-percent.js';
import { holdsResources } from '../../core/snapshot.js';
import type { LaunchedClaim } from '../../kube/node-claims.js';

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

/**
 * A replacement a crashed run launched for a job it did not finish: the claim's plan still has a
 * drain record on some node (the set it replaces is tainted before the launch and stays so until
 * the job ends, or the claim's own node carries the record a crashed recovery wrote).
 */
export interface LeftoverLaunch {
  readonly claim: string;
  readonly planId: string;
  readonly launch: string;
  readonly node?: string;
  /** Pods on its node that keep it (`namespace/name`): neither a DaemonSet's, a mirror, finished nor being deleted. */
  readonly pods: readonly string[];
  /**
   * What the next start does: `delete` the claim of a node no pod runs on (or of no node yet),
   * or `keep` a node pods were moved onto: deleting it would disrupt them a second time, and it
   * is an ordinary node of its pool from then on.
   */
  readonly onStart: 'delete' | 'keep';
}

/** What drains left on the cluster objects: what a dry run reports and a start rolls back. */
export interface DrainLeftovers {
  readonly nodes: readonly LeftoverDrain[];
  readonly surges: readonly LeftoverSurge[];
  /** Present when the NodeClaims were read (a cluster with Karpenter). */
  readonly launches?: readonly LeftoverLaunch[];
}

/** The pods on `node` that keep it from being deleted: neither a DaemonSet's, a mirror, finished nor being deleted. */
export function podsKeepingNode(pods: readonly PodView[], node: string): PodView[] {
  return pods.filter((p) => p.nodeName === node && p.owner.kind !== 'DaemonSet' && !p.isMirror && p.deletionRequestedAt === undefined && holdsResources(p));
}

/**
 * The launches of `claims` whose job a crashed run left unfinished (see `LeftoverLaunch`), judged
 * on `snapshot`. A claim whose plan has no drain record left finished its job (its node is an
 * ordinary node now) and is not one; nor is a claim being deleted.
 */
export function leftoverLaunches(snapshot: ClusterSnapshot, claims: readonly LaunchedClaim[]): LeftoverLaunch[] {
  const open = new Set<string>();
  for (const node of snapshot.nodes) {
    const record = decodeDrainRecord(node.annotations[DRAIN_ANNOTATION]);
    // A held node finished its drain (its hold over or not); a plan under way keeps a record without a hold on every node it has not finished.
    if (record !== undefined && record.heldUntil === undefined) open.add(record.planId);
  }
  const out: LeftoverLaunch[] = [];
  for (const claim of claims) {
    const slash = claim.launchedFor.lastIndexOf('/');
    const planId = slash < 0 ? claim.launchedFor : claim.launchedFor.slice(0, slash);
    if (claim.deleting || !open.has(planId)) continue;
    const node = claim.nodeName === undefined || claim.nodeName === '' ? undefined : claim.nodeName;
    const pods = node === undefined ? [] : podsKeepingNode(snapshot.pods, node).map((p) => `${p.namespace}/${p.name}`).sort();
    out.push({ claim: claim.name, planId, launch: slash < 0 ? '' : claim.launchedFor.slice(slash + 1), ...(node === undefined ? {} : { node }), pods, onStart: pods.length > 0 ? 'keep' : 'delete' });
  }
  return out.sort((a, b) => (a.claim < b.claim ? -1 : a.claim > b.claim ? 1 : 0));
}

/**
 * The drain state left on `snapshot`'s objects at `now` (ms): nodes with the draining taint or a
 * drain record, Deployments with a saved strategy, and, given the NodeClaims the descheduler
 * launched (`claims`), the replacements of jobs left unfinished. Between cycles of a running descheduler
 * only held nodes are expected; anything else was left by a run that stopped half-way (a crash).
 */
export function leftoverDrainState(snapshot: ClusterSnapshot, now: number, claims?: readonly LaunchedClaim[]): DrainLeftovers {
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
  return { nodes, surges, ...(claims === undefined ? {} : { launches: leftoverLaunches(snapshot, claims) }) };
}

/**
 * {@link leftoverDrainState} with the NodeClaims `listClaims` reads (none given: a cluster without
 * Karpenter). A list that fails is reported through `warn` and leaves the launches out, so the
 * rest is still reported or rolled back: what a start-up recovery and a dry run both do.
 */
export async function readLeftovers(snapshot: ClusterSnapshot, now: number, listClaims: (() => Promise<readonly LaunchedClaim[]>) | undefined, warn: (error: string) => void): Promise<DrainLeftovers> {
  let claims: readonly LaunchedClaim[] | undefined;
  try {
    claims = await listClaims?.();
  } catch (error) {
    warn(error instanceof Error ? error.message : String(error));
  }
  return leftoverDrainState(snapshot, now, claims);
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
