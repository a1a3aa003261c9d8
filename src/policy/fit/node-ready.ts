/**
 * NodeReady: a node that is not Ready takes no new pods. kube-scheduler gets this from the
 * `node.kubernetes.io/not-ready:NoSchedule` taint the node lifecycle controller adds; the
 * simulator's nodes need not carry that taint, so the rule is stated here, honouring the same
 * toleration so that a pod that tolerates the taint passes as it would upstream.
 */
import { toleratesTaint } from '../../core/labels.js';
import type { PodView, Taint } from '../../core/model.js';
import type { FilterPlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';

/** The taint a not-ready node carries. */
export const NOT_READY_TAINT_KEY = 'node.kubernetes.io/not-ready';

const _NOT_READY_TAINT: Taint = { key: NOT_READY_TAINT_KEY, effect: 'NoSchedule' };

/** Rejects not-ready nodes for pods without the not-ready toleration. */
export const nodeReady: FilterPlugin<'NodeReady'> = {
  name: 'NodeReady',
  filter(_state: FitState, pod: PodView, node: NodeInfo): FitResult {
    if (node.view.ready) return FIT_OK;
    if ((pod.constraints.tolerations ?? []).some((t) => toleratesTaint(t, _NOT_READY_TAINT))) return FIT_OK;
    return fitFailure('NodeReady', 'node(s) were not ready');
  },
};
