import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findArm } from './arms.js';
import type { ArmConfig } from './arms.js';
import type { RunMetrics } from './metrics.js';
import { aggregate, NON_INFERIORITY_MARGIN, runExperiment } from './runner.js';
import type { RunOutput } from './simulation.js';
import { testScenario } from './harness.test-helper.js';

function run(arm: string, seed: number, totalUsd: number, a1: number, a2: number, churn: { readonly evictions: number; readonly nodeLaunches: number } = { evictions: 0, nodeLaunches: 0 }): RunOutput {
  const metrics: RunMetrics = {
    totalUsd,
    usdPerDay: totalUsd,
    nodeHoursOnDemand: 10,
    nodeHoursSpot: 0,
    meanRequestedUtilisation: 0.5,
    uptimeA1: a1,
    uptimeA2: a2,
    worstServiceA1: a1,
    worstServiceA2: a2,
    outages: 0,
    outageSeconds: 0,
    evictions: churn.evictions,
    nodeLaunches: churn.nodeLaunches,
    evictionsByCause: {},
    outagesByCause: {},
    a2DipsByCause: {},
    spotInterruptions: 0,
    boundUsdPerDay: 50,
    ffdUsdPerDay: 60,
    pendingP50Seconds: 1,
    pendingP99Seconds: 2,
    perService: [{ service: 'a/web', a1, a2, outages: 0, outageSeconds: 0 }],
    series: { stepSeconds: 60, usdPerHour: [], cumulativeUsd: [], nodesOnDemand: [], nodesSpot: [], readyShare: [], pendingPods: [] },
    meanUsageUtilisation: 0.2,
    nodeUsageSpread: 0.1,
    hotNodeShare: 0,
  };
  return { arm, seed, metrics, diagnostics: { events: 0, simulatedSeconds: 0, maxNodes: 0, maxPods: 0, podsCreated: 0, rollouts: 0, scheduler: { attempts: 0, binds: 0, failures: 0 }, autoscaler: { scaleUps: 0, nodesAdded: 0, nodesRemoved: 0, drains: 0, failedDrains: 0, launchFailures: 0 } } };
}

const arms = [findArm('B0'), findArm('T1'), findArm('T2')] as ArmConfig[];

test('the verdict pairs by seed: saving and non-inferiority against the baseline', () => {
  const outputs = [
    run('B0', 1, 100, 0.9999, 0.999),
    run('B0', 2, 120, 0.9998, 0.998),
    run('B0', 3, 110, 0.9999, 0.999),
    // T1: 10% cheaper on every seed, same uptime.
    run('T1', 1, 90, 0.9999, 0.999),
    run('T1', 2, 108, 0.9998, 0.998),
    run('T1', 3, 99, 0.9999, 0.999),
    // T2: 20% cheaper, but A1 down by 0.001 on every seed (10× the margin).
    run('T2', 1, 80, 0.9989, 0.999),
    run('T2', 2, 96, 0.9988, 0.998),
    run('T2', 3, 88, 0.9989, 0.999),
  ];
  const result = aggregate(testScenario(), arms, [1, 2, 3], [...outputs].reverse(), 'test');
  assert.deepEqual(result.seeds, [1, 2, 3]);
  assert.equal(result.baseline, 'B0');
  const [b0, t1, t2] = result.arms;
  assert.equal(b0?.verdict, undefined);
  assert.ok(Math.abs((t1?.verdict?.savingVsBaseline.mean ?? 0) - 0.1) < 1e-12);
  // Paired: the saving is exactly 10% on each seed, so the interval has no width.
  assert.ok(Math.abs((t1?.verdict?.savingVsBaseline.high ?? 0) - (t1?.verdict?.savingVsBaseline.low ?? 1)) < 1e-12);
  assert.equal(t1?.verdict?.uptimeNonInferior, true);
  assert.equal(t1?.verdict?.nonInferiorityMargin, NON_INFERIORITY_MARGIN);
  assert.equal(t2?.verdict?.uptimeNonInferior, false);
  assert.match(t2?.verdict?.summary ?? '', /^T2 costs 20\.0% less than B0 .*uptime is not shown non-inferior .*: A1 −0\.1000 points/);
  assert.deepEqual(b0?.metrics.usdPerDay.samples, [100, 120, 110]);
});

test('runs in worker threads give the same numbers as runs in this thread', async () => {
  const scenario = testScenario({
    duration: '1h',
    warmUp: '10m',
    services: { list: [{ name: 'web', replicas: 3, cpu: '700m', memory: '1Gi' }, { name: 'solo', replicas: 1, cpu: '300m', memory: '256Mi' }] },
  });
  const two = [findArm('B0'), findArm('T1')] as ArmConfig[];
  const inline = await runExperiment({ scenario, arms: two, seeds: [1, 2], workers: 1 });
  const parallel = await runExperiment({ scenario, arms: two, seeds: [1, 2], workers: 2 });
  assert.deepEqual(parallel.arms, inline.arms);
  assert.ok((inline.arms[0]?.metrics.totalUsd.mean ?? 0) > 0);
});

test('churn is paired by seed against the baseline, and per dollar saved only when the arm saves', () => {
  const outputs = [
    run('B0', 1, 100, 1, 1, { evictions: 10, nodeLaunches: 4 }),
    run('B0', 2, 120, 1, 1, { evictions: 20, nodeLaunches: 6 }),
    // T1 saves $10 and $20, with 30 and 50 more evictions and 1 and 3 more node launches.
    run('T1', 1, 90, 1, 1, { evictions: 40, nodeLaunches: 5 }),
    run('T1', 2, 100, 1, 1, { evictions: 70, nodeLaunches: 9 }),
    // T2 costs more: no churn per dollar.
    run('T2', 1, 110, 1, 1, { evictions: 10, nodeLaunches: 4 }),
    run('T2', 2, 125, 1, 1, { evictions: 20, nodeLaunches: 6 }),
  ];
  const result = aggregate(testScenario(), arms, [1, 2], outputs, 'test');
  const [b0, t1, t2] = result.arms;
  assert.equal(b0?.verdict, undefined);
  assert.deepEqual(b0?.metrics.nodeLaunches?.samples, [4, 6]);
  const churn = t1?.verdict?.churn;
  assert.deepEqual(churn?.evictions.samples, [30, 50]);
  assert.deepEqual(churn?.nodeLaunches.samples, [1, 3]);
  assert.deepEqual(churn?.savedUsd.samples, [10, 20]);
  // Ratios of means: 40 evictions and 2 launches for $15.
  assert.equal(churn?.evictionsPerUsdSaved, 40 / 15);
  assert.equal(churn?.nodeLaunchesPerUsdSaved, 2 / 15);
  assert.equal(t2?.verdict?.churn?.evictionsPerUsdSaved, undefined);
  assert.deepEqual(t2?.verdict?.churn?.savedUsd.samples, [-10, -5]);
});
