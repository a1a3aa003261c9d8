import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './flags.js';

test('parseDuration reads Go-style durations into milliseconds', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [' 45s ', 45_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text, '--x'), ms, text);
});

test('parseDuration rejects bare numbers, unknown units and trailing garbage, naming the flag', () => {
  for (const text of ['10', '10x', 's', '1m30', '', 'abc', '5s!']) {
    assert.throws(() => parseDuration(text, '--interval'), (e: Error) => e.message.startsWith(`Invalid --interval "${text}"`), text);
  }
});
