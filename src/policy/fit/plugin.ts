/**
 * The shapes of filter and score plugins, after the scheduler framework's Filter and Score (with
 * NormalizeScore) extension points. A plugin is a plain object with a name and functions; the
 * registry in `./registry.ts` lists them (one line each, the name types are built from it) and
 * profiles enable them by name.
 */
import type { PodView } from '../../core/model.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';

/** The highest score a score plugin gives a node, as upstream's MaxNodeScore. */
export const MAX_NODE_SCORE = 100;

/**
 * A filter: whether `pod` may go on `node` in `state`. Per-pod work (upstream's PreFilter) is
 * memoized with `state.podMemo`, so filtering one pod against every node does it once.
 */
export interface FilterPlugin<N extends string = string> {
  readonly name: N;
  readonly filter: (state: FitState, pod: PodView, node: NodeInfo) => FitResult;
  /**
   * Upstream's PreFilter `Skip`: true when the plugin passes every node for `pod` in `state` (the
   * pod has none of the constraints it checks), so a caller filtering many nodes leaves it out.
   * Only an optimization: `filter` gives FIT_OK on every node whenever this is true.
   */
  readonly skip?: (state: FitState, pod: PodView) => boolean;
}

/**
 * A score: one raw score per node of `nodes` (all feasible for `pod`) written into `out` at the
 * same positions, then `normalize` across them, in place, to 0–`MAX_NODE_SCORE` when the raw
 * scores are not already in that range. The scheduler scores hundreds of nodes for every pod:
 * the caller owns `out` (at least `nodes.length` long, entries past it left alone) and reuses it
 * from pod to pod, so scoring allocates nothing per node. `scoresOf` gives a plain array.
 */
export interface ScorePlugin<N extends string = string> {
  readonly name: N;
  readonly score: (state: FitState, pod: PodView, nodes: readonly NodeInfo[], out: Float64Array) => void;
  /** Normalizes the first `count` scores of `scores` in place. */
  readonly normalize?: (scores: Float64Array, count: number) => void;
  /**
   * Upstream's PreScore `Skip`: true when the plugin would give every node 0 for `pod` (it has
   * nothing to prefer), so a caller may leave it out.
   */
  readonly skip?: (state: FitState, pod: PodView) => boolean;
}

/**
 * The plugin's scores of `nodes` as a fresh array: raw, or normalized when `normalized` is set
 * (what the score phase adds up). For explanations and tests; the score phase itself reuses buffers.
 *
 * @example
 * ```ts
 * scoresOf(taintTolerationScore, state, pod, nodes, true); // [100, 0]
 * ```
 */
export function scoresOf(plugin: ScorePlugin, state: FitState, pod: PodView, nodes: readonly NodeInfo[], normalized = false): number[] {
  const out = new Float64Array(nodes.length);
  plugin.score(state, pod, nodes, out);
  if (normalized) plugin.normalize?.(out, nodes.length);
  return Array.from(out);
}

/**
 * Upstream's DefaultNormalizeScore: scales scores so the highest becomes `maxScore` (integer
 * division, as upstream), or with `reverse` so the highest becomes 0 and zero becomes `maxScore`.
 * When no score is above 0 they stay as they are, or all become `maxScore` with `reverse`.
 *
 * @example
 * ```ts
 * normalize([2, 4, 0]);          // [50, 100, 0]
 * normalize([2, 4, 0], true);    // [50, 0, 100]
 * ```
 */
export function normalize(scores: readonly number[], reverse = false, maxScore = MAX_NODE_SCORE): number[] {
  const out = Float64Array.from(scores);
  normalizeInPlace(out, out.length, reverse, maxScore);
  return Array.from(out);
}

/** {@link normalize} on the first `count` scores of `scores`, in place: what score plugins' `normalize` call. */
export function normalizeInPlace(scores: Float64Array, count: number, reverse = false, maxScore = MAX_NODE_SCORE): void {
  let max = 0;
  for (let i = 0; i < count; i++) if ((scores[i] as number) > max) max = scores[i] as number;
  if (max === 0) {
    if (reverse) scores.fill(maxScore, 0, count);
    return;
  }
  for (let i = 0; i < count; i++) {
    const scaled = Math.trunc((maxScore * (scores[i] as number)) / max);
    scores[i] = reverse ? maxScore - scaled : scaled;
  }
}
