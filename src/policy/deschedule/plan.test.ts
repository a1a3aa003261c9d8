import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSnapshot, PodView } from '../../core/model.js';
import { PriceTable } from '../../core/pricing.js';
import type { PlacementPolicy } from '../placement/policy.js';
import { DEFAULT_DESCHEDULING_CONFIG, needsPodUsage, parseDeschedulingConfig, planDescheduling, withStrategies } from './plan.js';
import type { StrategyName } from './strategies/index.js';
import type { DeschedulingConfig } from './plan.js';
import type { DeschedulingContext, Plan } from './types.js';
import { GiB, node, pdb, pod, snapshot, workload } from './fixtures.test-helper.js';
import { EMPTY_MOVE_HISTORY, recordMove } from './anti-flap.js';

const now = 3_600_000;
const prices = PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } });
const ctx: DeschedulingContext = { now, prices };
const noFloor: PlacementPolicy = { base: 0, percent: 0, fallback: { onDemandToSpot: true, spotToOnDemand: true } };

/** Only the named strategy, with the rest of the config as given. */
function only(name: StrategyName, over: Partial<DeschedulingConfig> = {}, strategy: object = {}): DeschedulingConfig {
  const config = withStrategies({ ...DEFAULT_DESCHEDULING_CONFIG, ...over }, [name]);
  return { ...config, strategies: { ...config.strategies, [name]: { ...config.strategies[name], ...strategy } } };
}

