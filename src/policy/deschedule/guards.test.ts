import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainRetryAt, pdbAllowance, recordDrainFailure } from './guards.js';
import { pdb, pod } from './fixtures.test-helper.js';

const pods = (ready: number, notReady = 0) => [
  ...Array.from({ length: ready }, (_, i) => pod(`web-${i}`, 'n1')),
  ...Array.from({ length: notReady }, (_, i) => pod(`web-u${i}`, 'n1', { ready: false })),
];

test('pdbAllowance computes like the disruption controller and keeps the stricter of status and snapshot', () => {
  const cases: readonly [spec: Parameters<typeof pdb>[2], ready: number, notReady: number, expected: number, computed: number][] = [
    [{ minAvailable: 2, disruptionsAllowed: 5 }, 3, 0, 4, 1], // 3 healthy − 2
    [{ minAvailable: '50%', disruptionsAllowed: 5 }, 3, 1, 4, 1], // ceil(50% of 4) = 2 desired; 3 healthy
    [{ minAvailable: undefined, maxUnavailable: 1, disruptionsAllowed: 5 }, 4, 0, 4, 1], // desired 4 − 1 = 3
    [{ minAvailable: undefined, maxUnavailable: '30%', disruptionsAllowed: 5 }, 10, 0, 10, 3], // ceil(3) → desired 7
    [{ minAvailable: undefined, maxUnavailable: '25%', disruptionsAllowed: 5 }, 3, 0, 3, 1], // ceil(0.75) = 1 → desired 2
    [{ minAvailable: 3, disruptionsAllowed: 5 }, 2, 1, 3, 0], // below its floor already
  ];
  for (const [spec, ready, notReady, expected, computed] of cases) {
    const a = pdbAllowance(pdb('p', 'web', spec), pods(ready, notReady), expected);
    assert.deepEqual(a, { fromStatus: 5, computed, allowed: Math.min(5, computed) }, JSON.stringify(spec));
  }
  assert.equal(pdbAllowance(pdb('p', 'web', { minAvailable: 1, disruptionsAllowed: 0 }), pods(3), 3).allowed, 0);
  // Terminating and finished pods are not healthy.
  const gone = [pod('web-0', 'n1'), pod('web-1', 'n1', { deletionRequestedAt: 1 }), pod('web-2', 'n1', { phase: 'Succeeded' })];
  assert.equal(pdbAllowance(pdb('p', 'web', { minAvailable: 1, disruptionsAllowed: 2 }), gone, 3).computed, 0);
});

test('drain backoff doubles per failure, capped', () => {
  const backoff = { baseMs: 60_000, maxMs: 300_000 };
  assert.equal(drainRetryAt(undefined, backoff), undefined);
  assert.equal(drainRetryAt({ count: 1, lastAt: 1000 }, backoff), 61_000);
  assert.equal(drainRetryAt({ count: 3, lastAt: 1000 }, backoff), 241_000);
  assert.equal(drainRetryAt({ count: 50, lastAt: 1000 }, backoff), 301_000);
  const once = recordDrainFailure(new Map(), 'n1', 10);
  const twice = recordDrainFailure(once, 'n1', 20);
  assert.deepEqual([...twice], [['n1', { count: 2, lastAt: 20 }]]);
  assert.deepEqual([...once], [['n1', { count: 1, lastAt: 10 }]], 'the input map is not changed');
});
