import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearScale, niceAxis, niceStep, timeAxis } from './scale.js';
import { stepDecimals } from './svg.js';

test('niceStep rounds up to 1, 2, 2.5 or 5 times a power of ten', () => {
  assert.deepEqual([0.7, 1.3, 2.2, 4, 7, 0.0013].map(niceStep), [1, 2, 2.5, 5, 10, 0.002]);
});

test('niceAxis covers the data with round ticks', () => {
  assert.deepEqual(niceAxis(0, 87, 5), { min: 0, max: 100, step: 20, ticks: [0, 20, 40, 60, 80, 100] });
  const uptime = niceAxis(0.99, 1, 5);
  assert.deepEqual(uptime.ticks, [0.99, 0.992, 0.994, 0.996, 0.998, 1]);
  assert.deepEqual(niceAxis(0, 0, 5).ticks.slice(0, 2), [0, 0.2]);
  assert.deepEqual(niceAxis(-0.04, 0.5, 8).ticks, [-0.1, 0, 0.1, 0.2, 0.3, 0.4, 0.5]);
});

test('timeAxis chooses hours for two days and days for a week', () => {
  const twoDays = timeAxis(2 * 86_400, 10);
  assert.equal(twoDays.unit, 'h');
  assert.deepEqual(twoDays.labels, ['0', '6', '12', '18', '24', '30', '36', '42', '48']);
  const week = timeAxis(7 * 86_400, 10);
  assert.equal(week.unit, 'd');
  assert.deepEqual(week.labels, ['0', '1', '2', '3', '4', '5', '6', '7']);
  assert.equal(timeAxis(3600, 10).unit, 'min');
});

test('linearScale maps ends to ends, and an empty domain to the middle', () => {
  const s = linearScale(0, 10, 100, 200);
  assert.equal(s(0), 100);
  assert.equal(s(5), 150);
  assert.equal(linearScale(3, 3, 0, 10)(3), 5);
});

test('stepDecimals is the fewest decimals that print a step exactly', () => {
  assert.deepEqual([20, 2.5, 0.25, 0.05, 0.1 + 0.2].map(stepDecimals), [0, 1, 2, 2, 1]);
});
