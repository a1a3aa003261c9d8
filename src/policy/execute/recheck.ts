/**
 * The recheck before each step of a plan: the plan was made on an older snapshot, so before a
 * node is tainted and before each wave starts, the pods it moves are looked at again on a fresh
 * one with the planner's own `AvailabilityGuard`, and a surge that must land safely with the
 * planner's own prediction of the scheduler's choice. Pure: the driver supplies the snapshot.
 */
import type { ClusterSnapshot, PodView } from '../../core/model.js';
import { holdsResources, indexSnapshot } from '../../core/snapshot.js';
import { AvailabilityGuard } from '../deschedule/guards.js';
import { landingOnSnapshot } from '../deschedule/landing.js';
import { reason } from '../deschedule/reasons.js';
import type { Reason } from '../deschedule/reasons.js';
import type { Move, NodeDrain } from '../deschedule/types.js';

/** The moves of one step that may start, and those an earlier rollout already carried out. */
export type RecheckResult =
  | { readonly ok: true; readonly start: readonly Move[]; readonly alreadyReplaced: readonly Move[] }
  | { readonly ok: false; readonly reason: Reason };

/**
 * Why `moves` (all from `drain.node`) must not start on `snapshot`, or which may: the node must
 * still be there, Ready and not cordoned; each pod must still be on it, except a surge-first pod
 * an earlier rollout of its Deployment already replaced; when `wholeNode`, no unplanned pod may
 * have arrived; and the guard must admit the pods in the mode the plan says.
 */
export function recheckStep(snapshot: ClusterSnapshot, drain: NodeDrain, moves: readonly Move[], wholeNode: boolean): RecheckResult {
  const index = indexSnapshot(snapshot);
  const node = index.node(drain.node);
  if (node === undefined) return { ok: false, reason: reason('node-gone', `Node "${drain.node}" is gone`) };
  if (!node.ready) return { ok: false, reason: reason('node-not-ready', `Node "${drain.node}" is not Ready`) };
  if (node.unschedulable) return { ok: false, reason: reason('node-cordoned', `Node "${drain.node}" was cordoned since planning`) };
  const live = index.podsOnNode(drain.node).filter(holdsResources);
  const byUid = new Map(live.map((p) => [p.uid, p] as const));
  const pods: PodView[] = [];
  const start: Move[] = [];
  const alreadyReplaced: Move[] = [];
  for (const move of moves) {
    const pod = byUid.get(move.pod.uid);
    if (pod === undefined) {
      // A rollout replaces every pod of its Deployment: a later surge-first move of it has nothing left to do.
      if (move.mode === 'surge-first') {
        alreadyReplaced.push(move);
        continue;
      }
      return { ok: false, reason: reason('stale-plan', `Pod "${move.pod.namespace}/${move.pod.name}" changed since planning: no longer on node "${drain.node}"`) };
    }
    if (pod.deletionRequestedAt !== undefined) return { ok: false, reason: reason('stale-plan', `Pod "${move.pod.namespace}/${move.pod.name}" changed since planning: it is terminating`) };
    pods.push(pod);
    start.push(move);
  }
  if (wholeNode) {
    const known = new Set([...drain.pods, ...drain.staying].map((p) => p.uid));
    // A single move leaves the rest of the node alone, so only a drain minds newcomers.
    const arrived = live.filter((p) => !known.has(p.uid) && p.owner.kind !== 'DaemonSet' && !p.isMirror);
    if (arrived.length > 0) return { ok: false, reason: reason('stale-plan', `Node "${drain.node}" changed since planning: ${arrived.length} new pod(s), first "${arrived[0]?.namespace}/${arrived[0]?.name}"`) };
  }
  if (pods.length === 0) return { ok: true, start, alreadyReplaced };
  const admitted = new AvailabilityGuard(index).admit(pods);
  if (!admitted.ok) return admitted;
  for (const a of admitted.admissions) {
    const move = start.find((m) => m.pod.uid === a.pod.uid);
    if (move !== undefined && move.mode !== a.mode) return { ok: false, reason: reason('stale-plan', `Pod "${a.pod.namespace}/${a.pod.name}" changed since planning: it now needs ${a.mode}, the plan says ${move.mode}`) };
  }
  return { ok: true, start, alreadyReplaced };
}

/**
 * Why one of `moves` must not start because its replacement would land where the autoscaler will
 * remove it (`Move.safeLanding`), predicted on `snapshot`, the cluster right before the surge; or
 * undefined. The planner predicted it too, but on the cluster before the drain's evictions.
 * `filling` are nodes the plan launched and is filling (a replacement): safe, as planned.
 */
export function recheckLanding(snapshot: ClusterSnapshot, moves: readonly Move[], filling?: ReadonlySet<string>): Reason | undefined {
  for (const move of moves) {
    if (move.safeLanding === undefined) continue;
    const pod = snapshot.pods.find((p) => p.uid === move.pod.uid);
    if (pod === undefined) continue;
    const landing = landingOnSnapshot(snapshot, pod, move.fromNode, move.safeLanding, filling);
    if (landing !== undefined && !landing.ok) return reason('unsafe-landing', `Pod "${move.pod.namespace}/${move.pod.name}" must not lose its replica, but ${landing.reason}`);
  }
  return undefined;
}
