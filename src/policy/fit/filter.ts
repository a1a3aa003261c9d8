/**
 * Runs the filter plugins in kube-scheduler's order and reports the first rejection: the rule
 * every scheduling decision in Stowage shares, whether the simulator's default scheduler, the
 * descheduler checking that evicted pods land somewhere, or Stowage's own scheduler.
 */
import type { PodView } from '../../core/model.js';
import type { FilterPlugin } from './plugin.js';
import { ALL_FILTERS, FILTER_PLUGINS } from './registry.js';
import type { FilterPluginName } from './registry.js';
import { FIT_OK } from './result.js';
import type { FitFailure, FitResult } from './result.js';
import { _podName } from './state.js';
import type { FitState, NodeInfo } from './state.js';

/**
 * Whether `pod` may go on `nodeName`: the first failing filter, in upstream order, or `{ ok: true }`.
 * `filters` restricts the plugins run (still in upstream order). A pod placed in the state is
 * checked as if taken off its node first (see `FitState.withoutPod`). Throws for an unknown node.
 *
 * @example
 * ```ts
 * const result = checkFit(state, pod, 'node-a');
 * if (!result.ok) console.log(`${result.plugin}: ${result.reason}`); // NodeResourcesFit: Insufficient cpu
 * ```
 */
export function checkFit(state: FitState, pod: PodView, nodeName: string, filters: readonly FilterPluginName[] = ALL_FILTERS): FitResult {
  const node = state.node(nodeName);
  if (node === undefined) throw new Error(`Cannot check pod "${_podName(pod)}" on node "${nodeName}": the node is not in the state`);
  const plugins = _enabled(filters);
  return state.withoutPod(pod, () => _runFilters(plugins, state, pod, nodeName));
}

/** The result of filtering one pod against every node. */
export interface FilterOutcome {
  /** Nodes that pass every filter, sorted by name. */
  readonly feasible: readonly string[];
  /** Nodes rejected, with the first failing filter of each. */
  readonly rejected: ReadonlyMap<string, FitFailure>;
}

/** Filters `pod` against every node of the state (or `nodeNames`), as the scheduler's Filter phase does. */
export function filterNodes(
  state: FitState,
  pod: PodView,
  filters: readonly FilterPluginName[] = ALL_FILTERS,
  nodeNames: readonly string[] = state.nodeNames,
): FilterOutcome {
  return state.withoutPod(pod, () => {
    const plugins = _active(state, pod, filters);
    const feasible: string[] = [];
    const rejected = new Map<string, FitFailure>();
    for (const nodeName of nodeNames) {
      const result = _runFilters(plugins, state, pod, nodeName);
      if (result.ok) feasible.push(nodeName);
      else rejected.set(nodeName, result);
    }
    return { feasible, rejected };
  });
}

/**
 * The first of `nodeNames`, in their order, that `pod` passes every filter on, or undefined: the
 * Filter phase of a first-fit planner (Cluster Autoscaler's drain simulation), stopping at the
 * first feasible node. `nodes` (names or `NodeInfo`, returned as given) may be lazy: it is read
 * no further than that node.
 */
export function firstFeasibleNode<N extends string | NodeInfo>(
  state: FitState,
  pod: PodView,
  nodes: Iterable<N>,
  filters: readonly FilterPluginName[] = ALL_FILTERS,
): N | undefined {
  return feasibleAmong(state, pod, nodes, 1, filters)[0];
}

/**
 * The nodes of `nodes`, in their order, that `pod` passes every filter on, at most `limit` of
 * them: the scheduler's Filter phase over a sample of nodes, without the rejection reasons
 * `filterNodes` collects. The pod is taken off its node once for the whole search, and
 * `nodes` is read no further than the node that reaches the limit. Nodes are given by name or
 * as the state's `NodeInfo` (which a hot loop may keep: it saves a lookup per node), and
 * returned as given.
 */
