import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { backoffDelay, withRetry } from './retry.js';

const apiError = (code: number, reason: string, headers: Record<string, string> = {}): ApiException<string> =>
  new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: 'Status', reason, message: `${reason} happened` }), headers);

test('backoffDelay is capped exponential with full jitter', () => {
  assert.equal(backoffDelay(1, 100, 10_000, () => 1), 100);
  assert.equal(backoffDelay(4, 100, 10_000, () => 1), 800);
  assert.equal(backoffDelay(20, 100, 10_000, () => 1), 10_000);
  assert.equal(backoffDelay(4, 100, 10_000, () => 0.5), 400);
  assert.equal(backoffDelay(4, 100, 10_000, () => 0), 0);
});

test('429 and 5xx are retried until the call succeeds', async () => {
  const failures = [apiError(429, 'TooManyRequests'), apiError(503, 'ServiceUnavailable'), apiError(500, 'InternalError')];
  const waits: number[] = [];
  let calls = 0;
  const value = await withRetry('list pods', async () => {
    calls++;
    const next = failures.shift();
    if (next) throw next;
    return 'ok';
  }, { baseMs: 1, random: () => 1, onRetry: (_a, delay) => waits.push(delay) });
  assert.equal(value, 'ok');
  assert.equal(calls, 4);
  assert.deepEqual(waits, [1, 2, 4]);
});

test('Retry-After is honoured as the minimum wait', async () => {
  const waits: number[] = [];
  let first = true;
  await withRetry('evict pod', async () => {
    if (first) {
      first = false;
      throw apiError(429, 'TooManyRequests', { 'retry-after': '0.01' });
    }
  }, { baseMs: 1, random: () => 0, onRetry: (_a, delay) => waits.push(delay) });
  assert.deepEqual(waits, [10]);
});

test('409, 404 and 403 fail at once with one line naming the call and the status', async () => {
  for (const [code, reason] of [[409, 'Conflict'], [404, 'NotFound'], [403, 'Forbidden']] as const) {
    let calls = 0;
    await assert.rejects(
      withRetry('patch node "spot-1"', async () => {
        calls++;
        throw apiError(code, reason);
      }, { baseMs: 1 }),
      (e: Error) => e.message === `Cannot patch node "spot-1": HTTP ${code} ${reason}: ${reason} happened`,
    );
    assert.equal(calls, 1);
  }
});

test('a retryable failure that persists gives up after the attempts, saying how many', async () => {
  let calls = 0;
  await assert.rejects(
    withRetry('list nodes', async () => {
      calls++;
      throw apiError(503, 'ServiceUnavailable');
    }, { attempts: 3, baseMs: 1 }),
    /Cannot list nodes: HTTP 503 ServiceUnavailable: .* \(after 3 attempts\)/,
  );
  assert.equal(calls, 3);
});
