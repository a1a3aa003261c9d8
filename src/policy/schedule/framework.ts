/**
 * One scheduling cycle of kube-scheduler's framework (pkg/scheduler/schedule_one.go, v1.36) as a
 * pure function of the fit state: PreFilter and Filter over a sample of the nodes (its
 * percentageOfNodesToScore, from a rotating start), PostFilter (DefaultPreemption) when no node
 * passes, Score with the profile's weighted plugins, and selectHost (the best total, ties at
 * random). Reserve is `FitState.assume`, its undo `FitState.forget`; Permit and Bind belong to the
 * caller, which carries the decision out (the live scheduler through the API, the simulator on its
 * models). Every plugin comes from `src/policy/fit`'s registry: a profile names them.
 */
import type { PdbView, PodView } from '../../core/model.js';
import { bestScoredNodes, describeUnschedulable, feasibleAmong, filterNodes } from '../fit/index.js';
import type { FitState, NodeInfo, SchedulingProfile } from '../fit/index.js';
import { COST_AWARE_PROFILE, DEFAULT_PROFILE } from '../fit/profiles.js';
import { findPreemption, preemptionIneligibility, type PreemptionCandidate } from './preemption.js';

/**
 * The plugin sets a profile starts from. `default` is kube-scheduler's default profile (its
 * plugins and weights, as far as Stowage implements them: see `DEFAULT_PROFILE`); `cost-aware`
 * scores price per allocatable unit (spot wins when cheaper; the placement webhook's node affinity
 * still decides whether a pod may go on spot at all), bin-packs, and avoids nodes an autoscaler is
 * removing.
 */
export const PROFILE_PRESETS = {
  default: DEFAULT_PROFILE,
  'cost-aware': COST_AWARE_PROFILE,
} as const satisfies Readonly<Record<string, SchedulingProfile>>;

export type ProfilePresetName = keyof typeof PROFILE_PRESETS;

/** A scheduler profile, as one entry of KubeSchedulerConfiguration's `profiles`. */
export interface SchedulerProfile {
  /** Pods whose `spec.schedulerName` is this are scheduled with this profile. */
  readonly schedulerName: string;
  readonly preset: ProfilePresetName;
  /** The filters and weighted scores. */
  readonly fit: SchedulingProfile;
  /** DefaultPreemption as the PostFilter plugin. */
  readonly preemption: boolean;
}

/** Why a pod was not scheduled, typed: metrics and backoff key on the code, Events show the message. */
export interface UnschedulableReason {
  readonly code: 'Unschedulable' | 'NoNodes';
  /** kube-scheduler 1.36's FitError message (`0/4 nodes are available: 4 Insufficient cpu.`). */
  readonly message: string;
}

/** The outcome of one scheduling cycle. */
export type ScheduleDecision =
  | {
      readonly ok: true;
      readonly nodeName: string;
      /** Feasible nodes found, and nodes filtered to find them. */
      readonly feasible: number;
      readonly evaluated: number;
    }
  | {
      readonly ok: false;
      readonly reason: UnschedulableReason;
      /** The node to nominate and the victims to delete, when preemption found room. */
      readonly preemption?: PreemptionCandidate;
    };

/** What a cycle needs besides the state, the pod and the profile. */
export interface CycleContext {
  readonly pdbs: readonly PdbView[];
  /** percentageOfNodesToScore; 0 is kube-scheduler's adaptive default. */
  readonly percentageOfNodesToScore: number;
  /** Uniform in [0, 1): breaks ties between the best-scored nodes, as selectHost does. */
  readonly random: () => number;
  /** Where the node search starts (upstream's nextStartNodeIndex); the caller keeps it between cycles. */
  readonly startIndex: number;
  /** The node the pod is nominated to by an earlier preemption (`status.nominatedNodeName`). */
  readonly nominatedNodeName?: string;
}

/** kube-scheduler's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind. */
const _MIN_FEASIBLE = 100;
const _MIN_PERCENTAGE = 5;

/**
 * kube-scheduler's numFeasibleNodesToFind: every node of a cluster under 100 nodes, else the
 * given percentage (adaptive when 0: 50% less 1% per 125 nodes, at least 5%), at least 100.
 */
export function numFeasibleNodesToFind(nodeCount: number, percentageOfNodesToScore: number): number {
  if (nodeCount < _MIN_FEASIBLE) return nodeCount;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) percentage = Math.max(_MIN_PERCENTAGE, 50 - Math.trunc(nodeCount / 125));
  if (percentage >= 100) return nodeCount;
  return Math.max(_MIN_FEASIBLE, Math.trunc((nodeCount * percentage) / 100));
}

/**
 * Runs one scheduling cycle for `pod` and returns the decision and where the next cycle's node
 * search starts. The state is read, not changed (preemption's what-ifs are undone): Reserve is the
 * caller's `state.assume(pod, decision.nodeName)`.
 *
 * @example
 * ```ts
 * const { decision, nextStartIndex } = scheduleOne(state, pod, profile, { pdbs, percentageOfNodesToScore: 0, random: Math.random, startIndex });
 * if (decision.ok) state.assume(pod, decision.nodeName); // then Permit and Bind
 * ```
 */
export function scheduleOne(state: FitState, pod: PodView, profile: SchedulerProfile, context: CycleContext): { readonly decision: ScheduleDecision; readonly nextStartIndex: number } {
  const names = state.nodeNames;
  const n = names.length;
  if (n === 0) return { decision: { ok: false, reason: { code: 'NoNodes', message: 'no nodes available to schedule pods' } }, nextStartIndex: 0 };
  const want = numFeasibleNodesToFind(n, context.percentageOfNodesToScore);
  const start = context.startIndex % n;
  let processed = 0;
  const rotated = (function* (): Generator<NodeInfo> {
    for (; processed < n; ) {
      const info = state.nodeInfo(names[(start + processed) % n] as string) as NodeInfo;
      processed++;
      yield info;
    }
  })();
  const feasible = feasibleAmong(state, pod, rotated, want, profile.fit.filters);
  const nextStartIndex = (start + processed) % n;
  if (feasible.length === 0) {
    // Every node was filtered: the reasons of each, for the FitError, cost one more pass.
    const { rejected } = filterNodes(state, pod, profile.fit.filters);
    const fitMessage = describeUnschedulable(n, rejected.values());
    if (!profile.preemption) return { decision: { ok: false, reason: { code: 'Unschedulable', message: fitMessage } }, nextStartIndex };
    const ineligible = preemptionIneligibility(state, pod, context.nominatedNodeName);
    if (ineligible !== undefined) return { decision: { ok: false, reason: { code: 'Unschedulable', message: `${fitMessage} preemption: ${ineligible}` } }, nextStartIndex };
    const preemption = findPreemption(state, pod, context.pdbs, profile.fit.filters);
    if (!preemption.ok) return { decision: { ok: false, reason: { code: 'Unschedulable', message: `${fitMessage} preemption: ${preemption.message}` } }, nextStartIndex };
    return { decision: { ok: false, reason: { code: 'Unschedulable', message: fitMessage }, preemption: preemption.candidate }, nextStartIndex };
  }
  const ties = feasible.length === 1 ? [(feasible[0] as NodeInfo).view.name] : bestScoredNodes(state, pod, profile.fit, feasible);
  const nodeName = ties.length === 1 ? (ties[0] as string) : (ties[Math.min(ties.length - 1, Math.floor(context.random() * ties.length))] as string);
  return { decision: { ok: true, nodeName, feasible: feasible.length, evaluated: processed }, nextStartIndex };
}