export function feasibleAmong<N extends string | NodeInfo>(
  state: FitState,
  pod: PodView,
  nodes: Iterable<N>,
  limit = Number.POSITIVE_INFINITY,
  filters: readonly FilterPluginName[] = ALL_FILTERS,
): N[] {
  if (limit <= 0) return [];
  return state.withoutPod(pod, () => {
    const plugins = _active(state, pod, filters);
    const feasible: N[] = [];
    if (Array.isArray(nodes)) {
      // By index: this loop sees arrays and lazy iterables alike, and iterating such a mix makes
      // a result object per node; the scheduler passes arrays of nodes, for every pod.
      const list = nodes as readonly N[];
      for (let i = 0; i < list.length && feasible.length < limit; i++) {
        const node = list[i] as N;
        if (_runFilters(plugins, state, pod, node).ok) feasible.push(node);
      }
      return feasible;
    }
    for (const node of nodes) {
      if (!_runFilters(plugins, state, pod, node).ok) continue;
      feasible.push(node);
      if (feasible.length >= limit) break;
    }
    return feasible;
  });
}

/**
 * The filters of `filters` that `pod` needs on any node of `state` (upstream's PreFilter: those
 * whose `skip` holds are left out), for {@link passesFilters}: a hot loop that filters many nodes
 * one by one, deciding itself which nodes to ask about (the scheduler's rotating search), asks
 * this once per pod. Valid while the state does not change.
 */
export function activeFilters(state: FitState, pod: PodView, filters: readonly FilterPluginName[] = ALL_FILTERS): readonly FilterPlugin[] {
  return _active(state, pod, filters);
}

/**
 * Whether `pod` passes every one of `active` (from {@link activeFilters}) on `node`: what
 * `feasibleAmong` asks of each node. A placed pod must be taken off its node by the caller
 * (`state.withoutPod`) around the whole search, as `feasibleAmong` does.
 */
export function passesFilters(active: readonly FilterPlugin[], state: FitState, pod: PodView, node: NodeInfo): boolean {
  return _runFilters(active, state, pod, node).ok;
}

/** The names of the nodes `pod` may go on, sorted. */
export function feasibleNodes(state: FitState, pod: PodView, filters: readonly FilterPluginName[] = ALL_FILTERS): readonly string[] {
  return filterNodes(state, pod, filters).feasible;
}

/**
 * kube-scheduler 1.36's FitError message for a pod no node takes: each reason of each node counted
 * (a node lacking cpu and memory counts once for each), the `<count> <reason>` strings sorted as
 * strings, then a period: `0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint(s).`
 */
export function describeUnschedulable(nodeCount: number, rejected: Iterable<FitFailure>): string {
  const counts = new Map<string, number>();
  for (const failure of rejected) {
    for (const reason of failure.reasons ?? [failure.reason]) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const reasons = [...counts].map(([reason, count]) => `${count} ${reason}`).sort();
  return reasons.length === 0 ? `0/${nodeCount} nodes are available` : `0/${nodeCount} nodes are available: ${reasons.join(', ')}.`;
}

function _runFilters(plugins: readonly FilterPlugin[], state: FitState, pod: PodView, given: string | NodeInfo): FitResult {
  const node = typeof given === 'string' ? state.nodeInfo(given) : given;
  if (node === undefined) throw new Error(`Cannot check pod "${_podName(pod)}" on node "${given as string}": the node is not in the state`);
  for (const plugin of plugins) {
    const result = plugin.filter(state, pod, node);
    if (!result.ok) return result;
  }
  return FIT_OK;
}

/** The enabled plugins, less those that pass every node for this pod: left out once, not asked per node. */
function _active(state: FitState, pod: PodView, filters: readonly FilterPluginName[]): readonly FilterPlugin[] {
  return _enabled(filters).filter((p) => p.skip?.(state, pod) !== true);
}

function _enabled(filters: readonly FilterPluginName[]): readonly FilterPlugin[] {
  if (filters === ALL_FILTERS) return FILTER_PLUGINS;
  return FILTER_PLUGINS.filter((p) => filters.includes(p.name));
}
