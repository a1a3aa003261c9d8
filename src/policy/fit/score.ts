/**
 * Scores the nodes a pod may go on and picks one, as the scheduler framework's Score phase and
 * selectHost do: each enabled plugin scores every feasible node, normalizes across them to 0–100,
 * and the weighted sum ranks the nodes. Every plugin's score is returned, so a caller can explain
 * why a node won (as kube-scheduler-simulator shows).
 */
import type { PodView } from '../../core/model.js';
import { filterNodes, describeUnschedulable } from './filter.js';
import { SCORE_PLUGINS_BY_NAME } from './registry.js';
import type { FilterPluginName, ScorePluginName } from './registry.js';
import type { FitFailure } from './result.js';
import { _podName } from './state.js';
import type { FitState, NodeInfo } from './state.js';

/** A score plugin enabled in a profile, with its weight (upstream's default weights are 1–3). */
export interface WeightedScore {
  readonly plugin: ScorePluginName;
  readonly weight: number;
}

/** A scheduling profile, as a KubeSchedulerConfiguration profile: which filters and weighted scores. */
export interface SchedulingProfile {
  readonly name: string;
  /** Filters to run, still in upstream order; all of them when absent. */
  readonly filters?: readonly FilterPluginName[];
  readonly scores: readonly WeightedScore[];
}

/** One node's score for a pod, with what each plugin gave. */
export interface NodeScore {
  readonly nodeName: string;
  /** The sum over plugins of weight × score. */
  readonly total: number;
  /** Each enabled plugin's normalized score, 0–100, before its weight. */
  readonly plugins: Readonly<Partial<Record<ScorePluginName, number>>>;
}

/** Picks one of the nodes sharing the best score, given sorted by name. */
export type TieBreak = (candidates: readonly string[]) => string;

/** The default tie-break: the lowest node name, so results do not depend on a random source. */
export const lowestNodeName: TieBreak = (candidates) => candidates[0] as string;

/**
 * Scores `nodeNames` (default: the nodes `pod` passes the profile's filters on) with the profile's
 * score plugins. Returns one entry per node, in the order given (by name by default). A pod placed
 * in the state is scored as if taken off its node first.
 */
export function scoreNodes(state: FitState, pod: PodView, profile: SchedulingProfile, nodeNames?: readonly string[]): readonly NodeScore[] {
  return state.withoutPod(pod, () => {
    const names = nodeNames ?? filterNodes(state, pod, profile.filters).feasible;
    return _score(state, pod, profile, names);
  });
}

/** Where the pod goes and why, or why it goes nowhere. */
export type NodeSelection =
  | {
      readonly ok: true;
      readonly nodeName: string;
      /** Scores of every feasible node, by node name. */
      readonly scores: readonly NodeScore[];
      /** Nodes the filters rejected, with the reason. */
      readonly rejected: ReadonlyMap<string, FitFailure>;
    }
  | {
      readonly ok: false;
      /** As the scheduler's FitError: `0/3 nodes are available: 3 Insufficient cpu`. */
      readonly reason: string;
      readonly rejected: ReadonlyMap<string, FitFailure>;
    };

/**
 * Filters, scores and picks the node for `pod`: the highest total, ties broken by `tieBreak`
 * (lowest name by default; the simulator passes one drawing from its seeded random source).
 *
 * @example
 * ```ts
 * const choice = selectNode(state, pod, COST_AWARE_PROFILE, (c) => c[Math.floor(random() * c.length)]);
 * if (choice.ok) state.assume(pod, choice.nodeName);
 * else console.log(choice.reason);
 * ```
 */
export function selectNode(state: FitState, pod: PodView, profile: SchedulingProfile, tieBreak: TieBreak = lowestNodeName): NodeSelection {
  return state.withoutPod(pod, () => {
    const { feasible, rejected } = filterNodes(state, pod, profile.filters);
    if (feasible.length === 0) return { ok: false, reason: describeUnschedulable(state.nodeNames.length, rejected.values()), rejected };
    const scores = _score(state, pod, profile, feasible);
    let best = -Infinity;
    for (const s of scores) if (s.total > best) best = s.total;
    const candidates = scores.filter((s) => s.total === best).map((s) => s.nodeName);
    const nodeName = candidates.length === 1 ? (candidates[0] as string) : tieBreak(candidates);
    if (!candidates.includes(nodeName)) {
      throw new Error(`Cannot select a node for pod "${_podName(pod)}": the tie-break chose "${nodeName}", not one of the best-scored nodes`);
    }
    return { ok: true, nodeName, scores, rejected };
  });
}

/**
 * Buffers the score phase writes into, reused from pod to pod: a caller scoring many pods (the
 * scheduler, for every pod it binds) keeps one, so scoring hundreds of nodes allocates no per-node
 * arrays. Grows to the most nodes scored; the contents are overwritten by each use.
 */
