import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, formatDuration, formatNumber, formatPercent, formatRange, formatUptime, formatUsd, truncate } from './format.js';

test('escapeXml escapes markup and quotes and drops characters XML forbids', () => {
  assert.equal(escapeXml(`<b>& "x" 'y'`), '&lt;b&gt;&amp; &quot;x&quot; &#39;y&#39;');
  assert.equal(escapeXml('a\u0000b\u0007c\td'), 'abc\td');
});

test('formatNumber groups thousands, rounds, and never prints -0', () => {
  assert.equal(formatNumber(1234567.891, 2), '1,234,567.89');
  assert.equal(formatNumber(-1234.5), '-1,235');
  assert.equal(formatNumber(-0.0001, 1), '0.0');
  assert.equal(formatNumber(Number.NaN), 'n/a');
});

test('money, shares and uptimes print with the decimals that matter', () => {
  assert.equal(formatUsd(1234.4), '$1,234');
  assert.equal(formatUsd(56.78), '$56.8');
  assert.equal(formatUsd(0.421), '$0.42');
  assert.equal(formatUsd(-5), '-$5.00');
  assert.equal(formatPercent(0.4149), '41%');
  assert.equal(formatUptime(1), '100%');
  assert.equal(formatUptime(0.99987), '99.987%');
  assert.equal(formatUptime(0.9999999), '>99.999%');
  assert.equal(formatUptime(0.99987, false), '99.987');
});

test('formatDuration picks a readable unit', () => {
  assert.equal(formatDuration(45), '45 s');
  assert.equal(formatDuration(2.5), '2.5 s');
  assert.equal(formatDuration(252), '4.2 min');
  assert.equal(formatDuration(7200), '2 h');
  assert.equal(formatDuration(2.5 * 86_400), '2.5 d');
});

test('formatRange uses a dash between positive ends and "to" when an end is negative', () => {
  const pct = (v: number): string => formatNumber(v * 100);
  assert.equal(formatRange(0.38, 0.44, pct, '%'), '38–44%');
  assert.equal(formatRange(-0.04, 0.01, pct, '%'), '-4 to 1%');
});

test('truncate cuts on characters and marks the cut', () => {
  assert.equal(truncate('abcdef', 4), 'abc…');
  assert.equal(truncate('abc', 4), 'abc');
  assert.equal(truncate('€€€€€', 3), '€€…');
});
