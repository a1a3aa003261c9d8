/**
 * kube-scheduler's DefaultPreemption (pkg/scheduler/framework/plugins/defaultpreemption and
 * framework/preemption, v1.36), as a pure function of the fit state: when a pod fits nowhere,
 * which node to make room on and which pods to remove there.
 *
 * On each node, every pod of lower priority is taken off; if the pod then fits, the removed pods
 * are put back one by one, most important first (higher priority, then the earlier started),
 * those whose PodDisruptionBudget would be broken first: a pod stays if the preemptor still
 * fits with it, else it is a victim. So the victim set is minimal in that order: putting any
 * victim back would leave no room. Among the nodes with victims the candidate has the fewest PDB
 * violations, then the lowest highest-victim priority, then the smallest sum of priorities (each
 * offset by 2^31, as upstream, so fewer victims weigh first), then the fewest victims, then the
 * latest start among the highest-priority victims, then the lowest node name.
 */
import { matchesLabelSelector } from '../../core/labels.js';
import type { PdbView, PodView } from '../../core/model.js';
import { ALL_FILTERS, checkFit, type FilterPluginName, type FitState } from '../fit/index.js';

/** A node to make room on, and the pods to remove there, most important first. */
export interface PreemptionCandidate {
  readonly nodeName: string;
  readonly victims: readonly PodView[];
  /** Victims whose removal takes a PodDisruptionBudget below its allowed disruptions. */
  readonly pdbViolations: number;
}

/** The outcome: a candidate, or why there is none (upstream's PostFilter message words). */
export type PreemptionOutcome =
  | { readonly ok: true; readonly candidate: PreemptionCandidate }
  | { readonly ok: false; readonly code: 'never' | 'no-candidate'; readonly message: string };

/** `int64(math.MaxInt32 + 1)`: upstream's offset, which keeps the sum of negative priorities ordered. */
const _PRIORITY_OFFSET = 2 ** 31;

/**
 * Finds where `pod` (pending, fitting nowhere) could go by preempting lower-priority pods, as
 * kube-scheduler's DefaultPreemption would. `state` is changed while it runs and restored exactly.
 * Pod start times are read from `createdAt` (the model keeps no start time).
 *
 * @example
 * ```ts
 * const found = findPreemption(state, pod, snapshot.pdbs);
 * if (found.ok) for (const victim of found.candidate.victims) await deleteWithGracePeriod(victim);
 * ```
 */
export function findPreemption(state: FitState, pod: PodView, pdbs: readonly PdbView[], filters: readonly FilterPluginName[] = ALL_FILTERS): PreemptionOutcome {
  if (pod.preemptionPolicy === 'Never') return { ok: false, code: 'never', message: 'not eligible due to preemptionPolicy=Never.' };
  const candidates: PreemptionCandidate[] = [];
  for (const nodeName of state.nodeNames) {
    const candidate = selectVictimsOnNode(state, pod, nodeName, pdbs, filters);
    if (candidate !== undefined && candidate.victims.length > 0) candidates.push(candidate);
  }
  const chosen = pickCandidate(candidates);
  if (chosen === undefined) {
    return { ok: false, code: 'no-candidate', message: `0/${state.nodeNames.length} nodes are available: ${state.nodeNames.length} Preemption is not helpful for scheduling.` };
  }
  return { ok: true, candidate: chosen };
}

/**
 * Upstream's SelectVictimsOnNode: the minimal victims on `nodeName` in reprieve order, or
 * undefined when removing every lower-priority pod still leaves no room (or there is none).
 */
export function selectVictimsOnNode(state: FitState, pod: PodView, nodeName: string, pdbs: readonly PdbView[], filters: readonly FilterPluginName[] = ALL_FILTERS): PreemptionCandidate | undefined {
  const potential = state.podsOn(nodeName).filter((p) => p.priority < pod.priority && p.uid !== pod.uid);
  if (potential.length === 0) return undefined;
  for (const victim of potential) state.forget(victim);
  const victims: PodView[] = [];
  let pdbViolations = 0;
  try {
    if (!checkFit(state, pod, nodeName, filters).ok) return undefined;
    potential.sort(moreImportantFirst);
    const { violating, nonViolating } = _splitByPdbViolation(potential, pdbs);
    const reprieve = (victim: PodView): boolean => {
      state.assume(victim, nodeName);
      if (checkFit(state, pod, nodeName, filters).ok) return true;
      state.forget(victim);
      victims.push(victim);
      return false;
    };
    for (const victim of violating) if (!reprieve(victim)) pdbViolations++;
    for (const victim of nonViolating) reprieve(victim);
    if (violating.length > 0 && nonViolating.length > 0) victims.sort(moreImportantFirst);
    return { nodeName, victims, pdbViolations };
  } finally {
    // Put back whatever is still off the node, victims included: the state is only read here.
    for (const victim of potential) if (state.nodeOf(victim) === undefined) state.assume(victim, nodeName);
  }
}

