import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Billing, buildNodeGroups, Cloud, eksNodeResources, poolReclaimMeanGapMs } from './cloud.js';
import { SimCluster } from './cluster.js';
import type { SimNode } from './cluster.js';
import { Engine } from './engine.js';
import { testScenario } from './harness.test-helper.js';
import { RandomSource } from './random.js';

function fakeNode(capacityType: 'spot' | 'on-demand', hourlyPrice: number): SimNode {
  return { capacityType, group: { hourlyPrice } } as unknown as SimNode;
}

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

test('billing is per second from running to termination', () => {
  const b = new Billing();
  const node = fakeNode('on-demand', 3.6); // $0.001 per second
  b.start(node, 10_000);
  close(b.hourlyRate, 3.6);
  b.stop(node, 100_000, false);
  close(b.totalUsd(200_000), 0.09);
  close(b.nodeHours(200_000)['on-demand'], 90 / 3600);
  close(b.hourlyRate, 0);
});

test('an instance stopped within a minute is billed the 60-second minimum', () => {
  const b = new Billing();
  const node = fakeNode('on-demand', 3.6);
  b.start(node, 0);
  b.stop(node, 30_000, false);
  close(b.totalUsd(60_000), 0.06);
});

test('a spot instance interrupted by EC2 in its first hour is free; after it, billed per second', () => {
  const b = new Billing();
  const early = fakeNode('spot', 3.6);
  const late = fakeNode('spot', 3.6);
  const ours = fakeNode('spot', 3.6);
  b.start(early, 0);
  b.start(late, 0);
  b.start(ours, 0);
  b.stop(early, 3_599_000, true);
  b.stop(late, 3_700_000, true);
  b.stop(ours, 1_000_000, false); // terminated by us: charged
  close(b.totalUsd(4_000_000), 3.7 + 1.0);
});

test('running instances accrue up to now, and only the measured window is billed', () => {
  const b = new Billing();
  b.setWindow(100_000, 1_000_000);
  const node = fakeNode('on-demand', 3.6);
  b.start(node, 0);
  close(b.totalUsd(50_000), 0);
  close(b.totalUsd(600_000), 0.5);
  b.stop(node, 2_000_000, false);
  close(b.totalUsd(2_000_000), 0.9);
  close(b.nodeHours(2_000_000)['on-demand'], 900 / 3600);
});

test('EKS allocatable of an m5.xlarge matches the AMI bootstrap reservation', () => {
  const { allocatable, capacity } = eksNodeResources({ name: 'm5.xlarge', cpu: 4000, memory: 16 * 2 ** 30, pods: 58, interruption: '<5%' });
  assert.equal(allocatable['cpu'], 3920); // 4000 − (60 + 10 + 5 + 5)
  assert.equal(capacity['pods'], 58);
  // 255Mi + 11Mi × 58 + 100Mi eviction threshold = 993Mi reserved
  assert.equal((capacity['memory'] ?? 0) - (allocatable['memory'] ?? 0), 993 * 2 ** 20);
});

test('pool reclaim gap follows the monthly band and the share each reclaim takes', () => {
  // 5% a month per node, half the pool per event: one event per ~28,470 hours of pool time per node.
  const gap = poolReclaimMeanGapMs(0.05, 0.5);
  const perNodeHourly = -Math.log(0.95) / 730;
  close(gap, (3_600_000 * 0.5) / perNodeHourly);
  assert.equal(poolReclaimMeanGapMs(0, 0.5), Number.POSITIVE_INFINITY);
});

test('a reclaim leaves its own pool, every zone of its type, or every spot pool without capacity, as the scenario scopes the gap', () => {
  const expected = { pool: ['box/z-a'], 'instance-type': ['box/z-a', 'box/z-b'], region: ['big/z-a', 'big/z-b', 'box/z-a', 'box/z-b'] } as const;
  for (const scope of ['pool', 'instance-type', 'region'] as const) {
    const scenario = testScenario({
      cloud: {
        zones: ['z-a', 'z-b'],
        instanceTypes: [
          { name: 'box', cpu: 4, memory: '16Gi', pods: 58, onDemand: 3.6, spot: 1.44, interruption: '<5%' },
          { name: 'big', cpu: 8, memory: '32Gi', pods: 58, onDemand: 7.2, spot: 2.88, interruption: '<5%' },
        ],
        spot: { capacityGap: '10h', capacityGapScope: scope },
      },
    });
    const engine = new Engine();
    const groups = buildNodeGroups(scenario, ['on-demand', 'spot'], (type, capacity) => (capacity === 'spot' ? 1 : 3) * (type === 'big' ? 2 : 1));
    const failed: string[] = [];
    const cloud = new Cloud(engine, new RandomSource(1), scenario, new SimCluster({ epochOffset: 0 }), groups, {
      onNodeReady: () => undefined,
      onLaunchFailed: (g) => failed.push(`${g.pool}`),
      onSpotNotice: () => undefined,
      onNodeGone: () => undefined,
    });
    assert.equal(cloud.reclaimPool('box/z-a'), true);
    for (const g of groups) cloud.launch(g);
    engine.run(5 * 60_000);
    assert.deepEqual(failed.sort(), expected[scope], scope);
    // On-demand launches never fail: only spot pools run out.
    assert.equal(groups.filter((g) => g.capacityType === 'on-demand').reduce((n, g) => n + cloud.groupSize(g), 0), 4, scope);
  }
});
