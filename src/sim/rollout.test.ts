import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_ROLLING_UPDATE, fenceposts, rollingUpdateStep } from './rollout.js';
import type { RollingUpdateStrategy } from './rollout.js';
import { testArm, testScenario, testWorld } from './harness.test-helper.js';
import type { SimPod } from './cluster.js';
import type { Service } from './workloads.js';

const MIN = 60_000;

test('fenceposts: surge rounds up, unavailable rounds down, both 0 gives 1 unavailable, never more than the replicas', () => {
  const at = (strategy: RollingUpdateStrategy, replicas: number): [number, number] => {
    const f = fenceposts(strategy, replicas);
    return [f.surge, f.unavailable];
  };
  assert.deepEqual(at(DEFAULT_ROLLING_UPDATE, 1), [1, 0]);
  assert.deepEqual(at(DEFAULT_ROLLING_UPDATE, 3), [1, 0]);
  assert.deepEqual(at(DEFAULT_ROLLING_UPDATE, 4), [1, 1]);
  assert.deepEqual(at(DEFAULT_ROLLING_UPDATE, 10), [3, 2]);
  assert.deepEqual(at({ maxSurge: 0, maxUnavailable: 0 }, 5), [0, 1]);
  assert.deepEqual(at({ maxSurge: '0%', maxUnavailable: '10%' }, 5), [0, 1], '10% of 5 rounds down to 0, and both 0 is not allowed');
  assert.deepEqual(at({ maxSurge: 0, maxUnavailable: '100%' }, 1), [0, 1]);
  assert.deepEqual(at({ maxSurge: 2, maxUnavailable: 5 }, 3), [2, 3], 'unavailable capped at the replicas');
});

test('a rolling update step: the new ReplicaSet grows within maxSurge, old pods go only as new ones become available', () => {
  // 4 replicas, 25%/25%: 1 surge, 1 unavailable.
  assert.deepEqual(rollingUpdateStep(4, DEFAULT_ROLLING_UPDATE, [{ replicas: 4, available: 4 }, { replicas: 0, available: 0 }]), [3, 1]);
  // Next sync: the old pod's deletion left room under 4 + 1 for a second new pod.
  assert.deepEqual(rollingUpdateStep(4, DEFAULT_ROLLING_UPDATE, [{ replicas: 3, available: 3 }, { replicas: 1, available: 0 }]), [3, 2]);
  // No new pod Ready yet: 3 old available = the minimum, so nothing moves.
  assert.deepEqual(rollingUpdateStep(4, DEFAULT_ROLLING_UPDATE, [{ replicas: 3, available: 3 }, { replicas: 2, available: 0 }]), [3, 2]);
  // One became Ready: 4 available, one old pod may go; then a third new one can start.
  assert.deepEqual(rollingUpdateStep(4, DEFAULT_ROLLING_UPDATE, [{ replicas: 3, available: 3 }, { replicas: 2, available: 1 }]), [2, 2]);
  assert.deepEqual(rollingUpdateStep(4, DEFAULT_ROLLING_UPDATE, [{ replicas: 2, available: 2 }, { replicas: 2, available: 1 }]), [2, 3]);
  // 1 replica, defaults: surge 1, unavailable 0: make before break.
  assert.deepEqual(rollingUpdateStep(1, DEFAULT_ROLLING_UPDATE, [{ replicas: 1, available: 1 }, { replicas: 0, available: 0 }]), [1, 1]);
  assert.deepEqual(rollingUpdateStep(1, DEFAULT_ROLLING_UPDATE, [{ replicas: 1, available: 1 }, { replicas: 1, available: 0 }]), [1, 1]);
  assert.deepEqual(rollingUpdateStep(1, DEFAULT_ROLLING_UPDATE, [{ replicas: 1, available: 1 }, { replicas: 1, available: 1 }]), [0, 1]);
  // maxUnavailable 100%, no surge: the old pod goes before the new one exists (an outage by design).
  assert.deepEqual(rollingUpdateStep(1, { maxSurge: 0, maxUnavailable: '100%' }, [{ replicas: 1, available: 1 }, { replicas: 0, available: 0 }]), [0, 0]);
  assert.deepEqual(rollingUpdateStep(1, { maxSurge: 0, maxUnavailable: '100%' }, [{ replicas: 0, available: 0 }, { replicas: 0, available: 0 }]), [0, 1]);
  // Unavailable old pods go first, within what the new ReplicaSet's unavailable pods leave: of the
  // two, one goes (a second new pod, not Ready yet, takes the other's room); no available old pod goes.
  assert.deepEqual(rollingUpdateStep(4, DEFAULT_ROLLING_UPDATE, [{ replicas: 3, available: 1 }, { replicas: 1, available: 1 }]), [2, 2]);
  // Three revisions: the oldest shrinks first.
  assert.deepEqual(rollingUpdateStep(4, { maxSurge: 0, maxUnavailable: 2 }, [{ replicas: 2, available: 2 }, { replicas: 2, available: 2 }, { replicas: 0, available: 0 }]), [0, 2, 0]);
  // A scale-down mid-rollout: the new ReplicaSet is capped at the replicas.
  assert.deepEqual(rollingUpdateStep(2, DEFAULT_ROLLING_UPDATE, [{ replicas: 1, available: 1 }, { replicas: 3, available: 3 }]), [0, 2]);
});

