import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodView, Taint } from '../../core/model.js';
import { PriceTable } from '../../core/pricing.js';
import { autoscalerRemoving, protectionReleases, removalUtilization, ScaleDownProtection } from './autoscaler.js';
import { DEFAULT_DESCHEDULING_CONFIG, planDescheduling } from './plan.js';
import type { DeschedulingConfig } from './plan.js';
import type { DeschedulingContext, Plan } from './types.js';
import { GiB, node, pdb, pod, snapshot, workload } from './fixtures.test-helper.js';

const now = 3_600_000;
const ctx: DeschedulingContext = { now, prices: PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } }) };
const moved = (plan: Plan): string[] => plan.moves.map((m) => `${m.pod.name}:${m.fromNode}->${m.toNode}`);

function only(name: 'spot-reschedule' | 'consolidate' | 'balance', strategy: object = {}, over: Partial<DeschedulingConfig> = {}): DeschedulingConfig {
  const base = DEFAULT_DESCHEDULING_CONFIG;
  return {
    ...base,
    ...over,
    strategies: {
      'spot-reschedule': { ...base.strategies['spot-reschedule'], enabled: name === 'spot-reschedule', ...(name === 'spot-reschedule' ? strategy : {}) },
      consolidate: { ...base.strategies.consolidate, enabled: name === 'consolidate', ...(name === 'consolidate' ? strategy : {}) },
      'karpenter-consolidate': { ...base.strategies['karpenter-consolidate'], enabled: false },
      balance: { ...base.strategies.balance, enabled: name === 'balance', ...(name === 'balance' ? strategy : {}) },
    },
  };
}

const CANDIDATE: Taint = { key: 'DeletionCandidateOfClusterAutoscaler', value: '1700000000', effect: 'PreferNoSchedule' };
const TO_BE_DELETED: Taint = { key: 'ToBeDeletedByClusterAutoscaler', value: '1700000000', effect: 'NoSchedule' };
const DISRUPTED: Taint = { key: 'karpenter.sh/disrupted', effect: 'NoSchedule' };

test('autoscalerRemoving reads Cluster Autoscaler\'s and Karpenter\'s taints', () => {
  assert.match(autoscalerRemoving(node('n', { taints: [CANDIDATE] })) ?? '', /scale-down candidate of Cluster Autoscaler/);
  assert.match(autoscalerRemoving(node('n', { taints: [TO_BE_DELETED] })) ?? '', /being deleted by Cluster Autoscaler/);
  assert.match(autoscalerRemoving(node('n', { taints: [DISRUPTED] })) ?? '', /being disrupted by Karpenter/);
  assert.equal(autoscalerRemoving(node('n', { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] })), undefined);
  assert.equal(removalUtilization({ cpu: 1000, memory: 12 * GiB }, { cpu: 4000, memory: 16 * GiB }), 0.75);
});

/**
 * od-1 holds two pods that may go to spot. spot-1 is the emptiest spot node (spot-reschedule's
 * first choice) and spot-2 a busier one.
 */
function spotCluster(spot1Taints: readonly Taint[], spot2Pods = 4): ReturnType<typeof snapshot> {
  const filler: PodView[] = [];
  for (let i = 0; i < spot2Pods; i++) filler.push(pod(`fill-${i}`, 'spot-2', { owner: { kind: 'Deployment', namespace: 'default', name: `fill${i}` } }));
  return snapshot({
    nodes: [node('od-1'), node('spot-1', { capacityType: 'spot', taints: spot1Taints }), node('spot-2', { capacityType: 'spot' })],
    pods: [pod('web-a', 'od-1'), pod('web-b', 'spot-2'), pod('api-a', 'od-1'), pod('api-b', 'spot-2'), ...filler],
    workloads: [workload('web', 2), workload('api', 2), ...filler.map((_, i) => workload(`fill${i}`, 1))],
  });
}

test('no strategy moves a pod onto a node the autoscaler removes or means to remove', () => {
  for (const taint of [CANDIDATE, TO_BE_DELETED, DISRUPTED]) {
    const plan = planDescheduling(spotCluster([taint]), only('spot-reschedule'), ctx);
    assert.deepEqual(moved(plan), ['api-a:od-1->spot-2', 'web-a:od-1->spot-2'], `never onto a node tainted ${taint.key}`);
  }
  // With spot-2 full, the tainted node is still no destination: the drain is skipped, saying why.
  const full = planDescheduling(spotCluster([CANDIDATE], 6), only('spot-reschedule'), ctx);
  assert.deepEqual(full.moves, []);
  assert.match(full.skipped.find((s) => s.node === 'od-1')?.reason.message ?? '', /marked for removal by the autoscaler/);
});

