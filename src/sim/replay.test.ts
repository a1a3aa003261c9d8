import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PriceTable } from '../core/pricing.js';
import { DEFAULT_DESCHEDULING_CONFIG, withStrategies } from '../policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../policy/deschedule/plan.js';
import { node, pdb, pod, snapshot, workload } from '../policy/deschedule/fixtures.test-helper.js';
import { replayWorld } from './replay.js';

const prices = PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } });
const base = withStrategies({ ...DEFAULT_DESCHEDULING_CONFIG, eviction: { ...DEFAULT_DESCHEDULING_CONFIG.eviction, minPodAgeSeconds: 0 } }, ['spot-reschedule']);
const config: DeschedulingConfig = { ...base, strategies: { ...base.strategies, 'spot-reschedule': { ...base.strategies['spot-reschedule'], onlyWhenEmptied: false } } };
const placement = { defaults: { base: 1, percent: 0, fallback: { onDemandToSpot: true, spotToOnDemand: true } } };
const at = (minutes: number): number => 3_600_000 - minutes * 60_000;

/** web (3, PDB, floor 1) and solo (1, base 0) on od-1; api (2, base 0, PDB) on od-2; cart (2, base 0) on od-3; two empty spot nodes. */
const cluster = snapshot({
  nodes: [node('od-1'), node('od-2'), node('od-3'), node('spot-1', { capacityType: 'spot' }), node('spot-2', { capacityType: 'spot' })],
  pods: [
    pod('web-a', 'od-1', { createdAt: at(30) }),
    pod('web-b', 'od-1', { createdAt: at(20) }),
    pod('web-c', 'od-1', { createdAt: at(10) }),
    pod('solo-a', 'od-1', { createdAt: at(10) }),
    pod('api-a', 'od-2', { createdAt: at(10) }),
    pod('api-b', 'od-2', { createdAt: at(10) }),
    pod('cart-a', 'od-3', { createdAt: at(10) }),
    pod('cart-b', 'od-3', { createdAt: at(10) }),
  ],
  workloads: [
    workload('web', 3),
    workload('solo', 1, { annotations: { 'stowage.io/on-demand-base': '0' } }),
    workload('api', 2, { annotations: { 'stowage.io/on-demand-base': '0' } }),
    workload('cart', 2, { annotations: { 'stowage.io/on-demand-base': '0' } }),
  ],
  pdbs: [pdb('web', 'web', { minAvailable: 2 }), pdb('api', 'api', { minAvailable: 1 })],
});

test('the twin holds exactly the snapshot\'s nodes and pods, where they run', () => {
  const world = replayWorld(cluster, { config, prices, placement, waveTimeoutMs: 120_000 });
  const twin = world.cluster.snapshot(0);
  assert.deepEqual(twin.nodes.map((n) => [n.name, n.capacityType, n.ready]), cluster.nodes.map((n) => [n.name, n.capacityType, true]));
  const where = (s: typeof cluster) => s.pods.map((p) => `${p.name}@${p.nodeName}:${p.createdAt}`).sort();
  assert.deepEqual(where(twin), where(cluster));
  assert.deepEqual(twin.workloads.find((w) => w.ref.name === 'solo')?.annotations, { 'stowage.io/on-demand-base': '0' });
  assert.deepEqual(twin.pdbs.map((p) => [p.name, p.disruptionsAllowed]).sort(), [['api', 1], ['web', 1]]);
});

test('one cycle: emptied nodes first, the floor stays, the rest moves to spot; a node that goes NotReady mid-plan is not drained', () => {
  const world = replayWorld(cluster, { config, prices, placement, waveTimeoutMs: 120_000, podStartupMs: 2_500 });
  const plan = world.descheduler.tick();
  assert.deepEqual(plan.drains.map((d) => d.node), ['od-2', 'od-3', 'od-1']);
  let notReady = false;
  while (world.descheduler.executing && world.engine.now < 600_000) {
    world.engine.run(world.engine.now + 100);
    if (!notReady && world.descheduler.actions.some((a) => a.action === 'taint')) {
      world.setNotReady('od-3');
      notReady = true;
    }
  }
  assert.equal(world.descheduler.executing, false);
  const actions = world.descheduler.actions.map((a) => ('pod' in a ? `${a.action} ${a.pod}` : `${a.action} ${a.node}`));
  assert.deepEqual(actions, [
    'taint od-2', 'evict default/api-a', 'evict default/api-b', 'untaint od-2',
    'taint od-1', 'surge default/solo-a', 'evict default/web-b', 'evict default/web-c', 'untaint od-1',
  ]);
  const end = world.cluster.snapshot(world.engine.now);
  assert.equal(end.nodes.find((n) => n.name === 'od-3')?.ready, false);
  const placed = (app: string) => {
    const mine = end.pods.filter((p) => p.owner.name === app && p.deletionRequestedAt === undefined);
    return mine.map((p) => end.nodes.find((n) => n.name === p.nodeName)?.capacityType).sort().join(',');
  };
  assert.deepEqual(['web', 'solo', 'api', 'cart'].map(placed), ['on-demand,spot,spot', 'spot', 'spot,spot', 'on-demand,on-demand']);
  assert.ok(end.pods.some((p) => p.name === 'web-a' && p.nodeName === 'od-1'), 'the floor\'s pod (the oldest on-demand one) stays');
  assert.ok(end.pods.filter((p) => p.owner.name === 'cart').every((p) => !p.ready), 'the NotReady node\'s pods are not Ready');
});

test('what the twin cannot hold exactly is refused with one line', () => {
  const pending = snapshot({ ...cluster, pods: [...cluster.pods, pod('web-d', '', { phase: 'Pending', ready: false })] });
  assert.throws(() => replayWorld(pending, { config, prices, waveTimeoutMs: 1 }), /^Error: Cannot replay pod "default\/web-d": it is not bound to a node$/);
  const job = snapshot({ ...cluster, pods: [pod('batch-a', 'od-1', { owner: { kind: 'Job', namespace: 'default', name: 'batch' } })] });
  assert.throws(() => replayWorld(job, { config, prices, waveTimeoutMs: 1 }), /^Error: Cannot replay pod "default\/batch-a": owned by a Job, and the twin models Deployments only$/);
});
