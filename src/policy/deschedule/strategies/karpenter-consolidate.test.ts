import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodView } from '../../../core/model.js';
import { PriceTable } from '../../../core/pricing.js';
import { DEFAULT_DESCHEDULING_CONFIG, planDescheduling, withStrategies } from '../plan.js';
import type { DeschedulingConfig } from '../plan.js';
import type { DeschedulingContext, Plan } from '../types.js';
import { node, pod, snapshot, workload } from '../fixtures.test-helper.js';

const now = 3_600_000;
const ctx: DeschedulingContext = { now, prices: PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192 } } }) };
const moved = (plan: Plan): string[] => plan.moves.map((m) => `${m.pod.name}:${m.fromNode}->${m.toNode}:${m.mode}`);

function config(name: 'karpenter-consolidate' | 'consolidate', strategy: object = {}): DeschedulingConfig {
  const c = withStrategies(DEFAULT_DESCHEDULING_CONFIG, [name]);
  return { ...c, strategies: { ...c.strategies, [name]: { ...c.strategies[name], ...strategy } } };
}

/**
 * Three 4-cpu nodes at 55% each (two single-replica Deployments of 1100m per node): above Cluster
 * Autoscaler's 50% threshold and consolidate's ceiling, yet one node's pods fit on the other two.
 */
function threeAt55(over: (name: string, nodeName: string) => Partial<PodView> = () => ({})): ReturnType<typeof snapshot> {
  const pods: PodView[] = [];
  const apps: string[] = [];
  for (const [n, nodeName] of ['od-1', 'od-2', 'od-3'].entries()) {
    for (const k of ['x', 'y']) {
      const app = `${k}${n + 1}`;
      apps.push(app);
      pods.push(pod(`${app}-a`, nodeName, { requests: { cpu: 1100, memory: 1024 ** 3 }, ...over(app, nodeName) }));
    }
  }
  return snapshot({ nodes: ['od-1', 'od-2', 'od-3'].map((n) => node(n)), pods, workloads: apps.map((a) => workload(a, 1)) });
}

test('karpenter-consolidate drains a node above the autoscaler\'s threshold when its pods fit elsewhere, and asks for its deletion', () => {
  const plan = planDescheduling(threeAt55(), config('karpenter-consolidate'), ctx);
  // Fullest destination first, the bigger pods first (ties by name); surge-first, as the Deployments can't lose their one replica.
  assert.deepEqual(moved(plan), ['x1-a:od-1->od-2:surge-first', 'y1-a:od-1->od-3:surge-first']);
  assert.equal(plan.drains.length, 1);
  assert.equal(plan.drains[0]?.deleteNode, true);
  assert.equal(plan.drains[0]?.savingUsdPerHour, 0.192);
  assert.equal(plan.savingUsdPerHour, 0.192);
  // The receiving nodes stay: each says why.
  assert.deepEqual(plan.skipped.filter((s) => s.strategy === 'karpenter-consolidate').map((s) => `${s.node}:${s.reason.code}`), ['od-2:node-receiving', 'od-3:node-receiving']);
  // Control: consolidate (and Cluster Autoscaler, at 50%) leave every node alone.
  const control = planDescheduling(threeAt55(), config('consolidate'), ctx);
  assert.deepEqual(control.moves, []);
  assert.ok(control.skipped.every((s) => s.reason.code === 'utilized'));
});

test('karpenter-consolidate takes the node with the best savings per disruption first', () => {
  // od-3 loses one of its pods: same price, fewer pods to move, so it goes first.
  const s = threeAt55();
  const fewer = { ...s, pods: s.pods.filter((p) => p.name !== 'y3-a'), workloads: s.workloads.filter((w) => w.ref.name !== 'y3') };
  const plan = planDescheduling(fewer, config('karpenter-consolidate'), ctx);
  assert.deepEqual(plan.drains.map((d) => d.node), ['od-3']);
  assert.deepEqual(moved(plan), ['x3-a:od-3->od-1:surge-first']);
});