test('a node below the autoscaler\'s removal threshold is a destination of last resort', () => {
  // spot-1 is empty (0%, a removal candidate), spot-2 at 75% cpu: the pods go to spot-2 though
  // spot-1 has the most room, so the autoscaler can still remove spot-1.
  const plan = planDescheduling(spotCluster([]), only('spot-reschedule'), ctx);
  assert.deepEqual(moved(plan), ['api-a:od-1->spot-2', 'web-a:od-1->spot-2']);
  // spot-2 too full to take both: the second pod goes to the last resort.
  const tight = planDescheduling(spotCluster([], 5), only('spot-reschedule'), ctx);
  assert.deepEqual(moved(tight), ['api-a:od-1->spot-2', 'web-a:od-1->spot-1']);
  // With the threshold at 0 no node is below it: the emptiest spot node comes first again.
  const off = planDescheduling(spotCluster([]), only('spot-reschedule', {}, { autoscaler: { scaleDownUtilizationThreshold: 0 } }), ctx);
  assert.deepEqual(moved(off), ['api-a:od-1->spot-1', 'web-a:od-1->spot-1']);
});

test('a node the autoscaler is draining is no source either', () => {
  const s = snapshot({
    nodes: [node('od-1', { taints: [TO_BE_DELETED] }), node('od-2')],
    pods: [pod('web-a', 'od-1'), pod('web-b', 'od-2')],
    workloads: [workload('web', 2)],
  });
  const plan = planDescheduling(s, only('consolidate', { settleSeconds: 0 }), ctx);
  const skip = plan.skipped.find((x) => x.node === 'od-1');
  assert.equal(skip?.reason.code, 'autoscaler-removing');
  assert.ok(plan.moves.every((m) => m.fromNode !== 'od-1' && m.toNode !== 'od-1'));
});

test('a node someone annotated do-not-disrupt or scale-down-disabled is no source; Stowage\'s own protection of a replacement is not an opt-out', () => {
  const cluster = (annotations: Record<string, string>) =>
    snapshot({
      nodes: [node('od-1', { annotations }), node('od-2')],
      // od-1 the emptier: consolidation empties it first.
      pods: [pod('web-a', 'od-1'), pod('web-b', 'od-2'), pod('api-a', 'od-2')],
      workloads: [workload('web', 2), workload('api', 1)],
    });
  // No removal threshold: od-2 may take od-1's pod (and the other way round).
  const consolidate = only('consolidate', { settleSeconds: 0 }, { autoscaler: { ...DEFAULT_DESCHEDULING_CONFIG.autoscaler, scaleDownUtilizationThreshold: 0 } });
  const free = planDescheduling(cluster({}), consolidate, ctx);
  assert.ok(free.moves.some((m) => m.fromNode === 'od-1'), 'without the annotation od-1 is consolidated (the check below can fail)');
  for (const key of ['karpenter.sh/do-not-disrupt', 'cluster-autoscaler.kubernetes.io/scale-down-disabled']) {
    const plan = planDescheduling(cluster({ [key]: 'true' }), consolidate, ctx);
    const skip = plan.skipped.find((x) => x.node === 'od-1');
    assert.equal(skip?.reason.code, 'node-do-not-disrupt', key);
    assert.match(skip?.reason.message ?? '', new RegExp(`annotated ${key.replace(/[./]/g, '\\$&')}="true"`));
    assert.ok(plan.moves.every((m) => m.fromNode !== 'od-1'), `${key}: no pod moved off od-1`);
    assert.ok(planDescheduling(cluster({ [key]: 'false' }), consolidate, ctx).moves.some((m) => m.fromNode === 'od-1'), `${key}="false" opts nothing out`);
  }
  // Stowage protected od-1 itself (a replacement it launched): it may still empty it.
  const ours = planDescheduling(cluster({ 'karpenter.sh/do-not-disrupt': 'true', 'cluster-autoscaler.kubernetes.io/scale-down-disabled': 'true', 'stowage.io/scale-down-protected': '2026-01-01T00:00:00Z' }), consolidate, ctx);
  assert.notEqual(ours.skipped.find((x) => x.node === 'od-1')?.reason.code, 'node-do-not-disrupt');
  assert.ok(ours.moves.some((m) => m.fromNode === 'od-1'));
});