/** One on-demand node and two spot nodes; `web` and `api` have 2 replicas each, one on od-1 and one on spot. */
function cluster(over: { readonly pods?: readonly PodView[]; readonly extra?: Partial<ClusterSnapshot> } = {}): ClusterSnapshot {
  const pods = over.pods ?? [pod('web-a', 'od-1'), pod('web-b', 'spot-1'), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  return snapshot({
    nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' }), node('spot-2', { capacityType: 'spot' })],
    pods,
    workloads: [workload('web', 2), workload('api', 2)],
    ...over.extra,
  });
}

const reasons = (plan: Plan, nodeName: string): string[] => plan.skipped.filter((s) => s.node === nodeName).map((s) => s.reason.message);
const moved = (plan: Plan): string[] => plan.moves.map((m) => `${m.pod.name}:${m.fromNode}->${m.toNode}:${m.mode}:w${m.wave}`);

test('spot-reschedule drains an on-demand node whose pods all fit on spot', () => {
  const plan = planDescheduling(cluster(), only('spot-reschedule'), ctx);
  assert.deepEqual(moved(plan), ['api-a:od-1->spot-1:surge-first:w0', 'web-a:od-1->spot-1:surge-first:w0']);
  assert.equal(plan.drains.length, 1);
  const drain = plan.drains[0];
  assert.equal(drain?.node, 'od-1');
  assert.equal(drain?.savingUsdPerHour, 0.192);
  assert.deepEqual(drain?.pods.map((p) => p.name), ['api-a', 'web-a']);
  assert.equal(drain?.reason.message, 'On-demand node "od-1" can move its pods to spot: all 2 movable pod(s) fit elsewhere, so the node can be removed');
  assert.equal(plan.moves[0]?.savingUsdPerHour, 0.096);
  assert.equal(plan.moves[0]?.reason.message, 'On-demand node "od-1" can move its pods to spot; Deployment "default/api" has no PodDisruptionBudget, and a rollout of 2 replicas keeps 2 Ready (maxUnavailable 25%, rounded down), so an eviction would leave 1: surge a replacement first');
  assert.equal(plan.savingUsdPerHour, 0.192);
  assert.deepEqual(plan.skipped, []);
});

test('no fit: the node is skipped with the scheduler\'s reasons', () => {
  const small = { allocatable: { cpu: 600, memory: 16 * GiB, pods: 110 } };
  const s = cluster({ extra: { nodes: [node('od-1'), node('spot-1', { capacityType: 'spot', ...small }), node('spot-2', { capacityType: 'spot', ...small })] } });
  const plan = planDescheduling(s, only('spot-reschedule'), ctx);
  assert.deepEqual(plan.moves, []);
  assert.deepEqual(reasons(plan, 'od-1'), ['Pod "default/api-a" fits nowhere else: 0/2 nodes are available: 2 Insufficient cpu.']);
});

test('partial fit: a node with one pod that fits nowhere is untouched, and its tentative moves are rolled back', () => {
  const big = { allocatable: { cpu: 8000, memory: 32 * GiB, pods: 110 } };
  const pods = [
    pod('a-1', 'od-1'), pod('a-2', 'spot-1'),
    pod('b-1', 'od-1'), pod('b-2', 'spot-1'),
    pod('picky-1', 'od-1', { requests: { cpu: 100 }, constraints: { nodeSelector: { disk: 'ssd' } } }),
    pod('c-1', 'od-2', { requests: { cpu: 1250 } }), pod('c-2', 'od-2', { requests: { cpu: 1250 } }), pod('c-3', 'spot-1', { requests: { cpu: 0 } }),
  ];
  const s = snapshot({
    nodes: [node('od-1', big), node('od-2', big), node('spot-1', { capacityType: 'spot' })],
    pods,
    workloads: [workload('a', 2), workload('b', 2), workload('picky', 1), workload('c', 3)],
  });
  // od-1 (1100m) is tried before od-2 (2500m). spot-1 has 3000m free: a-1 and b-1 fit, picky-1 does not.
  // od-2's 2500m then fit only if a-1's and b-1's tentative 1000m were given back.
  const plan = planDescheduling(s, only('spot-reschedule'), ctx);
  assert.deepEqual(reasons(plan, 'od-1'), ['Pod "default/picky-1" fits nowhere else: 0/1 nodes are available: 1 node(s) didn\'t match Pod\'s node affinity/selector.']);
  assert.deepEqual(moved(plan), ['c-1:od-2->spot-1:surge-first:w0', 'c-2:od-2->spot-1:surge-first:w1']);
  assert.deepEqual(plan.drains.map((d) => d.node), ['od-2']);
});

test('a PodDisruptionBudget that allows no disruption blocks the node', () => {
  const s = cluster({ extra: { pdbs: [pdb('web-pdb', 'web', { disruptionsAllowed: 0 })] } });
  const plan = planDescheduling(s, only('spot-reschedule'), ctx);
  assert.deepEqual(plan.moves, []);
  assert.deepEqual(reasons(plan, 'od-1'), ['Cannot move pod "default/web-a": PodDisruptionBudget "default/web-pdb" allows 0 disruptions (status 0, computed 1)']);
});

test('a PDB whose status lags is checked against the snapshot, and the stricter wins', () => {
  // Status says 1, but both web pods are needed for minAvailable 2.
  const s = cluster({ extra: { pdbs: [pdb('web-pdb', 'web', { minAvailable: 2, disruptionsAllowed: 1 })] } });
  assert.deepEqual(reasons(planDescheduling(s, only('spot-reschedule'), ctx), 'od-1'), [
    'Cannot move pod "default/web-a": PodDisruptionBudget "default/web-pdb" allows 0 disruptions (status 1, computed 0)',
  ]);
  // maxUnavailable 50% of 2 replicas allows 1.
  const ok = cluster({ extra: { pdbs: [pdb('web-pdb', 'web', { minAvailable: undefined, maxUnavailable: '50%', disruptionsAllowed: 1 })] } });
  assert.equal(planDescheduling(ok, only('spot-reschedule'), ctx).drains.length, 1);
});

test('required pod anti-affinity steers a pod away from its siblings', () => {
  const anti = { podAntiAffinity: { required: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
  const pods = [pod('web-a', 'od-1', { constraints: anti }), pod('web-b', 'spot-1', { constraints: anti }), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  const plan = planDescheduling(cluster({ pods }), only('spot-reschedule'), ctx);
  assert.deepEqual(moved(plan), ['api-a:od-1->spot-1:surge-first:w0', 'web-a:od-1->spot-2:surge-first:w0']);
});

test('tainted spot nodes: no fit without the toleration; the webhook\'s spot toleration lets replacements in', () => {
  const taint = { key: 'node.kubernetes.io/capacity', value: 'spot', effect: 'NoSchedule' } as const;
  const nodes = [node('od-1'), node('spot-1', { capacityType: 'spot', taints: [taint] }), node('spot-2', { capacityType: 'spot', taints: [taint] })];
  const tolerate = { tolerations: [{ key: 'node.kubernetes.io/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' }] } as const;
  const pods = [pod('web-a', 'od-1'), pod('web-b', 'spot-1', { constraints: tolerate }), pod('api-a', 'od-1'), pod('api-b', 'spot-2', { constraints: tolerate })];
  const s = cluster({ pods, extra: { nodes } });
  assert.deepEqual(reasons(planDescheduling(s, only('spot-reschedule'), ctx), 'od-1'), [
    'Pod "default/api-a" fits nowhere else: 0/2 nodes are available: 2 node(s) had untolerated taint(s).',
  ]);
  const placement = { defaults: { ...noFloor, spotToleration: tolerate.tolerations[0] } };
  const plan = planDescheduling(s, only('spot-reschedule'), { ...ctx, placement });
  assert.deepEqual(moved(plan), ['api-a:od-1->spot-1:surge-first:w0', 'web-a:od-1->spot-1:surge-first:w0']);
  assert.deepEqual(plan.moves.map((m) => m.capacityType), ['spot', 'spot']);
});

test('the webhook\'s on-demand requirement on a pod does not hold it: its replacement gets a new decision', () => {
  const od = { nodeAffinity: { required: [{ matchExpressions: [{ key: 'node.kubernetes.io/capacity', operator: 'In', values: ['on-demand'] }] }] } } as const;
  const placed = { annotations: { 'stowage.io/capacity-type': 'on-demand' }, constraints: od };
  const pods = [pod('web-a', 'od-1', placed), pod('web-b', 'spot-1'), pod('api-a', 'od-1', placed), pod('api-b', 'spot-2')];
  assert.equal(planDescheduling(cluster({ pods }), only('spot-reschedule'), { ...ctx, placement: { defaults: noFloor } }).drains.length, 1);
  // Without the annotation the requirement is the user's own, and it holds.
  const own = [pod('web-a', 'od-1', { constraints: od }), pod('web-b', 'spot-1'), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  assert.match(reasons(planDescheduling(cluster({ pods: own }), only('spot-reschedule'), ctx), 'od-1')[0] ?? '', /web-a.*node affinity/);
});

test('the on-demand floor\'s pods stay; a drain that keeps the node and frees nothing is skipped unless configured', () => {
  // web: 3 replicas, base 1 → floor 1. The oldest on-demand pod (web-a) is the floor's.
  const pods = [pod('web-a', 'od-1', { createdAt: 0 }), pod('web-b', 'od-1', { createdAt: 1000 }), pod('web-c', 'spot-1')];
  const s = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods, workloads: [workload('web', 3)] });
  const placement = { defaults: { ...noFloor, base: 1 } };
  const strict = planDescheduling(s, only('spot-reschedule'), { ...ctx, placement });
  assert.deepEqual(strict.moves, []);
  assert.deepEqual(reasons(strict, 'od-1'), ['Node "od-1" would keep pods of an on-demand floor, and no pending pod waits for the room its drain frees']);
  const plan = planDescheduling(s, only('spot-reschedule', {}, { onlyWhenEmptied: false }), { ...ctx, placement });
  assert.deepEqual(moved(plan), ['web-b:od-1->spot-1:surge-first:w0']);
  assert.deepEqual(plan.drains[0]?.staying.map((p) => p.name), ['web-a']);
  assert.equal(plan.drains[0]?.savingUsdPerHour, 0);
  assert.match(plan.drains[0]?.reason.message ?? '', /1 pod\(s\) of an on-demand floor stay/);
  // A pending pod that fits no node now but fits od-1 once web-b is gone: the drain spares a scale-up.
  const onDemand = { nodeAffinity: { required: [{ matchExpressions: [{ key: 'node.kubernetes.io/capacity', operator: 'In', values: ['on-demand'] }] }] } } as const;
  const waiting = pod('big-a', '', { phase: 'Pending', requests: { cpu: 3200, memory: 2 ** 30 }, constraints: onDemand });
  const spared = planDescheduling({ ...s, pods: [...pods, waiting], workloads: [...s.workloads, workload('big', 1)] }, only('spot-reschedule'), { ...ctx, placement });
  assert.deepEqual(moved(spared), ['web-b:od-1->spot-1:surge-first:w0']);
  // A single-replica workload under the default base of 1 stays on on-demand.
  const solo = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods: [pod('solo-a', 'od-1')], workloads: [workload('solo', 1)] });
  assert.deepEqual(reasons(planDescheduling(solo, only('spot-reschedule'), { ...ctx, placement }), 'od-1'), ['Node "od-1" has no pod to move']);
});

test('an on-demand node holding fallback pods beside floor pods is drained whole when another on-demand node takes the floor', () => {
  // web: 3 replicas, base 1 → floor 1. web-b fell back to od-1 beside the floor's web-a; od-2 holds api's floor and has room
  // (both destinations above the autoscaler's removal threshold, so they stay).
  const half = { requests: { cpu: 2000, memory: GiB } };
  const pods = [pod('web-a', 'od-1', { createdAt: 0 }), pod('web-b', 'od-1', { createdAt: 1000 }), pod('web-c', 'spot-1'), pod('api-a', 'od-2', half), pod('api-b', 'spot-1', half)];
  const s = snapshot({ nodes: [node('od-1'), node('od-2'), node('spot-1', { capacityType: 'spot' })], pods, workloads: [workload('web', 3), workload('api', 2)] });
  const placement = { defaults: { ...noFloor, base: 1 } };
  const plan = planDescheduling(s, only('spot-reschedule'), { ...ctx, placement });
  // One of web's two on-demand pods goes to spot, the other keeps the floor on od-2: the webhook decides in eviction order.
  assert.deepEqual(moved(plan), ['web-a:od-1->spot-1:surge-first:w0', 'web-b:od-1->od-2:surge-first:w1']);
  assert.deepEqual(plan.moves.map((m) => m.landOn), ['spot', 'on-demand']);
  assert.deepEqual(plan.drains.map((d) => [d.node, d.reason.code, d.savingUsdPerHour, d.staying.length]), [['od-1', 'drain-empties', 0.192, 0]]);
  // od-2 keeps api's floor and nothing else: nothing to move to spot.
  assert.deepEqual(reasons(plan, 'od-2'), ['Node "od-2" receives pods moved by this plan']);
  // With no room for the floor on another on-demand node, the node stays, and the reason says what held it.
  const full = snapshot({ ...s, pods: [...pods, pod('big-a', 'od-2', { requests: { cpu: 1800, memory: GiB } })], workloads: [...s.workloads, workload('big', 1)] });
  const held = planDescheduling(full, only('spot-reschedule'), { ...ctx, placement });
  assert.deepEqual(held.moves, []);
  assert.equal(held.skipped.find((k) => k.node === 'od-1')?.reason.code, 'not-worth-it');
  assert.match(reasons(held, 'od-1')[0] ?? '', /^Node "od-1" would keep pods of an on-demand floor, .*; draining it whole fails: Pod "default\/web-b" fits nowhere else: .*Insufficient cpu/);
});

test('draining an on-demand node whole, a pod the webhook does not place moves to spot only, never to the other on-demand node', () => {
  const half = { requests: { cpu: 2000, memory: GiB } };
  const batch = { namespace: 'free', owner: { kind: 'Deployment', namespace: 'free', name: 'batch' }, requests: { cpu: 1000, memory: GiB } } as const;
  const pods = [
    pod('web-a', 'od-1', { createdAt: 0 }),
    pod('web-b', 'od-1', { createdAt: 1000 }),
    pod('batch-a', 'od-1', batch),
    pod('web-c', 'spot-1'),
    pod('api-a', 'od-2', half),
    pod('api-b', 'spot-1', half),
  ];
  const workloads = [workload('web', 3), workload('api', 2), workload('batch', 1, { ref: batch.owner })];
  const nodes = [node('od-1'), node('od-2'), node('spot-1', { capacityType: 'spot' })];
  // The webhook leaves namespace "free" alone: batch has no floor, and its replacement is not pinned to a capacity type.
  const placement = { defaults: { ...noFloor, base: 1 }, optOutNamespaces: ['free'] };
  const roomy = planDescheduling(snapshot({ nodes, pods, workloads }), only('spot-reschedule'), { ...ctx, placement });
  assert.deepEqual(roomy.moves.find((m) => m.pod.name === 'batch-a')?.toNode, 'spot-1');
  // Spot has room for web's replica but not for batch-a: od-2 would take it, but it moves for spot, so the node stays.
  const tight = planDescheduling(snapshot({ nodes, pods: [...pods, pod('fill-a', 'spot-1', { requests: { cpu: 600, memory: GiB } })], workloads: [...workloads, workload('fill', 1)] }), only('spot-reschedule'), { ...ctx, placement });
  assert.deepEqual(tight.moves, []);
  assert.match(reasons(tight, 'od-1')[0] ?? '', /draining it whole fails: Pod "free\/batch-a" fits nowhere else: 0\/1 nodes are available: 1 Insufficient cpu/);
});

test('a floor pod that may not move stays without holding back the moves of the pods above the floor', () => {
  const pinned = { annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' } };
  const pods = [pod('web-a', 'od-1', { createdAt: 0, ...pinned }), pod('web-b', 'od-1', { createdAt: 1000 }), pod('web-c', 'spot-1')];
  const s = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods, workloads: [workload('web', 3)] });
  const placement = { defaults: { ...noFloor, base: 1 } };
  const plan = planDescheduling(s, only('spot-reschedule', {}, { onlyWhenEmptied: false }), { ...ctx, placement });
  assert.deepEqual(moved(plan), ['web-b:od-1->spot-1:surge-first:w0']);
  assert.deepEqual(plan.drains[0]?.staying.map((p) => p.name), ['web-a']);
  // Draining the node whole would have to move it: that is refused, and says why.
  const whole = planDescheduling({ ...s, nodes: [...s.nodes, node('od-2')] }, only('spot-reschedule'), { ...ctx, placement });
  assert.deepEqual(whole.moves, []);
  assert.match(reasons(whole, 'od-1')[0] ?? '', /draining it whole fails: Pod "default\/web-a" is annotated cluster-autoscaler.kubernetes.io\/safe-to-evict="false"/);
});

