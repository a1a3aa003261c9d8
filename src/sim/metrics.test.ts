import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Billing } from './cloud.js';
import type { SimCluster, SimPod } from './cluster.js';
import { Engine } from './engine.js';
import { RunRecorder } from './metrics.js';
import { DeletionCause } from './pods.js';
import type { Service } from './workloads.js';
import { testScenario, testWorld } from './harness.test-helper.js';

const S = 1_000;

test('A1, A2 and outages on a hand-made timeline', () => {
  const engine = new Engine();
  const recorder = new RunRecorder(engine, 0, 1_000 * S, 100 * S);
  const svc = { key: 'shop/web', ready: 3, desired: 3, availabilityFloor: () => 2 } as unknown as Service & { ready: number };
  recorder.serviceChanged(svc);
  recorder.openWindow();
  const at = (t: number, ready: number): void => {
    engine.at(t * S, () => {
      svc.ready = ready;
      recorder.serviceChanged(svc);
    });
  };
  at(100, 1); // below the floor of 2: A2 down, A1 up
  at(200, 0); // outage 1 starts: both down
  at(250, 2); // back to the floor
  at(500, 0); // outage 2
  at(510, 3);
  engine.run(1_000 * S);
  const cluster = { pending: new Set(), meanUtilisation: () => 0 } as unknown as SimCluster;
  const billing = { nodeHours: () => ({ 'on-demand': 0, spot: 0 }), totalUsd: () => 0 } as unknown as Billing;
  const m = recorder.finish(cluster, billing);
  const [web] = m.perService;
  assert.ok(web);
  assert.equal(web.service, 'shop/web');
  assert.equal(web.outages, 2);
  assert.equal(web.outageSeconds, 60);
  assert.equal(web.a1, 1 - 60 / 1_000);
  assert.equal(web.a2, 1 - (150 + 10) / 1_000);
  assert.equal(m.uptimeA1, web.a1);
  assert.equal(m.worstServiceA2, web.a2);
});

test('time outside the measured window is not counted', () => {
  const engine = new Engine();
  const recorder = new RunRecorder(engine, 100 * S, 200 * S, 10 * S);
  const svc = { key: 'a/b', ready: 0, desired: 1, availabilityFloor: () => 1 } as unknown as Service & { ready: number };
  recorder.serviceChanged(svc); // down from 0 (warm-up)
  engine.at(100 * S, () => recorder.openWindow());
  engine.at(150 * S, () => {
    svc.ready = 1;
    recorder.serviceChanged(svc);
  });
  // Node launches count in the window only.
  for (const t of [50, 150, 160, 250]) engine.at(t * S, () => recorder.nodeLaunched());
  engine.run(300 * S);
  const m = recorder.finish({ pending: new Set(), meanUtilisation: () => 0 } as unknown as SimCluster, { nodeHours: () => ({ 'on-demand': 0, spot: 0 }), totalUsd: () => 0 } as unknown as Billing);
  assert.equal(m.perService[0]?.a1, 0.5);
  assert.equal(m.perService[0]?.outages, 1, 'an outage in progress when the window opens counts once');
  assert.equal(m.nodeLaunches, 2);
});

test('each outage and A2 dip is attributed to what took the replicas down', () => {
  const engine = new Engine();
  const recorder = new RunRecorder(engine, 0, 1_000 * S, 100 * S);
  const svc = { key: 'shop/web', ready: 2, desired: 2, availabilityFloor: () => 2 } as unknown as Service & { ready: number };
  recorder.serviceChanged(svc);
  recorder.openWindow();
  const pod = (movedByStowage: boolean, createdAt = 0) => ({ movedByStowage, createdAt }) as unknown as SimPod;
  const lose = (t: number, cause: DeletionCause, p = pod(false)): void => {
    engine.at(t * S, () => {
      svc.ready--;
      recorder.servicePodLost(svc, p, cause);
      recorder.serviceChanged(svc);
    });
  };
  const recover = (t: number, ready: number): void => {
    engine.at(t * S, () => {
      svc.ready = ready;
      recorder.serviceChanged(svc);
    });
  };
  lose(100, DeletionCause.SpotReclaim); // dip: spot
  lose(110, DeletionCause.SpotReclaim); // outage: spot
  recover(150, 2);
  lose(200, DeletionCause.Descheduler); // dip: Stowage's eviction
  lose(210, DeletionCause.AutoscalerDrain); // outage: the autoscaler took the last one, but Stowage's eviction is behind it
  recover(250, 2);
  lose(300, DeletionCause.NodeRemoved, pod(true, 290 * S)); // a pod Stowage moved 10 s before, gone with its node: Stowage's
  recover(350, 2);
  lose(400, DeletionCause.NodeRemoved, pod(true, -3_600 * S)); // moved by Stowage an hour before: the autoscaler's
  recover(450, 2);
  lose(460, DeletionCause.Descheduler); // dip: Stowage's eviction
  lose(470, DeletionCause.Rollout); // outage: a rollout that accepts zero Ready (maxUnavailable 100%) took the last one
  recover(480, 2);
  // A pod Stowage moved at 482 s, on a node a rollout took a pod off at 483 s: its removal is the autoscaler's.
  lose(485, DeletionCause.NodeRemoved, { movedByStowage: true, createdAt: 482 * S, node: { controllerDeletedAt: 483 * S } } as unknown as SimPod);
  recover(490, 2);
  engine.at(500 * S, () => {
    svc.desired = 3; // scaled up, the new replica not Ready yet: below the floor with nothing lost
    recorder.serviceChanged(svc);
  });
  engine.run(1_000 * S);
  const m = recorder.finish({ pending: new Set(), meanUtilisation: () => 0 } as unknown as SimCluster, { nodeHours: () => ({ 'on-demand': 0, spot: 0 }), totalUsd: () => 0 } as unknown as Billing);
  assert.deepEqual(m.outagesByCause, { rollout: 1, 'spot-reclaim': 1, stowage: 1 });
  assert.equal(m.outages, 3);
  assert.deepEqual(m.a2DipsByCause, { 'autoscaler-drain': 2, 'spot-reclaim': 1, stowage: 3 });
});

test('node launches are the nodes that joined Ready in the window: three 3-cpu pods on 4-cpu nodes need three', () => {
  const world = testWorld(testScenario({ duration: '1h', services: { list: [{ name: 'web', replicas: 3, cpu: '3', memory: '1Gi' }] } }));
  world.engine.run(world.windowEnd);
  const { metrics } = world.finish();
  assert.equal(world.cluster.readyNodes.length, 3);
  assert.equal(metrics.nodeLaunches, 3);
});
