import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodView } from '../../../core/model.js';
import { PriceTable } from '../../../core/pricing.js';
import { DEFAULT_DESCHEDULING_CONFIG, planDescheduling, withStrategies } from '../plan.js';
import type { DeschedulingConfig } from '../plan.js';
import type { DeschedulingContext, NodeOffer, Plan } from '../types.js';
import { GiB, node, pdb, pod, snapshot, workload } from '../fixtures.test-helper.js';

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

const mostAllocated = (strategy: object = {}): DeschedulingConfig => ({ ...config('karpenter-consolidate', strategy), scheduler: { profile: 'most-allocated' as const, percentageOfNodesToScore: 0 } });

/**
 * big (8 cpu) held at 50% by a pod that may not move; od-1 and od-2 at 22.5% (one single replica
 * of 900m each); od-3 at 87.5% (3500m, a pod-deletion-cost that makes it dearest to disrupt). The
 * pods of od-1 and od-2 fit on big together; od-3's do not fit anywhere after them.
 */
function bigAndThree(extra: { readonly pods?: readonly PodView[]; readonly pdbs?: ReturnType<typeof pdb>[]; readonly workloads?: ReturnType<typeof workload>[] } = {}): ReturnType<typeof snapshot> {
  return snapshot({
    nodes: [node('big', { allocatable: { cpu: 8000, memory: 32 * GiB, pods: 110 } }), node('od-1'), node('od-2'), node('od-3')],
    pods: [
      pod('keep-a', 'big', { requests: { cpu: 4000, memory: GiB }, annotations: { 'karpenter.sh/do-not-disrupt': 'true' } }),
      pod('x1-a', 'od-1', { requests: { cpu: 900, memory: GiB } }),
      pod('x2-a', 'od-2', { requests: { cpu: 900, memory: GiB } }),
      pod('x3-a', 'od-3', { requests: { cpu: 3500, memory: GiB }, annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(2 ** 27) } }),
      ...(extra.pods ?? []),
    ],
    workloads: [workload('keep', 1), workload('x1', 1), workload('x2', 1), workload('x3', 1), ...(extra.workloads ?? [])],
    pdbs: extra.pdbs ?? [],
  });
}

test('multi-node consolidation deletes the longest prefix of candidates that drains together, and the set saves the sum of their prices', () => {
  const plan = planDescheduling(bigAndThree(), mostAllocated(), ctx);
  assert.deepEqual(plan.drains.map((d) => `${d.node}:${d.deleteNode === true}:${d.savingUsdPerHour}`), ['od-1:true:0.192', 'od-2:true:0.192']);
  assert.equal(plan.savingUsdPerHour, 0.384);
  // Every pod of the set goes to a node that stays, never to another node of the set.
  assert.deepEqual(moved(plan), ['x1-a:od-1->big:surge-first', 'x2-a:od-2->big:surge-first']);
  assert.match(plan.drains[0]?.reason.message ?? '', /deleted with 1 other node\(s\), the set saves \$0\.3840\/h \(multi-node consolidation\)/);
  // od-3, dearest to disrupt, is last in the prefix; the set of three does not fit, and alone it fits nowhere.
  assert.equal(plan.skipped.find((s) => s.node === 'od-3')?.reason.code, 'no-fit');
});

test('a set saving the minimum together goes where each of its nodes alone saves too little', () => {
  const together = planDescheduling(bigAndThree(), mostAllocated({ minSavingUsdPerHour: 0.3 }), ctx);
  assert.deepEqual(together.drains.map((d) => d.node), ['od-1', 'od-2']);
  // Control: single nodes only, each saves $0.192/h, under the $0.3/h minimum.
  const single = planDescheduling(bigAndThree(), mostAllocated({ minSavingUsdPerHour: 0.3, maxNodesPerAction: 1 }), ctx);
  assert.deepEqual(single.drains, []);
  assert.deepEqual(single.skipped.filter((s) => s.node.startsWith('od-')).map((s) => `${s.node}:${s.reason.code}`), ['od-1:not-worth-it', 'od-2:not-worth-it', 'od-3:not-worth-it']);
  // And a minimum above what the set saves: nothing moves, each node says why.
  const costly = planDescheduling(bigAndThree(), mostAllocated({ minSavingUsdPerHour: 0.5 }), ctx);
  assert.deepEqual(costly.moves, []);
  assert.match(costly.skipped.find((s) => s.node === 'od-1')?.reason.message ?? '', /saves \$0\.1920\/h, below the minimum of \$0\.5\/h/);
});

