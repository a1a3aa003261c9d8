import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture } from './fixture.test-helper.js';
import { renderTable } from './table.js';
import type { TodayResult } from '../sim/result.js';
import { renderHtmlReport } from './html.js';
import { formatCauses, summaryRows } from './summary.js';

// eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
const ANSI = /\x1b\[[\d;]*m/;

function rowOf(table: string, arm: string): string {
  const line = table.split('\n').find((l) => l.startsWith(`${arm} `) && l.includes('$'));
  assert.ok(line !== undefined, `no table row for ${arm}`);
  return line;
}

test('each arm row carries its cost, capacity, uptime, disruption and verdict numbers', () => {
  const table = renderTable(makeFixture());
  assert.match(table, /^Scenario "default" · 2 d simulated · 3 seeds · baseline B0\n/);
  const header = table.split('\n')[2] ?? '';
  for (const title of ['$/day ± CI', 'Saving vs B0', 'Node-h OD / spot', 'Req util', 'A1 % mean/worst', 'A2 % mean/worst', 'Outages n/time', 'Evictions', 'Churn vs B0', 'p99 pending', 'Verdict']) {
    assert.ok(header.includes(title), `header lacks "${title}"`);
  }
  const t3 = rowOf(table, 'T3');
  for (const cell of ['$700 ± $20', '41% (38–44%)', '432 / 768', '55%', '99.980 / 99.870', '99.840 / 99.350', '0.7 / 1.8 min', '655', '2.3 min', 'saves 41% (38–44%), uptime non-inferior']) {
    assert.ok(t3.includes(cell), `T3 row lacks "${cell}": ${t3}`);
  }
  const b0 = rowOf(table, 'B0');
  assert.ok(b0.includes('$1,200 ± $20') && b0.includes('1,440 / 0') && b0.trimEnd().endsWith('baseline'), b0);
  const naive = rowOf(table, 'NAIVE');
  assert.ok(naive.includes('-2.5% (-4.0 to -1.0%)'), naive);
  assert.ok(naive.includes('costs 2.5% more (1.0–4.0%), uptime may be worse (margin 0.1 pp)'), naive);
  assert.ok(naive.includes('4,320') && naive.includes('6.3 / 21 min') && naive.includes('6.8 min'), naive);
  assert.ok(rowOf(table, 'T1').includes('8.3% (7.0–9.5%)'));
  // T2: 412 more evictions and 12 more node launches than B0 for $500 saved over the two days.
  assert.ok(rowOf(table, 'T2').includes('+412 ev / +12 nodes; 0.82 / 0.02 per $'), rowOf(table, 'T2'));
  // NAIVE costs more: its churn has no per-dollar figure.
  assert.ok(naive.includes('+4,320 ev / 0 nodes') && !naive.includes('per $'), naive);
});

test('one verdict line per arm follows the table, with the simulator\'s sentence when it gave one', () => {
  const lines = renderTable(makeFixture()).split('\n');
  const verdictLines = lines.filter((l) => /^(B0|T\d|NAIVE) {2,}\S/.test(l) && !l.includes('$'));
  assert.deepEqual(verdictLines.map((l) => l.split(/\s+/)[0]), ['B0', 'T1', 'T2', 'T3', 'T4', 'NAIVE']);
  assert.match(verdictLines[0] ?? '', /baseline: default scheduler \+ autoscaler, all on-demand/);
  assert.match(verdictLines[1] ?? '', /saves 8\.3% \(7\.0–9\.5%\), uptime non-inferior$/);
  assert.match(verdictLines[3] ?? '', /T3 saves 41% \(38–44%\) of B0 .* safe to enable\.$/);
  assert.match(verdictLines[5] ?? '', /do not use\.$/);
});

test('no colour unless asked; colour marks verdicts green and red', () => {
  assert.doesNotMatch(renderTable(makeFixture()), ANSI);
  const coloured = renderTable(makeFixture(), { color: true });
  assert.ok(coloured.includes('\x1b[32msaves 41% (38–44%), uptime non-inferior\x1b[0m'), 'T3 verdict not green');
  assert.ok(coloured.includes('\x1b[31mcosts 2.5% more'), 'NAIVE verdict not red');
});

test('a narrow terminal gets the table in blocks, every line within its width', () => {
  for (const width of [80, 100, 140]) {
    const table = renderTable(makeFixture(), { width });
    for (const line of table.split('\n')) assert.ok([...line].length <= width, `line wider than ${String(width)}: "${line}"`);
    assert.ok(table.includes('$700 ± $20') && table.includes('99.840 / 99.350') && table.includes('2.3 min'), 'a column went missing');
    assert.ok(table.includes('saves 41% (38–44%)'), 'the verdict went missing');
  }
  const wide = renderTable(makeFixture(), { width: 400 });
  assert.equal(wide.split('\n').filter((l) => l.startsWith('Arm ')).length, 1);
  // 80 columns hold neither the whole table, nor the cost part with the bound and CPU use, nor the
  // uptime part with its causes: four blocks.
  assert.equal(renderTable(makeFixture(), { width: 80 }).split('\n').filter((l) => l.startsWith('Arm ')).length, 4);
  assert.ok(renderTable(makeFixture(), { width: 80 }).includes('33% (31–35%) of $900'), 'the distance to the bound went missing');
});

test('columns line up: every row of a block is as wide as its rule', () => {
  const lines = renderTable(makeFixture()).split('\n');
  const rule = lines[3] ?? '';
  assert.match(rule, /^─+( {2}─+)+$/);
  const starts = [...rule.matchAll(/─+/g)].map((m) => m.index);
  for (const arm of ['B0', 'T3', 'NAIVE']) {
    const row = rowOf(lines.join('\n'), arm);
    for (const start of starts.slice(1)) assert.equal(row.slice(start - 2, start), '  ', `${arm} row breaks the column at ${String(start)}`);
  }
});

test('an arm without a verdict and a one-seed run still print', () => {
  const base = makeFixture({ arms: 2 });
  const arm = base.arms[1];
  assert.ok(arm !== undefined);
  const { verdict: _verdict, ...withoutVerdict } = arm;
  const table = renderTable({ ...base, seeds: [7], arms: [base.arms[0] ?? arm, withoutVerdict] });
  assert.match(table, / 1 seed · /);
  assert.ok(rowOf(table, 'T1').includes('no verdict'));
});

test('outage causes read Stowage first, then the causes any run had', () => {
  const e = (mean: number) => ({ mean, low: mean, high: mean, samples: [mean] });
  assert.equal(formatCauses({ 'spot-reclaim': e(0.4) }, { 'spot-reclaim': e(1.2), 'no-capacity': e(3) }), 'stowage 0/0 · spot 0.4/1.2 · no capacity 0/3');
  assert.equal(formatCauses({}, {}), 'stowage 0/0');
  assert.equal(formatCauses(undefined, undefined), '—');
});

test('a run from a snapshot starts with today, the cluster as it runs now, then the baseline and each arm', () => {
  const today: TodayResult = {
    description: 'the cluster as it runs now: its 4 nodes (2 on-demand, 2 spot) from the snapshot, kept as they are (no autoscaler, no Stowage)',
    takenAt: '2024-05-01T12:00:00.000Z',
    usdPerDay: 1500,
    nodes: { onDemand: 2, spot: 2, unknown: 0 },
    nodeHoursOnDemand: 96,
    nodeHoursSpot: 96,
    requestedUtilisation: 0.25,
  };
  const result = { ...makeFixture(), today };
  const rows = summaryRows(result);
  assert.deepEqual(rows.map((r) => r.arm), ['today', 'B0', 'T1', 'T2', 'T3', 'T4', 'NAIVE']);
  const first = rows[0];
  assert.equal(first?.status, 'today');
  assert.deepEqual([first?.cells.usdPerDay, first?.cells.saving, first?.cells.nodeHours, first?.cells.utilisation, first?.cells.uptimeA1], ['$1,500', '—', '96 / 96', '25%', '—']);
  // B0 of the fixture costs $1,200 a day: 20% less than today.
  assert.equal(first?.summary, `${today.description}: $1,500/day; B0, the same workloads under the autoscaler, costs $1,200/day (20% less)`);
  const lines = renderTable(result).split('\n');
  const at = (arm: string): number => lines.findIndex((l) => l.startsWith(`${arm} `));
  assert.ok(at('today') > 0 && at('today') < at('B0') && at('B0') < at('T1'), 'rows read today → B0 → each arm');
  assert.match(renderHtmlReport(result), /<th scope="row" title="the cluster as it runs now[^"]*">today<\/th>/);
  assert.equal(summaryRows(makeFixture())[0]?.arm, 'B0', 'no today row without a snapshot');
});
