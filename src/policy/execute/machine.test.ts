import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ClusterSnapshot, PodView } from '../../core/model.js';
import { workloadKey } from '../../core/snapshot.js';
import { node, pdb, pod, snapshot, workload } from '../deschedule/fixtures.test-helper.js';
import type { Move, NodeDrain, NodeLaunch, Plan } from '../deschedule/types.js';
import { beginExecution, effectsOnStop, isFinished, realisedSaving, stepExecution } from './machine.js';
import type { Effect, ExecutionOptions, ExecutionState, Observation } from './machine.js';

const options: ExecutionOptions = { waveTimeoutMs: 60_000, pollMs: 1_000, holdMs: 600_000 };

function move(name: string, from: string, wave: number, over: Partial<Move> = {}): Move {
  const app = name.replace(/-[^-]*$/, '');
  return {
    pod: { namespace: 'default', name, uid: `uid-default-${name}` },
    workload: { kind: 'Deployment', namespace: 'default', name: app },
    fromNode: from,
    toNode: 'spot',
    strategy: 'spot-reschedule',
    mode: 'evict',
    wave,
    reason: { code: 'pdb-allows', message: 'test' },
    savingUsdPerHour: 0.1,
    ...over,
  };
}

function drainOf(nodeName: string, moves: readonly Move[], over: Partial<NodeDrain> = {}): NodeDrain {
  return { node: nodeName, strategy: 'spot-reschedule', savingUsdPerHour: 0.2, pods: moves.map((m) => m.pod), staying: [], reason: { code: 'drain-empties', message: 'all fit' }, ...over };
}

/** `web` has three replicas, two on od, one on spot, under a PDB allowing one disruption. */
function cluster(pods: readonly PodView[] = [pod('web-a', 'od'), pod('web-b', 'od'), pod('web-c', 'spot')], over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return snapshot({
    nodes: [node('od'), node('spot', { capacityType: 'spot' })],
    pods,
    workloads: [workload('web', 3)],
    pdbs: [pdb('web', 'web', { minAvailable: 2, disruptionsAllowed: 1, currentHealthy: 3 })],
    ...over,
  });
}

const twoWaves: Plan = (() => {
  const moves = [move('web-a', 'od', 0), move('web-b', 'od', 1)];
  return { moves, drains: [drainOf('od', moves)], skipped: [], savingUsdPerHour: 0.2 };
})();

/** Steps with `observation`, returning the new state and the effects' types, notices by kind. */
function step(state: ExecutionState, observation: Observation): { state: ExecutionState; effects: readonly Effect[]; kinds: string[] } {
  const t = stepExecution(state, observation);
  return { ...t, kinds: t.effects.map(_kind) };
}

function _kind(e: Effect): string {
  switch (e.type) {
    case 'notice':
      return `notice:${e.notice.kind}${e.notice.kind === 'job-finished' ? `:${e.notice.outcome.outcome}` : ''}`;
    case 'evict':
    case 'surge':
      return `${e.type}:${e.move.pod.name}`;
    case 'observe':
      return `observe:${e.afterMs}`;
    case 'restore-strategy':
      return `restore:${e.workload.name}`;
    case 'taint':
    case 'untaint':
    case 'hold':
    case 'delete-node':
    case 'protect':
    case 'unprotect':
      return `${e.type}:${e.node}`;
    case 'launch-node':
      return `launch-node:${e.launch.offer.node.instanceType}`;
    case 'cancel-launch':
      return `cancel-launch:${e.launch.name}${e.node === undefined ? '' : `:${e.node}`}`;
  }
}

test('a drain in two waves: recheck, taint, evict wave 0, wait until settled, recheck, wave 1, untaint', () => {
  let t = beginExecution(twoWaves, options);
  assert.deepEqual(t.effects.map(_kind), ['observe:0']);
  let s = step(t.state, { type: 'observed', now: 0, snapshot: cluster() });
  assert.deepEqual(s.kinds, ['notice:job-started', 'taint:od', 'evict:web-a', 'notice:move-started', 'observe:1000']);
  // Evicted but not gone yet: keep waiting.
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: cluster([pod('web-a', 'od', { deletionRequestedAt: 500 }), pod('web-b', 'od'), pod('web-c', 'spot')]) });
  assert.deepEqual(s.kinds, ['observe:1000']);
  // Gone, but the replacement is not Ready: keep waiting.
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: cluster([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'spot', { ready: false })]) });
  assert.deepEqual(s.kinds, ['observe:1000']);
  const settled = cluster([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'spot')]);
  s = step(s.state, { type: 'observed', now: 3_000, snapshot: settled });
  assert.deepEqual(s.kinds, ['notice:moved', 'observe:0']);
  s = step(s.state, { type: 'observed', now: 3_000, snapshot: settled });
  assert.deepEqual(s.kinds, ['evict:web-b', 'notice:move-started', 'observe:1000']);
  s = step(s.state, { type: 'observed', now: 4_000, snapshot: cluster([pod('web-c', 'spot'), pod('web-d', 'spot'), pod('web-e', 'spot')]) });
  assert.deepEqual(s.kinds, ['notice:moved', 'untaint:od', 'notice:job-finished:done']);
  assert.ok(isFinished(s.state));
  assert.equal(realisedSaving(s.state), 0.2);
  assert.deepEqual(s.state.outcomes[0]?.moved, ['default/web-a', 'default/web-b']);
  t = { state: s.state, effects: [] };
  assert.deepEqual(stepExecution(t.state, { type: 'stop', now: 5_000 }).effects, [], 'nothing after the end');
});

