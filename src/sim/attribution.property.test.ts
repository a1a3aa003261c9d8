/**
 * The availability promise as a property: over random small clusters (services of one to four
 * replicas with and without PDBs, a load cycle, frequent spot reclaims, batch jobs, in some of
 * them frequent Deployment rollouts, some with a strategy that takes a service down), no outage in
 * any Stowage arm is caused by Stowage — neither by its evictions and surges nor by a pod it moved
 * onto a node the autoscaler then took away. Runs are bounded in count and time.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findArm } from './arms.js';
import type { ArmConfig } from './arms.js';
import { testScenario } from './harness.test-helper.js';
import { createWorld } from './simulation.js';

const ARMS = ['T2', 'T2B', 'T3', 'T4'].map((name) => findArm(name) as ArmConfig);

const serviceArbitrary = fc.record({
  replicas: fc.integer({ min: 1, max: 4 }),
  cpu: fc.integer({ min: 1, max: 15 }).map((n) => `${n * 100}m`),
  pdb: fc.constantFrom(undefined, { maxUnavailable: 1 }, { minAvailable: 1 }, { minAvailable: '50%' }),
  hpa: fc.boolean(),
  startup: fc.integer({ min: 5, max: 60 }).map((s) => `${s}s`),
  /** The Deployment's rolling update: the default, make-before-break, or all at once (an outage of its own). */
  strategy: fc.constantFrom(undefined, { maxSurge: 1, maxUnavailable: 0 }, { maxSurge: 0, maxUnavailable: '100%' }),
});

const anyScenarioArbitrary = fc.record({
  cpu: fc.constantFrom(2, 4, 8),
  services: fc.array(serviceArbitrary, { minLength: 2, maxLength: 8 }),
  /** Minutes into the run at which EC2 reclaims a spot node (which one: the index, modulo the spot nodes). */
  reclaims: fc.array(fc.tuple(fc.integer({ min: 30, max: 390 }), fc.nat()), { maxLength: 8 }),
  jobsPerHour: fc.constantFrom(0, 4),
  /** Rollouts per service per day, at any hour: none in half the scenarios, else one every few hours or every hour. */
  rolloutsPerDay: fc.constantFrom(0, 0, 6, 24),
  seed: fc.integer({ min: 1, max: 1_000 }),
});

// Regression (fast-check seed -1343364699, fixed in the shared policy): consolidate surged a
// single-replica pod onto a node held above the autoscaler's removal threshold only by Job pods,
// which the autoscaler removed once they finished (src/policy/deschedule/autoscaler.test.ts).
// STOWAGE_PROPERTY_RUNS raises the number of runs (and the time limit with it) for a longer search.
const _RUNS = Number(process.env['STOWAGE_PROPERTY_RUNS'] ?? 40);
type _Scenario = typeof anyScenarioArbitrary extends fc.Arbitrary<infer T> ? T : never;
const _svc = (replicas: number, cpu: string, hpa: boolean): _Scenario['services'][number] => ({ replicas, cpu, pdb: undefined, hpa, startup: '5s', strategy: undefined });
// Regression (fast-check seed -1065360134, T3, rollouts 24/day): svc-2 (HPA, PDB minAvailable 1,
// rollout maxUnavailable 100%) lost a pod to a Stowage eviction, then its last Ready replica to a
// rollout that accepts zero Ready: the rollout's outage, once charged to Stowage (metrics.ts `_attribute`).
const _svcWith = (replicas: number, cpu: string, hpa: boolean, startup: string, pdb: _Scenario['services'][number]['pdb'], strategy: _Scenario['services'][number]['strategy']): _Scenario['services'][number] => ({ replicas, cpu, pdb, hpa, startup, strategy });
/** Counterexamples found before, run first every time. */
const _EXAMPLES: [_Scenario][] = [
  [{
    cpu: 2,
    services: [
      _svcWith(1, '400m', false, '5s', undefined, undefined),
      _svcWith(4, '100m', false, '27s', { maxUnavailable: 1 }, { maxSurge: 1, maxUnavailable: 0 }),
      _svcWith(3, '200m', true, '42s', { minAvailable: 1 }, { maxSurge: 0, maxUnavailable: '100%' }),
      _svcWith(2, '800m', true, '25s', undefined, { maxSurge: 1, maxUnavailable: 0 }),
      _svcWith(2, '200m', false, '14s', { minAvailable: '50%' }, { maxSurge: 0, maxUnavailable: '100%' }),
      _svcWith(2, '200m', true, '25s', { minAvailable: '50%' }, { maxSurge: 1, maxUnavailable: 0 }),
    ],
    reclaims: [[380, 1440225410], [176, 2105588454], [223, 80437852], [211, 1438959432], [164, 940610625], [337, 2115909803]],
    jobsPerHour: 4,
    rolloutsPerDay: 24,
    seed: 2,
  }],
  // Regression (fast-check seed 551966066, T2): consolidate surged two single replicas onto a node
  // that a 900m pod held well above the removal threshold; that pod's rollout then put its new pod
  // elsewhere, the autoscaler removed the emptied node 24 minutes after the move: the autoscaler's
  // outage (the rollout's choice emptied the node), once charged to Stowage.
  [{ cpu: 2, services: [_svc(1, '900m', false), _svc(1, '100m', false), _svc(1, '100m', false)], reclaims: [], jobsPerHour: 0, rolloutsPerDay: 24, seed: 97 }],
  [{
    cpu: 4,
    services: [_svc(1, '1400m', false), _svc(4, '1300m', true), _svc(1, '900m', false), _svc(4, '100m', false), _svc(4, '400m', true)],
    reclaims: [[86, 0], [30, 0], [152, 222123111], [116, 1758122590], [361, 971704574], [252, 342971569], [109, 386868577]],
    jobsPerHour: 4,
    rolloutsPerDay: 0,
    seed: 509,
  }],
];
/** One instance type of `cpu` cores, 4 GiB a core. */
const _oneType = (cpu: number): readonly Record<string, unknown>[] => [{ name: 'box', cpu, memory: `${cpu * 4}Gi`, pods: 58, onDemand: 0.05 * cpu, spot: 0.02 * cpu, interruption: '<5%' }];

