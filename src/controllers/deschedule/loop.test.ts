import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PriceTable } from '../../core/pricing.js';
import { createLogger } from '../../observability/log.js';
import { node, pod, snapshot, workload } from '../../policy/deschedule/fixtures.test-helper.js';
import { DEFAULT_DESCHEDULING_CONFIG, withStrategies } from '../../policy/deschedule/plan.js';
import { retryDelayMs, runCycle } from './loop.js';

test('a failed cycle is retried after 1 s, doubling, never later than the interval', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 60_000)), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
  assert.equal(retryDelayMs(3, 1500), 1500);
  assert.equal(retryDelayMs(1000, 300_000), 300_000);
});

test('NodePools that cannot be read: karpenter-consolidate disrupts none of the nodes of the pools the nodes name that cycle, and others as usual', async () => {
  const base = withStrategies(DEFAULT_DESCHEDULING_CONFIG, ['karpenter-consolidate']);
  const config = { ...base, strategies: { ...base.strategies, 'karpenter-consolidate': { ...base.strategies['karpenter-consolidate'], settleSeconds: 0 } } };
  // Three nodes at 55%: one node's pods fit on the other two, so one is drained when nothing limits it.
  const cluster = (labels: Record<string, string>): ReturnType<typeof snapshot> =>
    snapshot({
      nodes: ['od-1', 'od-2', 'od-3'].map((n) => node(n, { labels })),
      pods: ['od-1', 'od-2', 'od-3'].flatMap((n, i) => ['x', 'y'].map((k) => pod(`${k}${i + 1}-a`, n, { requests: { cpu: 1100, memory: 1024 ** 3 } }))),
      workloads: [1, 2, 3].flatMap((i) => [workload(`x${i}`, 1), workload(`y${i}`, 1)]),
    });
  const cycle = (labels: Record<string, string>) =>
    runCycle({
      readSnapshot: () => Promise.resolve(cluster(labels)),
      readOffers: () => Promise.reject(new Error('nodepools.karpenter.sh is forbidden')),
      config,
      prices: PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192 } } }),
      log: createLogger('test', { level: 'silent' }),
      now: () => 3_600_000,
    });
  const karpenters = await cycle({ 'karpenter.sh/nodepool': 'p' });
  assert.deepEqual(karpenters.plan.drains, []);
  assert.deepEqual([...new Set(karpenters.plan.skipped.map((s) => s.reason.code))], ['disruption-budget']);
  assert.equal((await cycle({})).plan.drains.length, 1, 'nodes of no NodePool are not limited');
});
