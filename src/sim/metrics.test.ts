import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Billing } from './cloud.js';
import type { SimCluster } from './cluster.js';
import { Engine } from './engine.js';
import { RunRecorder } from './metrics.js';
import type { Service } from './workloads.js';

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
  engine.run(300 * S);
  const m = recorder.finish({ pending: new Set(), meanUtilisation: () => 0 } as unknown as SimCluster, { nodeHours: () => ({ 'on-demand': 0, spot: 0 }), totalUsd: () => 0 } as unknown as Billing);
  assert.equal(m.perService[0]?.a1, 0.5);
  assert.equal(m.perService[0]?.outages, 1, 'an outage in progress when the window opens counts once');
});