/** The property over `arms`: `examples` first, then `_RUNS` random scenarios, on the instance types `catalogue` gives for the scenario's size. */
function _noStowageOutage(t: TestContext, arms: readonly ArmConfig[], examples: readonly [_Scenario][], scenarios: fc.Arbitrary<_Scenario> = anyScenarioArbitrary, catalogue: (cpu: number) => readonly Record<string, unknown>[] = _oneType, numRuns = _RUNS): void {
  let runs = 0;
  let launched = 0;
  let setsReplaced = 0;
  const outages = new Map<string, number>();
  const dips = new Map<string, number>();
  const add = (into: Map<string, number>, from: Readonly<Record<string, number>>): void => {
    for (const [cause, n] of Object.entries(from)) into.set(cause, (into.get(cause) ?? 0) + n);
  };
  fc.assert(
    fc.property(scenarios, (s) => {
      const scenario = testScenario({
        duration: '6h',
        warmUp: '30m',
        cloud: {
          zones: ['z-a', 'z-b'],
          instanceTypes: catalogue(s.cpu),
        },
        daemonSet: { cpu: '100m', memory: '200Mi' },
        services: {
          list: s.services.map((svc, i) => ({
            name: `svc-${i}`,
            replicas: svc.replicas,
            cpu: svc.cpu,
            memory: '512Mi',
            startup: svc.startup,
            ...(svc.pdb === undefined || svc.replicas === 1 ? {} : { pdb: svc.pdb }),
            ...(svc.hpa && svc.replicas > 1 ? { hpa: { amplitude: 0.5, peakHour: 14, minReplicas: 1, maxReplicas: svc.replicas * 2 } } : {}),
            ...(svc.strategy === undefined ? {} : { strategy: svc.strategy }),
          })),
        },
        jobs: { arrivalsPerHour: s.jobsPerHour },
        rollouts: { perServicePerDay: s.rolloutsPerDay, hours: { min: 0, max: 24 }, weekendFactor: 1 },
      });
      for (const arm of arms) {
        const world = createWorld({ scenario, arm, seed: s.seed });
        world.start();
        // Reclaims at chosen instants, far more often than the advisor's rates: the stress the property is about.
        for (const [minute, pick] of s.reclaims) {
          world.engine.at(minute * 60_000, () => {
            const spot = world.cluster.readyNodes.filter((n) => n.capacityType === 'spot' && n.noticeAt === undefined);
            const node = spot[pick % Math.max(1, spot.length)];
            if (node !== undefined) world.cloud.sendSpotNotice(node);
          });
        }
        world.engine.run(world.windowEnd);
        const { metrics } = world.finish();
        launched += world.descheduler?.stats.nodesLaunched ?? 0;
        setsReplaced += world.descheduler?.stats.setsReplaced ?? 0;
        const byStowage = metrics.outagesByCause['stowage'] ?? 0;
        runs++;
        add(outages, metrics.outagesByCause);
        add(dips, metrics.a2DipsByCause);
        assert.equal(byStowage, 0, `${arm.name} had ${byStowage} outage(s) caused by Stowage: ${JSON.stringify(metrics.outagesByCause)}`);
      }
    }),
    // Bounded: about 30 s of simulation by default, whatever the machine.
    { numRuns, examples: [...examples], interruptAfterTimeLimit: Math.max(1, numRuns) * 750, markInterruptAsFailure: false },
  );
  assert.ok(runs >= arms.length, 'at least one scenario ran in every Stowage arm');
  t.diagnostic(`${runs} runs; ${launched} replacement node(s) launched, ${setsReplaced} of them for several nodes; outages by cause ${JSON.stringify(Object.fromEntries(outages))}; A2 dips by cause ${JSON.stringify(Object.fromEntries(dips))}`);
}

