/**
 * NodeResourcesBalancedAllocation: favours nodes whose cpu and memory use the pod makes more even,
 * so that neither runs out while the other idles. Since kube-scheduler 1.36 the score is how much
 * the pod improves the node's balance, not the balance after placing it (see
 * {@link balancedImprovementScore}).
 */
import type { NodeView, PodView } from '../../core/model.js';
import { DEFAULT_SCORING_RESOURCES } from './node-resources-fit.js';
import type { ResourceSpec } from './node-resources-fit.js';
import { MAX_NODE_SCORE } from './plugin.js';
import type { ScorePlugin } from './plugin.js';
import type { FitState, NodeInfo } from './state.js';

/**
 * Upstream's balancedResourceScorer: `(1 - std) × 100` truncated, where std is the standard
 * deviation of the used shares (each capped at 1) of the resources the node has.
 */
export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const capacity = allocatable[i] ?? 0;
    if (capacity === 0) continue;
    const fraction = Math.min((requested[i] ?? 0) / capacity, 1);
    total += fraction;
    fractions.push(fraction);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs(((fractions[0] as number) - (fractions[1] as number)) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    std = Math.sqrt(fractions.reduce((sum, f) => sum + (f - mean) * (f - mean), 0) / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/**
 * kube-scheduler 1.36's balancedResourceScorer: the balance with the pod against the balance
 * without it, `50 + (50 + withPod − withoutPod) / 2` with integer division. Both balances are in
 * 50–100, so the result is too: about 75 when the pod changes little, towards 100 when it evens
 * the node out, towards 50 when it skews it.
 */
export function balancedImprovementScore(requested: readonly number[], allocated: readonly number[], allocatable: readonly number[]): number {
  return _improvement(balancedResourceScore(requested, allocatable), balancedResourceScore(allocated, allocatable));
}

/**
 * Scores a node by how much placing the pod improves the balance of its resource use. Counts actual requests (not the
 * non-zero defaults), and scores every node 0 for a pod that requests none of the resources, as
 * upstream skips the plugin for best-effort pods.
 */
export function balancedAllocationScoreOf(
  state: FitState,
  pod: PodView,
  node: NodeView,
  resources: readonly ResourceSpec[] = DEFAULT_SCORING_RESOURCES,
): number {
  const requested: number[] = [];
  const allocated: number[] = [];
  const allocatable: number[] = [];
  for (const resource of resources) {
    const podRequest = pod.requests[resource.name] ?? 0;
    const native = resource.name === 'cpu' || resource.name === 'memory' || resource.name === 'ephemeral-storage';
    const capacity = podRequest === 0 && !native ? 0 : (node.allocatable[resource.name] ?? 0);
    const used = capacity === 0 ? 0 : (state.requested(node.name)[resource.name] ?? 0);
    allocatable.push(capacity);
    allocated.push(used);
    requested.push(capacity === 0 ? 0 : used + podRequest);
  }
  return balancedImprovementScore(requested, allocated, allocatable);
}

/** The NodeResourcesBalancedAllocation score over cpu and memory (kube-scheduler 1.36's improvement score). */
export const balancedAllocationScore: ScorePlugin<'NodeResourcesBalancedAllocation'> = {
  name: 'NodeResourcesBalancedAllocation',
  score(_state: FitState, pod: PodView, nodes: readonly NodeInfo[], out: Float64Array): void {
    const bestEffort = (pod.requests['cpu'] ?? 0) === 0 && (pod.requests['memory'] ?? 0) === 0;
    if (bestEffort) out.fill(0, 0, nodes.length);
    else _defaultBalancedScores(pod, nodes, out);
  },
};

/**
 * `balancedAllocationScoreOf` over cpu and memory for every node, reading each node's usage in
 * place: the same arithmetic (two shares, so the deviation is half their difference) without the
 * arrays, as the scheduler scores hundreds of nodes per pod.
 */
function _defaultBalancedScores(pod: PodView, nodes: readonly NodeInfo[], scores: Float64Array): void {
  const podCpu = pod.requests['cpu'] ?? 0;
  const podMemory = pod.requests['memory'] ?? 0;
  for (let i = 0; i < nodes.length; i++) {
    const { view, requested } = nodes[i] as NodeInfo;
    const cpu = view.allocatable['cpu'] ?? 0;
    const memory = view.allocatable['memory'] ?? 0;
    if (cpu === 0 || memory === 0) {
      // One share or none: no deviation with or without the pod.
      scores[i] = _improvement(MAX_NODE_SCORE, MAX_NODE_SCORE);
      continue;
    }
    const usedCpu = requested['cpu'] ?? 0;
    const usedMemory = requested['memory'] ?? 0;
    scores[i] = _improvement(_twoShareScore(usedCpu + podCpu, cpu, usedMemory + podMemory, memory), _twoShareScore(usedCpu, cpu, usedMemory, memory));
  }
}

/** `balancedResourceScore` of two resources the node has: the deviation is half the difference of the shares. */
function _twoShareScore(cpu: number, cpuCapacity: number, memory: number, memoryCapacity: number): number {
  const std = Math.abs((Math.min(cpu / cpuCapacity, 1) - Math.min(memory / memoryCapacity, 1)) / 2);
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** Both scores are in 50–100, so `50 + difference` is never negative: truncation is Go's integer division. */
function _improvement(withPod: number, withoutPod: number): number {
  return MAX_NODE_SCORE / 2 + Math.trunc((MAX_NODE_SCORE / 2 + withPod - withoutPod) / 2);
}
