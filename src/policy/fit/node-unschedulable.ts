/**
 * NodeUnschedulable: a cordoned node (spec.unschedulable, or cordoned in the planning state) takes
 * only pods that tolerate `node.kubernetes.io/unschedulable:NoSchedule`, as DaemonSet pods do.
 */
import { toleratesTaint } from '../../core/labels.js';
import type { PodView, Taint } from '../../core/model.js';
import type { FilterPlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import type { FitState, NodeInfo } from './state.js';

/** The taint key the scheduler checks tolerations of when a node is unschedulable. */
export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';

const _UNSCHEDULABLE_TAINT: Taint = { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' };

/** Rejects unschedulable nodes for pods without the matching toleration. */
export const nodeUnschedulable: FilterPlugin<'NodeUnschedulable'> = {
  name: 'NodeUnschedulable',
  filter(_state: FitState, pod: PodView, node: NodeInfo): FitResult {
    if (!node.view.unschedulable && !node.cordoned) return FIT_OK;
    if ((pod.constraints.tolerations ?? []).some((t) => toleratesTaint(t, _UNSCHEDULABLE_TAINT))) return FIT_OK;
    return fitFailure('NodeUnschedulable', 'node(s) were unschedulable');
  },
};