test('no outage in a Stowage arm is caused by Stowage, in random small clusters', { timeout: 120_000 + _RUNS * 3_000 }, (t) => {
  _noStowageOutage(t, ARMS, _EXAMPLES);
});

// Regression (fast-check seed -1421023093, fixed in the shared policy): cpu 2; services 1x100m,
// 1x900m, no PDBs; no reclaims; 4 jobs/h; seed 360. T2K planned the surged single-replica pods onto
// a node that stays above the removal threshold, but the scheduler places a surge's replacement
// itself and, under MostAllocated, chose a node filled by Job pods; the Jobs ended and the
// autoscaler removed that node with the moved pod. The planner now predicts the scheduler's choice
// (src/policy/deschedule/landing.ts) and moves such a pod only where that choice is safe.
test('no outage in T2K is caused by Stowage, in random small clusters', { timeout: 120_000 + _RUNS * 3_000 }, (t) => {
  _noStowageOutage(t, [findArm('T2K') as ArmConfig], [
    [{ cpu: 2, services: [_svc(1, '100m', false), _svc(1, '900m', false)], reclaims: [], jobsPerHour: 4, rolloutsPerDay: 0, seed: 360 }],
    // fast-check seed -1359746632: the planner's prediction held on the cluster it planned on, but the
    // drain's evicted pods, scheduled first, took the room it counted on; surges now go first, one
    // per wave, each predicted again right before it starts.
    [{
      cpu: 2,
      services: [_svc(1, '200m', false), _svc(1, '100m', false), { ..._svc(2, '200m', false), pdb: { maxUnavailable: 1 } }, _svc(1, '100m', false), _svc(1, '400m', false), _svc(2, '500m', false), { ..._svc(2, '800m', false), pdb: { maxUnavailable: 1 } }],
      reclaims: [],
      jobsPerHour: 4,
      rolloutsPerDay: 0,
      seed: 307,
    }],
    // fast-check seed -114943551: the prediction forgot the old pod, which the scheduler still counts
    // while the surge runs (system-default topology spread sent the new pod to the other zone).
    [{
      cpu: 2,
      services: [_svc(1, '600m', false), _svc(2, '1200m', false), { ..._svc(2, '1400m', false), pdb: { minAvailable: '50%' }, startup: '32s' }, { ..._svc(1, '100m', false), startup: '37s' }, _svc(1, '400m', false)],
      reclaims: [],
      jobsPerHour: 4,
      rolloutsPerDay: 0,
      seed: 399,
    }],
  ]);
});

/** A catalogue of two sizes, the bigger 10% cheaper a core. */
function _twoSizes(cpu: number): readonly Record<string, unknown>[] {
  return [..._oneType(cpu), { name: 'big', cpu: cpu * 2, memory: `${cpu * 8}Gi`, pods: 58, onDemand: 0.09 * cpu, spot: 0.036 * cpu, interruption: '<5%' }];
}

// On a catalogue of two sizes, the bigger 10% cheaper a core: two half-full nodes of the small size
// may be replaced by one big node (Karpenter's multi-node replace), one big node by a small one.
test('no outage in T2K is caused by Stowage, in random small clusters where nodes are replaced by cheaper ones', { timeout: 120_000 + _RUNS * 3_000 }, (t) => {
  _noStowageOutage(t, [findArm('T2K') as ArmConfig], [], anyScenarioArbitrary, _twoSizes);
});