test('a driver stopped with an untaint still queued carries it out: the machine counts it as done and will not emit it again', () => {
  let s = step(beginExecution(twoWaves, options).state, { type: 'observed', now: 0, snapshot: cluster() });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: cluster([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: cluster([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: cluster([pod('web-c', 'spot'), pod('web-d', 'spot'), pod('web-e', 'spot')]) });
  assert.deepEqual(s.kinds, ['notice:moved', 'untaint:od', 'notice:job-finished:done']);
  // The signal arrives before the driver performed that batch: the stop itself gives nothing back.
  const stopping = stepExecution(s.state, { type: 'stop', now: 2_500 }).effects;
  assert.deepEqual(stopping.map(_kind), []);
  assert.deepEqual(effectsOnStop(s.effects, stopping).map(_kind), ['untaint:od']);
});

test('on a stop, queued releases come first and once each; a queued hold or node deletion becomes an untaint; moves are dropped', () => {
  const m = move('web-a', 'od', 0);
  const launch = { name: 'l-1' } as unknown as NodeLaunch;
  const queued: Effect[] = [
    { type: 'hold', node: 'n1', until: 9 },
    { type: 'delete-node', node: 'n2', holdUntil: 9 },
    { type: 'restore-strategy', workload: m.workload },
    { type: 'evict', move: m },
    { type: 'cancel-launch', launch },
    { type: 'protect', node: 'n4' },
    { type: 'unprotect', node: 'n5' },
    { type: 'observe', afterMs: 0 },
  ];
  const stopping: Effect[] = [
    { type: 'untaint', node: 'n1' },
    { type: 'untaint', node: 'n3' },
    { type: 'restore-strategy', workload: m.workload },
    { type: 'cancel-launch', launch },
    { type: 'notice', notice: { kind: 'moved', move: m } },
  ];
  assert.deepEqual(effectsOnStop(queued, stopping).map(_kind), ['untaint:n1', 'untaint:n2', 'restore:web', 'cancel-launch:l-1', 'unprotect:n5', 'untaint:n3', 'notice:moved']);
});

test('an eviction the apiserver refuses fails the drain: untaint, failure recorded, nothing more evicted', () => {
  const t = beginExecution(twoWaves, options);
  let s = step(t.state, { type: 'observed', now: 0, snapshot: cluster() });
  const evict = s.effects.find((e) => e.type === 'evict') as Effect;
  s = step(s.state, { type: 'failed', now: 10, effect: evict, reason: { code: 'eviction-refused', message: 'Cannot evict pod "default/web-a": refused' } });
  assert.deepEqual(s.kinds, ['untaint:od', 'notice:job-finished:failed']);
  assert.equal(s.state.outcomes[0]?.reason.code, 'eviction-refused');
  assert.deepEqual(s.state.failures.get('od'), { count: 1, lastAt: 10 });
  assert.equal(realisedSaving(s.state), 0);
});

test('a recheck refusal is a skip before any taint; a PDB refusal backs off, an unsettled workload does not', () => {
  const blocked = cluster(undefined, { pdbs: [pdb('web', 'web', { minAvailable: 3, disruptionsAllowed: 0, currentHealthy: 3 })] });
  let s = step(beginExecution(twoWaves, options).state, { type: 'observed', now: 7, snapshot: blocked });
  assert.deepEqual(s.kinds, ['notice:job-finished:skipped']);
  assert.equal(s.state.outcomes[0]?.reason.code, 'pdb');
  assert.deepEqual(s.state.failures.get('od'), { count: 1, lastAt: 7 });
  const unsettled = cluster([pod('web-a', 'od'), pod('web-b', 'od'), pod('web-c', 'spot', { ready: false })]);
  s = step(beginExecution(twoWaves, options).state, { type: 'observed', now: 7, snapshot: unsettled });
  assert.deepEqual(s.kinds, ['notice:job-finished:skipped']);
  assert.equal(s.state.outcomes[0]?.reason.code, 'unsettled');
  assert.equal(s.state.failures.has('od'), false);
});

test('a node NotReady when its drain comes up is skipped with node-not-ready; the next drain goes on from the same snapshot', () => {
  const m1 = move('web-a', 'od', 0);
  const m2 = move('api-a', 'od2', 0);
  const plan: Plan = { moves: [m1, m2], drains: [drainOf('od', [m1]), drainOf('od2', [m2])], skipped: [], savingUsdPerHour: 0.4 };
  const snap = snapshot({
    nodes: [node('od', { ready: false }), node('od2'), node('spot', { capacityType: 'spot' })],
    pods: [pod('web-a', 'od'), pod('web-b', 'spot'), pod('api-a', 'od2'), pod('api-b', 'spot')],
    workloads: [workload('web', 2), workload('api', 2)],
    pdbs: [pdb('web', 'web', { minAvailable: 1, disruptionsAllowed: 1 }), pdb('api', 'api', { minAvailable: 1, disruptionsAllowed: 1 })],
  });
  const s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: snap });
  assert.deepEqual(s.kinds, ['notice:job-finished:skipped', 'notice:job-started', 'taint:od2', 'evict:api-a', 'notice:move-started', 'observe:1000']);
  assert.equal(s.state.outcomes[0]?.reason.code, 'node-not-ready');
});

test('a wave not settled in time fails the drain and untaints', () => {
  let s = step(beginExecution(twoWaves, options).state, { type: 'observed', now: 0, snapshot: cluster() });
  s = step(s.state, { type: 'observed', now: 60_000, snapshot: cluster([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'spot', { ready: false })]) });
  assert.deepEqual(s.kinds, ['untaint:od', 'notice:job-finished:failed']);
  assert.equal(s.state.outcomes[0]?.reason.code, 'timeout');
});

test('a consolidated, emptied node is held tainted for the autoscaler instead of untainted', () => {
  const m = move('web-a', 'od', 0, { strategy: 'consolidate' });
  const plan: Plan = { moves: [m], drains: [drainOf('od', [m], { strategy: 'consolidate' })], skipped: [], savingUsdPerHour: 0.2 };
  let s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: cluster([pod('web-a', 'od'), pod('web-b', 'spot'), pod('web-c', 'spot')]) });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: cluster([pod('web-b', 'spot'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  assert.deepEqual(s.kinds, ['notice:moved', 'hold:od', 'notice:job-finished:done']);
  assert.equal((s.effects.find((e) => e.type === 'hold') as { until: number }).until, 1_000 + options.holdMs);
});

test('a drain that asks for its node\'s deletion ends with delete-node (held if its group does not allow it); a failed one is untainted', () => {
  const m = move('web-a', 'od', 0, { strategy: 'karpenter-consolidate' });
  const plan: Plan = { moves: [m], drains: [drainOf('od', [m], { strategy: 'karpenter-consolidate', deleteNode: true })], skipped: [], savingUsdPerHour: 0.2 };
  let s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: cluster([pod('web-a', 'od'), pod('web-b', 'spot'), pod('web-c', 'spot')]) });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: cluster([pod('web-b', 'spot'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  assert.deepEqual(s.kinds, ['notice:moved', 'delete-node:od', 'notice:job-finished:done']);
  assert.equal((s.effects.find((e) => e.type === 'delete-node') as { holdUntil: number }).holdUntil, 1_000 + options.holdMs);
  // Timed out: no deletion, the node is given back.
  s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: cluster([pod('web-a', 'od'), pod('web-b', 'spot'), pod('web-c', 'spot')]) });
  s = step(s.state, { type: 'observed', now: 60_000, snapshot: cluster([pod('web-b', 'spot'), pod('web-c', 'spot'), pod('web-d', 'spot', { ready: false })]) });
  assert.deepEqual(s.kinds, ['untaint:od', 'notice:job-finished:failed']);
});

test('a stop mid-wave rolls the drain back and ends', () => {
  let s = step(beginExecution(twoWaves, options).state, { type: 'observed', now: 0, snapshot: cluster() });
  s = step(s.state, { type: 'stop', now: 500 });
  assert.deepEqual(s.kinds, ['untaint:od', 'notice:job-finished:failed']);
  assert.equal(s.state.outcomes[0]?.reason.code, 'stopped');
  assert.ok(isFinished(s.state));
});

test('surge-first: waits for every pod the Deployment had to be replaced, then gives the strategy back; a later move of it starts nothing', () => {
  const solo = { kind: 'Deployment', namespace: 'default', name: 'web' } as const;
  const moves = [move('web-a', 'od', 0, { mode: 'surge-first', workload: solo }), move('web-b', 'od', 1, { mode: 'surge-first', workload: solo })];
  const plan: Plan = { moves, drains: [drainOf('od', moves)], skipped: [], savingUsdPerHour: 0.2 };
  const noPdb = (pods: readonly PodView[]): ClusterSnapshot => cluster(pods, { pdbs: [] });
  let s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: noPdb([pod('web-a', 'od'), pod('web-b', 'od'), pod('web-c', 'spot')]) });
  assert.deepEqual(s.kinds, ['notice:job-started', 'taint:od', 'surge:web-a', 'notice:move-started', 'observe:1000']);
  // web-a replaced, but web-b and web-c (old revision) remain: the rollout is not done.
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: noPdb([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  assert.deepEqual(s.kinds, ['observe:1000']);
  const done = noPdb([pod('web-d', 'spot'), pod('web-e', 'spot'), pod('web-f', 'spot')]);
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: done });
  assert.deepEqual(s.kinds, ['restore:web', 'notice:moved', 'observe:0']);
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: done });
  assert.deepEqual(s.kinds, ['observe:1000'], 'web-b is already replaced: nothing to start');
  s = step(s.state, { type: 'observed', now: 3_000, snapshot: done });
  assert.deepEqual(s.kinds, ['restore:web', 'notice:moved', 'untaint:od', 'notice:job-finished:done']);
});

