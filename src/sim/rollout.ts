/**
 * The Deployment controller's rolling update, as plain arithmetic over ReplicaSet counts: which
 * replicas each ReplicaSet of a Deployment should have, given the Deployment's replicas, its
 * `strategy.rollingUpdate` and how many of each ReplicaSet's pods are available. The ReplicaSet
 * controller (`Service` in `workloads.ts`) then creates or deletes pods to match.
 *
 * The rules follow upstream's `pkg/controller/deployment/rolling.go` and `util/deployment_util.go`
 * (ideas ported, not code):
 * - fenceposts: maxSurge is a count or a percentage of the replicas rounded up, maxUnavailable
 *   one rounded down; when both come to 0, maxUnavailable is 1 (a rollout must be able to
 *   progress); maxUnavailable is never more than the replicas;
 * - the new ReplicaSet grows while the ReplicaSets' replicas together stay within
 *   `replicas + maxSurge`, never past `replicas` (and shrinks to `replicas` when above it);
 * - the old ReplicaSets shrink, oldest first, only while `replicas − maxUnavailable` pods stay
 *   available: first their unavailable pods (within what the new ReplicaSet's own unavailable pods
 *   leave), then available ones, as many as the available pods above that minimum. So old pods go
 *   only as new ones become Ready (available: `minReadySeconds` 0).
 *
 * Not modelled: upstream's proportional scaling of a scaling event that lands mid-rollout (here the
 * rolling rules absorb it: the new ReplicaSet is capped at the new replicas, the old ones shrink
 * within maxUnavailable), `minReadySeconds`, pausing and progress deadlines. A rollout's pods are
 * deleted, never evicted: no PodDisruptionBudget applies to them.
 */
import { scaledIntOrPercent } from '../core/int-or-percent.js';

/** `spec.strategy.rollingUpdate` of a Deployment: counts or percentages such as `'25%'`. */
export interface RollingUpdateStrategy {
  readonly maxSurge: number | string;
  readonly maxUnavailable: number | string;
}

/** Kubernetes' default: 25% and 25%. */
export const DEFAULT_ROLLING_UPDATE: RollingUpdateStrategy = Object.freeze({ maxSurge: '25%', maxUnavailable: '25%' });

/**
 * maxSurge and maxUnavailable as pod counts for `replicas` (upstream's `ResolveFenceposts` and
 * `MaxUnavailable`): surge rounded up, unavailable rounded down, both 0 → 1 unavailable, and
 * unavailable at most the replicas.
 *
 * @example
 * fenceposts({ maxSurge: '25%', maxUnavailable: '25%' }, 3); // { surge: 1, unavailable: 0 }
 * fenceposts({ maxSurge: 0, maxUnavailable: 0 }, 4);         // { surge: 0, unavailable: 1 }
 */
export function fenceposts(strategy: RollingUpdateStrategy, replicas: number): { readonly surge: number; readonly unavailable: number } {
  const surge = Math.max(0, scaledIntOrPercent(strategy.maxSurge, replicas, true) ?? 0);
  let unavailable = Math.max(0, scaledIntOrPercent(strategy.maxUnavailable, replicas, false) ?? 0);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, Math.max(0, replicas)) };
}

/** One ReplicaSet of a Deployment as the rolling update reads it. */
export interface ReplicaSetCounts {
  /** `spec.replicas`. */
  readonly replicas: number;
  /** Pods Ready (and not terminating). */
  readonly available: number;
}

/**
 * One sync of a rolling update: the replicas of each ReplicaSet, in the order given (oldest first,
 * the new ReplicaSet last). Pure; call again after the pods change until nothing moves.
 *
 * @example
 * // 4 replicas, 25%/25%: the new ReplicaSet may add 1 pod, and 1 old pod may go at once.
 * rollingUpdateStep(4, DEFAULT_ROLLING_UPDATE, [{ replicas: 4, available: 4 }, { replicas: 0, available: 0 }]); // [3, 1]
 */
export function rollingUpdateStep(replicas: number, strategy: RollingUpdateStrategy, sets: readonly ReplicaSetCounts[]): number[] {
  const next = sets.map((s) => s.replicas);
  const last = next.length - 1;
  if (last < 0) return next;
  const { surge, unavailable } = fenceposts(strategy, replicas);
  const sum = (): number => next.reduce((a, b) => a + b, 0);

  // The new ReplicaSet: up to `replicas`, within `replicas + maxSurge` pods in all.
  const newReplicas = next[last] as number;
  if (newReplicas > replicas) next[last] = replicas;
  else if (newReplicas < replicas) {
    const room = replicas + surge - sum();
    if (room > 0) next[last] = newReplicas + Math.min(room, replicas - newReplicas);
  }

  // The old ReplicaSets: down only while `replicas − maxUnavailable` pods stay available.
  let old = 0;
  for (let i = 0; i < last; i++) old += next[i] as number;
  if (old === 0) return next;
  const minAvailable = replicas - unavailable;
  const newSet = sets[last] as ReplicaSetCounts;
  const newUnavailable = Math.max(0, (next[last] as number) - newSet.available);
  const maxScaledDown = sum() - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return next;
  // Unavailable old pods first: removing them costs no availability.
  let cleaned = 0;
  for (let i = 0; i < last && cleaned < maxScaledDown; i++) {
    const r = next[i] as number;
    const unhealthy = Math.max(0, r - (sets[i] as ReplicaSetCounts).available);
    const k = Math.min(maxScaledDown - cleaned, unhealthy);
    next[i] = r - k;
    cleaned += k;
  }
  // Then available ones, as many as are available above the minimum.
  let available = 0;
  for (const s of sets) available += s.available;
  let budget = available - minAvailable;
  for (let i = 0; i < last && budget > 0; i++) {
    const r = next[i] as number;
    const k = Math.min(r, budget);
    next[i] = r - k;
    budget -= k;
  }
  return next;
}