test('a namespace the webhook opts out keeps no floor, as the webhook places none of its pods', () => {
  const pods = [pod('web-a', 'od-1', { createdAt: 0 }), pod('web-b', 'od-1', { createdAt: 1000 }), pod('web-c', 'spot-1')];
  const s = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods, workloads: [workload('web', 3)] });
  const partial = only('spot-reschedule', {}, { onlyWhenEmptied: false });
  const kept = planDescheduling(s, partial, { ...ctx, placement: { defaults: { ...noFloor, base: 1 } } });
  assert.deepEqual(kept.drains[0]?.staying.map((p) => p.name), ['web-a']);
  const optedOut = planDescheduling(s, partial, { ...ctx, placement: { defaults: { ...noFloor, base: 1 }, optOutNamespaces: [pods[0]?.namespace ?? ''] } });
  assert.deepEqual(optedOut.drains[0]?.staying, []);
  assert.equal(optedOut.drains[0]?.pods.length, 2);
});

test('budgets: per node, per cycle, per namespace', () => {
  const perNode = only('spot-reschedule', { budgets: { ...DEFAULT_DESCHEDULING_CONFIG.budgets, maxEvictionsPerNode: 1 } });
  assert.deepEqual(reasons(planDescheduling(cluster(), perNode, ctx), 'od-1'), ['Draining node "od-1" needs 2 evictions, over the per-node budget of 1']);

  const two = snapshot({
    nodes: [node('od-1'), node('od-2'), node('spot-1', { capacityType: 'spot' })],
    pods: [pod('a-1', 'od-1'), pod('a-2', 'spot-1'), pod('b-1', 'od-1'), pod('b-2', 'spot-1'), pod('c-1', 'od-2'), pod('c-2', 'spot-1'), pod('d-1', 'od-2', { namespace: 'other', owner: { kind: 'Deployment', namespace: 'other', name: 'd' } }), pod('d-2', 'spot-1', { namespace: 'other', owner: { kind: 'Deployment', namespace: 'other', name: 'd' } })],
    workloads: [workload('a', 2), workload('b', 2), workload('c', 2), workload('d', 2, { ref: { kind: 'Deployment', namespace: 'other', name: 'd' } })],
  });
  const perCycle = planDescheduling(two, only('spot-reschedule', { budgets: { ...DEFAULT_DESCHEDULING_CONFIG.budgets, maxEvictionsPerCycle: 3 } }), ctx);
  assert.deepEqual(perCycle.drains.map((d) => d.node), ['od-1']);
  assert.deepEqual(reasons(perCycle, 'od-2'), ['Draining node "od-2" needs 2 evictions, and 1 of the 3 per cycle are left']);
  const perNamespace = planDescheduling(two, only('spot-reschedule', { budgets: { ...DEFAULT_DESCHEDULING_CONFIG.budgets, maxEvictionsPerNamespace: 2 } }), ctx);
  assert.deepEqual(perNamespace.drains.map((d) => d.node), ['od-1']);
  assert.deepEqual(reasons(perNamespace, 'od-2'), ['Draining node "od-2" needs 1 evictions in namespace "default", and 0 of its 2 per cycle are left']);
  const spent = planDescheduling(two, only('spot-reschedule', { budgets: { ...DEFAULT_DESCHEDULING_CONFIG.budgets, maxEvictionsPerCycle: 2 } }), ctx);
  assert.deepEqual(reasons(spent, 'od-2'), ['The per-cycle budget of 2 evictions is spent']);
});