// Regression (found by the test above on main at 844f07b, fixed in the shared execution machine):
// one 4-cpu node; single replicas of 200m, 400m, 800m and 1200m, one 4-replica service of 400m;
// 4 jobs/h; seed 182. T2K replaced a big node by a small one; the first surge (svc-3, 1200m)
// landed on the new node; the next one's recheck found svc-2's replacement would land on a node
// held up only by a Job pod, so the drain stopped half-way; the new node kept svc-3 alone, under
// the threshold, and the autoscaler removed it ten minutes later: an outage Stowage caused. Moving
// svc-3 off again was no way out (its replacement would land on that same node). Now a replacement
// is protected from scale-down from its launch (Cluster Autoscaler's and Karpenter's node
// annotations) until it holds enough or nothing to lose, and one left below the threshold is
// emptied again where that is safe (src/policy/execute/machine.ts).
test('T2K: a replacement left part-filled when its drain stops half-way keeps no single replica the autoscaler then removes', (t) => {
  const scenario: _Scenario = { cpu: 4, services: [_svc(1, '200m', false), _svc(1, '400m', false), _svc(1, '800m', false), _svc(1, '1200m', false), _svc(4, '400m', false)], reclaims: [], jobsPerHour: 4, rolloutsPerDay: 0, seed: 182 };
  _noStowageOutage(t, [findArm('T2K') as ArmConfig], [], fc.constant(scenario), _twoSizes, 1);
});

// Regressions found with frequent rollouts, fixed in the shared policy (src/policy/deschedule/landing.ts):
// - (found at 300 runs) no jobs, reclaims at 30 and 260 min, seed 6, T3: consolidate surged svc-2
//   (2 replicas, no PDB, so surge-first); the surge is a rollout that replaced svc-2's other
//   replica first, pinned to spot by the webhook, where rollout pods had taken the room: the
//   autoscaler launched a node for it alone and removed it, under 50% full, 15 minutes later, while
//   it drained the moved replica's node, which svc-4's rollout had emptied. The executor's recheck
//   now predicts every replacement the rollout makes, and refuses one that fits on no node when a
//   node launched for it alone would stay under the removal threshold.
// - (found in 150 runs of T2B, once T2B joined the arms) seed 991: balance surged svc-1
//   (single replica) off a hot node; its plan named an even node, but balance's moves were not
//   predicted, and the scheduler (MostAllocated) put the replacement on the fullest node, which the
//   same plan then took svc-0's pod off: under 50% requested, the autoscaler drained it 27 minutes
//   later. Balance's surges are now predicted and rechecked like a drain's, and no move leaves a
//   node it keeps under the removal threshold with a single replica on it.
// - (fast-check seed 1123290716) 1x300m, 1x800m, 4 jobs/h, seed 7: a replacement on a node held up
//   only by Job pods; fixed by predicting the scheduler's choice (504fbc8), kept as an example.
test('no outage in a Stowage arm is caused by Stowage, in random small clusters with frequent rollouts', { timeout: 120_000 + _RUNS * 3_000 }, (t) => {
  const withRollouts: fc.Arbitrary<_Scenario> = anyScenarioArbitrary.map((s) => ({ ...s, rolloutsPerDay: s.rolloutsPerDay === 0 ? (24 as const) : s.rolloutsPerDay }));
  const seed6: _Scenario = {
    cpu: 2,
    services: [
      { replicas: 3, cpu: '200m', pdb: undefined, hpa: false, startup: '22s', strategy: undefined },
      { replicas: 4, cpu: '100m', pdb: { minAvailable: '50%' }, hpa: true, startup: '56s', strategy: undefined },
      { replicas: 2, cpu: '700m', pdb: undefined, hpa: false, startup: '13s', strategy: undefined },
      { replicas: 1, cpu: '1000m', pdb: undefined, hpa: false, startup: '39s', strategy: { maxSurge: 1, maxUnavailable: 0 } },
      { replicas: 1, cpu: '1000m', pdb: { maxUnavailable: 1 }, hpa: true, startup: '38s', strategy: undefined },
    ],
    reclaims: [[260, 417754685], [30, 557796342]],
    jobsPerHour: 0,
    rolloutsPerDay: 24,
    seed: 6,
  };
  const seed991: _Scenario = {
    cpu: 4,
    services: [
      _svcWith(3, '900m', false, '25s', undefined, undefined),
      _svcWith(1, '100m', false, '31s', undefined, undefined),
      _svcWith(2, '800m', false, '51s', { minAvailable: '50%' }, undefined),
      _svcWith(2, '1500m', true, '30s', { minAvailable: '50%' }, undefined),
    ],
    reclaims: [],
    jobsPerHour: 4,
    rolloutsPerDay: 24,
    seed: 991,
  };
  _noStowageOutage(t, ARMS, [[{ cpu: 2, services: [_svc(1, '300m', false), _svc(1, '800m', false)], reclaims: [], jobsPerHour: 4, rolloutsPerDay: 24, seed: 7 }], [seed6], [seed991]], withRollouts);
});