test('the sets multi-node consolidation tries and drops leave no trace: floors and budgets as if never tried', () => {
  // No set drains (od-1's pods need the room of od-2 and od-3), so the plan equals the single-node one.
  const multi = planDescheduling(threeAt55(), config('karpenter-consolidate'), ctx);
  const single = planDescheduling(threeAt55(), config('karpenter-consolidate', { maxNodesPerAction: 1 }), ctx);
  assert.deepEqual(multi, single);
  // A two-replica Deployment with a PDB allowing one disruption, one pod on od-1 and one on od-3.
  const web = bigAndThree({
    pods: [pod('web-a', 'od-1', { requests: { cpu: 100, memory: GiB } }), pod('web-b', 'od-3', { requests: { cpu: 100, memory: GiB } })],
    workloads: [workload('web', 2)],
    pdbs: [pdb('web', 'web')],
  });
  // od-1 now has two pods to evict, so od-2 comes first; od-3 (dearest) last. The set of two is
  // tried, then the set of three (which evicts web-a before od-3 fails), then the set of two again.
  const plan = planDescheduling(web, mostAllocated(), ctx);
  assert.deepEqual(plan.drains.map((d) => d.node), ['od-2', 'od-1']);
  // web-a takes the PDB's first wave after od-1's surge: the dropped sets' evictions of it were taken back.
  const webMoves = plan.moves.filter((m) => m.workload.name === 'web');
  assert.deepEqual(webMoves.map((m) => `${m.pod.name}:${m.mode}:${m.wave}`), ['web-a:evict:1']);
  // So were their evictions from the cycle's budget: three moves are left for the set that goes.
  const budgets = { ...mostAllocated(), budgets: { ...mostAllocated().budgets, maxEvictionsPerCycle: 3 } };
  const tight = planDescheduling(web, budgets, ctx);
  assert.deepEqual(tight.drains.map((d) => d.node), ['od-2', 'od-1']);
  assert.equal(tight.moves.length, 3);
});

