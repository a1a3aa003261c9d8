import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eksNodeResources } from './cloud.js';
import { testArm, testScenario } from './harness.test-helper.js';
import { runSimulation } from './simulation.js';

// Long enough for the autoscaler to settle the layout: nodes added for the first pods are consolidated within its 10-minute timers.
const WARM = { warmUp: '1h', duration: '1h' };

function run(services: readonly Record<string, unknown>[], usage: Record<string, unknown> = {}) {
  const scenario = testScenario({ ...WARM, services: { list: services }, usage });
  return { scenario, metrics: runSimulation({ scenario, arm: testArm(), seed: 1 }).metrics };
}

test('usage: a service uses its ratio of the CPU it requests, shared by its Ready replicas, on the node it runs', () => {
  const { scenario, metrics } = run([{ name: 'web', replicas: 2, cpu: 1, memory: '1Gi', usageRatio: 0.5 }]);
  const alloc = eksNodeResources(scenario.cloud.instanceTypes[0] as (typeof scenario.cloud.instanceTypes)[number]).allocatable.cpu ?? Number.NaN;
  // Both replicas on one node: 2 × 1000m × 0.5 in use; the node agents request nothing here.
  assert.ok(Math.abs(metrics.meanUsageUtilisation - 1000 / alloc) < 1e-9, `${metrics.meanUsageUtilisation} vs ${1000 / alloc}`);
  assert.equal(metrics.nodeUsageSpread, 0, 'one node: nothing to spread');
  assert.equal(metrics.hotNodeShare, 0);
});

test('usage: a node above 80% of its CPU in use runs hot; two uneven nodes have a spread', () => {
  // 3 × 1000m at ratio 1.2 = 3.6 cpu on a 4-cpu node: hot. A second service needs a second node.
  const { scenario, metrics } = run([
    { name: 'busy', replicas: 3, cpu: 1, memory: '1Gi', usageRatio: 1.2 },
    { name: 'idle', replicas: 1, cpu: 3, memory: '1Gi', usageRatio: 0.1 },
  ]);
  const alloc = eksNodeResources(scenario.cloud.instanceTypes[0] as (typeof scenario.cloud.instanceTypes)[number]).allocatable.cpu ?? Number.NaN;
  const busy = 3600 / alloc;
  const idle = 300 / alloc;
  assert.ok(busy > 0.8);
  assert.equal(metrics.hotNodeShare, 0.5, 'one of the two nodes, at every sample');
  assert.ok(Math.abs(metrics.nodeUsageSpread - (busy - idle) / 2) < 1e-9, `spread ${metrics.nodeUsageSpread}`);
});

test('usage: one Ready replica carries the load of the missing ones, up to its burst limit', () => {
  // Ratio 1.5 at 2 replicas is 3 cpu of load; with a 1.2× limit each replica uses at most 1.2 cpu.
  const { scenario, metrics } = run([{ name: 'web', replicas: 2, cpu: 1, memory: '1Gi', usageRatio: 1.5 }], { burstLimit: 1.2 });
  const alloc = eksNodeResources(scenario.cloud.instanceTypes[0] as (typeof scenario.cloud.instanceTypes)[number]).allocatable.cpu ?? Number.NaN;
  assert.ok(Math.abs(metrics.meanUsageUtilisation - 2400 / alloc) < 1e-9, `${metrics.meanUsageUtilisation} vs ${2400 / alloc}`);
});

test('usage changes no cost: the same run with other ratios costs the same', () => {
  const a = run([{ name: 'web', replicas: 6, cpu: 1, memory: '1Gi', usageRatio: 0.1 }]).metrics;
  const b = run([{ name: 'web', replicas: 6, cpu: 1, memory: '1Gi', usageRatio: 0.9 }]).metrics;
  assert.equal(a.totalUsd, b.totalUsd);
  assert.ok(b.meanUsageUtilisation > a.meanUsageUtilisation * 8);
});
