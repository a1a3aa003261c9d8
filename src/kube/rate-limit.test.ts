import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './rate-limit.js';

test('the burst goes at once, then requests are spaced 1/qps apart', async () => {
  let now = 0;
  const bucket = new TokenBucket(100, 3, () => now);
  const started = performance.now();
  for (let i = 0; i < 3; i++) await bucket.take();
  assert.ok(performance.now() - started < 50, 'the burst does not wait');
  // The fourth waits about 10 ms: one token at 100 qps.
  const before = performance.now();
  await bucket.take();
  const waited = performance.now() - before;
  assert.ok(waited >= 8 && waited < 200, `waited ${waited} ms`);
  // Time passing refills, up to the burst.
  now += 10_000;
  const refilled = performance.now();
  for (let i = 0; i < 3; i++) await bucket.take();
  assert.ok(performance.now() - refilled < 50);
});

test('qps 0 is no limit', async () => {
  const bucket = new TokenBucket(0, 1);
  const started = performance.now();
  for (let i = 0; i < 1000; i++) await bucket.take();
  assert.ok(performance.now() - started < 200);
});
