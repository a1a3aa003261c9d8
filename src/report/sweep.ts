/**
 * Reports of a sweep (`stowage simulate --vary`): a terminal table with one row per combination
 * and arm, and per varied field two charts against its values: each arm's saving with its 95%
 * interval, and the outages Stowage caused. With several fields, each field gets a pair of charts
 * per combination of the others, so no value is averaged away.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Estimate, SweepResult } from '../sim/result.js';
import { SCENARIO_AXIS } from '../sim/sweep.js';
import { escapeXml, formatNumber, formatRange, formatUsd, percentDecimals } from './format.js';
import { renderPng } from './png.js';
import type { PngOptions } from './png.js';
import { niceAxis } from './scale.js';
import { armColors, intervalBarChart, stepDecimals, toChart } from './svg.js';
import type { Chart } from './svg.js';
import { renderTextTable } from './text-table.js';

/** File names written by {@link writeSweepReport}. */
export const SWEEP_FILES = { html: 'sweep.html', json: 'sweep.json' } as const;

/** The terminal table: the varied values, then per arm its cost, saving, distance above the packing bound and outages. */
export function renderSweepTable(result: SweepResult): string {
  const bound = result.points.some((p) => p.arms.some((a) => a.aboveBound !== undefined));
  const columns = [
    ...result.axes.map((a) => ({ header: _shortPath(a.path), align: a.path === SCENARIO_AXIS ? ('left' as const) : ('right' as const) })),
    { header: 'arm' },
    { header: '$/day', align: 'right' as const },
    { header: `saving vs ${result.baseline} (95% CI)`, align: 'right' as const },
    ...(bound ? [{ header: 'above bound', align: 'right' as const }] : []),
    { header: 'outages', align: 'right' as const },
    { header: 'by Stowage', align: 'right' as const },
    { header: 'evictions', align: 'right' as const },
  ];
  const rows = result.points.flatMap((point) =>
    point.arms.map((arm) => [
      ...result.axes.map((a) => point.settings[a.path] ?? ''),
      arm.name,
      formatUsd(arm.usdPerDay.mean),
      arm.saving === undefined ? '—' : _savingText(arm.saving),
      ...(bound ? [arm.aboveBound === undefined ? '—' : `${formatNumber(arm.aboveBound.mean * 100, 1)}%`] : []),
      formatNumber(arm.outages.mean, 1),
      formatNumber(arm.stowageOutages.mean, 1),
      formatNumber(arm.evictions.mean, 0),
    ]),
  );
  const seeds = result.seeds.length;
  const header = `Sweep of ${result.scenario.name}: ${result.points.length} combinations × ${seeds} seed${seeds === 1 ? '' : 's'}, ${formatNumber(result.wallSeconds, 0)}s\n`;
  return `${header}${renderTextTable(columns, rows)}`;
}

/** The sweep's charts: per varied field (and combination of the others), saving and Stowage-caused outages. */
export function renderSweepCharts(result: SweepResult): readonly Chart[] {
  const first = result.points[0];
  if (first === undefined) return [];
  const colors = armColors({ arms: first.arms, baseline: result.baseline });
  const arms = first.arms.filter((a) => a.name !== result.baseline).map((a) => a.name);
  const legend = arms.map((name) => ({ label: name, color: colors.get(name) ?? '#222222', marker: 'box' as const }));
  const charts: Chart[] = [];
  result.axes.forEach((axis, a) => {
    const others = result.axes.filter((_, i) => i !== a);
    // One panel per combination of the other fields' values.
    const fixed: Record<string, string>[] = others.reduce<Record<string, string>[]>((acc, o) => acc.flatMap((c) => o.values.map((v) => ({ ...c, [o.path]: v }))), [{}]);
    fixed.forEach((others_, k) => {
      const points = axis.values.map((value) => result.points.find((p) => p.settings[axis.path] === value && Object.entries(others_).every(([path, v]) => p.settings[path] === v)));
      const at = Object.entries(others_).map(([path, v]) => `${_shortPath(path)}=${v}`).join(', ');
      const suffix = fixed.length === 1 ? '' : `-${k + 1}`;
      const where = at === '' ? '' : ` at ${at}`;
      const groups = (pick: (arm: SweepResult['points'][number]['arms'][number]) => Estimate | undefined) =>
        axis.values.map((value, i) => ({
          category: value,
          bars: arms.map((name) => {
            const e = pick(points[i]?.arms.find((x) => x.name === name) ?? _NO_ARM) ?? _ZERO;
            return { value: e.mean, low: e.low, high: e.high, color: colors.get(name) ?? '#222222' };
          }),
        }));
      const saving = groups((x) => x.saving);
      const [lo, hi] = _range(saving);
      const savingAxis = niceAxis(Math.min(0, lo), Math.max(0, hi), 6);
      const savingDecimals = stepDecimals(savingAxis.step * 100);
      const id = `sweep-${_slug(axis.path)}${suffix}`;
      charts.push(
        toChart(
          `${id}-saving`,
          `Saving vs ${result.baseline} by ${_shortPath(axis.path)}${where}`,
          `Share of ${result.baseline}'s cost each arm saves at each value of ${axis.path}${where}, with its 95% confidence interval over ${result.seeds.length} seeds.`,
          intervalBarChart({
            title: `Saving vs ${result.baseline} by ${axis.path}`,
            subtitle: `${result.scenario.name}${where}; 95% CI over ${result.seeds.length} seeds; negative means dearer`,
            groups: saving,
            legend,
            yLabel: `Saving vs ${result.baseline} (%)`,
            yMin: savingAxis.min,
            yMax: savingAxis.max,
            barBase: 0,
            maxTicks: 6,
            formatTick: (v) => formatNumber(v * 100, savingDecimals),
          }),
        ),
      );
      const outages = groups((x) => x.stowageOutages);
      const [, most] = _range(outages);
      const outageAxis = niceAxis(0, Math.max(1, most), 5);
      charts.push(
        toChart(
          `${id}-stowage-outages`,
          `Outages caused by Stowage by ${_shortPath(axis.path)}${where}`,
          `Outages per run whose cause is a Stowage eviction or surge, per arm and value of ${axis.path}${where}, with 95% confidence intervals; the goal is zero everywhere.`,
          intervalBarChart({
            title: `Outages caused by Stowage by ${axis.path}`,
            subtitle: `${result.scenario.name}${where}; mean per run over ${result.seeds.length} seeds; the goal is zero`,
            groups: outages,
            legend,
            yLabel: 'Outages caused by Stowage (per run)',
            yMin: 0,
            yMax: outageAxis.max,
            barBase: 0,
            formatTick: (v) => formatNumber(v, stepDecimals(outageAxis.step)),
          }),
        ),
      );
    });
  });
  return charts;
}