test('a surge that must land safely starts only while the scheduler would put it on a node the autoscaler keeps; refused mid-drain, the drain fails', () => {
  const safeLanding = { profile: 'most-allocated', percentageOfNodesToScore: 0, scaleDownUtilizationThreshold: 0.5 } as const;
  const surge = (name: string, wave: number): Move => move(name, 'od', wave, { mode: 'surge-first', strategy: 'consolidate', toNode: 'full', safeLanding });
  const moves = [surge('a-x', 0), surge('b-x', 1)];
  const plan: Plan = { moves, drains: [drainOf('od', moves, { strategy: 'consolidate' })], skipped: [], savingUsdPerHour: 0.2 };
  const job = (name: string, cpu: number): PodView => pod(name, 'jobs', { owner: { kind: 'Job', namespace: 'default', name: 'batch' }, requests: { cpu, memory: 6 * 1024 ** 3 } });
  // `full` stays (a pod that is not leaving); `jobs` holds only Job pods: once they end, the autoscaler removes it.
  const at = (pods: readonly PodView[]): ClusterSnapshot =>
    snapshot({
      nodes: [node('od'), node('full'), node('jobs')],
      pods: [pod('keep-x', 'full', { requests: { cpu: 2500, memory: 8 * 1024 ** 3 } }), ...pods],
      workloads: [workload('a', 1), workload('b', 1), workload('keep', 1)],
    });
  // MostAllocated scores `full` above the Job-filled node: a-x may surge.
  let s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: at([pod('a-x', 'od'), pod('b-x', 'od'), job('batch-1', 1500)]) });
  assert.deepEqual(s.kinds, ['notice:job-started', 'taint:od', 'surge:a-x', 'notice:move-started', 'observe:1000']);
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: at([pod('a-y', 'full'), pod('b-x', 'od'), job('batch-1', 1500)]) });
  assert.deepEqual(s.kinds, ['restore:a', 'notice:moved', 'observe:0']);
  // Meanwhile more Jobs filled `jobs`: the scheduler would now put b's new pod there, so b-x stays.
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: at([pod('a-y', 'full'), pod('b-x', 'od'), job('batch-1', 1500), job('batch-2', 1800)]) });
  assert.deepEqual(s.kinds, ['untaint:od', 'notice:job-finished:failed']);
  const outcome = s.state.outcomes[0];
  assert.equal(outcome?.reason.code, 'unsafe-landing');
  assert.match(outcome?.reason.message ?? '', /^Pod "default\/b-x" must not lose its replica, but the scheduler \(most-allocated\) would place it on node "jobs", which the autoscaler will remove$/);
  assert.deepEqual(outcome?.moved, ['default/a-x']);
});

test('a move outside any drain does not taint its node', () => {
  const m = move('web-a', 'od', 0, { strategy: 'balance', savingUsdPerHour: 0 });
  const s = step(beginExecution({ moves: [m], drains: [], skipped: [], savingUsdPerHour: 0 }, options).state, { type: 'observed', now: 0, snapshot: cluster() });
  assert.deepEqual(s.kinds, ['notice:job-started', 'evict:web-a', 'notice:move-started', 'observe:1000']);
});

test('verified, not assumed: a replacement that lands on on-demand fails the drain, claims nothing, and the workload rests', () => {
  const m = move('web-a', 'od', 0, { landOn: 'spot' });
  const plan: Plan = { moves: [m], drains: [drainOf('od', [m])], skipped: [], savingUsdPerHour: 0.2 };
  const nodes = [node('od'), node('od2'), node('spot', { capacityType: 'spot' })];
  const at = (pods: readonly PodView[]): ClusterSnapshot => cluster(pods, { nodes });
  let s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: at([pod('web-a', 'od'), pod('web-b', 'spot'), pod('web-c', 'spot')]) });
  assert.deepEqual(s.kinds, ['notice:job-started', 'taint:od', 'evict:web-a', 'notice:move-started', 'observe:1000']);
  // No webhook: the scheduler put the replacement on the other on-demand node.
  s = step(s.state, { type: 'observed', now: 5_000, snapshot: at([pod('web-b', 'spot'), pod('web-c', 'spot'), pod('web-d', 'od2')]) });
  assert.deepEqual(s.kinds, ['notice:misplaced', 'untaint:od', 'notice:job-finished:failed']);
  const outcome = s.state.outcomes[0];
  assert.equal(outcome?.reason.code, 'misplaced');
  assert.equal(
    outcome?.reason.message,
    'The replacement of pod "default/web-a" landed on on-demand node "od2", not on spot as planned: nothing placed it on spot (no placement webhook admitted it) and the scheduler chose that node; no saving is claimed',
  );
  assert.equal(outcome?.savingUsdPerHour, 0);
  assert.equal(realisedSaving(s.state), 0);
  assert.deepEqual(s.state.failures.get('od'), { count: 1, lastAt: 5_000 }, 'the node backs off');
  assert.equal(s.state.history.lastMovedAt.get('Deployment/default/web'), 5_000, 'the workload rests');
  // Where the webhook's record says on-demand, the message names the floor.
  s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: at([pod('web-a', 'od'), pod('web-b', 'spot'), pod('web-c', 'spot')]) });
  const floored = pod('web-d', 'od2', { annotations: { 'stowage.io/capacity-type': 'on-demand' } });
  s = step(s.state, { type: 'observed', now: 5_000, snapshot: at([pod('web-b', 'spot'), pod('web-c', 'spot'), floored]) });
  assert.match(s.state.outcomes[0]?.reason.message ?? '', /landed on on-demand node "od2", not on spot as planned: the placement policy put it on on-demand at admission \(its on-demand floor\); no saving is claimed$/);
  // On spot it is done, saving claimed, and the workload rests all the same.
  s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: at([pod('web-a', 'od'), pod('web-b', 'spot'), pod('web-c', 'spot')]) });
  s = step(s.state, { type: 'observed', now: 5_000, snapshot: at([pod('web-b', 'spot'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  assert.deepEqual(s.kinds, ['notice:moved', 'untaint:od', 'notice:job-finished:done']);
  assert.equal(realisedSaving(s.state), 0.2);
  assert.equal(s.state.history.lastMovedAt.get('Deployment/default/web'), 5_000);
});

test('verified: a move outside any drain whose replacement lands back on the node it left is misplaced', () => {
  const m = move('web-a', 'od', 0, { strategy: 'balance', toNode: 'od2', savingUsdPerHour: 0 });
  const nodes = [node('od'), node('od2'), node('spot', { capacityType: 'spot' })];
  let s = step(beginExecution({ moves: [m], drains: [], skipped: [], savingUsdPerHour: 0 }, options).state, { type: 'observed', now: 0, snapshot: cluster(undefined, { nodes }) });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: cluster([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'od')], { nodes }) });
  assert.deepEqual(s.kinds, ['notice:misplaced', 'notice:job-finished:failed']);
  assert.equal(s.state.outcomes[0]?.reason.message, 'The replacement of pod "default/web-a" landed back on node "od", the node it left: no saving is claimed');
});