test('a single-replica Deployment is moved surge-first; a single-replica StatefulSet is not moved', () => {
  const s = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods: [pod('solo-a', 'od-1')], workloads: [workload('solo', 1)] });
  const plan = planDescheduling(s, only('spot-reschedule'), ctx);
  assert.deepEqual(moved(plan), ['solo-a:od-1->spot-1:surge-first:w0']);
  assert.equal(plan.moves[0]?.reason.message, 'On-demand node "od-1" can move its pods to spot; Deployment "default/solo" has 1 Ready replica: surge a replacement first');
  const sts = { kind: 'StatefulSet', namespace: 'default', name: 'db' } as const;
  const s2 = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods: [pod('db-0', 'od-1', { owner: sts })], workloads: [workload('db', 1, { ref: sts })] });
  assert.deepEqual(reasons(planDescheduling(s2, only('spot-reschedule'), ctx), 'od-1'), [
    'Cannot move pod "default/db-0": StatefulSet "default/db" has 1 Ready replica, and only a Deployment can surge a replacement first',
  ]);
});

test('no PDB: a workload keeps what a default rollout keeps; a Deployment below it moves surge-first, a StatefulSet holds the node', () => {
  const nodes = [node('od-1'), node('spot-1', { capacityType: 'spot' }), node('spot-2', { capacityType: 'spot' })];
  // web: 2 replicas, no PDB: evicting one leaves 1 of the 2 a rollout keeps (25% of 2 rounds down to 0).
  const pair = snapshot({ nodes, pods: [pod('web-a', 'od-1'), pod('web-b', 'spot-1')], workloads: [workload('web', 2)] });
  assert.deepEqual(moved(planDescheduling(pair, only('spot-reschedule'), ctx)), ['web-a:od-1->spot-2:surge-first:w0']);
  // The same with a PDB that allows 1: the PDB decides, as before.
  const guarded = { ...pair, pdbs: [pdb('web-pdb', 'web', { minAvailable: 1, disruptionsAllowed: 1 })] };
  assert.deepEqual(moved(planDescheduling(guarded, only('spot-reschedule'), ctx)), ['web-a:od-1->spot-2:evict:w0']);
  // A StatefulSet can't surge: the node stays, with the reason.
  const sts = { kind: 'StatefulSet', namespace: 'default', name: 'db' } as const;
  const db = snapshot({ nodes, pods: [pod('db-0', 'od-1', { owner: sts }), pod('db-1', 'spot-1', { owner: sts })], workloads: [workload('db', 2, { ref: sts })] });
  const plan = planDescheduling(db, only('spot-reschedule'), ctx);
  assert.deepEqual(plan.moves, []);
  assert.deepEqual(reasons(plan, 'od-1'), [
    'Cannot move pod "default/db-0": StatefulSet "default/db" has no PodDisruptionBudget, and a rollout of 2 replicas keeps 2 Ready (maxUnavailable 25%, rounded down), so an eviction would leave 1, and only a Deployment can surge a replacement first',
  ]);
  // 8 replicas, all Ready, 3 on the node: 25% of 8 is 2, so each eviction is within budget; still one per wave.
  const wide = Array.from({ length: 8 }, (_, i) => pod(`wide-${i}`, i < 3 ? 'od-1' : i < 6 ? 'spot-1' : 'spot-2', { requests: { cpu: 100, memory: GiB } }));
  const eight = snapshot({ nodes, pods: wide, workloads: [workload('wide', 8)] });
  assert.deepEqual(moved(planDescheduling(eight, only('spot-reschedule'), ctx)), ['wide-0:od-1->spot-2:evict:w0', 'wide-1:od-1->spot-2:evict:w1', 'wide-2:od-1->spot-2:evict:w2']);
});

