/**
 * Scheduling fit: the filters and scores of kube-scheduler's default plugins (and Stowage's
 * CostAware score) over a mutable planning state. Shared by the simulator's default scheduler,
 * the descheduler and Stowage's scheduler.
 */
export { FitState, nonZeroRequests, DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST } from './state.js';
export type { FitStateOptions, NodeInfo, NonZeroRequests } from './state.js';
export type { AntiAffinityGroup } from './anti-affinity-index.js';
export { FIT_OK, fitFailure } from './result.js';
export type { FitFailure, FitResult } from './result.js';
export { MAX_NODE_SCORE, normalize, normalizeInPlace, scoresOf } from './plugin.js';
export type { FilterPlugin, ScorePlugin } from './plugin.js';
export { ALL_FILTERS, FILTER_PLUGINS, FILTER_PLUGINS_BY_NAME, SCORE_PLUGINS, SCORE_PLUGINS_BY_NAME, pluginsByName } from './registry.js';
export type { FilterPluginName, ScorePluginName } from './registry.js';
export { activeFilters, checkFit, describeUnschedulable, feasibleAmong, feasibleNodes, filterNodes, firstFeasibleNode, passesFilters } from './filter.js';
export type { FilterOutcome } from './filter.js';
export { bestScoredNodes, lowestNodeName, ScoreScratch, scoreNodes, selectNode } from './score.js';
export type { NodeScore, NodeSelection, SchedulingProfile, TieBreak, WeightedScore } from './score.js';
export { COST_AWARE_PROFILE, DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE } from './profiles.js';
export { nodeUnschedulable, UNSCHEDULABLE_TAINT_KEY } from './node-unschedulable.js';
export { nodeReady, NOT_READY_TAINT_KEY } from './node-ready.js';
export { taintTolerationFilter, taintTolerationScore } from './taint-toleration.js';
export { nodeAffinityFilter, nodeAffinityScore } from './node-affinity.js';
export { NAMESPACE_NAME_LABEL, affinityTermMatches, fixedTermNamespaces, termSelectsNamespace } from './affinity-term.js';
export type { NamespaceLabels } from './affinity-term.js';
export {
  DEFAULT_SCORING_RESOURCES,
  insufficientResources,
  leastAllocatedScore,
  leastRequestedScore,
  mostAllocatedScore,
  mostRequestedScore,
  nodeResourcesFitFilter,
  resourceAllocationScore,
} from './node-resources-fit.js';
export type { ResourceSpec } from './node-resources-fit.js';
export { balancedAllocationScore, balancedAllocationScoreOf, balancedImprovementScore, balancedResourceScore } from './node-resources-balanced-allocation.js';
export { podTopologySpread, SPREAD_MISSING_LABEL_REASON, SPREAD_REASON } from './pod-topology-spread.js';
export {
  AFFINITY_REASON,
  ANTI_AFFINITY_REASON,
  EXISTING_ANTI_AFFINITY_REASON,
  interPodAffinity,
} from './inter-pod-affinity.js';
export { HARD_POD_AFFINITY_WEIGHT, interPodAffinityScore } from './inter-pod-affinity-score.js';
export { costAwareScore, podHourlyCostOnNode } from './cost-aware.js';
export { AutoscalerTaint, autoscalerRemoving, autoscalerRemovalScore } from './autoscaler-removal.js';