test('evictionCost follows the pod-deletion-cost annotation and priority, within ±10', async () => {
  const { evictionCost } = await import('./karpenter-consolidate.js');
  assert.equal(evictionCost(pod('a-1', 'n')), 1);
  assert.equal(evictionCost(pod('a-1', 'n', { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(2 ** 27) } })), 2);
  assert.equal(evictionCost(pod('a-1', 'n', { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-2147483648' } })), -10);
  assert.equal(evictionCost(pod('a-1', 'n', { priority: 2 ** 25 })), 2);
});

/** Node types to launch, as the simulator's node groups give them: on-demand, 1 GiB-per-pod shapes. */
function offer(instanceType: string, cpu: number, memoryGi: number, usdPerHour: number, capacityType: 'on-demand' | 'spot' = 'on-demand'): NodeOffer {
  return { id: `${instanceType}/${capacityType}`, usdPerHour, node: node(`tmpl-${instanceType}`, { instanceType, capacityType, allocatable: { cpu: cpu * 1000, memory: memoryGi * GiB, pods: 58 } }) };
}
const CATALOGUE = [offer('m5.large', 2, 8, 0.096), offer('c5.xlarge', 4, 8, 0.17), offer('m5.xlarge', 4, 16, 0.192), offer('c5.2xlarge', 8, 16, 0.34), offer('m5.2xlarge', 8, 32, 0.384)];

/** Two m5.xlarge ($0.192/h), one single replica of `cpu` millicores on each (2500m: 62.5%, 2200m: 55%): neither fits beside the other. */
function two(cpu: number): ReturnType<typeof snapshot> {
  return snapshot({
    nodes: [node('od-1'), node('od-2')],
    pods: [pod('x1-a', 'od-1', { requests: { cpu, memory: GiB } }), pod('x2-a', 'od-2', { requests: { cpu, memory: GiB } })],
    workloads: [workload('x1', 1), workload('x2', 1)],
  });
}
const twoAt62 = (): ReturnType<typeof snapshot> => two(2500);
const twoAt55 = (): ReturnType<typeof snapshot> => two(2200);

test('replacement: a node whose pods fit nowhere else is replaced by the cheapest node of the catalogue that holds them, only when it costs less', () => {
  // Single nodes only (multi-node replace, below, would take both together).
  const plan = planDescheduling(twoAt62(), config('karpenter-consolidate', { maxNodesPerAction: 1 }), { ...ctx, offers: CATALOGUE });
  // od-1's 2500m fits on a c5.xlarge ($0.17/h for $0.192/h; an m5.large is too small); then od-2 the same way.
  assert.deepEqual(plan.launches?.map((l) => `${l.name}:${l.offer.node.instanceType}:${l.replaces.join('+')}:${l.reason.code}`), [
    'replacement-for-od-1:c5.xlarge:od-1:replace',
    'replacement-for-od-2:c5.xlarge:od-2:replace',
  ]);
  assert.deepEqual(moved(plan), ['x1-a:od-1->replacement-for-od-1:surge-first', 'x2-a:od-2->replacement-for-od-2:surge-first']);
  assert.deepEqual(plan.drains.map((d) => `${d.node}:${d.replacement}:${d.deleteNode === true}`), ['od-1:replacement-for-od-1:true', 'od-2:replacement-for-od-2:true']);
  // Each drain's saving is its node's price less the replacement's.
  assert.ok(Math.abs(plan.savingUsdPerHour - 2 * (0.192 - 0.17)) < 1e-9, String(plan.savingUsdPerHour));
  assert.match(plan.launches?.[0]?.reason.message ?? '', /1 node\(s\) at \$0\.1920\/h replaced by one c5\.xlarge at \$0\.1700\/h, 63% requested: saves \$0\.0220\/h/);
  // The threshold the new node was judged to end above, for the executor to hold it to (policy/execute/machine.ts).
  assert.equal(plan.launches?.[0]?.removalThreshold, 0.5);
  // Control: an m5-only catalogue has nothing cheaper that holds a pod (m5.large too small, m5.xlarge the same price).
  const m5 = planDescheduling(twoAt62(), config('karpenter-consolidate'), { ...ctx, offers: CATALOGUE.filter((o) => o.id.startsWith('m5')) });
  assert.deepEqual(m5.moves, []);
  assert.equal(m5.launches, undefined);
  assert.ok(m5.skipped.every((s) => s.reason.code === 'no-fit'));
  // No offers (the live descheduler today), or replace turned off: nothing moves either.
  assert.deepEqual(planDescheduling(twoAt62(), config('karpenter-consolidate'), ctx).moves, []);
  assert.deepEqual(planDescheduling(twoAt62(), config('karpenter-consolidate', { replace: false }), { ...ctx, offers: CATALOGUE }).moves, []);
});

test('replacement: an offer no pod fits for its taints rules out no smaller offer of another group (another NodePool)', () => {
  // A big cheap type the pods do not tolerate, in its own group; a smaller one in another that they do.
  const tainted: NodeOffer = { ...offer('c5.2xlarge', 8, 16, 0.15), group: 'tainted', node: { ...offer('c5.2xlarge', 8, 16, 0.15).node, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } };
  const open: NodeOffer = { ...offer('c5.xlarge', 4, 8, 0.17), group: 'open' };
  const plan = planDescheduling(twoAt62(), config('karpenter-consolidate', { maxNodesPerAction: 1 }), { ...ctx, offers: [tainted, open] });
  assert.deepEqual(plan.launches?.map((l) => `${l.replaces.join('+')}:${l.offer.group}:${l.offer.node.instanceType}`), ['od-1:open:c5.xlarge', 'od-2:open:c5.xlarge']);
  // Control: the same offers as one group, the shortcut takes the smaller one as too small too.
  const oneGroup = planDescheduling(twoAt62(), config('karpenter-consolidate', { maxNodesPerAction: 1 }), { ...ctx, offers: [{ ...tainted, group: 'same' }, { ...open, group: 'same' }] });
  assert.equal(oneGroup.launches, undefined);
});

test('replacement: below the minimum saving nothing is replaced, and each node says why', () => {
  // A $0.05/h minimum: a c5.xlarge for an m5.xlarge saves $0.022/h.
  const costly = planDescheduling(twoAt62(), config('karpenter-consolidate', { minSavingUsdPerHour: 0.05 }), { ...ctx, offers: CATALOGUE });
  assert.deepEqual(costly.moves, []);
  assert.deepEqual(costly.skipped.map((s) => `${s.node}:${s.reason.code}`), ['od-1:not-worth-it', 'od-2:not-worth-it']);
  assert.match(costly.skipped[0]?.reason.message ?? '', /Replacing node "od-1" by one c5\.xlarge saves \$0\.0220\/h, below the minimum of \$0\.05\/h/);
});

test('replacement: never a node the autoscaler would remove, never for spot nodes, and floors kept', () => {
  // A 16-cpu type at $0.15/h is cheapest, but 2500m leaves it at 16%: the autoscaler would remove it. The c5.xlarge next.
  const roomy = [offer('x.4xlarge', 16, 16, 0.15), ...CATALOGUE];
  const plan = planDescheduling(twoAt62(), config('karpenter-consolidate', { maxNodesPerAction: 1 }), { ...ctx, offers: roomy });
  assert.deepEqual(plan.launches?.map((l) => l.offer.node.instanceType), ['c5.xlarge', 'c5.xlarge']);
  // Spot nodes are only deleted, never replaced (Karpenter without spot-to-spot), and spot offers are not used.
  const spot = twoAt62();
  const spotNodes = { ...spot, nodes: spot.nodes.map((n) => node(n.name, { capacityType: 'spot' })) };
  assert.deepEqual(planDescheduling(spotNodes, config('karpenter-consolidate'), { ...ctx, offers: CATALOGUE }).moves, []);
  assert.deepEqual(planDescheduling(twoAt62(), config('karpenter-consolidate'), { ...ctx, offers: CATALOGUE.map((o) => offer(o.node.instanceType, 1, 1, o.usdPerHour, 'spot')) }).moves, []);
  // A two-replica Deployment with a PDB allowing one disruption, one pod on each node: od-1 is
  // replaced (web-a evicted to od-2, x1-a surged to the new node); od-2 then receives and stays.
  const s = twoAt62();
  const web = {
    ...s,
    pods: [...s.pods, pod('web-a', 'od-1', { requests: { cpu: 100, memory: GiB } }), pod('web-b', 'od-2', { requests: { cpu: 100, memory: GiB } })],
    workloads: [...s.workloads, workload('web', 2)],
    pdbs: [pdb('web', 'web')],
  };
  const floors = planDescheduling(web, config('karpenter-consolidate', { maxNodesPerAction: 1 }), { ...ctx, offers: CATALOGUE });
  assert.deepEqual(floors.launches?.map((l) => l.replaces.join('+')), ['od-1']);
  assert.deepEqual(moved(floors), ['web-a:od-1->od-2:evict', 'x1-a:od-1->replacement-for-od-1:surge-first']);
  // The surge first, in a wave of its own; the eviction after it, as the PDB allows.
  assert.deepEqual(floors.moves.map((m) => `${m.pod.name}:${m.wave}`), ['web-a:1', 'x1-a:0']);
  assert.equal(floors.skipped.find((x) => x.node === 'od-2')?.reason.code, 'node-receiving');
});

test('multi-node replace: two half-empty nodes go for one cheaper node that holds both, as one action saving for the whole set', () => {
  const plan = planDescheduling(twoAt55(), config('karpenter-consolidate'), { ...ctx, offers: CATALOGUE });
  // One c5.2xlarge ($0.34/h, 55% with both pods) for the two m5.xlarge ($0.384/h): $0.044/h; one
  // c5.xlarge each would save $0.022/h a node, the same, for two launches instead of one.
  assert.deepEqual(plan.launches?.map((l) => `${l.name}:${l.offer.node.instanceType}:${l.replaces.join('+')}`), ['replacement-for-od-1:c5.2xlarge:od-1+od-2']);
  assert.deepEqual(moved(plan), ['x1-a:od-1->replacement-for-od-1:surge-first', 'x2-a:od-2->replacement-for-od-1:surge-first']);
  // Both drains name the set, so the executor taints both nodes before either loses a pod.
  assert.deepEqual(plan.drains.map((d) => `${d.node}:${d.together?.join('+')}:${d.replacement}:${d.deleteNode === true}`), ['od-1:od-1+od-2:replacement-for-od-1:true', 'od-2:od-1+od-2:replacement-for-od-1:true']);
  assert.ok(Math.abs(plan.savingUsdPerHour - (0.384 - 0.34)) < 1e-9, String(plan.savingUsdPerHour));
  assert.match(plan.launches?.[0]?.reason.message ?? '', /2 node\(s\) at \$0\.3840\/h replaced by one c5\.2xlarge at \$0\.3400\/h, 55% requested: saves \$0\.0440\/h/);
  assert.match(plan.drains[0]?.reason.message ?? '', /replaced with 1 other node\(s\) by one c5\.2xlarge/);
  // Switched off: each node alone, one c5.xlarge each.
  const single = planDescheduling(twoAt55(), config('karpenter-consolidate', { multiNodeReplace: false }), { ...ctx, offers: CATALOGUE });
  assert.deepEqual(single.launches?.map((l) => `${l.offer.node.instanceType}:${l.replaces.join('+')}`), ['c5.xlarge:od-1', 'c5.xlarge:od-2']);
  assert.equal(single.drains.some((d) => d.together !== undefined), false);
});

test('multi-node replace: not below the minimum saving, not when the pods do not fit the offer, not by a node of the set\'s own type; tries dropped leave no trace', () => {
  // $0.05/h minimum: the set saves $0.044/h, each node alone $0.022/h: nothing.
  const costly = planDescheduling(twoAt55(), config('karpenter-consolidate', { minSavingUsdPerHour: 0.05 }), { ...ctx, offers: CATALOGUE });
  assert.deepEqual(costly.moves, []);
  assert.equal(costly.launches, undefined);
  assert.deepEqual(costly.skipped.map((s) => `${s.node}:${s.reason.code}`), ['od-1:not-worth-it', 'od-2:not-worth-it']);
  // $0.03/h: the set goes, single nodes would not.
  const enough = planDescheduling(twoAt55(), config('karpenter-consolidate', { minSavingUsdPerHour: 0.03 }), { ...ctx, offers: CATALOGUE });
  assert.deepEqual(enough.launches?.map((l) => l.replaces.join('+')), ['od-1+od-2']);
  // The only cheaper 8-cpu offer has 1.5 GiB: the two pods' 2 GiB do not fit it, so the set is not
  // replaced; each node alone is, by a c5.xlarge. The plan is the one multi-node replace off makes:
  // the sets tried and dropped changed nothing.
  const tight = [...CATALOGUE.filter((o) => o.node.instanceType !== 'c5.2xlarge'), offer('c5.2xlarge', 8, 1.5, 0.34)].sort((a, b) => a.usdPerHour - b.usdPerHour);
  const noFit = planDescheduling(twoAt55(), config('karpenter-consolidate'), { ...ctx, offers: tight });
  assert.deepEqual(noFit.launches?.map((l) => `${l.offer.node.instanceType}:${l.replaces.join('+')}`), ['c5.xlarge:od-1', 'c5.xlarge:od-2']);
  assert.deepEqual(noFit, planDescheduling(twoAt55(), config('karpenter-consolidate', { multiNodeReplace: false }), { ...ctx, offers: tight }));
  // Karpenter's filterOutSameType: big (m5.2xlarge, 3000m) and od-1 (m5.xlarge, 3000m) fit together
  // on one m5.2xlarge, the cheapest fitting offer of an m5-only catalogue, at big's own price: that
  // is big kept and od-1 deleted, so the set is not replaced; od-1 alone goes onto big.
  const pair = snapshot({
    nodes: [node('big', { instanceType: 'm5.2xlarge', allocatable: { cpu: 8000, memory: 32 * GiB, pods: 110 } }), node('od-1')],
    pods: [pod('x1-a', 'big', { requests: { cpu: 3000, memory: GiB } }), pod('x2-a', 'od-1', { requests: { cpu: 3000, memory: GiB } })],
    workloads: [workload('x1', 1), workload('x2', 1)],
  });
  const prices = PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192 }, 'm5.2xlarge': { onDemand: 0.384 } } });
  const m5 = CATALOGUE.filter((o) => o.id.startsWith('m5') && o.node.instanceType !== 'm5.xlarge');
  const same = planDescheduling(pair, config('karpenter-consolidate'), { ...ctx, prices, offers: m5 });
  assert.equal(same.launches, undefined);
  assert.deepEqual(moved(same), ['x2-a:od-1->big:surge-first']);
}
);

