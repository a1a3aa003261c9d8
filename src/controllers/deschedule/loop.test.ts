import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs } from './loop.js';

test('a failed cycle is retried after 1 s, doubling, never later than the interval', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 60_000)), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
  assert.equal(retryDelayMs(3, 1500), 1500);
  assert.equal(retryDelayMs(1000, 300_000), 300_000);
});