test('verified: each new pod vouches for one move, and a later job of the plan leaves a misplaced workload alone', () => {
  // Two moves of `web` (one per node) and one of `api`; web's first replacement lands on on-demand.
  const m1 = move('web-a', 'od', 0, { landOn: 'spot' });
  const m2 = move('web-b', 'od2', 0, { landOn: 'spot' });
  const m3 = move('api-a', 'od3', 0, { landOn: 'spot' });
  const plan: Plan = { moves: [m1, m2, m3], drains: [drainOf('od', [m1]), drainOf('od2', [m2]), drainOf('od3', [m3])], skipped: [], savingUsdPerHour: 0.6 };
  const nodes = [node('od'), node('od2'), node('od3'), node('od4'), node('spot', { capacityType: 'spot' })];
  const pdbs = [pdb('web', 'web', { disruptionsAllowed: 2, currentHealthy: 3 }), pdb('api', 'api')];
  const at = (pods: readonly PodView[]): ClusterSnapshot => snapshot({ nodes, pods, workloads: [workload('web', 3), workload('api', 2)], pdbs });
  const web = [pod('web-b', 'od2'), pod('web-c', 'spot')];
  const api = [pod('api-a', 'od3'), pod('api-b', 'spot')];
  let s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: at([pod('web-a', 'od'), ...web, ...api]) });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: at([...web, pod('web-d', 'od4'), ...api]) });
  assert.deepEqual(s.kinds, ['notice:misplaced', 'untaint:od', 'notice:job-finished:failed', 'observe:0']);
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: at([...web, pod('web-d', 'od4'), ...api]) });
  assert.deepEqual(s.kinds, ['notice:job-finished:skipped', 'notice:job-started', 'taint:od3', 'evict:api-a', 'notice:move-started', 'observe:1000']);
  assert.equal(s.state.outcomes[1]?.reason.code, 'recently-moved');
  assert.equal(s.state.failures.has('od2'), false, 'a skip for anti-flap does not back the node off');

  // Two pods of one workload in one wave of a drain: one replacement on spot vouches for one move only.
  const w1 = move('web-a', 'od', 0, { landOn: 'spot' });
  const w2 = move('web-b', 'od', 0, { landOn: 'spot', workload: { kind: 'Deployment', namespace: 'default', name: 'web' } });
  const both: Plan = { moves: [w1, w2], drains: [drainOf('od', [w1, w2])], skipped: [], savingUsdPerHour: 0.2 };
  const four = (pods: readonly PodView[]): ClusterSnapshot => snapshot({ nodes, pods, workloads: [workload('web', 4)], pdbs: [pdb('web', 'web', { minAvailable: 2, disruptionsAllowed: 2, currentHealthy: 4 })] });
  s = step(beginExecution(both, options).state, { type: 'observed', now: 0, snapshot: four([pod('web-a', 'od'), pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-e', 'spot')]) });
  assert.deepEqual(s.kinds.filter((k) => k.startsWith('evict')), ['evict:web-a', 'evict:web-b']);
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: four([pod('web-c', 'spot'), pod('web-e', 'spot'), pod('web-f', 'spot'), pod('web-g', 'od2')]) });
  assert.deepEqual(s.kinds, ['notice:moved', 'notice:misplaced', 'untaint:od', 'notice:job-finished:failed']);
});

/**
 * A toy world for the property: evicted pods go after a few looks and come back elsewhere, Ready
 * after a few more; surges replace every pod of the Deployment one at a time; any effect may fail
 * and the driver may stop at any look.
 */
test('property: one job at a time, at most one pod per workload in flight, a set tainted whole before it moves a pod, and every taint released or held at the end', () => {
  const arb = fc.record({
    replicas: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
    modes: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    consolidate: fc.boolean(),
    together: fc.boolean(),
    delays: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 30, maxLength: 30 }),
    fail: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 30, maxLength: 30 }),
    stopAt: fc.integer({ min: 0, max: 80 }),
  });
  fc.assert(
    fc.property(arb, (spec) => {
      // Workload wi has replicas[wi] pods; its pods sit on od-0 and od-1 in turn; each od node is drained.
      let pods: PodView[] = [];
      const workloads = spec.replicas.map((r, wi) => workload(`w${wi}`, r));
      spec.replicas.forEach((r, wi) => {
        for (let i = 0; i < r; i++) pods.push(pod(`w${wi}-p${i}`, `od-${i % 2}`));
      });
      const moves: Move[] = [];
      const drains: NodeDrain[] = [];
      let k = 0;
      for (const nodeName of ['od-0', 'od-1']) {
        const own = pods.filter((p) => p.nodeName === nodeName);
        const waveOf = new Map<string, number>();
        const nodeMoves = own.map((p) => {
          const key = workloadKey(p.owner);
          const wave = waveOf.get(key) ?? 0;
          waveOf.set(key, wave + 1);
          const mode = spec.modes[k++ % spec.modes.length] === true ? 'surge-first' : 'evict';
          return move(p.name, nodeName, wave, { mode, ...(spec.consolidate ? { strategy: 'consolidate' } : {}) });
        });
        if (nodeMoves.length === 0) continue;
        moves.push(...nodeMoves);
        drains.push(drainOf(nodeName, nodeMoves, { ...(spec.consolidate ? { strategy: 'consolidate' } : {}), ...(spec.together ? { together: ['od-0', 'od-1'] } : {}) }));
      }
      // The drains of a set go as one action (both od nodes, when both have pods to move).
      const set = spec.together && drains.length === 2 ? new Set(['od-0', 'od-1']) : new Set<string>();
      const ended = new Set<string>();
      const nodes = [node('od-0'), node('od-1'), node('spot', { capacityType: 'spot' })];
      let serial = 0;
      let look = 0;
      let now = 0;
      /** uid → looks left until the pod goes (evicted) or is Ready (replacement). */
      const going = new Map<string, number>();
      const coming = new Map<string, number>();
      const rollouts: { readonly owner: PodView['owner']; queue: string[] }[] = [];
      const tainted = new Set<string>();
      const held = new Set<string>();
      const view = (): ClusterSnapshot => snapshot({ nodes, pods, workloads, pdbs: [] });
      const replace = (old: PodView): void => {
        const uid = `r${serial++}`;
        pods.push(pod(`${old.owner.name}-r${uid}`, 'spot', { uid, ready: false, owner: old.owner }));
        coming.set(uid, spec.delays[serial % spec.delays.length] ?? 1);
      };
      const advance = (): void => {
        for (const [uid, left] of going) {
          if (left > 0) going.set(uid, left - 1);
          else {
            going.delete(uid);
            const old = pods.find((p) => p.uid === uid);
            pods = pods.filter((p) => p.uid !== uid);
            if (old !== undefined && !rollouts.some((r) => r.owner === old.owner)) replace(old);
          }
        }
        for (const [uid, left] of coming) {
          if (left > 0) coming.set(uid, left - 1);
          else {
            coming.delete(uid);
            pods = pods.map((p) => (p.uid === uid ? { ...p, ready: true } : p));
            // A rollout deletes the old pod once its replacement is Ready, then surges the next.
            const rollout = rollouts.find((r) => r.owner.name === pods.find((p) => p.uid === uid)?.owner.name);
            if (rollout !== undefined) {
              const old = rollout.queue.shift();
              if (old !== undefined) going.set(old, 0);
              const next = pods.find((p) => p.uid === rollout.queue[0]);
              if (next !== undefined) replace(next);
              else rollouts.splice(rollouts.indexOf(rollout), 1);
            }
          }
        }
      };
      let t = beginExecution({ moves, drains, skipped: [], savingUsdPerHour: 0 }, options);
      let queue = [...t.effects];
      let steps = 0;
      while (queue.length > 0 && steps++ < 2_000) {
        const effect = queue.shift() as Effect;
        const fails = (spec.fail[steps % spec.fail.length] ?? 9) === 0;
        let observation: Observation | undefined;
        switch (effect.type) {
          case 'taint':
            // One drain at a time; only the nodes of one set are tainted together.
            assert.deepEqual([...tainted].filter((n) => !held.has(n) && !(set.has(n) && set.has(effect.node))), [], 'one drain at a time');
            tainted.add(effect.node);
            if (fails) observation = { type: 'failed', now, effect, reason: { code: 'api-error', message: 'x' } };
            break;
          case 'untaint':
            tainted.delete(effect.node);
            break;
          case 'launch-node':
          case 'cancel-launch':
          case 'protect':
          case 'unprotect':
            assert.fail('no launch planned');
            break;
          case 'hold':
          case 'delete-node':
            held.add(effect.node);
            break;
          case 'evict':
          case 'surge': {
            const target = pods.find((p) => p.uid === effect.move.pod.uid);
            assert.ok(target !== undefined, 'a started move names a pod that is there');
            // Karpenter's order: every node of the set not done yet is tainted before any of its pods moves.
            for (const n of set) assert.ok(tainted.has(n) || ended.has(n), `a pod of the set moved while node ${n} of it was not tainted`);
            // At most one pod of a workload in flight: nothing of it going, coming or rolling.
            const key = workloadKey(effect.move.workload);
            const busy = pods.some((p) => workloadKey(p.owner) === key && (going.has(p.uid) || coming.has(p.uid))) || rollouts.some((r) => workloadKey(r.owner) === key);
            assert.equal(busy, false, `a second move of ${key} while one is in flight`);
            if (fails) observation = { type: 'failed', now, effect, reason: { code: 'eviction-refused', message: 'x' } };
            else if (effect.type === 'evict') going.set(target.uid, spec.delays[steps % spec.delays.length] ?? 0);
            else {
              const queueUids = pods.filter((p) => workloadKey(p.owner) === key && p.uid !== target.uid).map((p) => p.uid);
              rollouts.push({ owner: target.owner, queue: [...queueUids, target.uid] });
              const first = pods.find((p) => p.uid === queueUids[0]) ?? target;
              replace(first);
            }
            break;
          }
          case 'observe':
            if (look++ === spec.stopAt) observation = { type: 'stop', now };
            else {
              now += effect.afterMs;
              advance();
              observation = { type: 'observed', now, snapshot: view() };
            }
            break;
          case 'notice':
            if (effect.notice.kind === 'job-finished') ended.add(effect.notice.job.drain.node);
            break;
          case 'restore-strategy':
            break;
        }
        if (observation !== undefined) {
          t = stepExecution(t.state, observation);
          queue = [...t.effects];
        }
      }
      assert.ok(isFinished(t.state), 'the machine ends');
      assert.deepEqual([...tainted].filter((n) => !held.has(n)), [], 'every taint is released or held at the end');
      if (!spec.consolidate) assert.equal(held.size, 0, 'only consolidation holds a node');
      for (const o of t.state.outcomes) if (o.outcome !== 'done') assert.equal(o.savingUsdPerHour, 0);
    }),
    { numRuns: 300, seed: 42 },
  );
});

