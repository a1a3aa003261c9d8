/**
 * Where the scheduler will put a pod Stowage moves surge-first, and whether that node is safe.
 *
 * A surge-first move (a rollout with maxSurge 1) protects a workload that can't lose a replica
 * only while its replacement runs: the planner names a destination, but the scheduler chooses the
 * node, and the live descheduler cannot steer it (a Deployment's pods take their affinity from the
 * template; changing it is a second rollout). If the scheduler's choice is a node the autoscaler
 * will remove, the autoscaler's own drain evicts the replacement without a surge, and the workload
 * goes down. Under MostAllocated that choice is often a node held full by Job pods only: the
 * fullest node scores best, and once the Jobs end the autoscaler removes it within minutes.
 *
 * So the planner predicts the scheduler's choice with the profile the cluster runs (the shared fit
 * code the simulator's scheduler runs too) and moves the pod only when that choice is safe, even
 * when the scheduler scores just a window of the feasible nodes (kube-scheduler's
 * `percentageOfNodesToScore` in large clusters): enough safe nodes must outscore every unsafe one
 * that any window holds one of them. The destination is then the predicted node, so the moves
 * planned after it count it where it will really run.
 */
import type { ClusterSnapshot, NodeView, PodView, Resources } from '../../core/model.js';
import { holdsResources, workloadKey } from '../../core/snapshot.js';
import { addResources, subtractResources, wouldFit } from '../../core/resources.js';
import { checkFit } from '../fit/filter.js';
import { MOST_ALLOCATED_PROFILE } from '../fit/profiles.js';
import { scoreNodes } from '../fit/score.js';
import type { SchedulingProfile } from '../fit/score.js';
import { FitState } from '../fit/state.js';
import { autoscalerRemoving, removalUtilization, stayingRequests } from './autoscaler.js';
import { numFeasibleNodesToFind, PROFILE_PRESETS } from '../schedule/framework.js';

/**
 * The scheduling profiles a config can name for the cluster's scheduler: `stowage scheduler`'s
 * presets (kube-scheduler's default, LeastAllocated, and the cost-aware profile) and kube-scheduler's
 * MostAllocated variant, which a cluster's own scheduler may run.
 */
export const SCHEDULER_PROFILES = {
  ...PROFILE_PRESETS,
  'most-allocated': MOST_ALLOCATED_PROFILE,
} as const satisfies Readonly<Record<string, SchedulingProfile>>;

/** A key of {@link SCHEDULER_PROFILES}. */
export type SchedulerProfileName = keyof typeof SCHEDULER_PROFILES;

/** Whether the profile packs nodes (scores MostAllocated), so a full node is its goal rather than a hot spot. */
export function profilePacks(name: SchedulerProfileName): boolean {
  return SCHEDULER_PROFILES[name].scores.some((s) => s.plugin === 'NodeResourcesMostAllocated' && s.weight > 0);
}

/** The scheduler the cluster's pods use, as far as planning predicts it. */
export interface SchedulerAwareness {
  readonly profile: SchedulerProfileName;
  /** kube-scheduler's `percentageOfNodesToScore` (0: its adaptive default). */
  readonly percentageOfNodesToScore: number;
}

/**
 * What a surge-first move asks of where its replacement lands: the scheduler it is predicted with
 * and the autoscaler's removal threshold it must stay clear of. Plain data on the move, so the
 * executor predicts again, on a fresh snapshot, right before the surge (`landingOnSnapshot`).
 */
export interface SafeLanding extends SchedulerAwareness {
  readonly scaleDownUtilizationThreshold: number;
}

/** The predicted landing: a safe node, or the unsafe node the scheduler may well choose. */
export type Landing = { readonly ok: true; readonly node: string } | { readonly ok: false; readonly node: string; readonly reason: string };

/**
 * Where the scheduler puts `pod` among `feasible` (the nodes it passes the filters on, in the
 * state with the moves planned so far), given which nodes are `unsafe`; `nodeCount` is the number
 * of schedulable nodes the scheduler searches. `undefined` when no feasible node is unsafe: then
 * any choice is safe and the caller keeps its own destination.
 */
export function predictLanding(
  state: FitState,
  pod: PodView,
  feasible: readonly string[],
  unsafe: (node: string) => boolean,
  nodeCount: number,
  scheduler: SchedulerAwareness,
): Landing | undefined {
  if (!feasible.some(unsafe)) return undefined;
  const profile = SCHEDULER_PROFILES[scheduler.profile];
  const scores = scoreNodes(state, pod, profile, feasible);
  let riskiest: { readonly nodeName: string; readonly total: number } | undefined;
  for (const s of scores) if (unsafe(s.nodeName) && (riskiest === undefined || s.total > riskiest.total)) riskiest = s;
  const worst = riskiest as { readonly nodeName: string; readonly total: number };
  const above = scores.filter((s) => s.total > worst.total && !unsafe(s.nodeName)).sort((a, b) => b.total - a.total || (a.nodeName < b.nodeName ? -1 : 1));
  // The scheduler stops after finding `window` feasible nodes: every window holds one of `above` only if fewer than `window` nodes are not in it.
  const window = Math.min(feasible.length, numFeasibleNodesToFind(nodeCount, scheduler.percentageOfNodesToScore));
  const best = above[0];
  if (best !== undefined && above.length > feasible.length - window) return { ok: true, node: best.nodeName };
  const why =
    above.length === 0
      ? `the scheduler (${profile.name}) would place it on node "${worst.nodeName}", which the autoscaler will remove`
      : `the scheduler (${profile.name}) scores only ${window} of ${feasible.length} feasible nodes and may place it on node "${worst.nodeName}", which the autoscaler will remove`;
  return { ok: false, node: worst.nodeName, reason: why };
}

