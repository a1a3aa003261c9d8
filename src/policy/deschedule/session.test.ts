import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { ClusterSnapshot } from '../../core/model.js';
import { PriceTable } from '../../core/pricing.js';
import { GiB, node, pod, snapshot, workload } from './fixtures.test-helper.js';
import { deschedulingConfigSchemaOf, planDescheduling } from './plan.js';
import type { Plan } from './types.js';
import { StrategyResultBuilder } from './strategies/strategy.js';
import type { Strategy, StrategyContext } from './strategies/strategy.js';

const ctx = { now: 3_600_000, prices: PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } }) };

// Drains every on-demand node, passing the targets as `how` says: a new list for each drain
// without the node drained (as spot-reschedule's whole drain once did), one list for all of them,
// or one list whose bounds are taken per drain. `onto` spot lands on spot (the session splits the
// list by capacity type); all offers every node, the one drained included.
const drainEachConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  how: z.enum(['new-list', 'one-list', 'bounds-per-drain']).default('new-list'),
  onto: z.enum(['spot', 'all']).default('spot'),
});
type DrainEachConfig = z.infer<typeof drainEachConfigSchema>;

function planDrainEach(snap: ClusterSnapshot, config: DrainEachConfig, { session }: StrategyContext): ReturnType<Strategy['plan']> {
  const out = new StrategyResultBuilder('drain-each');
  const list = snap.nodes.filter((n) => config.onto === 'all' || n.capacityType === 'spot').map((n) => n.name);
  for (const n of snap.nodes.filter((x) => x.capacityType === 'on-demand')) {
    const targets = config.how === 'new-list' ? list.filter((t) => t !== n.name) : list;
    const boundsPerDrain = config.how === 'bounds-per-drain';
    out.add(n.name, session.tryDrain(n.name, { strategy: 'drain-each', targets, keepFloor: false, why: 'test', boundsPerDrain, ...(config.onto === 'spot' ? { landOn: 'spot' } : {}) }));
  }
  return out.result();
}

const drainEach: Strategy<'drain-each', DrainEachConfig> = { name: 'drain-each', configSchema: drainEachConfigSchema, plan: planDrainEach };
const REGISTRY = [drainEach] as const;

function plan(snap: ClusterSnapshot, how: DrainEachConfig['how'], onto: DrainEachConfig['onto'] = 'spot'): Plan {
  return planDescheduling(snap, deschedulingConfigSchemaOf(REGISTRY).parse({ strategies: { 'drain-each': { how, onto } } }), ctx, REGISTRY);
}

test("a drain's own bounds refuse as a new list of targets does, though the bound kept across drains would not", () => {
  // od-1's pod fills spot-a: afterwards spot-a lacks both cpu and memory for od-2's pod and spot-b
  // lacks cpu. The most cpu free is then 1000m, but the bound kept since od-1's drain still says
  // 4000m (it is only ever raised), so it scans the nodes and names memory too.
  const snap = snapshot({
    nodes: [
      node('od-1'),
      node('od-2'),
      node('spot-a', { capacityType: 'spot', allocatable: { cpu: 4000, memory: 16 * GiB, pods: 110 } }),
      node('spot-b', { capacityType: 'spot', allocatable: { cpu: 1000, memory: 16 * GiB, pods: 110 } }),
    ],
    pods: [pod('big-a', 'od-1', { requests: { cpu: 3500, memory: 15 * GiB } }), pod('mid-a', 'od-2', { requests: { cpu: 2000, memory: 2 * GiB } })],
    workloads: [workload('big', 1), workload('mid', 1)],
  });
  const fresh = plan(snap, 'new-list');
  assert.deepEqual(
    fresh.drains.map((d) => d.node),
    ['od-1'],
  );
  assert.deepEqual(
    fresh.skipped.map((s) => [s.node, s.reason.message]),
    [['od-2', 'Pod "default/mid-a" fits nowhere else: 0/2 nodes are available: 2 Insufficient cpu.']],
  );
  assert.deepEqual(plan(snap, 'bounds-per-drain'), fresh);
  // The case the test is for: a bound kept across drains words the same refusal differently.
  assert.notDeepEqual(plan(snap, 'one-list').skipped, fresh.skipped);
});

test("a drain's own bounds follow the room the drains planned before it free and take, as new lists do", () => {
  // Ten on-demand nodes and three spot nodes of uneven room: each drain takes room, some are
  // refused by the quick check and some only after a scan; every refusal and move must match.
  const spotRoom = [2500, 1500, 4000];
  const snap = snapshot({
    nodes: [
      ...Array.from({ length: 10 }, (_, i) => node(`od-${i}`)),
      ...spotRoom.map((cpu, i) => node(`spot-${i}`, { capacityType: 'spot', allocatable: { cpu, memory: (4 + 4 * i) * GiB, pods: 110 } })),
    ],
    pods: Array.from({ length: 10 }, (_, i) => pod(`app${i}-a`, `od-${i}`, { requests: { cpu: 300 + ((i * 700) % 2300), memory: (1 + (i % 5)) * GiB } })),
    workloads: Array.from({ length: 10 }, (_, i) => workload(`app${i}`, 1)),
  });
  for (const onto of ['spot', 'all'] as const) {
    const fresh = plan(snap, 'new-list', onto);
    assert.ok(fresh.drains.length > 0 && fresh.skipped.length > 0, `${onto}: some drains fit and some do not`);
    assert.deepEqual(plan(snap, 'bounds-per-drain', onto), fresh, onto);
  }
});

test("a drain's own bound leaves out the node drained, as a new list without it does", () => {
  // od-1's pod, once forgotten, leaves od-1 the most cpu free of all; without od-1 the most is
  // spot-a's 1000m, so the quick check refuses, naming cpu only (a scan would name memory too).
  const snap = snapshot({
    nodes: [node('od-1'), node('od-2'), node('spot-a', { capacityType: 'spot', allocatable: { cpu: 1000, memory: GiB, pods: 110 } })],
    pods: [pod('big-a', 'od-1', { requests: { cpu: 3000, memory: 2 * GiB } }), pod('full-a', 'od-2', { requests: { cpu: 3800, memory: GiB } })],
    workloads: [workload('big', 1), workload('full', 1)],
  });
  const fresh = plan(snap, 'new-list', 'all');
  assert.deepEqual(
    fresh.skipped.map((s) => [s.node, s.reason.message]),
    [
      ['od-1', 'Pod "default/big-a" fits nowhere else: 0/2 nodes are available: 2 Insufficient cpu.'],
      ['od-2', 'Pod "default/full-a" fits nowhere else: 0/2 nodes are available: 2 Insufficient cpu.'],
    ],
  );
  assert.deepEqual(plan(snap, 'bounds-per-drain', 'all'), fresh);
});
