import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
import { evictPod } from './evict.js';

function fakeCore(responses: readonly (number | 'ok')[]): { core: CoreV1Api; calls: unknown[] } {
  const calls: unknown[] = [];
  let i = 0;
  const core = {
    createNamespacedPodEviction: async (request: unknown) => {
      calls.push(request);
      const r = responses[Math.min(i++, responses.length - 1)];
      if (r === 'ok') return {};
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

  test('a 429 is a PDB saying no: returned at once, never retried', async () => {
    const { core, calls } = fakeCore([429]);
    const outcome = await evictPod(core, 'shop', 'cart-1');
    assert.equal(outcome.kind, 'blocked');
    assert.equal(calls.length, 1);
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