test('balance follows the scheduler: deviation from the mean when it spreads, no moves when it packs', () => {
  const pods = [
    pod('a-1', 'spot-1', { requests: { cpu: 1200 } }), pod('a-2', 'spot-2', { requests: { cpu: 1200 } }),
    pod('b-1', 'spot-1', { requests: { cpu: 1000 } }), pod('b-2', 'spot-2', { requests: { cpu: 1000 } }),
    pod('c-1', 'spot-1', { requests: { cpu: 1000 } }), pod('c-2', 'spot-3', { requests: { cpu: 1000 } }),
  ];
  const s = snapshot({
    nodes: [node('spot-1', { capacityType: 'spot' }), node('spot-2', { capacityType: 'spot' }), node('spot-3', { capacityType: 'spot' })],
    pods,
    workloads: [workload('a', 2), workload('b', 2), workload('c', 2)],
  });
  // cpu 80%, 55%, 25%: mean 53%, so over above 63% (spot-1) and under at or below 43% (spot-3).
  const spread = planDescheduling(s, only('balance', { enabled: true }), ctx);
  assert.deepEqual(moved(spread), ['a-1:spot-1->spot-3']);
  // A packing scheduler fills nodes on purpose: balancing its full nodes would undo it.
  assert.deepEqual(planDescheduling(s, only('balance', { enabled: true, schedulerScoring: 'MostAllocated' }), ctx).moves, []);
  // Unset, balance reads how the scheduler scores from scheduler.profile, the one place the config names it.
  const profile = (name: 'default' | 'most-allocated' | 'cost-aware') => only('balance', { enabled: true }, { scheduler: { profile: name, percentageOfNodesToScore: 0 } });
  assert.deepEqual(planDescheduling(s, profile('most-allocated'), ctx).moves, []);
  assert.deepEqual(planDescheduling(s, profile('cost-aware'), ctx).moves, []);
  assert.deepEqual(moved(planDescheduling(s, profile('default'), ctx)), ['a-1:spot-1->spot-3']);
  // Set, it wins over the profile.
  assert.deepEqual(moved(planDescheduling(s, only('balance', { enabled: true, schedulerScoring: 'LeastAllocated' }, { scheduler: { profile: 'most-allocated', percentageOfNodesToScore: 0 } }), ctx)), ['a-1:spot-1->spot-3']);
  // Fixed thresholds, when set, replace both rules.
  const fixed = planDescheduling(s, only('balance', { enabled: true, schedulerScoring: 'MostAllocated', low: { cpu: 30, memory: 100, pods: 100 }, high: { cpu: 70, memory: 100, pods: 100 } }), ctx);
  assert.deepEqual(moved(fixed), ['a-1:spot-1->spot-3']);
});

test('Job pods are not evicted unless configured: their work would start over', () => {
  const job = { kind: 'Job', namespace: 'default', name: 'report' } as const;
  const s = snapshot({
    nodes: [node('od-1'), node('od-2')],
    pods: [pod('report-x', 'od-1', { owner: job }), pod('web-a', 'od-2', { requests: { cpu: 2500, memory: GiB } })],
    workloads: [{ ref: job, selector: { matchLabels: { app: 'report' } }, annotations: {}, labels: {} }],
  });
  const plan = planDescheduling(s, only('consolidate', { settleSeconds: 0 }), ctx);
  assert.deepEqual(plan.moves, []);
  const skip = plan.skipped.find((x) => x.node === 'od-1');
  assert.match(skip?.reason.message ?? '', /belongs to Job "report".*evictJobPods/);
  assert.equal(skip?.reason.code, 'not-movable');
  // Configured, the Job pod is judged like any other pod: here the availability guard holds it.
  const allowed = planDescheduling(s, only('consolidate', { settleSeconds: 0 }, { eviction: { ...DEFAULT_DESCHEDULING_CONFIG.eviction, evictJobPods: true } }), ctx);
  assert.equal(allowed.skipped.find((x) => x.node === 'od-1')?.reason.code, 'single-replica');
});

/**
 * The regression behind the attribution property's counterexample (T3, seed 509): consolidate
 * surged a single-replica pod onto a node held above the removal threshold only by Job pods; the
 * Jobs finished, the autoscaler removed the node within half an hour and evicted the pod (it does
 * not surge), an outage caused by the move. od-1 is the candidate (svc-a, 900m, alone), od-2 holds
 * five Job pods (2500m, 62%, nothing that stays), od-3 is full.
 */