test('a rolling update of plain counts always completes within its surge and unavailability bounds', () => {
  const strategy = fc.record({
    maxSurge: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`)),
    maxUnavailable: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`)),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), strategy, fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }), (replicas, s, readyNow) => {
      const { surge, unavailable } = fenceposts(s, replicas);
      // Pods as the controllers hold them: old ones all available; new ones become available when `readyNow` says.
      let old = { replicas, available: replicas };
      let neu = { replicas: 0, available: 0 };
      for (let step = 0; step < readyNow.length && (old.replicas > 0 || neu.available < replicas); step++) {
        const [o, n] = rollingUpdateStep(replicas, s, [old, neu]) as [number, number];
        assert.ok(o + n <= Math.max(replicas + surge, old.replicas + neu.replicas), `at most ${replicas}+${surge} pods`);
        // Old pods deleted are available ones: what stays available is at least the minimum.
        const oldAvailable = Math.min(old.available, o);
        assert.ok(oldAvailable + neu.available >= Math.min(replicas - unavailable, old.available + neu.available), 'never below replicas − maxUnavailable available');
        old = { replicas: o, available: oldAvailable };
        neu = { replicas: n, available: neu.available + (readyNow[step] ? n - neu.available : 0) };
      }
      // With every new pod Ready eventually, one more pass finishes the rollout.
      for (let i = 0; i < 4 * replicas + 4 && (old.replicas > 0 || neu.replicas < replicas); i++) {
        const [o, n] = rollingUpdateStep(replicas, s, [old, neu]) as [number, number];
        old = { replicas: o, available: Math.min(old.available, o) };
        neu = { replicas: n, available: n };
      }
      assert.deepEqual([old.replicas, neu.replicas], [0, replicas]);
    }),
    { numRuns: 300 },
  );
});

/** Watches a service's pods: Ready count after every event, and when each pod was created, Ready and deleted. */
function watch(world: ReturnType<typeof testWorld>, service: Service): { minReady: () => number; maxPods: () => number } {
  let minReady = Number.POSITIVE_INFINITY;
  let maxPods = 0;
  world.engine.every(1_000, world.engine.now, () => {
    minReady = Math.min(minReady, service.ready);
    let live = 0;
    for (const p of service.pods) if (!p.terminating) live++;
    maxPods = Math.max(maxPods, live);
  });
  return { minReady: () => minReady, maxPods: () => maxPods };
}

const revisionOf = (pod: SimPod): number => pod.spec.revision ?? 0;

