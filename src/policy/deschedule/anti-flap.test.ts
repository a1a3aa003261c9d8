import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ANTI_FLAP, EMPTY_MOVE_HISTORY, movesInLastHour, recordMove, restingUntil } from './anti-flap.js';

const HOUR = 3_600_000;

test('a workload rests for the interval after its last move, then may move again', () => {
  const options = { minMoveIntervalMs: 600_000, maxMovesPerHour: 10 };
  let h = recordMove(EMPTY_MOVE_HISTORY, 'Deployment/default/web', 1_000);
  assert.equal(restingUntil(h, 'Deployment/default/web', 1_000, options), 601_000);
  assert.equal(restingUntil(h, 'Deployment/default/web', 600_999, options), 601_000);
  assert.equal(restingUntil(h, 'Deployment/default/web', 601_000, options), undefined);
  assert.equal(restingUntil(h, 'Deployment/default/api', 1_000, options), undefined, 'another workload is not resting');
  h = recordMove(h, 'Deployment/default/web', 500_000);
  assert.equal(restingUntil(h, 'Deployment/default/web', 601_000, options), 1_100_000, 'the last move counts');
  assert.equal(restingUntil(h, 'Deployment/default/web', 601_000, { ...options, minMoveIntervalMs: 0 }), undefined, 'an interval of 0 turns the rule off');
  assert.equal(restingUntil(undefined, 'Deployment/default/web', 0, options), undefined);
});

test('the churn window counts the moves of the last hour and forgets older ones', () => {
  let h = EMPTY_MOVE_HISTORY;
  for (const t of [0, 10, HOUR / 2, HOUR - 1]) h = recordMove(h, `w${t}`, t);
  assert.equal(movesInLastHour(h, HOUR - 1), 4);
  assert.equal(movesInLastHour(h, HOUR), 3, 'the move at 0 is an hour old');
  assert.equal(movesInLastHour(h, HOUR + 11), 2);
  h = recordMove(h, 'late', 2 * HOUR);
  assert.deepEqual(h.times, [2 * HOUR], 'recording drops what left the window');
  assert.equal(DEFAULT_ANTI_FLAP.minMoveIntervalMs > 0 && DEFAULT_ANTI_FLAP.maxMovesPerHour > 0, true);
});
