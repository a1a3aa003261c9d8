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
 * A score: one raw score per node of `nodes` (all feasible for `pod`), then `normalize` across
 * them to 0–`MAX_NODE_SCORE` when the raw scores are not already in that range.
 */
export interface ScorePlugin<N extends string = string> {
  readonly name: N;
  readonly score: (state: FitState, pod: PodView, nodes: readonly NodeInfo[]) => number[];
  readonly normalize?: (scores: readonly number[]) => number[];
  /**
   * Upstream's PreScore `Skip`: true when the plugin would give every node 0 for `pod` (it has
   * nothing to prefer), so a caller may leave it out.
   */
  readonly skip?: (state: FitState, pod: PodView) => boolean;
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
  let max = 0;
  for (const score of scores) if (score > max) max = score;
  if (max === 0) return scores.map((score) => (reverse ? maxScore : score));
  return scores.map((score) => {
    const scaled = Math.trunc((maxScore * score) / max);
    return reverse ? maxScore - scaled : scaled;
  });
}
