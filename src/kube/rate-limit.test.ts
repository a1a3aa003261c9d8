import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenBucket } from './rate-limit.js';

/** Whether every take resolves without a timer: it wins a race against a zero-delay timeout. */
async function withoutWaiting(takes: Promise<void>[]): Promise<boolean> {
  return (await Promise.race([Promise.all(takes).then(() => 'taken'), sleep(0).then(() => 'timer')])) === 'taken';
}

test('the burst goes at once, then a request waits 1/qps; time passing refills up to the burst', async () => {
  let now = 0;
  const bucket = new TokenBucket(100, 3, () => now);
  assert.ok(await withoutWaiting([bucket.take(), bucket.take(), bucket.take()]), 'the burst does not wait');
  // The fourth waits for one token at 100 qps: 10 ms.
  const before = performance.now();
  const fourth = bucket.take();
  assert.ok(!(await withoutWaiting([fourth])), 'the fourth waits');
  await fourth;
  assert.ok(performance.now() - before >= 8, 'about 10 ms');
  now += 10_000;
  assert.ok(await withoutWaiting([bucket.take(), bucket.take(), bucket.take()]), 'refilled to the burst');
});

test('qps 0 is no limit', async () => {
  const bucket = new TokenBucket(0, 1);
  assert.ok(await withoutWaiting(Array.from({ length: 1000 }, () => bucket.take())));
});
