import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { Estimate, SweepArm, SweepResult } from '../sim/result.js';
import { estimate } from './fixture.test-helper.js';
import { renderSweepCharts, renderSweepTable, writeSweepReport } from './sweep.js';
import { assertWellFormedXml } from './xml.test-helper.js';

function arm(name: string, usd: number, saving?: Estimate, stowage = 0): SweepArm {
  return { name, description: name, usdPerDay: estimate(usd), ...(saving === undefined ? {} : { saving, uptimeNonInferior: true }), outages: estimate(stowage), stowageOutages: estimate(stowage), evictions: estimate(10) };
}

/** Two fields of two and three values; T3's saving grows with cpu, and it caused one outage at one point. */
function fixture(): SweepResult {
  const cpus = ['100m', '250m'];
  const ratios = ['0.2', '0.5', '0.9'];
  return {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'SweepResult',
    scenario: { name: 'default', source: 'embedded:default', durationSeconds: 86_400 },
    seeds: [1, 2, 3],
    baseline: 'B0',
    axes: [
      { path: 'spec.services.generate.cpu.median', values: cpus },
      { path: 'spec.usage.ratio.median', values: ratios },
    ],
    points: cpus.flatMap((cpu, i) =>
      ratios.map((ratio, j) => ({
        settings: { 'spec.services.generate.cpu.median': cpu, 'spec.usage.ratio.median': ratio },
        arms: [arm('B0', 100), arm('T1', 97, estimate(0.03, 0.01, 0.05)), arm('<T3>', 60 - i * 5, estimate(0.4 + i * 0.05 + j * 0.01, 0.35, 0.5), i === 1 && j === 2 ? 1 : 0)],
      })),
    ),
    wallSeconds: 12,
    stowageVersion: '0.1.0',
  };
}

test('the table has a row per combination and arm, with the varied values first', () => {
  const lines = renderSweepTable(fixture()).trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^Sweep of default: 6 combinations × 3 seeds, 12s$/);
  assert.match(lines[1] ?? '', /^CPU\.MEDIAN\s+RATIO\.MEDIAN\s+ARM\s+\$\/DAY\s+SAVING VS B0 \(95% CI\)\s+OUTAGES\s+BY STOWAGE\s+EVICTIONS$/);
  assert.equal(lines.length, 2 + 6 * 3);
  assert.match(lines[2] ?? '', /^\s*100m\s+0\.2\s+B0\s+\$100\s+—/);
  assert.match(lines.at(-1) ?? '', /^\s*250m\s+0\.9\s+<T3>\s+\$55\.0\s+47% \(35–50%\)\s+1\.0\s+1\.0\s+10$/);
});

test('each field gets a saving and an outage chart per combination of the other fields', () => {
  const charts = renderSweepCharts(fixture());
  // cpu: one panel per ratio value (3); ratio: one per cpu value (2); two charts each.
  assert.equal(charts.length, 2 * (3 + 2));
  assert.deepEqual(charts.slice(0, 2).map((c) => c.id), ['sweep-services-generate-cpu-median-1-saving', 'sweep-services-generate-cpu-median-1-stowage-outages']);
  for (const chart of charts) {
    assertWellFormedXml(chart.svg);
    assert.doesNotThrow(() => new Resvg(chart.svg), chart.id);
    assert.ok(chart.svg.includes('&lt;T3&gt;') && !chart.svg.includes('<T3>'), `${chart.id}: the arm name escaped`);
  }
  // The cpu panel at ratio 0.2 has one category per cpu value and one bar per non-baseline arm.
  const first = charts[0]?.svg ?? '';
  assert.equal([...first.matchAll(/class="bar"/g)].length, 2 * 2);
  assert.ok(first.includes('ratio.median=0.2'), 'the fixed value of the other field is named');
});

test('the report writes the JSON as is, the HTML with every chart, and a PNG per chart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-sweep-'));
  const result = fixture();
  const written = await writeSweepReport(result, dir);
  assert.deepEqual(JSON.parse(await readFile(written.json, 'utf8')), result);
  const html = await readFile(written.html, 'utf8');
  assert.equal([...html.matchAll(/<figure /g)].length, 10);
  const files = await readdir(dir);
  assert.equal(files.filter((f) => f.endsWith('.png')).length, written.pngError === undefined ? 10 : 0, written.pngError);
});
