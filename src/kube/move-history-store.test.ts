import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_MOVE_HISTORY, movesInLastHour, recordMove, restingUntil } from '../policy/deschedule/anti-flap.js';
import { decodeMoveHistory, encodeMoveHistory } from './move-history-store.js';

test('a history survives encoding: what still matters comes back, what cannot matter any more is dropped', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  const options = { minMoveIntervalMs: 30 * 60_000, maxMovesPerHour: 10 };
  let history = EMPTY_MOVE_HISTORY;
  history = recordMove(history, 'shop/Deployment/old', now - 45 * 60_000);
  history = recordMove(history, 'shop/Deployment/web', now - 10 * 60_000);
  history = recordMove(history, 'shop/Deployment/api', now - 5 * 60_000);
  const text = encodeMoveHistory(history, now, options);
  const { history: back, problem } = decodeMoveHistory(text);
  assert.equal(problem, undefined);
  // "old" rests no more (45 min > 30 min) but its move still counts against the hourly budget.
  assert.deepEqual([...back.lastMovedAt.keys()].sort(), ['shop/Deployment/api', 'shop/Deployment/web']);
  assert.equal(back.lastMovedAt.get('shop/Deployment/web'), now - 10 * 60_000);
  assert.deepEqual(back.times, [now - 45 * 60_000, now - 10 * 60_000, now - 5 * 60_000]);
  assert.equal(movesInLastHour(back, now), 3);
  assert.equal(restingUntil(back, 'shop/Deployment/web', now, options), now + 20 * 60_000);
  assert.equal(restingUntil(back, 'shop/Deployment/old', now, options), undefined);
  // An hour on, nothing is left to keep.
  assert.deepEqual(JSON.parse(encodeMoveHistory(back, now + 61 * 60_000, options)), { lastMovedAt: {}, times: [] });
});

test('a stored history that is not one is forgotten with a reason, and bad entries are dropped', () => {
  for (const text of ['{', '[]', 'null', '"x"']) {
    const { history, problem } = decodeMoveHistory(text);
    assert.equal(history.lastMovedAt.size, 0, text);
    assert.equal(history.times.length, 0, text);
    assert.ok(problem !== undefined && problem.length > 0, text);
  }
  assert.deepEqual(decodeMoveHistory(undefined), { history: EMPTY_MOVE_HISTORY });
  const { history, problem } = decodeMoveHistory(JSON.stringify({ lastMovedAt: { a: 'yesterday', b: '2026-12-06T11:00:00Z', c: 5 }, times: ['2026-12-06T11:30:00Z', 7, 'no', '2026-12-06T11:00:00Z'] }));
  assert.equal(problem, undefined);
  assert.deepEqual([...history.lastMovedAt], [['b', Date.parse('2026-12-06T11:00:00Z')]]);
  assert.deepEqual(history.times, [Date.parse('2026-12-06T11:00:00Z'), Date.parse('2026-12-06T11:30:00Z')], 'sorted, oldest first');
});
