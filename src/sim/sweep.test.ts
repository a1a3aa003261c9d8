import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findArm } from './arms.js';
import type { ArmConfig } from './arms.js';
import { parseScenario, ScenarioError, withSettings } from './scenario.js';
import { MAX_SWEEP_POINTS, parseVary, runSweep, sweepPoints } from './sweep.js';

const SMALL = `
apiVersion: stowage.io/v1alpha1
kind: Scenario
metadata: { name: tiny }
spec:
  duration: 6h
  warmUp: 1h
  cloud:
    instanceTypes:
      - { name: m5.xlarge, cpu: 4, memory: 16Gi, pods: 58, interruption: "5-10%" }
  services:
    generate: { count: 0 }
    list:
      - { name: web, namespace: shop, replicas: 6, cpu: 500m, memory: 1Gi, pdb: { maxUnavailable: 1 } }
      - { name: api, namespace: shop, replicas: 3, cpu: 1, memory: 2Gi, pdb: { minAvailable: 2 } }
  jobs: { arrivalsPerHour: 1 }
`;

const T1 = findArm('T1') as ArmConfig;

test('a --vary value is path=v1,v2,… with each value read as YAML', () => {
  assert.deepEqual(parseVary('spec.services.generate.cpu.median=100m, 250m,1'), { path: 'spec.services.generate.cpu.median', labels: ['100m', '250m', '1'], values: ['100m', '250m', 1] });
  assert.deepEqual(parseVary('spec.x=true,0.5').values, [true, 0.5]);
  for (const [bad, why] of [
    ['spec.x', /expected path=v1,v2/],
    ['=1,2', /expected path=v1,v2/],
    ['services.count=1', /starts at spec\./],
    ['spec.x=1,,2', /none empty/],
    ['spec.x=1,1', /given twice/],
  ] as const) {
    assert.throws(() => parseVary(bad), (e: unknown) => e instanceof ScenarioError && why.test(e.message) && !e.message.includes('\n'), bad);
  }
});

