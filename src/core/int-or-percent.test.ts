import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scaledIntOrPercent } from './int-or-percent.js';

test('a count stays as it is; a percentage of the total rounds up or down; garbage is undefined', () => {
  assert.equal(scaledIntOrPercent(2, 10, true), 2);
  assert.equal(scaledIntOrPercent('25%', 3, false), 0);
  assert.equal(scaledIntOrPercent('25%', 3, true), 1);
  assert.equal(scaledIntOrPercent('50%', 4, false), 2);
  assert.equal(scaledIntOrPercent('50%', 4, true), 2);
  assert.equal(scaledIntOrPercent('10', 40, false), 4, 'a string without its % sign is read as a percentage here (upstream rejects it)');
  assert.equal(scaledIntOrPercent('half', 4, true), undefined);
});
