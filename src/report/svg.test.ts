import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import type { SimulationResult } from '../sim/result.js';
import { makeFixture } from './fixture.test-helper.js';
import { costRateChart, cumulativeCostChart, lineChart, nodesByCapacityChart, renderCharts, savingChart, uptimeChart } from './svg.js';
import { assertWellFormedXml } from './xml.test-helper.js';

const TRICKY = '<b>&';

function texts(svg: string): readonly string[] {
  return [...svg.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)].map((m) => (m[1] ?? '').replace(/<[^>]+>/g, ''));
}

test('the XML check itself rejects what is not well-formed', () => {
  assertWellFormedXml('<svg a="1"><g><text>x &amp; y</text></g><path d="M0 0"/></svg>');
  for (const bad of ['<svg><g></svg>', '<svg>a & b</svg>', '<svg a="1" a="2"/>', '<svg a=1/>', '<svg/><svg/>', '<svg><text>1 < 2</text></svg>', '<svg t="<"/>']) {
    assert.throws(() => assertWellFormedXml(bad), /Not well-formed XML/, bad);
  }
});

test('every chart is well-formed standalone SVG that a real XML parser (resvg) accepts', () => {
  const charts = renderCharts(makeFixture({ rename: { index: 2, name: TRICKY } }));
  assert.deepEqual(charts.map((c) => c.id), ['cost-rate', 'cumulative-cost', 'nodes', 'uptime', 'saving']);
  for (const chart of charts) {
    assertWellFormedXml(chart.svg);
    assert.match(chart.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="900" height="400" viewBox="0 0 900 400"/);
    assert.doesNotMatch(chart.svg, /<script|<image|<foreignObject|href=|url\(/, `${chart.id} refers to something outside itself`);
    assert.doesNotThrow(() => new Resvg(chart.svg), chart.id);
  }
});

test('text is escaped: an arm named "<b>&" appears as text in every chart that names arms', () => {
  const result = makeFixture({ rename: { index: 2, name: TRICKY } });
  for (const svg of [costRateChart(result), cumulativeCostChart(result), nodesByCapacityChart(result), uptimeChart(result), savingChart(result)]) {
    assert.ok(svg.includes('&lt;b&gt;&amp;'), 'escaped name missing');
    assert.ok(!svg.includes(TRICKY), 'raw name present');
  }
  const scenario = costRateChart({ ...result, scenario: { ...result.scenario, name: `"x" & 'y'` } });
  assert.ok(scenario.includes('&quot;x&quot; &amp; &#39;y&#39;'));
});

test('line charts have a legend entry per arm, time ticks, money ticks and axis titles', () => {
  const svg = costRateChart(makeFixture());
  const t = texts(svg);
  for (const arm of ['B0', 'T1', 'T2', 'T3', 'T4', 'NAIVE']) assert.ok(t.includes(arm), `legend lacks ${arm}`);
  for (const tick of ['0', '6', '12', '24', '48']) assert.ok(t.includes(tick), `x tick ${tick} missing`);
  assert.ok(t.includes('$0') && t.includes('$80'), `y ticks: ${t.join('|')}`);
  assert.ok(t.includes('Simulated time (h)') && t.includes('Cost ($ per hour)'));
  assert.equal((svg.match(/<path d="M[^"]*" fill="none" stroke="#/g) ?? []).length, 6, 'one line per arm');
  assert.match(svg, /stroke="#4D4D4D"[^>]*stroke-dasharray="6 4"/, 'the baseline is dashed grey');
  const cumulative = texts(cumulativeCostChart(makeFixture()));
  assert.ok(cumulative.some((s) => /^T3 \$1,\d{3}$/.test(s)), `the legend carries totals: ${cumulative.join('|')}`);
});

test('nodes chart: one panel per arm, stacked on-demand and spot areas, on a shared scale', () => {
  const svg = nodesByCapacityChart(makeFixture());
  const t = texts(svg);
  assert.ok(t.includes('On-demand') && t.includes('Spot'));
  assert.ok(t.some((s) => s.startsWith('T3') && s.includes('on-demand + 16 spot')), t.join('|'));
  assert.equal((svg.match(/fill="#E69F00" stroke="none"/g) ?? []).length, 6);
  assert.equal((svg.match(/fill="#0072B2" stroke="none"/g) ?? []).length, 6);
  assert.equal(t.filter((s) => s === '40').length, 6, 'each panel shows the shared top tick');
  const tall = nodesByCapacityChart({ ...makeFixture(), arms: [...makeFixture().arms, ...makeFixture().arms.map((a) => ({ ...a, name: `${a.name}b` }))] });
  assert.match(tall, /^<svg [^>]*height="(\d+)"/);
  assert.ok(Number(/height="(\d+)"/.exec(tall)?.[1]) > 400, 'more rows of panels make a taller chart');
});

test('uptime chart: A1 and A2 bars per arm with whiskers and labels, on a zoomed axis it admits', () => {
  const svg = uptimeChart(makeFixture());
  const t = texts(svg);
  assert.ok(t.some((s) => s.includes('Axis zoomed: it starts at 99.0%, not 0')), t.join('|'));
  assert.equal((svg.match(/<rect class="bar" [^>]*fill="#0072B2"\/>/g) ?? []).length, 6);
  assert.equal((svg.match(/<rect class="bar" [^>]*fill="#56B4E9"\/>/g) ?? []).length, 6);
  assert.equal((svg.match(/<path d="M[\d. MVH]+" stroke="#222222"/g) ?? []).length, 12 + 1, 'a whisker per bar, and one in the legend');
  for (const label of ['99.99', '99.90', '99.82', '99.21']) assert.ok(t.includes(label), `bar label ${label} missing`);
  assert.ok(t.includes('100.0') && t.includes('99.0') && t.includes('99.2'));
});

test('saving chart: one bar per non-baseline arm, coloured by the uptime verdict, with CI labels', () => {
  const svg = savingChart(makeFixture());
  const t = texts(svg);
  assert.ok(t.includes('41% (38–44%)') && t.includes('-2.5% (-4.0 to -1.0%)'), t.join('|'));
  assert.ok(!t.includes('B0'), 'no bar for the baseline');
  assert.deepEqual(t.filter((s) => /^-?\d+$/.test(s)), ['-10', '0', '10', '20', '30', '40', '50', '60'], 'y ticks fit the data');
  assert.equal((svg.match(/<rect class="bar" [^>]*fill="#009E73"\/>/g) ?? []).length, 4);
  assert.equal((svg.match(/<rect class="bar" [^>]*fill="#D55E00"\/>/g) ?? []).length, 1);
});

test('charts are deterministic and long series are thinned without losing peaks', () => {
  const fixture = makeFixture();
  assert.equal(renderCharts(fixture).map((c) => c.svg).join(''), renderCharts(makeFixture()).map((c) => c.svg).join(''));
  const values = Array.from({ length: 100_000 }, (_, i) => (i === 54_321 ? 999 : i % 10));
  const svg = lineChart({ title: 'Long', durationSeconds: 100_000, yLabel: 'v', formatY: String, series: [{ name: 'x', color: '#000', stepSeconds: 1, values }] });
  assert.ok(svg.length < 60_000, `SVG is ${String(svg.length)} characters`);
  const ys = [...(/<path d="([^"]+)" fill="none"/.exec(svg)?.[1] ?? '').matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(Math.min(...ys) < 110, 'the peak of 999 reaches near the top of the plot');
});

test('an empty result still renders valid charts', () => {
  const empty: SimulationResult = { ...makeFixture(), arms: [] };
  const charts = renderCharts(empty);
  assert.equal(charts.length, 4);
  for (const chart of charts) assertWellFormedXml(chart.svg);
});