/**
 * {@link predictLanding} on a snapshot, for the executor's recheck right before a surge, for every
 * pod the surge replaces: a surge-first move is a rollout of the Deployment (maxSurge 1,
 * maxUnavailable 0), so each of its pods gets a replacement the scheduler places, one at a time,
 * each old pod gone once its replacement is Ready; predicted in that order, the moved pod last
 * (the ReplicaSet controller deletes doubled-up pods first, and the moved one's node is cordoned).
 * `pod` leaves `from` (cordoned by then). Unsafe are the nodes the autoscaler is removing or means
 * to (its taints) and those that stay below its removal threshold with the pod, counting only the
 * pods that stay (not Job pods, not pods being deleted); and a replacement that fits on no node
 * lands on one the autoscaler launches for it alone, unsafe when the pod alone (with the node's
 * DaemonSet pods) keeps such a node below the threshold. `filling`: nodes a plan launched and is
 * filling (a replacement), safe whatever their fill now (the plan judged their fill once filled).
 * The first unsafe landing, else undefined.
 */
export function landingOnSnapshot(snapshot: ClusterSnapshot, pod: PodView, from: string, landing: SafeLanding, filling?: ReadonlySet<string>): Landing | undefined {
  const state = FitState.fromSnapshot(snapshot);
  state.cordon(from);
  const nodes = new Map(snapshot.nodes.map((n) => [n.name, n] as const));
  const schedulable = snapshot.nodes.filter((n) => n.ready && !n.unschedulable).length;
  const key = workloadKey(pod.owner);
  const others = pod.owner.kind === 'Deployment' ? snapshot.pods.filter((p) => p.uid !== pod.uid && p.nodeName !== '' && holdsResources(p) && p.deletionRequestedAt === undefined && workloadKey(p.owner) === key) : [];
  for (const old of [...others, pod]) {
    const predicted = _landingOf(state, old, old === pod ? from : undefined, nodes, schedulable, landing, old !== pod, filling);
    if (!predicted.ok) return old === pod ? predicted : { ...predicted, reason: `the rollout that moves it replaces pod "${old.namespace}/${old.name}" too, and ${predicted.reason}` };
    // Make before break: the replacement runs where predicted (a new node, or one not named, is not in the state), then the old pod goes.
    if (predicted.node !== '') state.assume(surgedPod(old), predicted.node);
    if (state.nodeOf(old) !== undefined) state.forget(old);
  }
  return undefined;
}

/**
 * Where the scheduler puts the replacement of `old` in `state` (never on `leaving`), and whether
 * that is safe; the node is named only when `named` or unsafe (a safe choice among safe nodes is
 * worth scoring only when another replacement follows it).
 */
function _landingOf(
  state: FitState,
  old: PodView,
  leaving: string | undefined,
  nodes: ReadonlyMap<string, NodeView>,
  schedulable: number,
  landing: SafeLanding,
  named: boolean,
  filling: ReadonlySet<string> | undefined,
): Landing {
  // Not forgotten: the old pod stays on its node until the new one is Ready, and the scheduler counts it.
  const surged = surgedPod(old);
  const unsafe = (name: string): boolean => {
    const node = nodes.get(name);
    if (node === undefined || filling?.has(name) === true) return false;
    if (autoscalerRemoving(node) !== undefined) return true;
    return removalUtilization(addResources(stayingRequests(state, name), surged.requests), node.allocatable) < landing.scaleDownUtilizationThreshold;
  };
  const free = (name: string): Resources => subtractResources(nodes.get(name)?.allocatable ?? {}, state.requested(name));
  const feasible = state.nodeNames.filter((name) => name !== leaving && wouldFit(surged.requests, free(name)) && checkFit(state, surged, name).ok);
  if (feasible.length === 0) return _aloneOnNewNode(state, old, nodes, landing);
  const predicted = predictLanding(state, surged, feasible, unsafe, schedulable, landing);
  if (predicted !== undefined) return predicted;
  if (!named) return { ok: true, node: '' };
  // No feasible node is unsafe: wherever the scheduler puts it is safe; the best score is where it most likely goes.
  const scores = scoreNodes(state, surged, SCHEDULER_PROFILES[landing.profile], feasible);
  let best = scores[0];
  for (const s of scores) if (best === undefined || s.total > best.total || (s.total === best.total && s.nodeName < best.nodeName)) best = s;
  return { ok: true, node: best?.nodeName ?? (feasible[0] as string) };
}

/**
 * A replacement that fits on no node waits for the autoscaler to launch one, where it runs alone
 * but for the DaemonSet pods: a node like the one the old pod runs on. Unsafe when that leaves the
 * new node below the removal threshold: the autoscaler removes it again, replacement and all.
 */
function _aloneOnNewNode(state: FitState, old: PodView, nodes: ReadonlyMap<string, NodeView>, landing: SafeLanding): Landing {
  const like = nodes.get(old.nodeName);
  const daemons = like === undefined ? [] : state.podsOn(like.name).filter((p) => p.owner.kind === 'DaemonSet' || p.isMirror);
  const requested = daemons.reduce((sum, p) => addResources(sum, p.requests), old.requests);
  if (like !== undefined && removalUtilization(requested, like.allocatable) >= landing.scaleDownUtilizationThreshold) return { ok: true, node: '' };
  return { ok: false, node: '', reason: 'its replacement fits on no node: the autoscaler would launch a node for it alone, below its removal threshold, and remove it again' };
}

/** The new pod a surge creates for `pod`: unbound, its own uid, while `pod` still runs. */
export function surgedPod(pod: PodView): PodView {
  return { ...pod, uid: `${pod.uid}/surge`, nodeName: '', phase: 'Pending', ready: false };
}