/**
 * Upstream's PodEligibleToPreemptOthers: a pod with `preemptionPolicy: Never` never preempts, and
 * one nominated to a node where a lower-priority pod is still terminating waits for it instead of
 * choosing more victims (that pod is likely its own victim, still going). Returns the PostFilter
 * message when not eligible.
 */
export function preemptionIneligibility(state: FitState, pod: PodView, nominatedNodeName: string | undefined): string | undefined {
  if (pod.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  if (nominatedNodeName === undefined || nominatedNodeName === '') return undefined;
  for (const other of state.podsOn(nominatedNodeName)) {
    if (other.uid !== pod.uid && other.deletionRequestedAt !== undefined && other.priority < pod.priority) return 'not eligible due to a terminating pod on the nominated node.';
  }
  return undefined;
}

/** Upstream's pickOneNodeForPreemption over candidates in node-name order; undefined for none. */
export function pickCandidate(candidates: readonly PreemptionCandidate[]): PreemptionCandidate | undefined {
  let remaining = [...candidates].sort((a, b) => (a.nodeName < b.nodeName ? -1 : a.nodeName > b.nodeName ? 1 : 0));
  const scores: ((c: PreemptionCandidate) => number)[] = [
    (c) => -c.pdbViolations,
    (c) => -(c.victims[0]?.priority ?? 0),
    (c) => -c.victims.reduce((sum, v) => sum + v.priority + _PRIORITY_OFFSET, 0),
    (c) => -c.victims.length,
    _earliestStartOfHighestPriority,
  ];
  for (const score of scores) {
    if (remaining.length <= 1) break;
    let best = Number.NEGATIVE_INFINITY;
    let selected: PreemptionCandidate[] = [];
    for (const candidate of remaining) {
      const s = score(candidate);
      if (s > best) {
        best = s;
        selected = [];
      }
      if (s === best) selected.push(candidate);
    }
    remaining = selected;
  }
  return remaining[0];
}

/** Upstream's MoreImportantPod as a sort order: higher priority first, then the earlier started. */
export function moreImportantFirst(a: PodView, b: PodView): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.createdAt - b.createdAt;
}

/** Upstream's GetEarliestPodStartTime: the earliest start among the victims of the highest priority. */
function _earliestStartOfHighestPriority(candidate: PreemptionCandidate): number {
  const highest = candidate.victims[0]?.priority;
  let earliest = Number.POSITIVE_INFINITY;
  for (const victim of candidate.victims) if (victim.priority === highest && victim.createdAt < earliest) earliest = victim.createdAt;
  return earliest;
}

/**
 * Upstream's filterPodsWithPDBViolation: walking the pods in order, each takes one disruption from
 * every PDB of its namespace that selects it (an empty selector selects nothing here); a pod that
 * takes one below zero violates.
 */
function _splitByPdbViolation(pods: readonly PodView[], pdbs: readonly PdbView[]): { violating: PodView[]; nonViolating: PodView[] } {
  const allowed = pdbs.map((pdb) => pdb.disruptionsAllowed);
  const violating: PodView[] = [];
  const nonViolating: PodView[] = [];
  for (const pod of pods) {
    let violated = false;
    if (Object.keys(pod.labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if (pdb.namespace !== pod.namespace || _isEmptySelector(pdb.selector) || !matchesLabelSelector(pdb.selector, pod.labels)) return;
        allowed[i] = (allowed[i] as number) - 1;
        if ((allowed[i]) < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pod);
  }
  return { violating, nonViolating };
}

function _isEmptySelector(selector: PdbView['selector']): boolean {
  return selector === undefined || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}