/** od's two pods move to a c5.2xlarge the plan launches first (`replacement-for-od`). */
const replaced: Plan = (() => {
  const moves = [move('web-a', 'od', 0), move('web-b', 'od', 1)].map((m) => ({ ...m, toNode: 'replacement-for-od' }));
  const offer = { id: 'c5.2xlarge/on-demand', usdPerHour: 0.34, node: node('tmpl', { instanceType: 'c5.2xlarge', zone: 'us-east-1a' }) };
  const launch: NodeLaunch = { name: 'replacement-for-od', offer, strategy: 'karpenter-consolidate', replaces: ['od'], reason: { code: 'replace', message: 'cheaper' } };
  return { moves, drains: [drainOf('od', moves, { strategy: 'karpenter-consolidate', replacement: 'replacement-for-od', deleteNode: true })], skipped: [], launches: [launch], savingUsdPerHour: 0.2 };
})();

test('a replacement is launched first, its node tainted before; its drain starts once THE node the driver launched is Ready, and never without it', () => {
  let s = step(beginExecution(replaced, options).state, { type: 'observed', now: 0, snapshot: cluster() });
  // As Karpenter: the node replaced is tainted before the launch, so nothing new lands on it meanwhile. The driver answers the launch: no look before it does.
  assert.deepEqual(s.kinds, ['taint:od', 'notice:job-started', 'launch-node:c5.2xlarge']);
  s = step(s.state, { type: 'launched', now: 500, launch: 'replacement-for-od', node: 'new-c5' });
  assert.deepEqual(s.effects, [{ type: 'observe', afterMs: 0, node: 'new-c5' }]);
  // Not there yet; then a node of the same type the autoscaler launched meanwhile: not it.
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: cluster() });
  assert.deepEqual(s.kinds, ['observe:1000']);
  const twin = node('autoscaled-c5', { instanceType: 'c5.2xlarge', zone: 'us-east-1a' });
  s = step(s.state, { type: 'observed', now: 1_500, snapshot: cluster(undefined, { nodes: [node('od'), node('spot', { capacityType: 'spot' }), twin] }) });
  assert.deepEqual(s.kinds, ['observe:1000'], 'a node of the offer the driver did not name is not the launched one');
  // Ours, but cordoned, then still carrying the provisioner's unregistered taint: still waiting.
  const cordoned = node('new-c5', { instanceType: 'c5.2xlarge', zone: 'us-east-1a', unschedulable: true });
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: cluster(undefined, { nodes: [node('od'), node('spot', { capacityType: 'spot' }), twin, cordoned] }) });
  assert.deepEqual(s.kinds, ['observe:1000']);
  const unregistered = node('new-c5', { instanceType: 'c5.2xlarge', zone: 'us-east-1a', taints: [{ key: 'karpenter.sh/unregistered', effect: 'NoExecute' }] });
  s = step(s.state, { type: 'observed', now: 2_500, snapshot: cluster(undefined, { nodes: [node('od'), node('spot', { capacityType: 'spot' }), twin, unregistered] }) });
  assert.deepEqual(s.kinds, ['observe:1000']);
  // The autoscaler's soft taint on the new, empty node keeps no pod off: it is up.
  const soft = [{ key: 'DeletionCandidateOfClusterAutoscaler', value: '1', effect: 'PreferNoSchedule' as const }];
  const up = cluster(undefined, { nodes: [node('od'), node('spot', { capacityType: 'spot' }), twin, node('new-c5', { instanceType: 'c5.2xlarge', zone: 'us-east-1a', taints: soft })] });
  s = step(s.state, { type: 'observed', now: 3_000, snapshot: up });
  assert.deepEqual(s.kinds, ['notice:job-finished:done', 'observe:0']);
  assert.equal(s.state.launched.get('replacement-for-od'), 'new-c5');
  assert.equal(s.state.launching, undefined, 'the next job starts clean');
  assert.match(s.state.outcomes[0]?.reason.message ?? '', /launched as node "new-c5"/);
  s = step(s.state, { type: 'observed', now: 3_000, snapshot: up });
  assert.deepEqual(s.kinds, ['notice:job-started', 'evict:web-a', 'notice:move-started', 'observe:1000']);
  // Launched but not Ready within the wave timeout: the launch is undone and fails, the node untainted, its drain skipped untouched.
  let f = step(beginExecution(replaced, options).state, { type: 'observed', now: 0, snapshot: cluster() });
  f = step(f.state, { type: 'launched', now: 10, launch: 'replacement-for-od', node: 'slow-c5' });
  f = step(f.state, { type: 'observed', now: options.waveTimeoutMs, snapshot: cluster() });
  assert.deepEqual(f.kinds, ['untaint:od', 'cancel-launch:replacement-for-od:slow-c5', 'notice:job-finished:failed', 'notice:job-finished:skipped']);
  assert.ok(isFinished(f.state));
  assert.deepEqual(f.state.outcomes.map((o) => `${o.node}:${o.outcome}:${o.reason.code}`), ['replacement-for-od:failed:launch-failed', 'od:skipped:launch-failed']);
  assert.match(f.state.outcomes[0]?.reason.message ?? '', /Node "slow-c5" \(c5\.2xlarge\) was not Ready within 60s/);
  assert.equal(f.state.failures.size, 0, 'a failed launch backs no node off');
  // The driver could not launch at all (a failed effect): undone (whatever it made) and the same.
  const t = beginExecution(replaced, options);
  const started = stepExecution(t.state, { type: 'observed', now: 0, snapshot: cluster() });
  const launchEffect = started.effects.find((e) => e.type === 'launch-node') as Effect;
  const refused = step(started.state, { type: 'failed', now: 10, effect: launchEffect, reason: { code: 'launch-failed', message: 'At max size' } });
  assert.deepEqual(refused.kinds, ['untaint:od', 'cancel-launch:replacement-for-od', 'notice:job-finished:failed', 'notice:job-finished:skipped']);
  assert.equal(realisedSaving(refused.state), 0);
  // A late answer for a launch no longer under way changes nothing.
  assert.deepEqual(step(refused.state, { type: 'launched', now: 20, launch: 'replacement-for-od', node: 'late' }).effects, []);
  // Stopped while the node comes up: undone and untainted, nothing after it starts.
  const stopped = step(step(started.state, { type: 'launched', now: 10, launch: 'replacement-for-od', node: 'new-c5' }).state, { type: 'stop', now: 20 });
  assert.deepEqual(stopped.kinds, ['untaint:od', 'cancel-launch:replacement-for-od:new-c5', 'notice:job-finished:failed', 'notice:job-finished:skipped']);
  assert.ok(isFinished(stopped.state));
});

