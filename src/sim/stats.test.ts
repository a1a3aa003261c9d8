import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimate, percentile, studentTQuantile } from './stats.js';

test('Student t 97.5% quantiles match the published table', () => {
  const table: readonly [number, number][] = [[1, 12.706], [2, 4.303], [4, 2.776], [9, 2.262], [19, 2.093], [29, 2.045], [120, 1.98]];
  for (const [df, t] of table) assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 1e-3, `df ${df}: ${studentTQuantile(0.975, df)}`);
});

test('estimate gives the mean and a symmetric 95% interval', () => {
  const e = estimate([1, 2, 3, 4, 5]);
  assert.equal(e.mean, 3);
  // sd = 1.5811, se = 0.7071, t(4) = 2.7764
  assert.ok(Math.abs(e.high - 3 - 2.7764 * 0.70711) < 1e-3);
  assert.ok(Math.abs(e.mean - e.low - (e.high - e.mean)) < 1e-12);
  assert.deepEqual(estimate([7]), { mean: 7, low: 7, high: 7, samples: [7] });
});

test('percentile interpolates between closest ranks', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([1, 2, 3, 4], 100), 4);
  assert.equal(percentile([5], 99), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
});
