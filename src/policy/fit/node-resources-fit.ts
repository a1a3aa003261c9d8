/**
 * NodeResourcesFit: a pod goes only on a node whose allocatable resources, less the requests of
 * the pods already there, cover its requests, and whose pod count is below its `pods` allocatable.
 * Its two scoring strategies are LeastAllocated (spread load) and MostAllocated (bin-pack), over
 * cpu and memory with weight 1 each, as kube-scheduler's defaults.
 */
import { fitsIn, subtractResources } from '../../core/resources.js';
import type { NodeView, PodView, Resources } from '../../core/model.js';
import { MAX_NODE_SCORE } from './plugin.js';
import type { FilterPlugin, ScorePlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import { nonZeroRequests } from './state.js';
import type { FitState, NodeInfo } from './state.js';

/** A resource a resource score counts, with its weight (upstream's ResourceSpec). */
export interface ResourceSpec {
  readonly name: string;
  readonly weight: number;
}

/** kube-scheduler's default scoring resources: cpu and memory, weight 1 each. */
export const DEFAULT_SCORING_RESOURCES: readonly ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** The order upstream reports insufficient resources in; other resources follow by name. */
const _REPORT_ORDER = ['cpu', 'memory', 'ephemeral-storage'];

/**
 * The resources the node lacks for the pod, in upstream's words and order: `Too many pods`, then
 * `Insufficient <resource>` for cpu, memory, ephemeral-storage and the rest by name. Empty when
 * the pod fits. A resource the pod requests none of is never insufficient, even on an overcommitted
 * node; a node without `pods` allocatable has no pod-count limit (real nodes always have one).
 */
export function insufficientResources(state: FitState, pod: PodView, node: NodeView): string[] {
  const reasons: string[] = [];
  const maxPods = node.allocatable['pods'];
  if (maxPods !== undefined && state.podCount(node.name) + 1 > maxPods) reasons.push('Too many pods');
  const request = _positiveRequests(pod.requests);
  if (request === undefined) return reasons;
  const free = subtractResources(node.allocatable, state.requested(node.name));
  const insufficient = fitsIn(request, free);
  if (insufficient.length === 0) return reasons;
  const sorted = [...insufficient].sort((a, b) => _reportRank(a) - _reportRank(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const name of sorted) reasons.push(`Insufficient ${name}`);
  return reasons;
}

/** Rejects nodes without room for the pod's requests; the reason lists every lacking resource. */
export const nodeResourcesFitFilter: FilterPlugin<'NodeResourcesFit'> = {
  name: 'NodeResourcesFit',
  filter(state: FitState, pod: PodView, node: NodeInfo): FitResult {
    // The scheduler and the simulator call this for hundreds of nodes per pod: decide without
    // allocating, and build the reasons only for a node that is rejected.
    if (_fits(pod, node)) return FIT_OK;
    return fitFailure('NodeResourcesFit', insufficientResources(state, pod, node.view));
  },
};

/**
 * Upstream's leastRequestedScore: the free share of a resource after placing the pod, 0–100,
 * with integer division; 0 when the resource is full or overcommitted.
 */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** Upstream's mostRequestedScore: the used share of a resource after placing the pod, 0–100, capped at 100. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return Math.trunc((Math.min(requested, capacity) * MAX_NODE_SCORE) / capacity);
}

/**
 * The weighted mean (integer division) of `resourceScore` over `resources`, with what the node
 * requests counted as the scheduler's NonZeroRequested plus the pod's non-zero requests. A resource
 * the node has none of is left out, as upstream.
 */
export function resourceAllocationScore(
  state: FitState,
  pod: PodView,
  node: NodeView,
  resourceScore: (requested: number, capacity: number) => number,
  resources: readonly ResourceSpec[] = DEFAULT_SCORING_RESOURCES,
): number {
  let nodeScore = 0;
  let weightSum = 0;
  for (const resource of resources) {
    const podRequest = _scoringRequest(pod, resource.name);
    // An extended resource the pod does not request does not count, as upstream.
    if (podRequest === 0 && !_isNativeResource(resource.name)) continue;
    const capacity = node.allocatable[resource.name] ?? 0;
    if (capacity === 0) continue;
    nodeScore += resourceScore(_scoringRequested(state, node, resource.name) + podRequest, capacity) * resource.weight;
    weightSum += resource.weight;
  }
  return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
}

/** NodeResourcesFit with the LeastAllocated strategy: favours the emptiest nodes (kube-scheduler's default). */
export const leastAllocatedScore: ScorePlugin<'NodeResourcesLeastAllocated'> = {
  name: 'NodeResourcesLeastAllocated',
  score: (_state, pod, nodes, out) => _defaultResourceScores(pod, nodes, leastRequestedScore, out),
};

/** NodeResourcesFit with the MostAllocated strategy: favours the fullest nodes, so that others empty out. */
export const mostAllocatedScore: ScorePlugin<'NodeResourcesMostAllocated'> = {
  name: 'NodeResourcesMostAllocated',
  score: (_state, pod, nodes, out) => _defaultResourceScores(pod, nodes, mostRequestedScore, out),
};

/**
 * `resourceAllocationScore` over the default resources (cpu and memory, weight 1 each) for every
 * node, reading each node's usage in place: the same arithmetic without a lookup or an object per
 * resource, as the scheduler scores hundreds of nodes per pod.
 */
function _defaultResourceScores(
  pod: PodView,
  nodes: readonly NodeInfo[],
  resourceScore: (requested: number, capacity: number) => number,
  scores: Float64Array,
): void {
  const podRequest = nonZeroRequests(pod);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as NodeInfo;
    const cpu = node.view.allocatable['cpu'] ?? 0;
    const memory = node.view.allocatable['memory'] ?? 0;
    let sum = 0;
    let weights = 0;
    if (cpu !== 0) {
      sum += resourceScore(node.nonZeroCpu + podRequest.cpu, cpu);
      weights++;
    }
    if (memory !== 0) {
      sum += resourceScore(node.nonZeroMemory + podRequest.memory, memory);
      weights++;
    }
    scores[i] = weights === 0 ? 0 : Math.trunc(sum / weights);
  }
}

