import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GI, MI, nodeInfoOf, nodeInfosOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import {
  insufficientResources,
  leastRequestedScore,
  mostRequestedScore,
  nodeResourcesFitFilter,
  resourceAllocationScore,
  leastAllocatedScore,
  mostAllocatedScore,
} from './node-resources-fit.js';
import { podFromKube } from '../../core/from-kube.js';
import { FitState, nonZeroRequests } from './state.js';
import { scoresOf } from './plugin.js';

const node = testNode('n1', { allocatable: { cpu: 4000, memory: 8 * GI, pods: 3 } });

function stateWith(...requests: { cpu?: number; memory?: number }[]): FitState {
  const pods = requests.map((r, i) => testPod(`p${i}`, { nodeName: 'n1', requests: r }));
  return FitState.fromSnapshot(testSnapshot([node], pods));
}

test('NodeResourcesFit rejects a pod that needs more cpu or memory than is free', () => {
  const state = stateWith({ cpu: 3500, memory: 1 * GI });
  const filter = (requests: Record<string, number>) => nodeResourcesFitFilter.filter(state, testPod('new', { requests }), nodeInfoOf(state, node));
  assert.deepEqual(filter({ cpu: 500, memory: 7 * GI }), { ok: true });
  assert.deepEqual(filter({ cpu: 501 }), { ok: false, plugin: 'NodeResourcesFit', reason: 'Insufficient cpu' });
  assert.deepEqual(filter({ memory: 7 * GI + 1, cpu: 600 }), {
    ok: false,
    plugin: 'NodeResourcesFit',
    reason: 'Insufficient cpu, Insufficient memory',
    reasons: ['Insufficient cpu', 'Insufficient memory'],
  });
});

test('NodeResourcesFit counts pods against the pods allocatable', () => {
  const state = stateWith({}, {}, {});
  const result = nodeResourcesFitFilter.filter(state, testPod('new', { requests: { cpu: 5000 } }), nodeInfoOf(state, node));
  assert.deepEqual(result, { ok: false, plugin: 'NodeResourcesFit', reason: 'Too many pods, Insufficient cpu', reasons: ['Too many pods', 'Insufficient cpu'] });
});

test('NodeResourcesFit lets a pod requesting none of a resource onto a node overcommitted in it', () => {
  const state = stateWith({ cpu: 5000 });
  assert.deepEqual(nodeResourcesFitFilter.filter(state, testPod('new', { requests: { memory: MI } }), nodeInfoOf(state, node)), { ok: true });
});

test('NodeResourcesFit reports an extended resource the node lacks, after the native ones', () => {
  const state = stateWith();
  const result = nodeResourcesFitFilter.filter(state, testPod('gpu', { requests: { 'nvidia.com/gpu': 1, cpu: 9000 } }), nodeInfoOf(state, node));
  assert.deepEqual(result, { ok: false, plugin: 'NodeResourcesFit', reason: 'Insufficient cpu, Insufficient nvidia.com/gpu', reasons: ['Insufficient cpu', 'Insufficient nvidia.com/gpu'] });
});

test('leastRequestedScore and mostRequestedScore follow the upstream integer formulas', () => {
  const table: [requested: number, capacity: number, least: number, most: number][] = [
    [0, 4000, 100, 0],
    [1000, 4000, 75, 25],
    [1, 3, 66, 33],
    [4000, 4000, 0, 100],
    [5000, 4000, 0, 100],
    [10, 0, 0, 0],
  ];
  for (const [requested, capacity, least, most] of table) {
    assert.equal(leastRequestedScore(requested, capacity), least, `least ${requested}/${capacity}`);
    assert.equal(mostRequestedScore(requested, capacity), most, `most ${requested}/${capacity}`);
  }
});