test('combinations run with the first axis varying slowest', () => {
  const axes = [parseVary('spec.a=1,2'), parseVary('spec.b=x,y,z')];
  assert.deepEqual(sweepPoints(axes), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
  assert.deepEqual(sweepPoints([]), [[]]);
});

test('a setting changes the field it names, inside lists too, and a PDB key replaces the other', () => {
  const base = parseScenario(SMALL, 'tiny.yaml');
  const s = withSettings(base, [
    { path: 'spec.cloud.instanceTypes.0.cpu', value: 8 },
    { path: 'spec.services.list.0.pdb.minAvailable', value: 4 },
    { path: 'spec.services.list.1.replicas', value: 5 },
  ]);
  assert.equal(s.cloud.instanceTypes[0]?.cpu, 8000, 'millicores');
  const [web, api] = s.services;
  assert.deepEqual(web?.pdb, { minAvailable: 4 });
  assert.equal(api?.replicas, 5);
  assert.equal(s.name, 'tiny');
  assert.match(s.source, /tiny\.yaml with spec\.cloud\.instanceTypes\.0\.cpu=8, spec\.services\.list\.0\.pdb\.minAvailable=4/);
  // The base is untouched.
  assert.equal(base.cloud.instanceTypes[0]?.cpu, 4000);
  assert.deepEqual(base.services[0]?.pdb, { maxUnavailable: 1 });
});

test('a bad setting fails with one line naming the field', () => {
  const base = parseScenario(SMALL, 'tiny.yaml');
  const cases: readonly [string, unknown, RegExp][] = [
    ['spec.cloud.instanceTypes.3.cpu', 8, /spec\.cloud\.instanceTypes is a list of 1; use an index from 0 to 0/],
    ['spec.duration.hours', 1, /spec\.duration is "6h", not an object/],
    ['spec.services.generate.cpu.medain', '1', /medain/],
    ['spec.cloud.instanceTypes.0.cpu', 'lots', /spec\.cloud\.instanceTypes\.0\.cpu/],
  ];
  for (const [path, value, why] of cases) {
    assert.throws(() => withSettings(base, [{ path, value }]), (e: unknown) => e instanceof ScenarioError && why.test(e.message) && !e.message.includes('\n'), `${path}: ${String(value)}`);
  }
});

test('a sweep runs every combination, is deterministic, and each value reaches the simulation', { timeout: 120_000 }, async () => {
  const scenario = parseScenario(SMALL, 'tiny.yaml');
  const options = { scenario, axes: [parseVary('spec.cloud.instanceTypes.0.cpu=4,8')], arms: [T1], seeds: [1, 2], workers: 1 };
  const a = await runSweep(options);
  const b = await runSweep(options);
  const strip = (r: typeof a): unknown => ({ ...r, wallSeconds: 0 });
  assert.deepEqual(strip(a), strip(b), 'the same sweep gives the same result');
  assert.equal(a.kind, 'SweepResult');
  assert.deepEqual(a.axes, [{ path: 'spec.cloud.instanceTypes.0.cpu', values: ['4', '8'] }]);
  assert.deepEqual(a.points.map((p) => p.settings), [{ 'spec.cloud.instanceTypes.0.cpu': '4' }, { 'spec.cloud.instanceTypes.0.cpu': '8' }]);
  for (const point of a.points) {
    assert.deepEqual(point.arms.map((x) => x.name), ['B0', 'T1']);
    assert.equal(point.arms[0]?.saving, undefined, 'the baseline has no saving against itself');
    assert.equal(point.arms[1]?.saving?.samples.length, 2);
    for (const arm of point.arms) assert.equal(arm.stowageOutages.samples.length, 2);
    // Churn against the baseline, paired by seed: the arm's launches less the baseline's, seed by seed.
    const [b0, t1] = point.arms;
    assert.equal(b0?.churn, undefined);
    assert.deepEqual(t1?.churn?.nodeLaunches.samples, t1?.nodeLaunches?.samples.map((n, i) => n - (b0?.nodeLaunches?.samples[i] ?? Number.NaN)));
  }
  // 9 cpu of services on 4-cpu nodes need more nodes than on 8-cpu nodes of the same price per
  // node: the baseline's cost must differ, or the value never reached the simulation.
  const cost = a.points.map((p) => p.arms[0]?.usdPerDay.mean ?? 0);
  assert.notEqual(cost[0], cost[1]);
});

test('a sweep refuses a path varied twice and too many combinations, before running anything', async () => {
  const scenario = parseScenario(SMALL, 'tiny.yaml');
  await assert.rejects(runSweep({ scenario, axes: [parseVary('spec.a=1,2'), parseVary('spec.a=3')], seeds: [1] }), /a path is varied twice/);
  const many = Array.from({ length: MAX_SWEEP_POINTS + 1 }, (_, i) => String(i + 1)).join(',');
  await assert.rejects(runSweep({ scenario, axes: [parseVary(`spec.services.list.0.replicas=${many}`)], seeds: [1] }), /at most 64 run in one sweep/);
  await assert.rejects(runSweep({ scenario, axes: [parseVary('spec.cloud.instanceTypes.0.cpu=4,lots')], seeds: [1] }), /instanceTypes\.0\.cpu/);
});

test('several scenarios are a sweep whose first axis is the scenario, crossed with any --vary', { timeout: 120_000 }, async () => {
  const a = parseScenario(SMALL, 'a.yaml');
  const b = parseScenario(SMALL.replace('name: tiny', 'name: tiny-b').replace('replicas: 6', 'replicas: 2'), 'b.yaml');
  const result = await runSweep({ scenario: [a, b], axes: [parseVary('spec.cloud.instanceTypes.0.cpu=4,8')], arms: [T1], seeds: [1, 2], workers: 1 });
  assert.deepEqual(result.axes.map((x) => x.path), ['scenario', 'spec.cloud.instanceTypes.0.cpu']);
  assert.deepEqual(result.points.map((p) => Object.values(p.settings).join('/')), ['tiny/4', 'tiny/8', 'tiny-b/4', 'tiny-b/8']);
  assert.equal(result.scenario.name, 'tiny, tiny-b');
  // The two scenarios differ (6 against 2 replicas of web): so do their baselines' costs.
  assert.notEqual(result.points[0]?.arms[0]?.usdPerDay.mean, result.points[2]?.arms[0]?.usdPerDay.mean);
  await assert.rejects(runSweep({ scenario: [a, a], axes: [], seeds: [1] }), /two scenarios have the same name/);
  await assert.rejects(runSweep({ scenario: [a], axes: [], seeds: [1] }), /without a --vary or a second --scenario/);
});
