/**
 * The scheduling profiles Stowage ships. Each is plain data a config can copy and change.
 */
import type { SchedulingProfile } from './score.js';

/**
 * kube-scheduler's default profile, restricted to the score plugins Stowage implements, with
 * upstream's default weights: TaintToleration 3, NodeAffinity 2, PodTopologySpread 2 (with the
 * system-default constraints), InterPodAffinity 2, NodeResourcesFit (LeastAllocated) 1,
 * NodeResourcesBalancedAllocation 1. Not implemented: ImageLocality (nodes report no images to
 * Stowage) and DynamicResources (no resource claims). The simulator's default scheduler uses it.
 */
export const DEFAULT_PROFILE: SchedulingProfile = Object.freeze({
  name: 'default-scheduler',
  scores: Object.freeze([
    { plugin: 'TaintToleration', weight: 3 },
    { plugin: 'NodeAffinity', weight: 2 },
    { plugin: 'PodTopologySpread', weight: 2 },
    { plugin: 'InterPodAffinity', weight: 2 },
    { plugin: 'NodeResourcesLeastAllocated', weight: 1 },
    { plugin: 'NodeResourcesBalancedAllocation', weight: 1 },
  ] as const),
});

/** The default profile with NodeResourcesFit's MostAllocated strategy: bin-packs, so nodes empty out for scale-down. */
export const MOST_ALLOCATED_PROFILE: SchedulingProfile = Object.freeze({
  name: 'most-allocated',
  scores: Object.freeze([
    { plugin: 'TaintToleration', weight: 3 },
    { plugin: 'NodeAffinity', weight: 2 },
    { plugin: 'PodTopologySpread', weight: 2 },
    { plugin: 'InterPodAffinity', weight: 2 },
    { plugin: 'NodeResourcesMostAllocated', weight: 1 },
    { plugin: 'NodeResourcesBalancedAllocation', weight: 1 },
  ] as const),
});

/**
 * Stowage's scheduler: cost first (CostAware 4, so that a saving of a quarter outweighs a full node
 * of packing), then bin-packing, while the pod's own preferences (PreferNoSchedule taints, preferred
 * node affinity) and the spread of a workload's replicas keep their upstream weights. A node an
 * autoscaler is removing loses against any other (AutoscalerRemoval 10: a full 1,000 points).
 */
export const COST_AWARE_PROFILE: SchedulingProfile = Object.freeze({
  name: 'stowage-cost-aware',
  scores: Object.freeze([
    { plugin: 'TaintToleration', weight: 3 },
    { plugin: 'NodeAffinity', weight: 2 },
    { plugin: 'PodTopologySpread', weight: 2 },
    { plugin: 'InterPodAffinity', weight: 2 },
    { plugin: 'CostAware', weight: 4 },
    { plugin: 'NodeResourcesMostAllocated', weight: 1 },
    { plugin: 'NodeResourcesBalancedAllocation', weight: 1 },
    { plugin: 'AutoscalerRemoval', weight: 10 },
  ] as const),
});