test('a launched replacement no drain moved a pod onto is undone: its drain skipped on the recheck, or the plan stopped before it', () => {
  let s = step(beginExecution(replaced, options).state, { type: 'observed', now: 0, snapshot: cluster() });
  s = step(s.state, { type: 'launched', now: 10, launch: 'replacement-for-od', node: 'new-c5' });
  const up = (pods?: readonly PodView[], over: Partial<ClusterSnapshot> = {}): ClusterSnapshot =>
    cluster(pods, { nodes: [node('od'), node('spot', { capacityType: 'spot' }), node('new-c5', { instanceType: 'c5.2xlarge', zone: 'us-east-1a' })], ...over });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: up() });
  assert.deepEqual(s.kinds, ['notice:job-finished:done', 'observe:0']);
  // The PDB no longer allows the drain: skipped untouched (untainted), and the empty replacement goes.
  const blocked = up(undefined, { pdbs: [pdb('web', 'web', { minAvailable: 3, disruptionsAllowed: 0, currentHealthy: 3 })] });
  const skipped = step(s.state, { type: 'observed', now: 1_000, snapshot: blocked });
  assert.deepEqual(skipped.kinds, ['untaint:od', 'notice:job-finished:skipped', 'cancel-launch:replacement-for-od:new-c5']);
  assert.ok(isFinished(skipped.state));
  // Stopped between the launch and its drain: the same.
  const stopped = step(s.state, { type: 'stop', now: 1_000 });
  assert.deepEqual(stopped.kinds, ['untaint:od', 'notice:job-finished:failed', 'cancel-launch:replacement-for-od:new-c5']);
  // A drain that moved a pod onto it keeps it, even when it then fails.
  let d = step(s.state, { type: 'observed', now: 1_000, snapshot: up() });
  assert.deepEqual(d.kinds, ['notice:job-started', 'evict:web-a', 'notice:move-started', 'observe:1000']);
  d = step(d.state, { type: 'observed', now: 2_000, snapshot: up([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'new-c5')]) });
  const evictB = step(d.state, { type: 'observed', now: 2_000, snapshot: up([pod('web-b', 'od'), pod('web-c', 'spot'), pod('web-d', 'new-c5')]) });
  const refusedB = step(evictB.state, { type: 'failed', now: 2_500, effect: evictB.effects.find((e) => e.type === 'evict') as Effect, reason: { code: 'eviction-refused', message: 'PDB' } });
  assert.deepEqual(refusedB.kinds, ['untaint:od', 'notice:job-finished:failed']);
  assert.ok(isFinished(refusedB.state));
});

const c5 = { id: 'c5.2xlarge/on-demand', usdPerHour: 0.34, node: node('tmpl', { instanceType: 'c5.2xlarge', zone: 'us-east-1a' }) };

/**
 * od-1 and od-2 (one pod of web each) go as one action: deleted together, or with `launch`
 * replaced together by one c5.2xlarge the plan launches first (Karpenter's multi-node replace).
 */
function setPlan(launch: boolean): Plan {
  const strategy = 'karpenter-consolidate';
  const to = launch ? 'replacement-for-od-1' : 'spot';
  const a = move('web-a', 'od-1', 0, { toNode: to, strategy });
  const b = move('web-b', 'od-2', 0, { toNode: to, strategy });
  const together = ['od-1', 'od-2'];
  const common = { strategy, deleteNode: true, together, ...(launch ? { replacement: 'replacement-for-od-1' } : {}) };
  const drains = [drainOf('od-1', [a], common), drainOf('od-2', [b], common)];
  const launches: NodeLaunch[] = launch ? [{ name: 'replacement-for-od-1', offer: c5, strategy, replaces: together, reason: { code: 'replace', message: 'cheaper' } }] : [];
  return { moves: [a, b], drains, skipped: [], ...(launch ? { launches } : {}), savingUsdPerHour: 0.2 };
}

/** web: three replicas, one on each of od-1, od-2 and spot (or `pods`), a PDB allowing one disruption; `extra` nodes beside. */
function setCluster(pods: readonly PodView[] = [pod('web-a', 'od-1'), pod('web-b', 'od-2'), pod('web-c', 'spot')], extra: readonly ReturnType<typeof node>[] = []): ClusterSnapshot {
  return snapshot({
    nodes: [node('od-1'), node('od-2'), node('spot', { capacityType: 'spot' }), ...extra],
    pods,
    workloads: [workload('web', 3)],
    pdbs: [pdb('web', 'web', { minAvailable: 2, disruptionsAllowed: 1, currentHealthy: 3 })],
  });
}
const newC5 = node('new-c5', { instanceType: 'c5.2xlarge', zone: 'us-east-1a' });

/** The nodes still tainted after `effects`, given those tainted before. */
function taintedAfter(before: ReadonlySet<string>, effects: readonly Effect[]): Set<string> {
  const tainted = new Set(before);
  for (const e of effects) {
    if (e.type === 'taint') tainted.add(e.node);
    if (e.type === 'untaint' || e.type === 'delete-node' || e.type === 'hold') tainted.delete(e.node);
  }
  return tainted;
}

test('a set replaced by one node: every node of it tainted before the launch and before any pod moves; each drain after it taints nothing more', () => {
  let s = step(beginExecution(setPlan(true), options).state, { type: 'observed', now: 0, snapshot: setCluster() });
  assert.deepEqual(s.kinds, ['taint:od-1', 'taint:od-2', 'notice:job-started', 'launch-node:c5.2xlarge']);
  assert.deepEqual(s.state.setTainted, ['od-1', 'od-2']);
  s = step(s.state, { type: 'launched', now: 500, launch: 'replacement-for-od-1', node: 'new-c5' });
  const up = setCluster(undefined, [newC5]);
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: up });
  assert.deepEqual(s.kinds, ['notice:job-finished:done', 'observe:0']);
  // od-1's drain: od-2 is closed already, so the scheduler can put web-a's replacement only on the new node (or spot).
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: up });
  assert.deepEqual(s.kinds, ['notice:job-started', 'evict:web-a', 'notice:move-started', 'observe:1000']);
  const afterA = setCluster([pod('web-b', 'od-2'), pod('web-c', 'spot'), pod('web-d', 'new-c5')], [newC5]);
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: afterA });
  assert.deepEqual(s.kinds, ['notice:moved', 'delete-node:od-1', 'notice:job-finished:done', 'observe:0']);
  assert.deepEqual(s.state.setTainted, ['od-2']);
  // od-2 is still tainted from the start of the set: its drain does not taint it again.
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: afterA });
  assert.deepEqual(s.kinds, ['notice:job-started', 'evict:web-b', 'notice:move-started', 'observe:1000']);
  s = step(s.state, { type: 'observed', now: 3_000, snapshot: setCluster([pod('web-c', 'spot'), pod('web-d', 'new-c5'), pod('web-e', 'new-c5')], [newC5]) });
  assert.deepEqual(s.kinds, ['notice:moved', 'delete-node:od-2', 'notice:job-finished:done']);
  assert.ok(isFinished(s.state));
  assert.deepEqual(s.state.setTainted, []);
  assert.equal(realisedSaving(s.state), 0.4);
  // A set deleted without a launch is tainted whole the same way, before the first eviction.
  const deleted = step(beginExecution(setPlan(false), options).state, { type: 'observed', now: 0, snapshot: setCluster() });
  assert.deepEqual(deleted.kinds, ['taint:od-1', 'taint:od-2', 'notice:job-started', 'evict:web-a', 'notice:move-started', 'observe:1000']);
});