test('multi-node: a set is planned with all its nodes closed, as the executor taints them first, so no surge of it is predicted onto another of its nodes', () => {
  // od-2 at 67.5% is MostAllocated's best node for a-x (900m) when open; big holds both pods; jobs runs a Job pod only.
  const s = snapshot({
    nodes: [node('od-1'), node('od-2'), node('big', { allocatable: { cpu: 8000, memory: 32 * GiB, pods: 110 } }), node('jobs')],
    pods: [
      pod('a-x', 'od-1', { requests: { cpu: 900, memory: GiB } }),
      pod('b-x', 'od-2', { requests: { cpu: 2700, memory: GiB } }),
      pod('keep-x', 'big', { requests: { cpu: 4000, memory: GiB }, annotations: { 'karpenter.sh/do-not-disrupt': 'true' } }),
      pod('batch-1', 'jobs', { owner: { kind: 'Job', namespace: 'default', name: 'batch' }, requests: { cpu: 1400, memory: GiB } }),
    ],
    workloads: [workload('a', 1), workload('b', 1), workload('keep', 1)],
  });
  const plan = planDescheduling(s, mostAllocated(), ctx);
  assert.deepEqual(plan.drains.map((d) => `${d.node}:${d.together?.join('+')}`), ['od-1:od-1+od-2', 'od-2:od-1+od-2']);
  // Had od-2 been open while od-1 was planned, a-x would go to od-2 and then, with od-2's drain, move again.
  assert.deepEqual(moved(plan), ['a-x:od-1->big:surge-first', 'b-x:od-2->big:surge-first']);
});