/**
 * Writes `sweep.json`, `sweep.html` (the table and the charts inline) and each chart as PNG into
 * `dir`; returns the paths written. PNGs are left out, with the reason, when no font renders text.
 */
export async function writeSweepReport(result: SweepResult, dir: string, options: PngOptions = {}): Promise<{ readonly html: string; readonly json: string; readonly pngs: readonly string[]; readonly pngError?: string }> {
  await mkdir(dir, { recursive: true });
  const json = resolve(join(dir, SWEEP_FILES.json));
  const html = resolve(join(dir, SWEEP_FILES.html));
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`, 'utf8');
  const charts = renderSweepCharts(result);
  await writeFile(html, _html(result, charts), 'utf8');
  const pngs: string[] = [];
  try {
    for (const chart of charts) {
      const path = resolve(join(dir, `${chart.id}.png`));
      await writeFile(path, await renderPng(chart.svg, options));
      pngs.push(path);
    }
  } catch (error) {
    return { html, json, pngs, pngError: error instanceof Error ? error.message : String(error) };
  }
  return { html, json, pngs };
}

const _ZERO: Estimate = { mean: 0, low: 0, high: 0, samples: [] };
const _NO_ARM = { name: '', description: '', usdPerDay: _ZERO, outages: _ZERO, stowageOutages: _ZERO, evictions: _ZERO };

function _savingText(s: Estimate): string {
  const decimals = percentDecimals(s.mean, s.low, s.high);
  const p = (v: number): string => formatNumber(v * 100, decimals);
  return `${p(s.mean)}% (${formatRange(s.low, s.high, p, '%')})`;
}

function _range(groups: readonly { readonly bars: readonly { readonly low: number; readonly high: number; readonly value: number }[] }[]): readonly [number, number] {
  let lo = 0;
  let hi = 0;
  for (const g of groups) {
    for (const b of g.bars) {
      for (const v of [b.low, b.high, b.value]) {
        if (!Number.isFinite(v)) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return [lo, hi];
}

/**
 * `spec.services.generate.cpu.median` → `cpu.median`, `spec.services.list.0.replicas` →
 * `list.0.replicas`: the last two names (and any index between them) name a field well enough in
 * a column.
 */
function _shortPath(path: string): string {
  const segments = path.split('.');
  let names = 0;
  let start = segments.length;
  while (start > 0 && names < 2) {
    start -= 1;
    if (!/^\d+$/.test(segments[start] ?? '')) names += 1;
  }
  return segments.slice(start).join('.');
}

function _slug(path: string): string {
  return path.replace(/^spec\./, '').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
}

function _html(result: SweepResult, charts: readonly Chart[]): string {
  const e = escapeXml;
  const table = renderSweepTable(result);
  const figures = charts.map((c) => `<figure id="${e(c.id)}">\n${c.svg.trimEnd()}\n<figcaption>${e(c.caption)}</figcaption>\n</figure>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${e(`Stowage sweep: ${result.scenario.name}`)}</title>
<style>body{font-family:DejaVu Sans,Verdana,Arial,sans-serif;max-width:960px;margin:2em auto;color:#222}pre{font-size:12px;overflow-x:auto}figure{margin:2em 0}figcaption{color:#555;font-size:14px}</style>
</head>
<body>
<h1>${e(`Stowage sweep: ${result.scenario.name}`)}</h1>
<p>Varied: ${result.axes.map((a) => `<code>${e(a.path)}</code> = ${e(a.values.join(', '))}`).join('; ')}. Seeds ${e(result.seeds.join(', '))}. Baseline <strong>${e(result.baseline)}</strong>. Stowage ${e(result.stowageVersion)}.</p>
<pre>${e(table)}</pre>
${figures}
</body>
</html>
`;
}
