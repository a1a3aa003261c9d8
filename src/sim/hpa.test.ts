import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testScenario, testWorld } from './harness.test-helper.js';

const HOUR_MS = 3_600_000;

test('hpa: replicas follow the daily cycle, and each scale-down waits out the stabilisation window', () => {
  // Peak at midnight (the scenario starts Monday 00:00 UTC): 10 × (1 + 0.5 cos) replicas, 15 at the
  // peak falling to 5 at noon. The 5-minute window keeps every recommendation of the last 5 minutes.
  const scenario = testScenario({
    duration: '13h',
    services: { list: [{ name: 'web', replicas: 10, cpu: '100m', memory: '128Mi', hpa: { amplitude: 0.5, peakHour: 0, noise: 0, minReplicas: 1, maxReplicas: 30 } }] },
  });
  const world = testWorld(scenario);
  const service = world.workloads.services[0];
  assert.ok(service !== undefined);
  const recommended = (atMs: number): number => Math.ceil(10 * (1 + 0.5 * Math.cos((2 * Math.PI * atMs) / (24 * HOUR_MS))));
  assert.equal(service.desired, 15, 'sized for the peak at the start');
  let lowest = Number.POSITIVE_INFINITY;
  for (let t = 15_000; t <= 13 * HOUR_MS; t += 15_000) {
    world.engine.run(t);
    lowest = Math.min(lowest, service.desired);
    // While the load falls, the desired replicas never go below what the load asked 5 minutes ago.
    if (t >= 5 * 60_000 && t <= 12 * HOUR_MS) assert.ok(service.desired >= recommended(t - 5 * 60_000), `at ${t / 1000} s: ${service.desired} < ${recommended(t - 5 * 60_000)}`);
  }
  // The load asks 5 only at noon itself; the window holds the 6 of the minutes before.
  assert.equal(lowest, 6, 'down to the trough');
  assert.equal(service.desired, recommended(13 * HOUR_MS), 'past noon the load rises again');
});