export class ScoreScratch {
  #totals = new Float64Array(0);
  #scores = new Float64Array(0);

  /** The weighted totals, at least `count` long, zeroed up to `count`. */
  totals(count: number): Float64Array {
    if (this.#totals.length < count) this.#totals = new Float64Array(_grown(count));
    else this.#totals.fill(0, 0, count);
    return this.#totals;
  }

  /** One plugin's scores, at least `count` long; what is in it is the last plugin's. */
  scores(count: number): Float64Array {
    if (this.#scores.length < count) this.#scores = new Float64Array(_grown(count));
    return this.#scores;
  }
}

function _grown(count: number): number {
  let size = 64;
  while (size < count) size *= 2;
  return size;
}

/**
 * The names of the nodes of `given` (all feasible for `pod`; names or the state's `NodeInfo`) that
 * share the highest total score, in the order given: what `scoreNodes` then a search for the best
 * would give, without building each node's per-plugin breakdown. The scheduler calls it for every
 * pod, with its own `scratch` (without one, fresh buffers are used); a pod placed in the state is
 * scored as if taken off its node first.
 */
export function bestScoredNodes(
  state: FitState,
  pod: PodView,
  profile: SchedulingProfile,
  given: readonly (string | NodeInfo)[],
  scratch: ScoreScratch = new ScoreScratch(),
): string[] {
  return state.withoutPod(pod, () => {
    const nodes = _nodes(state, pod, given);
    const n = nodes.length;
    const totals = scratch.totals(n);
    _forEachPluginScore(state, pod, profile, nodes, scratch, (_name, weight, scores) => {
      if (scores === undefined) return;
      for (let i = 0; i < n; i++) totals[i] = (totals[i] as number) + (scores[i] as number) * weight;
    });
    let best = Number.NEGATIVE_INFINITY;
    const ties: string[] = [];
    for (let i = 0; i < n; i++) {
      const total = totals[i] as number;
      if (total > best) {
        best = total;
        ties.length = 0;
      }
      if (total === best) ties.push((nodes[i] as NodeInfo).view.name);
    }
    return ties;
  });
}

function _score(state: FitState, pod: PodView, profile: SchedulingProfile, nodeNames: readonly string[]): NodeScore[] {
  const nodes = _nodes(state, pod, nodeNames);
  const totals = nodes.map(() => 0);
  const perPlugin: Partial<Record<ScorePluginName, number>>[] = nodes.map(() => ({}));
  _forEachPluginScore(state, pod, profile, nodes, new ScoreScratch(), (name, weight, scores) => {
    for (let i = 0; i < nodes.length; i++) {
      const score = scores?.[i] ?? 0;
      (perPlugin[i] as Partial<Record<ScorePluginName, number>>)[name] = score;
      totals[i] = (totals[i] as number) + score * weight;
    }
  });
  return nodes.map((node, i) => ({ nodeName: node.view.name, total: totals[i] as number, plugins: perPlugin[i] as Partial<Record<ScorePluginName, number>> }));
}

function _nodes(state: FitState, pod: PodView, given: readonly (string | NodeInfo)[]): readonly NodeInfo[] {
  // The scheduler gives the state's NodeInfo already: used as given, not copied.
  let allInfo = true;
  for (let i = 0; i < given.length && allInfo; i++) allInfo = typeof given[i] !== 'string';
  if (allInfo) return given as readonly NodeInfo[];
  return given.map((name) => {
    if (typeof name !== 'string') return name;
    const node = state.nodeInfo(name);
    if (node === undefined) throw new Error(`Cannot score pod "${_podName(pod)}" on node "${name}": the node is not in the state`);
    return node;
  });
}

/** Calls `visit` with each enabled plugin's normalized scores of `nodes`, in the profile's order. */
function _forEachPluginScore(
  state: FitState,
  pod: PodView,
  profile: SchedulingProfile,
  nodes: readonly NodeInfo[],
  scratch: ScoreScratch,
  /**
   * `scores` (the first `nodes.length` entries; overwritten by the next plugin) is undefined when
   * the plugin skipped the pod: every node scores 0.
   */
  visit: (name: ScorePluginName, weight: number, scores: Float64Array | undefined) => void,
): void {
  const n = nodes.length;
  for (const { plugin: name, weight } of profile.scores) {
    const plugin = SCORE_PLUGINS_BY_NAME.get(name);
    if (plugin === undefined) throw new Error(`Cannot score with profile "${profile.name}": unknown score plugin "${name}"`);
    if (weight === 0 || n === 0) continue;
    if (plugin.skip?.(state, pod) === true) {
      visit(name, weight, undefined);
      continue;
    }
    const scores = scratch.scores(n);
    plugin.score(state, pod, nodes, scores);
    plugin.normalize?.(scores, n);
    visit(name, weight, scores);
  }
}
