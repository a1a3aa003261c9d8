import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
import type { NodeView, PodView } from '../../core/model.js';
import { FitState } from '../fit/state.js';
import { landingOnSnapshot, predictLanding } from './landing.js';
import type { SafeLanding } from './landing.js';

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

const safe: SafeLanding = { ...mostAllocated, scaleDownUtilizationThreshold: 0.5 };
const deployment = { kind: 'Deployment', namespace: 'default', name: 'web' } as const;
/** A pod of Deployment `web` on `node`. */
const web = (name: string, node: string, cpu: number): PodView => testPod(name, { nodeName: node, requests: { cpu, memory: GI }, owner: deployment });
/** A DaemonSet pod of 100m on `node`. */
const agent = (node: string): PodView => testPod(`agent-${node}`, { nodeName: node, requests: { cpu: 100, memory: 128 * 1024 * 1024 }, owner: { kind: 'DaemonSet', namespace: 'default', name: 'agent' } });
const box = (name: string): NodeView => testNode(name, { allocatable: { cpu: 2000, memory: 8 * GI, pods: 110 } });

test('landingOnSnapshot refuses a surge whose replacement fits on no node when a node launched for it alone would stay below the removal threshold', () => {
  // Regression (rollouts property, seed 6): the planned room was taken meanwhile; the autoscaler
  // launched a node for the replacement alone and removed it, with the workload's only pod, minutes later.
  const nodes = [box('from'), box('full')];
  const pods = [testPod('solo', { nodeName: 'from', requests: { cpu: 700, memory: GI }, owner: { kind: 'Deployment', namespace: 'default', name: 'solo' } }), at('keep', 'full', 1500), agent('from'), agent('full')];
  const landing = landingOnSnapshot(testSnapshot(nodes, pods), pods[0] as PodView, 'from', safe);
  assert.equal(landing?.ok, false);
  assert.match(landing?.ok === false ? landing.reason : '', /^its replacement fits on no node: the autoscaler would launch a node for it alone, below its removal threshold, and remove it again$/);
  // A pod that fills half a node on its own keeps the new node: safe (800m + 100m of 2000m is 45%, 1000m + 100m is 55%).
  const big = testPod('big', { nodeName: 'from', requests: { cpu: 1000, memory: GI }, owner: { kind: 'Deployment', namespace: 'default', name: 'big' } });
  assert.equal(landingOnSnapshot(testSnapshot(nodes, [big, at('keep', 'full', 1500), agent('from'), agent('full')]), big, 'from', safe), undefined);
});

test('landingOnSnapshot predicts every pod the rollout of a surge replaces: an unsafe landing of another replica refuses the move', () => {
  // Regression (rollouts property, seed 6, T3): web's moved pod had room on a safe node, but the
  // rollout replaced its other replica first, pinned to spot where nothing was free, and the
  // autoscaler launched a node for it alone, then removed it with the replica.
  const spot = (name: string): NodeView => testNode(name, { allocatable: { cpu: 2000, memory: 8 * GI, pods: 110 }, labels: { pool: 'spot' } });
  const nodes = [box('from'), spot('other'), box('safe')];
  const moved = web('web-a', 'from', 700);
  const pinned = { ...web('web-b', 'other', 700), constraints: { nodeSelector: { pool: 'spot' } } };
  const pods = [moved, pinned, at('fill-other', 'other', 1100), at('keep', 'safe', 500), agent('from'), agent('other'), agent('safe')];
  const landing = landingOnSnapshot(testSnapshot(nodes, pods), moved, 'from', safe);
  assert.equal(landing?.ok, false);
  assert.match(landing?.ok === false ? landing.reason : '', /^the rollout that moves it replaces pod "default\/web-b" too, and its replacement fits on no node/);
  // A spot node with room (85% full with web-b's replacement): both replacements land safely.
  const ok = landingOnSnapshot(testSnapshot([...nodes, spot('spot-2')], [...pods, at('keep-2', 'spot-2', 900), agent('spot-2')]), moved, 'from', safe);
  assert.equal(ok, undefined);
});