/**
 * Whether the last requests `_fits` saw name cpu and memory only (besides `pods`), with their
 * amounts: most pods do, and the check then reads the two by name instead of walking the
 * requests for every node. Keyed by the requests object, which a pod keeps.
 */
let _lastRequests: Resources | undefined;
let _cpuMemoryOnly = false;
let _cpu = 0;
let _memory = 0;

/** {@link insufficientResources} is empty: the same rules, with no allocation. */
function _fits(pod: PodView, { view, pods, requested }: NodeInfo): boolean {
  const allocatable = view.allocatable;
  const maxPods = allocatable['pods'];
  if (maxPods !== undefined && pods.length + 1 > maxPods) return false;
  if (pod.requests !== _lastRequests) _digest(pod.requests);
  if (_cpuMemoryOnly) {
    if (_cpu > 0 && _cpu > (allocatable['cpu'] ?? 0) - (requested['cpu'] ?? 0)) return false;
    return !(_memory > 0 && _memory > (allocatable['memory'] ?? 0) - (requested['memory'] ?? 0));
  }
  for (const name in pod.requests) {
    const wanted = pod.requests[name] as number;
    if (name === 'pods' || wanted <= 0) continue;
    if (wanted > (allocatable[name] ?? 0) - (requested[name] ?? 0)) return false;
  }
  return true;
}

function _digest(requests: Resources): void {
  _lastRequests = requests;
  _cpuMemoryOnly = true;
  for (const name in requests) if (name !== 'cpu' && name !== 'memory' && name !== 'pods') _cpuMemoryOnly = false;
  _cpu = requests['cpu'] ?? 0;
  _memory = requests['memory'] ?? 0;
}

function _positiveRequests(requests: Resources): Resources | undefined {
  let positive: Record<string, number> | undefined;
  for (const name in requests) {
    const amount = requests[name] as number;
    if (name === 'pods' || amount <= 0) continue;
    positive ??= {};
    positive[name] = amount;
  }
  return positive;
}

function _reportRank(name: string): number {
  const rank = _REPORT_ORDER.indexOf(name);
  return rank === -1 ? _REPORT_ORDER.length : rank;
}

function _isNativeResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name === 'ephemeral-storage';
}

function _scoringRequest(pod: PodView, name: string): number {
  if (name === 'cpu') return nonZeroRequests(pod).cpu;
  if (name === 'memory') return nonZeroRequests(pod).memory;
  return pod.requests[name] ?? 0;
}

function _scoringRequested(state: FitState, node: NodeView, name: string): number {
  if (name === 'cpu') return state.nonZeroRequested(node.name).cpu;
  if (name === 'memory') return state.nonZeroRequested(node.name).memory;
  return state.requested(node.name)[name] ?? 0;
}