test('a PDB that allows no eviction does not hold a surge-first move, which evicts nothing', () => {
  const nodes = [node('od-1'), node('spot-1', { capacityType: 'spot' })];
  const s = snapshot({
    nodes,
    pods: [pod('solo-a', 'od-1')],
    workloads: [workload('solo', 1)],
    pdbs: [pdb('solo-pdb', 'solo', { minAvailable: 1, disruptionsAllowed: 0 })],
  });
  assert.deepEqual(moved(planDescheduling(s, only('spot-reschedule'), ctx)), ['solo-a:od-1->spot-1:surge-first:w0']);
  // Two Ready replicas under minAvailable 2: an eviction would break it, so nothing moves.
  const two = snapshot({
    nodes,
    pods: [pod('pair-a', 'od-1'), pod('pair-b', 'od-1')],
    workloads: [workload('pair', 2)],
    pdbs: [pdb('pair-pdb', 'pair', { minAvailable: 2, disruptionsAllowed: 0 })],
  });
  assert.deepEqual(planDescheduling(two, only('spot-reschedule'), ctx).moves, []);
});

test('do-not-disrupt annotations and other blockers hold the whole node', () => {
  const pods = [pod('web-a', 'od-1', { annotations: { 'karpenter.sh/do-not-disrupt': 'true' } }), pod('web-b', 'spot-1'), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  const plan = planDescheduling(cluster({ pods }), only('spot-reschedule'), ctx);
  assert.deepEqual(plan.moves, []);
  assert.deepEqual(reasons(plan, 'od-1'), ['Pod "default/web-a" is annotated karpenter.sh/do-not-disrupt="true"']);
  const safe = [pod('web-a', 'od-1', { annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' }, createdAt: now - 1000 }), pod('web-b', 'spot-1'), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  assert.deepEqual(reasons(planDescheduling(cluster({ pods: safe }), only('spot-reschedule'), ctx), 'od-1'), [
    'Pod "default/web-a" is annotated cluster-autoscaler.kubernetes.io/safe-to-evict="false" (and 1 more reason)',
  ]);
});

test('DaemonSet pods stay and do not hold a drain back', () => {
  const ds = { kind: 'DaemonSet', namespace: 'default', name: 'agent' } as const;
  const pods = [...cluster().pods, pod('agent-x', 'od-1', { owner: ds })];
  const plan = planDescheduling(cluster({ pods }), only('spot-reschedule'), ctx);
  assert.deepEqual(plan.drains[0]?.staying.map((p) => p.name), ['agent-x']);
  assert.equal(plan.drains[0]?.savingUsdPerHour, 0.192);
});

test('one pod per workload per wave: a node with two pods of one Deployment drains in two waves', () => {
  const pods = [pod('web-a', 'od-1'), pod('web-b', 'od-1'), pod('web-c', 'spot-1')];
  const s = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods, workloads: [workload('web', 3)] });
  assert.deepEqual(moved(planDescheduling(s, only('spot-reschedule'), ctx)), ['web-a:od-1->spot-1:surge-first:w0', 'web-b:od-1->spot-1:surge-first:w1']);
});