test('a set rolls back whole: a failed drain untaints every node of it not drained yet and skips the rest; a failed launch leaves none tainted', () => {
  // The first drain's eviction refused: both nodes untainted, od-2 skipped without being touched.
  let s = step(beginExecution(setPlan(false), options).state, { type: 'observed', now: 0, snapshot: setCluster() });
  const evict = s.effects.find((e) => e.type === 'evict') as Effect;
  const failed = step(s.state, { type: 'failed', now: 10, effect: evict, reason: { code: 'eviction-refused', message: 'refused' } });
  assert.deepEqual(failed.kinds, ['untaint:od-1', 'untaint:od-2', 'notice:job-finished:failed', 'notice:job-finished:skipped']);
  assert.ok(isFinished(failed.state));
  assert.deepEqual(failed.state.outcomes.map((o) => `${o.node}:${o.outcome}:${o.reason.code}`), ['od-1:failed:eviction-refused', 'od-2:skipped:set-failed']);
  assert.deepEqual(taintedAfter(new Set(), [...s.effects, ...failed.effects]), new Set());
  // The second drain fails after the first is done: only od-2 is left to untaint; od-1 was deleted.
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: setCluster([pod('web-b', 'od-2'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  const doneFirst = s.effects;
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: setCluster([pod('web-b', 'od-2'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  const second = s.effects.find((e) => e.type === 'evict') as Effect;
  const late = step(s.state, { type: 'failed', now: 1_010, effect: second, reason: { code: 'eviction-refused', message: 'refused' } });
  assert.deepEqual(late.kinds, ['untaint:od-2', 'notice:job-finished:failed']);
  assert.deepEqual(late.state.outcomes.map((o) => `${o.node}:${o.outcome}`), ['od-1:done', 'od-2:failed']);
  assert.deepEqual(taintedAfter(new Set(['od-1', 'od-2']), [...doneFirst, ...s.effects, ...late.effects]), new Set());
  // A launch that fails (the driver could not launch): both nodes untainted, both drains skipped.
  const launching = step(beginExecution(setPlan(true), options).state, { type: 'observed', now: 0, snapshot: setCluster() });
  const launch = launching.effects.find((e) => e.type === 'launch-node') as Effect;
  const noLaunch = step(launching.state, { type: 'failed', now: 5, effect: launch, reason: { code: 'launch-failed', message: 'At max size' } });
  assert.deepEqual(noLaunch.kinds, ['untaint:od-1', 'untaint:od-2', 'cancel-launch:replacement-for-od-1', 'notice:job-finished:failed', 'notice:job-finished:skipped', 'notice:job-finished:skipped']);
  assert.deepEqual(noLaunch.state.outcomes.map((o) => `${o.node}:${o.outcome}:${o.reason.code}`), ['replacement-for-od-1:failed:launch-failed', 'od-1:skipped:launch-failed', 'od-2:skipped:launch-failed']);
  assert.deepEqual(taintedAfter(new Set(), [...launching.effects, ...noLaunch.effects]), new Set());
  assert.equal(realisedSaving(noLaunch.state), 0);
  // Not seen within the wave timeout: the same.
  const late2 = step(step(launching.state, { type: 'launched', now: 10, launch: 'replacement-for-od-1', node: 'new-c5' }).state, { type: 'observed', now: options.waveTimeoutMs, snapshot: setCluster() });
  assert.deepEqual(late2.kinds, ['untaint:od-1', 'untaint:od-2', 'cancel-launch:replacement-for-od-1:new-c5', 'notice:job-finished:failed', 'notice:job-finished:skipped', 'notice:job-finished:skipped']);
  // A stop between the set's drains untaints the node not drained yet.
  const between = step(beginExecution(setPlan(false), options).state, { type: 'observed', now: 0, snapshot: setCluster() });
  const firstDone = step(between.state, { type: 'observed', now: 1_000, snapshot: setCluster([pod('web-b', 'od-2'), pod('web-c', 'spot'), pod('web-d', 'spot')]) });
  assert.equal(firstDone.state.phase, 'recheck');
  const stopped = step(firstDone.state, { type: 'stop', now: 1_001 });
  assert.deepEqual(stopped.kinds, ['untaint:od-2', 'notice:job-finished:failed']);
  assert.deepEqual(taintedAfter(new Set(), [...between.effects, ...firstDone.effects, ...stopped.effects]), new Set());
});

test('a set one of whose nodes changed since planning is skipped whole before anything is tainted or launched', () => {
  // A newcomer on od-2: its drain would be refused, so the set does not start at all.
  const changed = setCluster([pod('web-a', 'od-1'), pod('web-b', 'od-2'), pod('web-c', 'spot'), pod('other-a', 'od-2', { owner: { kind: 'Deployment', namespace: 'default', name: 'other' } })]);
  const s = step(beginExecution(setPlan(true), options).state, { type: 'observed', now: 0, snapshot: changed });
  assert.deepEqual(s.kinds, ['notice:job-finished:skipped', 'notice:job-finished:skipped', 'notice:job-finished:skipped']);
  assert.ok(isFinished(s.state));
  assert.deepEqual(s.state.outcomes.map((o) => `${o.node}:${o.reason.code}`), ['replacement-for-od-1:set-failed', 'od-1:set-failed', 'od-2:stale-plan']);
  assert.match(s.state.outcomes[1]?.reason.message ?? '', /goes with node "od-2", which cannot be drained now/);
});

test('a surge of a set is predicted with every node of the set closed, though the snapshot does not show their taint yet', () => {
  const safeLanding = { profile: 'most-allocated', percentageOfNodesToScore: 0, scaleDownUtilizationThreshold: 0.5 } as const;
  const surge = (name: string, from: string): Move => move(name, from, 0, { mode: 'surge-first', strategy: 'karpenter-consolidate', toNode: 'other', safeLanding });
  const job = (name: string): PodView => pod(name, 'jobs', { owner: { kind: 'Job', namespace: 'default', name: 'batch' }, requests: { cpu: 1500, memory: 6 * 1024 ** 3 } });
  // MostAllocated scores `full` first, then the Job-filled node the autoscaler will remove once its Jobs end.
  const at = snapshot({
    nodes: [node('od'), node('full'), node('jobs')],
    pods: [pod('a-x', 'od'), pod('keep-x', 'full', { requests: { cpu: 2500, memory: 8 * 1024 ** 3 } }), job('batch-1')],
    workloads: [workload('a', 1), workload('keep', 1)],
  });
  const plan = (together: boolean): Plan => {
    const a = surge('a-x', 'od');
    const keep = surge('keep-x', 'full');
    const over = { strategy: 'karpenter-consolidate', ...(together ? { together: ['od', 'full'] } : {}) };
    return { moves: [a, keep], drains: [drainOf('od', [a], over), drainOf('full', [keep], over)], skipped: [], savingUsdPerHour: 0.4 };
  };
  // od and full go together: full is closed too, so a's replacement would land on `jobs`: the set is called off and untainted.
  const set = step(beginExecution(plan(true), options).state, { type: 'observed', now: 0, snapshot: at });
  assert.deepEqual(set.kinds, ['taint:od', 'taint:full', 'untaint:od', 'untaint:full', 'notice:job-finished:skipped', 'notice:job-finished:skipped']);
  assert.deepEqual(set.state.outcomes.map((o) => `${o.node}:${o.reason.code}`), ['od:unsafe-landing', 'full:set-failed']);
  assert.match(set.state.outcomes[0]?.reason.message ?? '', /would place it on node "jobs"/);
  // Control: drained one at a time, full is open while od drains, and the scheduler takes a's replacement there.
  const apart = step(beginExecution(plan(false), options).state, { type: 'observed', now: 0, snapshot: at });
  assert.deepEqual(apart.kinds, ['notice:job-started', 'taint:od', 'surge:a-x', 'notice:move-started', 'observe:1000']);
});

/**
 * The T2K outage the property test found (src/sim/attribution.property.test.ts), by hand: `big` is
 * replaced by `new-box`; a-x (single replica, 1200m) surges onto it, then the next surge's landing
 * turns unsafe (a node `jobs` held up only by a Job pod would take b-x), so the drain stops with
 * a-x's replacement alone on `new-box`, 30% requested, below the removal threshold.
 */
function halfWay(bigPods: readonly PodView[]): { readonly plan: Plan; readonly at: (pods: readonly PodView[], jobs?: boolean) => ClusterSnapshot } {
  const safeLanding = { profile: 'most-allocated', percentageOfNodesToScore: 0, scaleDownUtilizationThreshold: 0.5 } as const;
  const surge = (name: string, wave: number): Move => move(name, 'big', wave, { mode: 'surge-first', strategy: 'karpenter-consolidate', toNode: 'replacement-for-big', safeLanding });
  const moves = [surge('a-x', 0), surge('b-x', 1)];
  const offer = { id: 'box/on-demand', usdPerHour: 0.2, node: node('tmpl') };
  const launch: NodeLaunch = { name: 'replacement-for-big', offer, strategy: 'karpenter-consolidate', replaces: ['big'], removalThreshold: 0.5, reason: { code: 'replace', message: 'cheaper' } };
  const drain = drainOf('big', moves, { strategy: 'karpenter-consolidate', replacement: 'replacement-for-big', deleteNode: true, staying: bigPods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid })) });
  const plan: Plan = { moves, drains: [drain], skipped: [], launches: [launch], savingUsdPerHour: 0.16 };
  const jobPod = pod('batch-1', 'jobs', { owner: { kind: 'Job', namespace: 'default', name: 'batch' }, requests: { cpu: 1220, memory: 1024 ** 3 } });
  const at = (pods: readonly PodView[], jobs = false): ClusterSnapshot =>
    snapshot({
      nodes: [node('big', { allocatable: { cpu: 8000, memory: 32 * 1024 ** 3, pods: 110 } }), node('new-box'), ...(jobs ? [node('jobs')] : [])],
      pods: [...bigPods, ...pods, ...(jobs ? [jobPod] : [])],
      workloads: [workload('a', 1), workload('b', 1), workload('keep', 1)],
    });
  return { plan, at };
}

/** Carries `plan` to the point where its drain stopped half-way, a-x's replacement a-y alone on new-box. */
function stopHalfWay(plan: Plan, at: (pods: readonly PodView[], jobs?: boolean) => ClusterSnapshot): ReturnType<typeof step> {
  const a = (uid: string, nodeName: string): PodView => pod(uid, nodeName, { requests: { cpu: 1200, memory: 1024 ** 3 } });
  const b = pod('b-x', 'big', { requests: { cpu: 800, memory: 1024 ** 3 } });
  let s = step(beginExecution(plan, options).state, { type: 'observed', now: 0, snapshot: at([a('a-x', 'big'), b]) });
  assert.deepEqual(s.kinds, ['taint:big', 'notice:job-started', 'launch-node:m5.xlarge']);
  s = step(s.state, { type: 'launched', now: 10, launch: 'replacement-for-big', node: 'new-box' });
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: at([a('a-x', 'big'), b]) });
  // Protected from scale-down before any pod lands on it.
  assert.deepEqual(s.kinds, ['protect:new-box', 'notice:job-finished:done', 'observe:0']);
  s = step(s.state, { type: 'observed', now: 1_000, snapshot: at([a('a-x', 'big'), b]) });
  assert.deepEqual(s.kinds, ['notice:job-started', 'surge:a-x', 'notice:move-started', 'observe:1000']);
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: at([a('a-y', 'new-box'), b]) });
  assert.deepEqual(s.kinds, ['restore:a', 'notice:moved', 'observe:0']);
  // A Job pod now holds up `jobs`, which MostAllocated would choose for b-x: the drain stops.
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: at([a('a-y', 'new-box'), b], true) });
  assert.deepEqual(s.kinds, ['untaint:big', 'notice:job-finished:failed', 'observe:0']);
  assert.equal(s.state.outcomes.at(-1)?.reason.code, 'unsafe-landing');
  return s;
}

