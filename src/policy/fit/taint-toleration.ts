/**
 * TaintToleration: a pod goes only on nodes whose NoSchedule and NoExecute taints it tolerates,
 * and prefers nodes with fewer PreferNoSchedule taints it does not tolerate.
 */
import { taintsNotTolerated } from '../../core/labels.js';
import type { PodView } from '../../core/model.js';
import { normalize } from './plugin.js';
import type { FilterPlugin, ScorePlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';

/** Rejects a node with a NoSchedule or NoExecute taint the pod does not tolerate, naming the first one. */
export const taintTolerationFilter: FilterPlugin<'TaintToleration'> = {
  name: 'TaintToleration',
  filter(_state: FitState, pod: PodView, { view }: NodeInfo): FitResult {
    if (view.taints.length === 0) return FIT_OK;
    const [taint] = taintsNotTolerated(pod.constraints.tolerations ?? [], view.taints, ['NoSchedule', 'NoExecute']);
    if (taint === undefined) return FIT_OK;
    return fitFailure('TaintToleration', `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  },
};

/** Scores a node by the PreferNoSchedule taints the pod does not tolerate: none scores 100. */
export const taintTolerationScore: ScorePlugin<'TaintToleration'> = {
  name: 'TaintToleration',
  score(_state: FitState, pod: PodView, nodes: readonly NodeInfo[]): number[] {
    const tolerations = pod.constraints.tolerations ?? [];
    return nodes.map(({ view }) => (view.taints.length === 0 ? 0 : taintsNotTolerated(tolerations, view.taints, ['PreferNoSchedule']).length));
  },
  normalize: (scores) => normalize(scores, true),
};