function jobInflated(od2: 'jobs' | 'deployments', svc: { readonly replicas: number; readonly pdb: boolean }): ReturnType<typeof snapshot> {
  const job = { kind: 'Job', namespace: 'default', name: 'batch' } as const;
  const fillers = [1, 2, 3, 4, 5].map((i) =>
    od2 === 'jobs' ? pod(`batch-${i}`, 'od-2', { owner: job }) : pod(`keep${i}-a`, 'od-2'),
  );
  const others = [2, 3, 4].slice(0, svc.replicas - 1).map((i) => pod(`svc-${String.fromCharCode(96 + i)}`, 'od-3', { requests: { cpu: 100, memory: GiB } }));
  return snapshot({
    nodes: [node('od-1'), node('od-2'), node('od-3')],
    pods: [pod('svc-a', 'od-1', { requests: { cpu: 900, memory: GiB } }), ...others, ...fillers, pod('big-a', 'od-3', { requests: { cpu: 3500, memory: GiB } })],
    workloads: [
      workload('svc', svc.replicas),
      workload('big', 1),
      ...(od2 === 'jobs' ? [{ ref: job, selector: { matchLabels: { app: 'batch' } }, annotations: {}, labels: {} }] : [1, 2, 3, 4, 5].map((i) => workload(`keep${i}`, 1))),
    ],
    pdbs: svc.pdb ? [pdb('svc', 'svc', { currentHealthy: svc.replicas, expectedPods: svc.replicas })] : [],
  });
}

test('consolidate never surges a pod onto a node that only Job pods keep above the removal threshold', () => {
  const config = only('consolidate', { settleSeconds: 0 });
  const plan = planDescheduling(jobInflated('jobs', { replicas: 1, pdb: false }), config, ctx);
  assert.deepEqual(moved(plan), [], 'od-2 falls below the threshold once its Jobs finish: the autoscaler would evict the moved pod');
  const skip = plan.skipped.find((s) => s.node === 'od-1');
  assert.equal(skip?.reason.code, 'no-fit');
  assert.match(skip?.reason.message ?? '', /below the autoscaler's removal threshold/);
  // Control: the same requests held by Deployment pods, which stay: od-2 keeps above the threshold and takes svc-a.
  assert.deepEqual(moved(planDescheduling(jobInflated('deployments', { replicas: 1, pdb: false }), config, ctx)), ['svc-a:od-1->od-2']);
  // A workload with a replica to spare (its PDB allows an eviction) survives an autoscaler drain: od-2 stays its last resort.
  assert.deepEqual(moved(planDescheduling(jobInflated('jobs', { replicas: 2, pdb: true }), config, ctx)), ['svc-a:od-1->od-2']);
});

test('protectionReleases: only nodes Stowage protected, once they hold enough that stays or nothing to lose, and not those the plan drains', () => {
  const mark = { [ScaleDownProtection.ClusterAutoscaler]: 'true', [ScaleDownProtection.Karpenter]: 'true', [ScaleDownProtection.Record]: '2026-12-06T17:00:00.000Z' };
  const job = (name: string, on: string): PodView => pod(name, on, { owner: { kind: 'Job', namespace: 'default', name: 'batch' }, requests: { cpu: 3000, memory: GiB } });
  const daemon = (on: string): PodView => pod(`agent-${on}`, on, { owner: { kind: 'DaemonSet', namespace: 'default', name: 'agent' }, requests: { cpu: 100, memory: GiB } });
  const s = snapshot({
    nodes: ['full', 'low', 'jobs', 'empty', 'theirs', 'drained'].map((n) => node(n, { annotations: n === 'theirs' ? { [ScaleDownProtection.ClusterAutoscaler]: 'true' } : mark })),
    pods: [
      ...['full', 'low', 'jobs', 'empty', 'theirs', 'drained'].map(daemon),
      pod('a-1', 'full', { requests: { cpu: 1900, memory: GiB } }),
      // 30% with the DaemonSet pod, below 50%, a single replica on it: stays protected.
      pod('b-1', 'low', { requests: { cpu: 1100, memory: GiB } }),
      // Held up by a Job pod only: what stays is below the threshold.
      pod('c-1', 'jobs', { requests: { cpu: 500, memory: GiB } }),
      job('batch-1', 'jobs'),
      pod('d-1', 'theirs', { requests: { cpu: 100, memory: GiB } }),
      pod('e-1', 'drained', { requests: { cpu: 3000, memory: GiB } }),
    ],
    workloads: [workload('a', 1), workload('b', 1), workload('c', 1), workload('d', 1), workload('e', 1)],
  });
  const released = protectionReleases(s, 0.5, new Set(['drained']));
  assert.deepEqual(released.map((r) => r.node), ['full', 'empty']);
  assert.equal(released[0]?.reason.code, 'protection-released');
  assert.match(released[0]?.reason.message ?? '', /^Node "full", protected from scale-down by Stowage since 2026-12-06T17:00:00.000Z, is 50% requested by pods that stay, not below the removal threshold \(50%\)$/);
  assert.match(released[1]?.reason.message ?? '', /holds no pod that stays: the autoscaler may remove it$/);
  // The planner hands them to the executor.
  const plan = planDescheduling(s, only('consolidate'), ctx);
  const drained = new Set(plan.drains.map((d) => d.node));
  assert.ok((plan.releases ?? []).length > 0);
  assert.deepEqual(plan.releases, protectionReleases(s, 0.5, drained));
});
