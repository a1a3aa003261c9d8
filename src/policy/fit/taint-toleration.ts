/**
 * TaintToleration: a pod goes only on nodes whose NoSchedule and NoExecute taints it tolerates,
 * and prefers nodes with fewer PreferNoSchedule taints it does not tolerate.
 */
import { countTaintsNotTolerated } from '../../core/labels.js';
import type { PodView, TaintEffect } from '../../core/model.js';
import { normalizeInPlace } from './plugin.js';
import type { FilterPlugin, ScorePlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';

/** kube-scheduler 1.36's reason for a node with a NoSchedule or NoExecute taint the pod does not tolerate. */
export const UNTOLERATED_TAINT_REASON = 'node(s) had untolerated taint(s)';

/** Rejects a node with a NoSchedule or NoExecute taint the pod does not tolerate (upstream names no taint either). */
export const taintTolerationFilter: FilterPlugin<'TaintToleration'> = {
  name: 'TaintToleration',
  filter(_state: FitState, pod: PodView, { view }: NodeInfo): FitResult {
    if (view.taints.length === 0) return FIT_OK;
    if (countTaintsNotTolerated(pod.constraints.tolerations ?? _NONE, view.taints, _FILTERED) === 0) return FIT_OK;
    return fitFailure('TaintToleration', UNTOLERATED_TAINT_REASON);
  },
};

/** Scores a node by the PreferNoSchedule taints the pod does not tolerate: none scores 100. */
export const taintTolerationScore: ScorePlugin<'TaintToleration'> = {
  name: 'TaintToleration',
  score(_state: FitState, pod: PodView, nodes: readonly NodeInfo[], out: Float64Array): void {
    const tolerations = pod.constraints.tolerations ?? _NONE;
    for (let i = 0; i < nodes.length; i++) {
      const taints = (nodes[i] as NodeInfo).view.taints;
      out[i] = taints.length === 0 ? 0 : countTaintsNotTolerated(tolerations, taints, _SCORED);
    }
  },
  normalize: (scores, count) => normalizeInPlace(scores, count, true),
};

const _NONE: readonly [] = [];
const _FILTERED: readonly TaintEffect[] = ['NoSchedule', 'NoExecute'];
const _SCORED: readonly TaintEffect[] = ['PreferNoSchedule'];
