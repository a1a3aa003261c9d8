import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
import { evictPod } from './evict.js';

/** The Status the Eviction API answers when a PDB refuses. */
const PDB_REFUSAL = { kind: 'Status', status: 'Failure', message: "Cannot evict pod as it would violate the pod's disruption budget.", reason: 'TooManyRequests', details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget cart needs 2 healthy pods and has 2 currently' }] }, code: 429 };
/** The Status API Priority and Fairness answers when it sheds load. */
const APF_REJECTION = { kind: 'Status', status: 'Failure', message: 'Too many requests, please try again later.', reason: 'TooManyRequests', details: { retryAfterSeconds: 1 }, code: 429 };

function fakeCore(responses: readonly (number | 'ok' | 'pdb' | 'apf')[]): { core: CoreV1Api; calls: unknown[] } {
  const calls: unknown[] = [];
  let i = 0;
  const core = {
    createNamespacedPodEviction: async (request: unknown) => {
      calls.push(request);
      const r = responses[Math.min(i++, responses.length - 1)];
      if (r === 'ok') return {};
      if (r === 'pdb') throw new ApiException(429, 'failed', JSON.stringify(PDB_REFUSAL), {});
      if (r === 'apf') throw new ApiException(429, 'failed', JSON.stringify(APF_REJECTION), {});
      throw new ApiException(r ?? 500, 'failed', JSON.stringify({ message: `status ${r}` }), {});
    },
  } as unknown as CoreV1Api;
  return { core, calls };
}

describe('evictPod', () => {
  test('evicts through the Eviction subresource, with the uid as precondition', async () => {
    const { core, calls } = fakeCore(['ok']);
    assert.deepEqual(await evictPod(core, 'shop', 'cart-1', { uid: 'u1' }), { kind: 'evicted' });
    assert.deepEqual(calls, [{ name: 'cart-1', namespace: 'shop', body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'cart-1', namespace: 'shop' }, deleteOptions: { preconditions: { uid: 'u1' } } } }]);
  });

  test('a 429 with a DisruptionBudget cause is a PDB saying no: returned at once, never retried', async () => {
    const { core, calls } = fakeCore(['pdb']);
    const outcome = await evictPod(core, 'shop', 'cart-1');
    assert.equal(outcome.kind, 'blocked');
    assert.equal(calls.length, 1);
  });

  test('a 429 from API Priority and Fairness is load shedding, not a PDB: retried', async () => {
    const { core, calls } = fakeCore(['apf', 'apf', 'ok']);
    assert.deepEqual(await evictPod(core, 'shop', 'cart-1', { baseMs: 1, maxMs: 2 }), { kind: 'evicted' });
    assert.equal(calls.length, 3);
  });

  test('a 5xx is retried with backoff; a 404 means gone', async () => {
    const { core, calls } = fakeCore([503, 500, 404]);
    assert.deepEqual(await evictPod(core, 'shop', 'cart-1', { baseMs: 1, maxMs: 2 }), { kind: 'gone' });
    assert.equal(calls.length, 3);
  });

  test('a 403 fails at once with a one-line message', async () => {
    const { core } = fakeCore([403]);
    await assert.rejects(evictPod(core, 'shop', 'cart-1'), /^Error: Cannot evict pod "shop\/cart-1": HTTP 403: status 403$/);
  });
});