test('a workload with a move or rollout under way is left alone', () => {
  const notReady = [pod('web-a', 'od-1'), pod('web-b', 'spot-1', { ready: false }), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  assert.deepEqual(reasons(planDescheduling(cluster({ pods: notReady }), only('spot-reschedule'), ctx), 'od-1'), ['Cannot move pod "default/web-a": Deployment "default/web" has 1 of 2 pods not Ready']);
  const surging = [...cluster().pods, pod('web-c', 'spot-2')];
  assert.deepEqual(reasons(planDescheduling(cluster({ pods: surging }), only('spot-reschedule'), ctx), 'od-1'), ['Cannot move pod "default/web-a": Deployment "default/web" has 3 pods for 2 replicas']);
  const inFlight = planDescheduling(cluster(), only('spot-reschedule'), { ...ctx, inFlight: new Set(['Deployment/default/api']) });
  assert.equal(inFlight.drains.length + inFlight.skipped.length, 1);
});

test('a Deployment with pods of two ReplicaSets is mid-rollout and left alone, even when its counts look settled', () => {
  // web: 2 replicas, 2 Ready pods, none terminating — but web-b belongs to the new revision.
  const newRevision = { kind: 'ReplicaSet', name: 'web-new', uid: 'rs-default-web-new' } as const;
  const mixed = [pod('web-a', 'od-1'), pod('web-b', 'spot-1', { controllerRef: newRevision }), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  const plan = planDescheduling(cluster({ pods: mixed }), only('spot-reschedule'), ctx);
  assert.deepEqual(plan.moves, []);
  assert.deepEqual(reasons(plan, 'od-1'), ['Cannot move pod "default/web-a": Deployment "default/web" has pods of 2 ReplicaSets (a rollout in progress)']);
  assert.equal(plan.skipped[0]?.reason.code, 'unsettled');
  // Once the rollout is through (every pod of the new revision), the node drains again.
  const done = [pod('web-a', 'od-1', { controllerRef: newRevision }), pod('web-b', 'spot-1', { controllerRef: newRevision }), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  assert.equal(planDescheduling(cluster({ pods: done }), only('spot-reschedule'), ctx).drains.length, 1);
});

test('a node whose drain failed waits out its backoff', () => {
  const failures = new Map([['od-1', { count: 2, lastAt: now - 60_000 }]]);
  // base 300s: the second failure waits 600s.
  assert.deepEqual(reasons(planDescheduling(cluster(), only('spot-reschedule'), { ...ctx, failures }), 'od-1'), ['Node "od-1" failed to drain 2 time(s): retrying in 540s']);
  const later = planDescheduling(cluster(), only('spot-reschedule'), { ...ctx, failures, now: now + 600_000 });
  assert.equal(later.drains.length, 1);
});

test('anti-flap: a workload moved lately rests, and the hourly churn budget caps the moves', () => {
  const antiFlap = { minMoveIntervalSeconds: 600, maxMovesPerHour: 120 };
  const history = recordMove(EMPTY_MOVE_HISTORY, 'Deployment/default/web', now - 60_000);
  const resting = planDescheduling(cluster(), only('spot-reschedule', { antiFlap }), { ...ctx, history });
  assert.deepEqual(resting.moves, []);
  assert.deepEqual(reasons(resting, 'od-1'), ['Cannot move pod "default/web-a": Deployment "default/web" was moved lately and rests another 540s (anti-flap)']);
  assert.equal(resting.skipped[0]?.reason.code, 'recently-moved');
  // Once the interval is over, or with the rule off, the same node drains.
  assert.equal(planDescheduling(cluster(), only('spot-reschedule', { antiFlap }), { ...ctx, history, now: now + 540_000 }).drains.length, 1);
  assert.equal(planDescheduling(cluster(), only('spot-reschedule', { antiFlap: { ...antiFlap, minMoveIntervalSeconds: 0 } }), { ...ctx, history }).drains.length, 1);
  // 119 moves in the last hour (of other workloads) leave 1: the drain needs 2.
  let busy = EMPTY_MOVE_HISTORY;
  for (let i = 0; i < 119; i++) busy = recordMove(busy, `Deployment/other/w${i}`, now - 3_000_000 + i);
  const churned = planDescheduling(cluster(), only('spot-reschedule', { antiFlap }), { ...ctx, history: busy });
  assert.deepEqual(churned.moves, []);
  assert.equal(churned.skipped[0]?.reason.code, 'churn-budget');
  assert.equal(churned.skipped[0]?.reason.message, 'Draining node "od-1" needs 2 moves, and 1 of the 120 an hour are left');
  // Those moves leave the window an hour after they were made.
  assert.equal(planDescheduling(cluster(), only('spot-reschedule', { antiFlap }), { ...ctx, history: busy, now: now + 600_001 }).drains.length, 1);
  const spent = recordMove(busy, 'Deployment/other/last', now - 1);
  assert.equal(planDescheduling(cluster(), only('spot-reschedule', { antiFlap }), { ...ctx, history: spent }).skipped[0]?.reason.message, 'The churn budget of 120 moves an hour is spent');
});

test('consolidate empties the node that costs most per use, with its price as the saving', () => {
  const pods = [
    pod('web-a', 'od-1', { requests: { cpu: 400, memory: GiB } }), pod('web-b', 'od-2', { requests: { cpu: 400, memory: GiB } }),
    pod('big-a', 'od-2', { requests: { cpu: 2000, memory: 4 * GiB } }), pod('big-b', 'od-3', { requests: { cpu: 2400, memory: 4 * GiB } }),
  ];
  const s = snapshot({ nodes: [node('od-1'), node('od-2'), node('od-3')], pods, workloads: [workload('web', 2), workload('big', 2)] });
  const plan = planDescheduling(s, only('consolidate'), ctx);
  // od-2 and od-3 are both 60% requested: equal value for money, so the first by name.
  assert.deepEqual(moved(plan), ['web-a:od-1->od-2:surge-first:w0']);
  assert.equal(plan.drains[0]?.savingUsdPerHour, 0.192);
  assert.equal(plan.drains[0]?.reason.message, 'Node "od-1" costs $0.1920/h at 10% requested: all 1 movable pod(s) fit elsewhere, so the node can be removed');
  assert.deepEqual(reasons(plan, 'od-2'), ['Node "od-2" receives pods moved by this plan']);
  assert.deepEqual(reasons(plan, 'od-3'), ['Node "od-3" is 60% requested, above the 50% consolidation ceiling']);

  const stingy = planDescheduling(s, only('consolidate', {}, { minSavingUsdPerHour: 1 }), ctx);
  assert.deepEqual(reasons(stingy, 'od-1'), ['Draining node "od-1" saves $0.1920/h, below the minimum of $1/h']);
  const fresh = planDescheduling({ ...s, pods: s.pods.map((p) => (p.name === 'web-a' ? { ...p, createdAt: now - 400_000 } : p)) }, only('consolidate'), ctx);
  assert.deepEqual(reasons(fresh, 'od-1'), ['Node "od-1" changed 400s ago, within the settle time of 600s']);
});

test('balance moves pods from an overutilized node to an underutilized one of the same capacity type, never onto one the autoscaler would remove', () => {
  const pods = [
    pod('a-1', 'spot-1', { requests: { cpu: 1200 } }), pod('a-2', 'spot-2', { requests: { cpu: 1200 } }),
    pod('b-1', 'spot-1', { requests: { cpu: 1000 } }), pod('b-2', 'spot-2', { requests: { cpu: 1000 } }),
    pod('c-1', 'spot-1', { requests: { cpu: 1000 } }), pod('c-2', 'od-1', { requests: { cpu: 100 } }),
  ];
  const nodes = [node('spot-1', { capacityType: 'spot' }), node('spot-2', { capacityType: 'spot' }), node('spot-3', { capacityType: 'spot' }), node('od-1')];
  const workloads = [workload('a', 2), workload('b', 2), workload('c', 2), workload('d', 1)];
  // spot-1 is 80% requested, far above the mean; the only underutilized spot node is empty spot-3,
  // which any pod moved there would leave below the autoscaler's 50%: it removes such a node, and
  // with it the replica that moved without a spare (these move surge-first). No move.
  const empty = planDescheduling(snapshot({ nodes, pods, workloads }), only('balance', {}, { enabled: true }), ctx);
  assert.deepEqual(moved(empty), []);
  assert.match(reasons(empty, 'spot-1')[0] ?? '', /fits nowhere else/);
  // With d-1 on it, spot-3 (25%) would take a-1 to 55%, above the autoscaler's threshold and under the
  // high one; but the scheduler, not balance, places a surged pod, and the default scheduler would
  // put it on nearly empty od-1, which the autoscaler removes: refused.
  const withD = [...pods, pod('d-1', 'spot-3', { requests: { cpu: 1000 } })];
  const unpinned = planDescheduling(snapshot({ nodes, pods: withD, workloads }), only('balance', {}, { enabled: true }), ctx);
  assert.deepEqual(moved(unpinned), []);
  assert.match(reasons(unpinned, 'spot-1')[0] ?? '', /the scheduler \(default-scheduler\) would place it on node "od-1", which the autoscaler will remove$/);
  // Pinned to spot (as the placement webhook pins a pod), the scheduler's choice is spot-3 too: a-1 moves there.
  const spotOnly = { constraints: { nodeSelector: { 'node.kubernetes.io/capacity': 'spot' } } };
  const pinned = withD.map((p) => (p.name === 'a-1' ? { ...p, ...spotOnly } : p));
  const plan = planDescheduling(snapshot({ nodes, pods: pinned, workloads }), only('balance', {}, { enabled: true }), ctx);
  assert.deepEqual(moved(plan), ['a-1:spot-1->spot-3:surge-first:w0']);
  assert.equal(plan.moves[0]?.safeLanding?.scaleDownUtilizationThreshold, 0.5);
  assert.equal(plan.moves[0]?.savingUsdPerHour, 0);
  assert.equal(plan.moves[0]?.reason.message, 'Node "spot-1" is above its high thresholds (cpu 80%, memory 0%, pods 3%; high cpu 63%, memory 10%, pods 12%); Deployment "default/a" has no PodDisruptionBudget, and a rollout of 2 replicas keeps 2 Ready (maxUnavailable 25%, rounded down), so an eviction would leave 1: surge a replacement first');
});

test('balance on usage moves load off a hot node even when the scheduler packs requests, and only with measurements', () => {
  // Requests are packed alike (3 cpu of 4 on each node); what the pods use is not: od-1 runs hot.
  const pods = [
    pod('a-1', 'od-1', { requests: { cpu: 1000 } }), pod('b-1', 'od-1', { requests: { cpu: 1000 } }), pod('c-1', 'od-1', { requests: { cpu: 1000 } }),
    pod('a-2', 'od-2', { requests: { cpu: 1000 } }), pod('b-2', 'od-2', { requests: { cpu: 1000 } }), pod('d-1', 'od-2', { requests: { cpu: 1000 } }),
    pod('c-2', 'od-3', { requests: { cpu: 1000 } }), pod('d-2', 'od-3', { requests: { cpu: 1000 } }),
  ];
  const use: Record<string, number> = { 'a-1': 1100, 'b-1': 1000, 'c-1': 900, 'a-2': 100, 'b-2': 150, 'd-1': 150, 'c-2': 600, 'd-2': 600 };
  const podUsage = new Map(pods.map((p) => [p.uid, { cpu: use[p.name] ?? 0 }] as const));
  const base = snapshot({ nodes: [node('od-1'), node('od-2'), node('od-3')], pods, workloads: ['a', 'b', 'c', 'd'].map((w) => workload(w, 2)) });
  const packing = { enabled: true, schedulerScoring: 'MostAllocated' };

  // On requests, a packing scheduler's full nodes are its goal: nothing to do.
  assert.deepEqual(moved(planDescheduling({ ...base, podUsage }, only('balance', {}, packing), ctx)), []);
  // On use: od-1 uses 75% against a mean of 38% (high 48%); od-2 uses 10% (low 28%) and has 1 cpu of room.
  // One move takes od-1 to 48%, below its high threshold: the plan stops there.
  const plan = planDescheduling({ ...base, podUsage }, only('balance', {}, { ...packing, basis: 'usage' }), ctx);
  // The lowest-priority, then biggest request, then first by name goes first: a-1 (1100m in use) to od-2.
  assert.deepEqual(moved(plan), ['a-1:od-1->od-2:surge-first:w0']);
  assert.match(plan.moves[0]?.reason.message ?? '', /^Node "od-1" is above its high thresholds \(cpu 75%, memory 0% in use; high cpu 48%, memory 10% in use\)/);
  // A pod not measured yet counts at its request: with d-1 at 1000m od-2 uses 31%, the mean is 45% (high 55%),
  // so a-1 (27.5%) would take either destination over it; b-1 (25%) fits od-3 (30% → 55%).
  const unmeasured = new Map([...podUsage].filter(([uid]) => !uid.endsWith('-d-1')));
  assert.deepEqual(moved(planDescheduling({ ...base, podUsage: unmeasured }, only('balance', {}, { ...packing, basis: 'usage' }), ctx)), ['b-1:od-1->od-3:surge-first:w0']);
  // Without measurements (metrics.k8s.io not served) it plans nothing rather than balancing requests.
  assert.deepEqual(moved(planDescheduling(base, only('balance', {}, { ...packing, basis: 'usage' }), ctx)), []);
  assert.equal(needsPodUsage(only('balance', {}, { basis: 'usage' })), true);
  assert.equal(needsPodUsage(only('balance', {}, { basis: 'requests' })), false);
  assert.equal(needsPodUsage(withStrategies(only('balance', {}, { basis: 'usage' }), ['consolidate'])), false);
});

test('balance never takes a node it keeps below the autoscaler\'s removal threshold while a single replica runs there', () => {
  // Regression (rollouts scenario, T2B, seed 1): balance surged a single replica onto a hot node,
  // then moved another pod off it; the node fell below 50% requested, and the autoscaler's drain
  // evicted the single replica without a surge: an outage Stowage's move set up.
  const pods = (sReplicas: number): PodView[] => [
    pod('a-1', 'od-1', { requests: { cpu: 1000 } }), pod('b-1', 'od-1', { requests: { cpu: 800 } }),
    pod('s-0', 'od-1', { requests: { cpu: 900 }, owner: { kind: 'StatefulSet', namespace: 'default', name: 's' } }),
    pod('a-2', 'od-2', { requests: { cpu: 1000 } }), pod('c-1', 'od-2', { requests: { cpu: 1000 } }),
    pod('b-2', 'od-3', { requests: { cpu: 1000 } }), pod('c-2', 'od-3', { requests: { cpu: 1000 } }),
    ...(sReplicas > 1 ? [pod('s-1', 'od-3', { requests: { cpu: 100 }, owner: { kind: 'StatefulSet', namespace: 'default', name: 's' } })] : []),
  ];
  // od-1 uses 45% of its cpu (a-1 900m, b-1 800m, s-0 100m), od-2 5%, od-3 10%: od-1 is hot, od-2 the coolest target.
  const use: Record<string, number> = { 'a-1': 900, 'b-1': 800, 's-0': 100, 'a-2': 100, 'c-1': 100, 'b-2': 200, 'c-2': 200, 's-1': 0 };
  const cluster = (sReplicas: number): ClusterSnapshot => {
    const all = pods(sReplicas);
    const workloads = [workload('a', 2), workload('b', 2), workload('c', 2), workload('s', sReplicas, { ref: { kind: 'StatefulSet', namespace: 'default', name: 's' } })];
    return { ...snapshot({ nodes: [node('od-1'), node('od-2'), node('od-3')], pods: all, workloads }), podUsage: new Map(all.map((p) => [p.uid, { cpu: use[p.name] ?? 0 }] as const)) };
  };
  const config = only('balance', {}, { enabled: true, schedulerScoring: 'MostAllocated', basis: 'usage' });
  // s-0 is its StatefulSet's only replica (it cannot move); moving a-1 or b-1 leaves od-1 under 50% requested with it: nothing moves.
  const single = planDescheduling(cluster(1), config, ctx);
  assert.deepEqual(moved(single), []);
  assert.match(reasons(single, 'od-1')[0] ?? '', /^Cannot move pod "default\/b-1": node "od-1" would fall below the autoscaler's removal threshold with pod "default\/s-0" on it, its workload's only Ready replica/);
  // With a second Ready replica of s elsewhere, the autoscaler's drain costs s one replica, not the service: a-1 moves.
  assert.deepEqual(moved(planDescheduling(cluster(2), config, ctx)), ['a-1:od-1->od-2:surge-first:w0']);
});

test('strategies plan around each other, and the same input gives the same plan', () => {
  const config = DEFAULT_DESCHEDULING_CONFIG;
  const first = planDescheduling(cluster(), config, ctx);
  assert.deepEqual(planDescheduling(cluster(), config, ctx), first);
  // spot-reschedule drained od-1 into spot-1; consolidate then can't drain spot-1 (receiving) or od-1 (drained).
  assert.deepEqual(first.drains.map((d) => `${d.strategy}:${d.node}`), ['spot-reschedule:od-1', 'consolidate:spot-2']);
  assert.deepEqual(reasons(first, 'spot-1'), ['Node "spot-1" receives pods moved by this plan']);
  assert.ok(first.skipped.some((s) => s.node === 'od-1' && s.strategy === 'consolidate' && s.reason.message === 'Node "od-1" is already drained by this plan'));
});

test('parseDeschedulingConfig fills defaults and names bad fields', () => {
  assert.deepEqual(parseDeschedulingConfig(undefined), { ok: true, config: DEFAULT_DESCHEDULING_CONFIG });
  assert.equal(DEFAULT_DESCHEDULING_CONFIG.strategies.balance.enabled, false);
  const bad = parseDeschedulingConfig({ budgets: { maxEvictionsPerNode: -1 }, strategies: { consolidate: { minSaving: 1 } } });
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /^Invalid deschedule config: budgets\.maxEvictionsPerNode: .+; strategies\.consolidate: .+minSaving/);
  assert.deepEqual(DEFAULT_DESCHEDULING_CONFIG.antiFlap, { minMoveIntervalSeconds: 3600, maxMovesPerHour: 120 });
  const flap = parseDeschedulingConfig({ antiFlap: { minMoveIntervalSeconds: -5, maxMovesPerHour: 1.5 } });
  assert.match(flap.ok ? '' : flap.error, /^Invalid deschedule config: antiFlap\.minMoveIntervalSeconds: .+; antiFlap\.maxMovesPerHour: .+$/);
  assert.doesNotMatch(flap.ok ? '' : flap.error, /\n/);
});

test('a pod with PersistentVolumeClaims moves only within its zone', () => {
  const nodes = [node('od-1', { zone: 'zone-a' }), node('spot-1', { capacityType: 'spot', zone: 'zone-b' }), node('spot-2', { capacityType: 'spot', zone: 'zone-a' })];
  const pods = [pod('web-a', 'od-1', { pvcNames: ['data-web-a'] }), pod('web-b', 'spot-1'), pod('api-a', 'od-1'), pod('api-b', 'spot-2')];
  const plan = planDescheduling(cluster({ pods, extra: { nodes } }), only('spot-reschedule'), ctx);
  assert.deepEqual(moved(plan), ['api-a:od-1->spot-1:surge-first:w0', 'web-a:od-1->spot-2:surge-first:w0']);
  const stuck = [node('od-1', { zone: 'zone-a' }), node('spot-1', { capacityType: 'spot', zone: 'zone-b' }), node('spot-2', { capacityType: 'spot', zone: 'zone-b' })];
  assert.deepEqual(reasons(planDescheduling(cluster({ pods, extra: { nodes: stuck } }), only('spot-reschedule'), ctx), 'od-1'), [
    'Pod "default/web-a" fits nowhere else: 0/2 nodes are available: 2 node(s) had volume node affinity conflict.',
  ]);
});

test('every skip carries a stable code: a NotReady node is node-not-ready (the old regex said unsettled)', () => {
  const s = snapshot({
    nodes: [node('n1', { ready: false }), node('od-2', { unschedulable: true }), node('spot-1', { capacityType: 'spot' })],
    pods: [pod('web-a', 'n1'), pod('web-b', 'spot-1'), pod('db-0', 'od-2')],
    workloads: [workload('web', 2), workload('db', 1)],
  });
  const plan = planDescheduling(s, only('spot-reschedule'), ctx);
  const n1 = plan.skipped.find((x) => x.node === 'n1');
  assert.deepEqual(n1?.reason, { code: 'node-not-ready', message: 'Node "n1" is not Ready' });
  assert.equal(plan.skipped.find((x) => x.node === 'od-2')?.reason.code, 'node-cordoned');
});

test('a refusal by a StatefulSet without a PDB is implicit-floor, not pdb', () => {
  const sts = { kind: 'StatefulSet', namespace: 'default', name: 'db' } as const;
  const pods = [pod('db-0', 'od-1', { owner: sts }), pod('db-1', 'spot-1', { owner: sts }), pod('db-2', 'spot-1', { owner: sts })];
  const s = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods, workloads: [workload('db', 3, { ref: sts })] });
  const plan = planDescheduling(s, only('spot-reschedule'), ctx);
  assert.equal(plan.moves.length, 0);
  assert.equal(plan.skipped[0]?.reason.code, 'implicit-floor');
  assert.match(plan.skipped[0]?.reason.message ?? '', /has no PodDisruptionBudget/);
});