test('NodePool disruption budgets: a set only as large as its pool allows, nodes beyond the budget left alone and saying why', () => {
  const s = bigAndThree();
  const pooled = { ...s, nodes: s.nodes.map((n) => ({ ...n, labels: { ...n.labels, 'karpenter.sh/nodepool': 'p' } })) };
  const withBudgets = (budgets: readonly { nodes: string; schedule?: string; duration?: string }[]): DeschedulingContext => ({ ...ctx, nodePoolBudgets: new Map([['p', budgets]]) });
  // Unlimited, the set of two goes (the test above); one node at a time: od-1 alone, od-2 waits.
  const one = planDescheduling(pooled, mostAllocated(), withBudgets([{ nodes: '1' }]));
  assert.deepEqual(one.drains.map((d) => `${d.node}:${d.together?.join('+') ?? ''}`), ['od-1:']);
  const waits = one.skipped.find((x) => x.node === 'od-2');
  assert.equal(waits?.reason.code, 'disruption-budget');
  assert.match(waits?.reason.message ?? '', /^Node "od-2" is left alone: NodePool "p" allows disrupting 0 more node\(s\), 1 wanted: its budget allows 1 of its 4 node\(s\) at once for Underutilized, 0 being disrupted already and 1 in this plan$/);
  // A node of the pool already being disrupted by Karpenter takes the one slot.
  const busy = { ...pooled, nodes: [...pooled.nodes, node('going', { labels: { 'karpenter.sh/nodepool': 'p' }, taints: [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }] })] };
  assert.deepEqual(planDescheduling(busy, mostAllocated(), withBudgets([{ nodes: '1' }])).drains, []);
  // 50% of four nodes: the set of two.
  assert.deepEqual(planDescheduling(pooled, mostAllocated(), withBudgets([{ nodes: '50%' }])).drains.map((d) => d.node), ['od-1', 'od-2']);
  // A budget of none outside the hours it is scheduled for limits nothing (now is 01:00 UTC, 1970-01-01).
  assert.deepEqual(planDescheduling(pooled, mostAllocated(), withBudgets([{ nodes: '0', schedule: '0 9 * * *', duration: '8h' }])).drains.map((d) => d.node), ['od-1', 'od-2']);
  const closed = planDescheduling(pooled, mostAllocated(), withBudgets([{ nodes: '0', schedule: '0 0 * * *', duration: '8h' }]));
  assert.deepEqual(closed.drains, []);
  assert.deepEqual(closed.skipped.filter((x) => x.strategy === 'karpenter-consolidate' && x.node !== 'big').map((x) => `${x.node}:${x.reason.code}`), ['od-1:disruption-budget', 'od-2:disruption-budget', 'od-3:disruption-budget']);
});