test('karpenter-consolidate skips an action saving less than its minimum, a node still settling, and asks for no deletion when told', () => {
  const costly = planDescheduling(threeAt55(), config('karpenter-consolidate', { minSavingUsdPerHour: 0.5 }), ctx);
  assert.deepEqual(costly.moves, []);
  assert.match(costly.skipped.find((s) => s.node === 'od-1')?.reason.message ?? '', /saves \$0\.1920\/h, below the minimum of \$0\.5\/h/);
  // od-1 received a pod a minute ago: it settles; od-2 is next.
  const settling = planDescheduling(threeAt55((app) => (app === 'x1' ? { createdAt: now - 60_000 } : {})), config('karpenter-consolidate'), ctx);
  assert.equal(settling.skipped.find((s) => s.node === 'od-1')?.reason.code, 'settling');
  assert.deepEqual(settling.drains.map((d) => d.node), ['od-2']);
  const kept = planDescheduling(threeAt55(), config('karpenter-consolidate', { deleteNodes: false }), ctx);
  assert.equal(kept.drains[0]?.deleteNode, undefined);
  assert.equal(kept.drains[0]?.savingUsdPerHour, 0.192);
});

test('karpenter-consolidate never surges a pod onto a node the autoscaler would remove', () => {
  // Two nodes at 22.5% and 25% (one pod each): each fits on the other, but the other stays below the
  // 50% threshold with it, so the autoscaler would remove it and evict the moved pod without a surge.
  const s = snapshot({
    nodes: [node('od-1'), node('od-2')],
    pods: [pod('x1-a', 'od-1', { requests: { cpu: 900, memory: 1024 ** 3 } }), pod('x2-a', 'od-2', { requests: { cpu: 1000, memory: 1024 ** 3 } })],
    workloads: [workload('x1', 1), workload('x2', 1)],
  });
  const plan = planDescheduling(s, config('karpenter-consolidate'), ctx);
  assert.deepEqual(plan.moves, []);
  assert.match(plan.skipped.find((x) => x.node === 'od-1')?.reason.message ?? '', /below the autoscaler's removal threshold/);
});

/**
 * od-1 at 55% (two single-replica Deployments of 1100m); od-2 held at 60% by two Job pods only,
 * so the autoscaler removes it once they end; od-3 at 30% with a pod that must stay.
 */
function jobFilled(withJobs: boolean): ReturnType<typeof snapshot> {
  const job = (name: string): PodView => pod(name, 'od-2', { owner: { kind: 'Job', namespace: 'default', name: 'batch' }, requests: { cpu: 1200, memory: 6 * 1024 ** 3 } });
  return snapshot({
    nodes: ['od-1', 'od-2', 'od-3'].map((n) => node(n)),
    pods: [
      pod('x1-a', 'od-1', { requests: { cpu: 1100, memory: 1024 ** 3 } }),
      pod('y1-a', 'od-1', { requests: { cpu: 1100, memory: 1024 ** 3 } }),
      ...(withJobs ? [job('batch-a'), job('batch-b')] : []),
      pod('keep-a', 'od-3', { requests: { cpu: 1200, memory: 1024 ** 3 }, annotations: { 'karpenter.sh/do-not-disrupt': 'true' } }),
    ],
    workloads: [workload('x1', 1), workload('y1', 1), workload('keep', 1)],
  });
}

test('karpenter-consolidate surges a pod only where the scheduler will put it, never where the autoscaler removes it once Jobs end', () => {
  const mostAllocated = { ...config('karpenter-consolidate'), scheduler: { profile: 'most-allocated' as const, percentageOfNodesToScore: 0 } };
  // od-3 stays above the removal threshold with the pods, but MostAllocated scores the Job-filled od-2 best.
  const refused = planDescheduling(jobFilled(true), mostAllocated, ctx);
  assert.deepEqual(refused.moves, []);
  const skip = refused.skipped.find((s) => s.node === 'od-1');
  assert.equal(skip?.reason.code, 'unsafe-landing');
  assert.match(skip?.reason.message ?? '', /would place it on node "od-2", which the autoscaler will remove/);
  // Control: the Jobs gone, the scheduler's best node is od-3, where the plan sends both pods.
  const drained = planDescheduling(jobFilled(false), mostAllocated, ctx);
  assert.deepEqual(moved(drained), ['x1-a:od-1->od-3:surge-first', 'y1-a:od-1->od-3:surge-first']);
});