test('a replacement left below the threshold by a drain stopped half-way is emptied again, surge-first, and deleted', () => {
  // `big` keeps 3000m that stay: a-y's way back lands there, above the threshold.
  const { plan, at } = halfWay([pod('keep-x', 'big', { requests: { cpu: 3000, memory: 1024 ** 3 } })]);
  let s = stopHalfWay(plan, at);
  const a = (uid: string, nodeName: string): PodView => pod(uid, nodeName, { requests: { cpu: 1200, memory: 1024 ** 3 } });
  const b = pod('b-x', 'big', { requests: { cpu: 800, memory: 1024 ** 3 } });
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: at([a('a-y', 'new-box'), b], true) });
  assert.deepEqual(s.kinds, ['notice:job-started', 'taint:new-box', 'surge:a-y', 'notice:move-started', 'observe:1000']);
  const undo = s.state.jobs[s.state.current];
  assert.equal(undo?.drain.reason.code, 'replacement-undone');
  assert.match(undo?.drain.reason.message ?? '', /^Node "new-box", launched to replace "big", was left 30% requested by pods that stay, below the autoscaler's removal threshold \(50%\): emptied again/);
  assert.deepEqual(undo?.moves.map((m) => `${m.pod.name}:${m.mode}:${m.wave}:${m.safeLanding === undefined ? 'any' : 'safe'}`), ['a-y:surge-first:0:safe']);
  s = step(s.state, { type: 'observed', now: 3_000, snapshot: at([a('a-z', 'big'), b], true) });
  assert.deepEqual(s.kinds, ['restore:a', 'notice:moved', 'delete-node:new-box', 'notice:job-finished:done']);
  assert.ok(isFinished(s.state));
  assert.deepEqual(s.state.outcomes.map((o) => `${o.node}:${o.outcome}:${o.reason.code}`), ['replacement-for-big:done:replace', 'big:failed:unsafe-landing', 'new-box:done:replacement-undone']);
  assert.equal(realisedSaving(s.state), 0, 'a replace undone saves nothing');
});

test('a replacement that cannot be emptied safely stays protected from scale-down; one that holds enough is kept and released', () => {
  // Nothing stays on `big`: a-y's way back would land below the threshold too, so a-y stays, protected.
  const stuck = halfWay([]);
  let s = stopHalfWay(stuck.plan, stuck.at);
  const a = (uid: string, nodeName: string): PodView => pod(uid, nodeName, { requests: { cpu: 1200, memory: 1024 ** 3 } });
  const b = pod('b-x', 'big', { requests: { cpu: 800, memory: 1024 ** 3 } });
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: stuck.at([a('a-y', 'new-box'), b], true) });
  assert.deepEqual(s.kinds, ['notice:job-finished:skipped'], 'no unprotect, no taint, no surge');
  assert.ok(isFinished(s.state));
  assert.equal(s.state.outcomes.at(-1)?.node, 'new-box');
  assert.equal(s.state.outcomes.at(-1)?.reason.code, 'unsafe-landing');
  // Filled enough meanwhile (another pod landed there): kept, and its protection taken off.
  const kept = halfWay([]);
  s = stopHalfWay(kept.plan, kept.at);
  const full = kept.at([a('a-y', 'new-box'), b, pod('c-x', 'new-box', { requests: { cpu: 1000, memory: 1024 ** 3 } })], true);
  s = step(s.state, { type: 'observed', now: 2_000, snapshot: full });
  assert.deepEqual(s.kinds, ['unprotect:new-box'], 'kept: no drain, so no outcome');
  assert.ok(isFinished(s.state));
  assert.deepEqual(s.state.outcomes.map((o) => `${o.node}:${o.outcome}`), ['replacement-for-big:done', 'big:failed']);
  // A later plan releases a protected node that no longer needs it, before anything else.
  const released = beginExecution({ ...twoWaves, releases: [{ node: 'new-box', reason: { code: 'protection-released', message: 'full' } }] }, options);
  assert.deepEqual(released.effects.map(_kind), ['unprotect:new-box', 'observe:0']);
  assert.deepEqual(beginExecution({ moves: [], drains: [], skipped: [], savingUsdPerHour: 0, releases: [{ node: 'n', reason: { code: 'protection-released', message: 'x' } }] }, options).effects.map(_kind), ['unprotect:n']);
});
