/**
 * The fit plugins Stowage implements. These two lists are the single source: the plugin name
 * types, `ALL_FILTERS` and the score lookup are built from them, and profiles name plugins from
 * them. A plugin is added with its own file and one line here.
 */
import { autoscalerRemovalScore } from './autoscaler-removal.js';
import { costAwareScore } from './cost-aware.js';
import { interPodAffinity } from './inter-pod-affinity.js';
import { interPodAffinityScore } from './inter-pod-affinity-score.js';
import { nodeAffinityFilter, nodeAffinityScore } from './node-affinity.js';
import { nodeReady } from './node-ready.js';
import { balancedAllocationScore } from './node-resources-balanced-allocation.js';
import { leastAllocatedScore, mostAllocatedScore, nodeResourcesFitFilter } from './node-resources-fit.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import type { FilterPlugin, ScorePlugin } from './plugin.js';
import { podTopologySpread, podTopologySpreadScore } from './pod-topology-spread.js';
import { taintTolerationFilter, taintTolerationScore } from './taint-toleration.js';

/**
 * Every filter plugin, in the order kube-scheduler runs them (NodeReady, which upstream is a
 * taint, right after NodeUnschedulable): cheap node checks first, pod-counting ones last.
 */
export const FILTER_PLUGINS = [
  nodeUnschedulable,
  nodeReady,
  taintTolerationFilter,
  nodeAffinityFilter,
  nodeResourcesFitFilter,
  podTopologySpread,
  interPodAffinity,
] as const satisfies readonly FilterPlugin[];

/** Every score plugin; NodeResourcesFit's two scoring strategies are named apart. */
export const SCORE_PLUGINS = [
  leastAllocatedScore,
  mostAllocatedScore,
  balancedAllocationScore,
  taintTolerationScore,
  nodeAffinityScore,
  podTopologySpreadScore,
  interPodAffinityScore,
  costAwareScore,
  autoscalerRemovalScore,
] as const satisfies readonly ScorePlugin[];

/** A filter plugin's name, as kube-scheduler names it (NodeReady is Stowage's, see `./node-ready.ts`). */
export type FilterPluginName = (typeof FILTER_PLUGINS)[number]['name'];

/** A score plugin's name. */
export type ScorePluginName = (typeof SCORE_PLUGINS)[number]['name'];

/** The names of all filter plugins, in the order they run. */
export const ALL_FILTERS: readonly FilterPluginName[] = FILTER_PLUGINS.map((p) => p.name);

/**
 * Name → plugin for a list of plugins. Throws when two share a name: a profile names a plugin, so
 * the name must pick one.
 */
export function pluginsByName<P extends { readonly name: string }>(plugins: readonly P[]): ReadonlyMap<string, P> {
  const byName = new Map<string, P>();
  for (const plugin of plugins) {
    if (byName.has(plugin.name)) throw new Error(`Cannot register fit plugin "${plugin.name}": another plugin has that name`);
    byName.set(plugin.name, plugin);
  }
  return byName;
}

/** Score plugins by name, for profiles. */
export const SCORE_PLUGINS_BY_NAME: ReadonlyMap<string, ScorePlugin> = pluginsByName<ScorePlugin>(SCORE_PLUGINS);

/** Filter plugins by name. */
export const FILTER_PLUGINS_BY_NAME: ReadonlyMap<string, FilterPlugin> = pluginsByName<FilterPlugin>(FILTER_PLUGINS);
