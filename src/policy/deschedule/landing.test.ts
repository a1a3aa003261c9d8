import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
import type { NodeView, PodView } from '../../core/model.js';
import { FitState } from '../fit/state.js';
import { predictLanding } from './landing.js';

const mostAllocated = { profile: 'most-allocated', percentageOfNodesToScore: 0 } as const;
const leastAllocated = { profile: 'default', percentageOfNodesToScore: 0 } as const;

/** A pod of `cpu` millicores bound to `node`. */
const at = (name: string, node: string, cpu: number): PodView => testPod(name, { nodeName: node, requests: { cpu, memory: GI } });

/** `full` (3000m used), `jobs` (2400m used, all of it Job pods: unsafe), `empty`; the pod to place asks 500m. */
function three(): { readonly state: FitState; readonly pod: PodView; readonly names: readonly string[] } {
  const nodes = ['empty', 'full', 'jobs'].map((n) => testNode(n, { allocatable: { cpu: 4000, memory: 16 * GI, pods: 110 } }));
  const state = FitState.fromSnapshot(testSnapshot(nodes, [at('keep-a', 'full', 3000), at('job-a', 'jobs', 2400)]));
  return { state, pod: testPod('moved', { requests: { cpu: 500, memory: GI } }), names: nodes.map((n) => n.name) };
}

test('predictLanding says nothing when no feasible node is unsafe: any choice of the scheduler is safe', () => {
  const { state, pod, names } = three();
  assert.equal(predictLanding(state, pod, names, () => false, names.length, mostAllocated), undefined);
});

test('predictLanding follows the profile: MostAllocated picks the fullest safe node over an emptier unsafe one, LeastAllocated refuses', () => {
  const { state, pod, names } = three();
  // MostAllocated: full (3000m) outscores jobs (2400m), so the scheduler lands the pod on a safe node.
  assert.deepEqual(predictLanding(state, pod, names, (n) => n === 'jobs', names.length, mostAllocated), { ok: true, node: 'full' });
  // The empty node unsafe instead: still full.
  assert.deepEqual(predictLanding(state, pod, names, (n) => n === 'empty', names.length, mostAllocated), { ok: true, node: 'full' });
  // LeastAllocated: the empty node wins; when it is the unsafe one, the move must not happen.
  const refused = predictLanding(state, pod, names, (n) => n === 'empty', names.length, leastAllocated);
  assert.equal(refused?.ok, false);
  assert.equal(refused?.node, 'empty');
  assert.match(refused?.ok === false ? refused.reason : '', /^the scheduler \(default-scheduler\) would place it on node "empty", which the autoscaler will remove$/);
});

test('predictLanding refuses when the unsafe node outscores every safe one (the Job-filled node under MostAllocated)', () => {
  const { state, pod, names } = three();
  const landing = predictLanding(state, pod, names, (n) => n === 'full', names.length, mostAllocated);
  assert.equal(landing?.ok, false);
  assert.equal(landing?.node, 'full');
});

test('predictLanding counts on a safe choice in a large cluster only when every window of scored nodes holds a safe node outscoring the unsafe ones', () => {
  // 120 nodes: the scheduler scores a window of 100 feasible nodes (kube-scheduler's adaptive
  // percentageOfNodesToScore, at least 100), so more than 20 safe nodes must outscore the unsafe one.
  const build = (fuller: number): { readonly state: FitState; readonly names: readonly string[] } => {
    const nodes: NodeView[] = [];
    const pods: PodView[] = [];
    for (let i = 0; i < 120; i++) {
      const name = `n-${String(i).padStart(3, '0')}`;
      nodes.push(testNode(name, { allocatable: { cpu: 4000, memory: 16 * GI, pods: 110 } }));
      if (i === 0) pods.push(at('job-a', name, 2400));
      else if (i <= fuller) pods.push(at(`keep-${i}`, name, 3000));
    }
    return { state: FitState.fromSnapshot(testSnapshot(nodes, pods)), names: nodes.map((n) => n.name) };
  };
  const pod = testPod('moved', { requests: { cpu: 500, memory: GI } });
  const unsafe = (n: string): boolean => n === 'n-000';
  const enough = build(21);
  assert.deepEqual(predictLanding(enough.state, pod, enough.names, unsafe, 120, mostAllocated), { ok: true, node: 'n-001' });
  const tooFew = build(20);
  const refused = predictLanding(tooFew.state, pod, tooFew.names, unsafe, 120, mostAllocated);
  assert.equal(refused?.ok, false);
  assert.match(refused?.ok === false ? refused.reason : '', /scores only 100 of 120 feasible nodes and may place it on node "n-000"/);
  // Every node scored (percentageOfNodesToScore 100): one fuller safe node is enough.
  assert.deepEqual(predictLanding(tooFew.state, pod, tooFew.names, unsafe, 120, { ...mostAllocated, percentageOfNodesToScore: 100 }), { ok: true, node: 'n-001' });
});