test('a rollout in the model: a new ReplicaSet with its own hash, old pods deleted only as new ones become Ready, never below the unavailability budget', () => {
  const world = testWorld(testScenario({ services: { list: [{ name: 'web', replicas: 4, cpu: '500m', memory: '1Gi', startup: '30s', shutdown: '5s' }] } }));
  world.engine.run(5 * MIN);
  const web = world.workloads.services[0] as Service;
  assert.equal(web.ready, 4);
  const watched = watch(world, web);
  const startedAt = world.engine.now;
  web.startRollout();
  assert.equal(web.rollingOut, true);
  // 1 surge and 1 unavailable of 4: one old pod deleted at once, two new ones created (5 pods at most).
  assert.deepEqual(web.replicaSets().map((s) => s.replicas), [3, 2]);
  const newPods = [...web.pods].filter((p) => revisionOf(p) === 1);
  assert.equal(newPods.length, 2);
  const view = newPods[0]?.view();
  assert.equal(view?.controllerRef?.uid, 'rs-0-r1');
  assert.equal(view?.labels['pod-template-hash'], 'r1');
  assert.equal(view?.spreadSelector?.matchLabels?.['pod-template-hash'], 'r1', 'the system-default spread counts the new ReplicaSet apart');
  // No more old pods go until a new one is Ready (start-up 30 s, lognormal around it).
  world.engine.run(startedAt + 10_000);
  assert.equal([...web.pods].filter((p) => revisionOf(p) === 0 && !p.terminating).length, 3);
  assert.equal([...web.pods].filter((p) => revisionOf(p) === 1 && p.ready).length, 0);
  world.engine.run(startedAt + 10 * MIN);
  assert.equal(web.rollingOut, false, 'the rollout completed');
  const live = [...web.pods].filter((p) => !p.terminating);
  assert.equal(live.length, 4);
  assert.ok(live.every((p) => revisionOf(p) === 1 && p.ready));
  assert.equal(watched.minReady(), 3, 'never below 4 − 1 Ready');
  assert.ok(watched.maxPods() <= 5, 'never above 4 + 1 pods');
  assert.deepEqual(web.replicaSets(), [{ revision: 1, uid: 'rs-0-r1', replicas: 4 }]);
});

test('a rollout ignores PodDisruptionBudgets: the Deployment controller deletes, it does not evict', () => {
  const world = testWorld(testScenario({ services: { list: [{ name: 'db', replicas: 2, cpu: '500m', memory: '1Gi', startup: '20s', pdb: { minAvailable: '100%' } }] } }));
  world.engine.run(5 * MIN);
  const db = world.workloads.services[0] as Service;
  assert.equal(db.disruptionsAllowed(), 0, 'the PDB allows no eviction');
  db.startRollout();
  world.engine.run(15 * MIN);
  assert.equal(db.rollingOut, false);
  assert.ok([...db.pods].filter((p) => !p.terminating).every((p) => revisionOf(p) === 1));
});

test('attribution: a single replica rolled out with maxUnavailable 100% is a rollout outage, with the default strategy none', () => {
  const run = (strategy: Record<string, unknown> | undefined): Readonly<Record<string, number>> => {
    const world = testWorld(
      testScenario({
        duration: '1h',
        warmUp: '10m',
        services: { list: [{ name: 'one', replicas: 1, cpu: '500m', memory: '1Gi', startup: '20s', ...(strategy === undefined ? {} : { strategy }) }] },
      }),
    );
    world.engine.at(30 * MIN, () => (world.workloads.services[0] as Service).startRollout());
    world.engine.run(world.windowEnd);
    return world.finish().metrics.outagesByCause;
  };
  assert.deepEqual(run({ maxSurge: 0, maxUnavailable: '100%' }), { rollout: 1 });
  assert.deepEqual(run(undefined), {});
});

test('the rollout schedule is seeded: the same seed rolls out the same services at the same instants, at the stated rate in working hours', () => {
  const scenario = testScenario({
    duration: '5d',
    start: '2024-01-01T00:00:00Z',
    services: { list: Array.from({ length: 6 }, (_, i) => ({ name: `s${i}`, replicas: 1, cpu: '100m', memory: '128Mi', startup: '5s' })) },
    rollouts: { perServicePerDay: 4, hours: { min: 9, max: 17 }, weekendFactor: 0 },
  });
  const history = (seed: number): string[] => {
    const world = testWorld(scenario, testArm(), seed);
    const seen: string[] = [];
    for (const s of world.workloads.services) {
      const start = s.startRollout.bind(s);
      s.startRollout = (): void => {
        const epoch = world.workloads.epoch(world.engine.now);
        const hour = new Date(epoch).getUTCHours();
        assert.ok(hour >= 9 && hour < 17, `a rollout at ${hour}h UTC, outside working hours`);
        seen.push(`${world.engine.now}:${s.spec.name}`);
        start();
      };
    }
    world.engine.run(world.windowEnd);
    return seen;
  };
  const a = history(7);
  assert.deepEqual(history(7), a);
  assert.notDeepEqual(history(8), a);
  // 6 services × 4 a weekday × 5 weekdays = 120 expected (Poisson: ±3σ ≈ ±33).
  assert.ok(a.length > 85 && a.length < 155, `${a.length} rollouts`);
  assert.ok(new Set(a.map((x) => x.split(':')[1])).size === 6, 'every service rolls out');
});
