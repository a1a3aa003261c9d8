import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { leaderElectionConfigError, leaderIdentity, startRuntime, type LeaderElectionConfig } from './runtime.js';

test('a stop signal aborts the runtime signal once, with its name as the reason', async () => {
  const signals = new EventEmitter();
  const runtime = await startRuntime({ component: 'test', logLevel: 'silent', signals: signals as unknown as NodeJS.Process });
  try {
    assert.equal(runtime.signal.aborted, false);
    signals.emit('SIGTERM');
    assert.equal(runtime.signal.aborted, true);
    assert.equal(runtime.signal.reason, 'SIGTERM');
  } finally {
    await runtime.close();
  }
  assert.equal(signals.listenerCount('SIGINT'), 0, 'close() stops listening');
});

test('the metrics listener serves /metrics, /healthz and a /readyz that follows ready()', async () => {
  let ready = false;
  const runtime = await startRuntime({ component: 'test', logLevel: 'silent', metricsListen: { host: '127.0.0.1', port: 0 }, ready: () => ready, signals: new EventEmitter() as unknown as NodeJS.Process });
  try {
    const base = `http://127.0.0.1:${runtime.metricsPort}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /stowage_process_cpu_seconds_total/);
  } finally {
    await runtime.close();
  }
});

test('an invalid log level or a taken port is one clear error', async () => {
  await assert.rejects(startRuntime({ component: 'test', logLevel: 'loud' }), /Invalid log level "loud"/);
  const first = await startRuntime({ component: 'test', logLevel: 'silent', metricsListen: { host: '127.0.0.1', port: 0 }, signals: new EventEmitter() as unknown as NodeJS.Process });
  try {
    await assert.rejects(startRuntime({ component: 'test', logLevel: 'silent', metricsListen: { host: '127.0.0.1', port: first.metricsPort ?? 0 }, signals: new EventEmitter() as unknown as NodeJS.Process }), /Cannot listen on 127\.0\.0\.1:\d+ for metrics: EADDRINUSE/);
  } finally {
    await first.close();
  }
});

test('leader election timings follow client-go: lease > renew deadline > 1.2 x retry period', () => {
  const ok: LeaderElectionConfig = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, name: 'l', namespace: 'ns', identity: 'me' };
  assert.equal(leaderElectionConfigError(ok), undefined);
  assert.match(leaderElectionConfigError({ ...ok, renewDeadlineMs: 15_000 }) ?? '', /lease duration \(15s\) must be greater than the renew deadline \(15s\)/);
  assert.match(leaderElectionConfigError({ ...ok, retryPeriodMs: 9_000 }) ?? '', /renew deadline \(10s\) must be greater than 1\.2 times the retry period \(9s\)/);
  assert.match(leaderElectionConfigError({ ...ok, leaseDurationMs: 500, renewDeadlineMs: 400, retryPeriodMs: 100 }) ?? '', /at least 1s/);
  assert.match(leaderElectionConfigError({ ...ok, retryPeriodMs: 0 }) ?? '', /retry period \(0s\) must be greater than 0/);
  assert.match(leaderElectionConfigError({ ...ok, namespace: '' }) ?? '', /needs a name and a namespace/);
});

test('identities are the hostname and a random part, unique per replica', () => {
  const a = leaderIdentity();
  assert.match(a, /^.+_[0-9a-f-]{36}$/);
  assert.notEqual(a, leaderIdentity());
});
