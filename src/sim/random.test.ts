import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomSource, streamState } from './random.js';
import { mean, sampleSd } from './stats.js';

test('the same seed and stream name give the same sequence', () => {
  const a = new RandomSource(42).stream('workloads');
  const b = new RandomSource(42).stream('workloads');
  for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
});

test('streams are independent: drawing from one does not shift another', () => {
  const first = new RandomSource(42);
  first.stream('noise').next();
  const x = first.stream('spot').next();
  const second = new RandomSource(42);
  assert.equal(second.stream('spot').next(), x);
  assert.notEqual(new RandomSource(43).stream('spot').next(), x);
});

test('stream states differ for nearby seeds and similar names', () => {
  const states = new Set([streamState(1, 'a'), streamState(2, 'a'), streamState(1, 'b'), streamState(1, 'ab'), streamState(2 ** 40, 'a')].map((s) => s.join(',')));
  assert.equal(states.size, 5);
});

test('distributions have the right moments', () => {
  const r = new RandomSource(7).stream('moments');
  const n = 20_000;
  const u = Array.from({ length: n }, () => r.next());
  assert.ok(u.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(mean(u) - 0.5) < 0.01);
  const e = Array.from({ length: n }, () => r.exponential(3));
  assert.ok(Math.abs(mean(e) - 3) < 0.1);
  const g = Array.from({ length: n }, () => r.normal(10, 2));
  assert.ok(Math.abs(mean(g) - 10) < 0.05);
  assert.ok(Math.abs(sampleSd(g) - 2) < 0.05);
  const l = Array.from({ length: n }, () => r.lognormal(5, 0.5)).sort((a, b) => a - b);
  assert.ok(Math.abs((l[n / 2] as number) - 5) < 0.15);
  for (const lambda of [0.5, 4, 80]) {
    const p = Array.from({ length: n }, () => r.poisson(lambda));
    assert.ok(p.every((k) => Number.isInteger(k) && k >= 0));
    assert.ok(Math.abs(mean(p) - lambda) < 0.05 * lambda + 0.02, `poisson(${lambda}) mean ${mean(p)}`);
    assert.ok(Math.abs(sampleSd(p) ** 2 - lambda) < 0.08 * lambda + 0.05, `poisson(${lambda}) variance ${sampleSd(p) ** 2}`);
  }
  const ints = Array.from({ length: n }, () => r.int(1, 6));
  assert.deepEqual([...new Set(ints)].sort(), [1, 2, 3, 4, 5, 6]);
});