test('LeastAllocated of a node at 25% cpu and 50% memory after placing the pod is 62; MostAllocated is 37', () => {
  const state = stateWith({ cpu: 900, memory: 3.5 * GI });
  const pod = testPod('new', { requests: { cpu: 100, memory: 512 * MI } });
  assert.deepEqual(scoresOf(leastAllocatedScore, state, pod, nodeInfosOf(state, [node])), [62]);
  assert.deepEqual(scoresOf(mostAllocatedScore, state, pod, nodeInfosOf(state, [node])), [37]);
});

test('resource scores count a pod without requests as 100m cpu and 200Mi memory', () => {
  const state = stateWith();
  const bestEffort = testPod('be', { requests: {} });
  // cpu (4000-100)/4000 = 97.5% → 97; memory (8192-200)/8192 = 97.6% → 97.
  assert.equal(resourceAllocationScore(state, bestEffort, node, leastRequestedScore), 97);
  assert.deepEqual(state.nonZeroRequested('n1'), { cpu: 0, memory: 0 });
  const withBestEffort = stateWith({});
  assert.deepEqual(withBestEffort.nonZeroRequested('n1'), { cpu: 100, memory: 200 * MI });
  assert.deepEqual(withBestEffort.requested('n1'), {});
});

test('resource scores give the defaults per container without a request, as kube-scheduler 1.36 (a pod from the API)', () => {
  // Two containers, one asking 1 cpu and no memory, one asking nothing: upstream's Non0CPU is
  // 1000m + 100m and Non0Mem 2 × 200Mi (NonMissingContainerRequests), not the pod totals.
  const kube = { metadata: { namespace: 'default', name: 'two', uid: 'two' }, spec: { containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }, { name: 'b' }] } };
  const pod = podFromKube(kube, () => ({ kind: 'None', namespace: 'default', name: 'two' }));
  assert.deepEqual(pod.requests, { cpu: 1000, pods: 1 });
  assert.deepEqual(nonZeroRequests(pod), { cpu: 1100, memory: 400 * MI });
  const state = stateWith();
  // cpu (4000-1100)/4000 = 72.5% → 72; memory (8192-400)/8192 = 95.1% → 95; mean 83.
  assert.equal(resourceAllocationScore(state, pod, node, leastRequestedScore), 83);
  assert.deepEqual(scoresOf(leastAllocatedScore, state, pod, nodeInfosOf(state, [node])), [83]);
  // Placed, it counts the same on its node; the filter still sees its actual requests.
  const placed = FitState.fromSnapshot(testSnapshot([node], [{ ...pod, nodeName: 'n1' }]));
  assert.deepEqual(placed.nonZeroRequested('n1'), { cpu: 1100, memory: 400 * MI });
  assert.deepEqual(placed.requested('n1'), { cpu: 1000, pods: 1 });
});

test('the allocation-free filter agrees with insufficientResources on random nodes and pods', () => {
  const amount = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5000 }));
  fc.assert(
    fc.property(
      fc.record({ cpu: amount, memory: amount, pods: fc.integer({ min: 0, max: 4 }), gpu: fc.integer({ min: 0, max: 2 }) }),
      fc.array(fc.record({ cpu: amount, memory: amount }), { maxLength: 4 }),
      fc.record({ cpu: amount, memory: amount, gpu: fc.integer({ min: -1, max: 2 }) }),
      (alloc, placed, request) => {
        const n = testNode('n1', { allocatable: { cpu: alloc.cpu, memory: alloc.memory, pods: alloc.pods, 'nvidia.com/gpu': alloc.gpu } });
        const pods = placed.map((r, i) => testPod(`p${i}`, { nodeName: 'n1', requests: r }));
        const state = FitState.fromSnapshot(testSnapshot([n], pods));
        const pod = testPod('new', { requests: { cpu: request.cpu, memory: request.memory, 'nvidia.com/gpu': request.gpu } });
        const verdict = nodeResourcesFitFilter.filter(state, pod, nodeInfoOf(state, n));
        assert.equal(verdict.ok, insufficientResources(state, pod, n).length === 0);
      },
    ),
    { numRuns: 500 },
  );
});
