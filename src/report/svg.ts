/**
 * Charts of a simulation as standalone SVG strings: no browser, no script, no external resource,
 * and the same result always gives the same bytes. Every text is escaped. Sized to be read at
 * 900×400; the HTML report inlines them and png.ts rasterises them.
 */
import type { ArmResult, SimulationResult } from '../sim/result.js';
import { escapeXml, formatNumber, formatRange, formatUsd, percentDecimals, truncate } from './format.js';
import { linearScale, niceAxis, niceStep, timeAxis } from './scale.js';

/** A rendered chart with what the report needs to show it. */
export interface Chart {
  /** File-name friendly id, e.g. `cost-rate`; png.ts writes `<id>.png`. */
  readonly id: string;
  readonly title: string;
  /** One or two sentences saying what the chart shows and how to read it. */
  readonly caption: string;
  readonly width: number;
  readonly height: number;
  readonly svg: string;
}

/** Size of a chart in pixels (CSS px; PNGs may be scaled). */
export interface ChartSize {
  readonly width?: number;
  readonly height?: number;
}

/** How a legend entry is drawn. */
export type LegendMarker = 'line' | 'dashed' | 'box' | 'whisker';

/** One legend entry. */
export interface LegendItem {
  readonly label: string;
  readonly color: string;
  readonly marker: LegendMarker;
}

/** One line of a {@link lineChart}: values sampled every `stepSeconds` from time 0. */
export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly stepSeconds: number;
  readonly values: readonly number[];
  /** Legend text; defaults to `name`. */
  readonly legendLabel?: string;
}

/** What {@link lineChart} draws. */
export interface LineChartSpec extends ChartSize {
  readonly title: string;
  readonly subtitle?: string;
  readonly durationSeconds: number;
  readonly series: readonly LineSeries[];
  /** Y axis title, with its unit, e.g. `Cost ($ per hour)`. */
  readonly yLabel: string;
  readonly formatY: (value: number) => string;
}

/** One bar with its confidence interval. */
export interface IntervalBar {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly color: string;
  /** Text above the bar (below it when the bar points down). */
  readonly label?: string;
}

/** Bars that share a category on the x axis. */
export interface IntervalBarGroup {
  readonly category: string;
  readonly bars: readonly IntervalBar[];
}

/** What {@link intervalBarChart} draws. */
export interface IntervalBarChartSpec extends ChartSize {
  readonly title: string;
  readonly subtitle?: string;
  readonly groups: readonly IntervalBarGroup[];
  readonly legend: readonly LegendItem[];
  readonly yLabel: string;
  /** The y axis range; bars grow from `barBase`. */
  readonly yMin: number;
  readonly yMax: number;
  readonly barBase: number;
  /** At most about this many y ticks (default 5). */
  readonly maxTicks?: number;
  readonly formatTick: (value: number) => string;
}

const _WIDTH = 900;
const _HEIGHT = 400;
const _FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';
const _INK = '#222222';
const _MUTED = '#555555';
const _GRID = '#e4e4e4';
/** Okabe–Ito colours, readable with colour-blindness; the baseline gets dark grey. */
const _PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#8C6D31', '#7F3C8D'];
const _BASELINE_COLOR = '#4D4D4D';
const _ON_DEMAND_COLOR = '#0072B2';
const _SPOT_COLOR = '#E69F00';
const _GOOD_COLOR = '#009E73';
const _BAD_COLOR = '#D55E00';
/** Average advance of DejaVu Sans glyphs in em, to lay out text without measuring it. */
const _EM_PER_CHAR = 0.62;
const _EM_PER_BOLD_CHAR = 0.7;

/** The colour of each arm, stable across charts: the baseline dark grey, the others in order. */
export function armColors(result: { readonly arms: readonly { readonly name: string }[]; readonly baseline: string }): ReadonlyMap<string, string> {
  const colors = new Map<string, string>();
  let next = 0;
  for (const arm of result.arms) {
    if (arm.name === result.baseline) colors.set(arm.name, _BASELINE_COLOR);
    else colors.set(arm.name, _PALETTE[next++ % _PALETTE.length] ?? _INK);
  }
  return colors;
}

/**
 * Every chart of the report, in reading order: cost rate, cumulative cost, nodes by capacity type,
 * uptime, and saving against the baseline (left out when no arm has a verdict).
 */
export function renderCharts(result: SimulationResult): readonly Chart[] {
  const charts: Chart[] = [
    toChart('cost-rate', 'Cost per hour', `What each arm pays per hour over the simulated time (first seed, ${_seedText(result)}). Cheaper arms run lower; spikes are scale-ups and replacements.`, costRateChart(result)),
    toChart('cumulative-cost', 'Cumulative cost', `Total spend since the start of the run (first seed); the legend gives each arm's total. The gap between two lines at the right edge is what one saves over the other.`, cumulativeCostChart(result)),
    toChart('nodes', 'Nodes by capacity type', 'Nodes running over time, on-demand stacked under spot, one panel per arm on a shared scale (first seed).', nodesByCapacityChart(result)),
    toChart('uptime', 'Uptime', 'Mean A1 and A2 over services and seeds, with 95% confidence intervals. The axis is zoomed in near 100%: compare the whiskers, not the bar heights from zero.', uptimeChart(result)),
  ];
  if (result.arms.some((a) => a.name !== result.baseline && a.verdict !== undefined)) {
    charts.push(toChart('saving', `Saving vs ${result.baseline}`, `Share of ${result.baseline}'s cost each arm saves, with its 95% confidence interval; green where uptime is non-inferior to ${result.baseline}.`, savingChart(result)));
  }
  return charts;
}

/** Cost per hour over time, one line per arm (first seed). */
export function costRateChart(result: SimulationResult, size: ChartSize = {}): string {
  const colors = armColors(result);
  return lineChart({
    ...size,
    title: 'Cost per hour, by arm',
    subtitle: `Scenario "${result.scenario.name}", first seed (${_seedText(result)})`,
    durationSeconds: result.scenario.durationSeconds,
    series: result.arms.map((arm) => _lineSeries(result, arm, colors, arm.series.usdPerHour)),
    yLabel: 'Cost ($ per hour)',
    formatY: _formatUsdTick,
  });
}

/** Cumulative cost over time, one line per arm, the legend carrying each arm's total (first seed). */
export function cumulativeCostChart(result: SimulationResult, size: ChartSize = {}): string {
  const colors = armColors(result);
  return lineChart({
    ...size,
    title: 'Cumulative cost, by arm',
    subtitle: `Scenario "${result.scenario.name}", first seed (${_seedText(result)}); legend: total at the end`,
    durationSeconds: result.scenario.durationSeconds,
    series: result.arms.map((arm) => {
      const last = arm.series.cumulativeUsd.at(-1);
      const series = _lineSeries(result, arm, colors, arm.series.cumulativeUsd);
      return last === undefined ? series : { ...series, legendLabel: `${arm.name} ${formatUsd(last)}` };
    }),
    yLabel: 'Cumulative cost ($)',
    formatY: _formatUsdTick,
  });
}

/**
 * Nodes over time by capacity type, one small panel per arm (on-demand stacked under spot), all
 * on the same y scale so panels compare at a glance. Grows taller past two rows of panels.
 */
export function nodesByCapacityChart(result: SimulationResult, size: ChartSize = {}): string {
  const width = size.width ?? _WIDTH;
  const arms = result.arms;
  const cols = arms.length <= 1 ? 1 : arms.length === 4 ? 2 : Math.min(arms.length, 3);
  const rows = Math.max(1, Math.ceil(arms.length / cols));
  const legend = _legend(
    [
      { label: 'On-demand', color: _ON_DEMAND_COLOR, marker: 'box' },
      { label: 'Spot', color: _SPOT_COLOR, marker: 'box' },
    ],
    16,
    54,
    width - 32,
  );
  const top = 54 + legend.height + 6;
  const bottomPad = 34;
  const minPanelHeight = 140;
  const height = Math.max(size.height ?? _HEIGHT, top + rows * minPanelHeight + bottomPad);
  const panelHeight = (height - top - bottomPad) / rows;
  const panelsLeft = 30;
  const panelWidth = (width - panelsLeft - 4) / cols;

  let maxNodes = 0;
  for (const arm of arms) {
    const n = Math.min(arm.series.nodesOnDemand.length, arm.series.nodesSpot.length);
    for (let i = 0; i < n; i++) maxNodes = Math.max(maxNodes, _finite(arm.series.nodesOnDemand[i]) + _finite(arm.series.nodesSpot[i]));
  }
  const yAxis = niceAxis(0, maxNodes, 4);
  const time = timeAxis(result.scenario.durationSeconds, Math.max(3, Math.floor(panelWidth / 45)));
  const nodeDecimals = stepDecimals(yAxis.step);
  const tickLabelWidth = Math.max(...yAxis.ticks.map((t) => _textWidth(formatNumber(t, nodeDecimals), 10)));

  const parts: string[] = [legend.svg];
  if (arms.length === 0) parts.push(_text(width / 2, top + 40, 'No arms in this result', { 'text-anchor': 'middle', fill: _MUTED }));
  arms.forEach((arm, index) => {
    const px = panelsLeft + (index % cols) * panelWidth;
    const py = top + Math.floor(index / cols) * panelHeight;
    const plotLeft = px + tickLabelWidth + 14;
    const plotRight = px + panelWidth - 14;
    const plotTop = py + 22;
    const plotBottom = py + panelHeight - 30;
    const x = linearScale(0, result.scenario.durationSeconds, plotLeft, plotRight);
    const y = linearScale(yAxis.min, yAxis.max, plotBottom, plotTop);
    const od = arm.series.nodesOnDemand;
    const spot = arm.series.nodesSpot;
    const meanOd = _mean(od);
    const meanSpot = _mean(spot);
    const od0 = _count(meanOd);
    const spot0 = _count(meanSpot);
    parts.push(_panelHeading(plotLeft, py + 12, plotRight - plotLeft, arm.name, [`mean ${od0} on-demand + ${spot0} spot`, `${od0} on-demand + ${spot0} spot`, `${od0} OD + ${spot0} spot`]));
    for (const tick of yAxis.ticks) {
      parts.push(_el('line', { x1: plotLeft, y1: y(tick), x2: plotRight, y2: y(tick), stroke: _GRID }));
      parts.push(_text(plotLeft - 5, y(tick) + 3.5, formatNumber(tick, nodeDecimals), { 'text-anchor': 'end', 'font-size': 10, fill: _MUTED }));
    }
    const total = od.map((v, i) => _finite(v) + _finite(spot[i]));
    const buckets = Math.max(2, Math.floor(plotRight - plotLeft));
    const step = arm.series.stepSeconds;
    const odPoints = _bucketMax(od.map(_finite), buckets);
    const totalPoints = _bucketMax(total, buckets);
    parts.push(_area(totalPoints, odPoints, step, x, y, _SPOT_COLOR));
    parts.push(_area(odPoints, odPoints.map((p) => ({ i: p.i, v: yAxis.min })), step, x, y, _ON_DEMAND_COLOR));
    parts.push(_el('line', { x1: plotLeft, y1: plotBottom, x2: plotRight, y2: plotBottom, stroke: _MUTED }));
    parts.push(_el('line', { x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, stroke: _MUTED }));
    time.ticks.forEach((t, k) => {
      parts.push(_el('line', { x1: x(t), y1: plotBottom, x2: x(t), y2: plotBottom + 4, stroke: _MUTED }));
      parts.push(_text(x(t), plotBottom + 15, time.labels[k] ?? '', { 'text-anchor': 'middle', 'font-size': 10, fill: _MUTED }));
    });
  });
  parts.push(_text(width / 2, height - 10, `Simulated time (${time.unit})`, { 'text-anchor': 'middle', fill: _INK }));
  parts.push(_yTitle(16, top + (height - top - bottomPad) / 2, 'Nodes running'));
  return _document(width, height, 'Nodes by capacity type, by arm', `Scenario "${result.scenario.name}", first seed (${_seedText(result)})`, parts);
}

/**
 * Uptime per arm: bars of mean A1 and A2 over services and seeds with 95% CI whiskers, on an axis
 * zoomed to the range the values span (it says where it starts).
 */
export function uptimeChart(result: SimulationResult, size: ChartSize = {}): string {
  const arms = result.arms;
  let lowest = 1;
  for (const arm of arms) {
    for (const e of [arm.metrics.uptimeA1, arm.metrics.uptimeA2]) lowest = Math.min(lowest, _finite(e.low, 1), _finite(e.mean, 1));
  }
  const gap = niceStep(Math.max(1 - lowest, 0.0005) * 1.15);
  const floor = Math.max(0, 1 - gap);
  const axis = niceAxis(floor, 1, 5);
  const tickDecimals = stepDecimals(axis.step * 100);
  const labelDecimals = Math.min(4, Math.max(2, tickDecimals));
  const pct = (share: number): string => formatNumber(share * 100, labelDecimals);
  const a1Color = '#0072B2';
  const a2Color = '#56B4E9';
  return intervalBarChart({
    ...size,
    title: 'Uptime by arm: A1 and A2, mean over services',
    subtitle: `95% CI over ${_seedsText(result)}. Axis zoomed: it starts at ${formatNumber(axis.min * 100, tickDecimals)}%, not 0`,
    groups: arms.map((arm) => ({
      category: arm.name,
      bars: [
        { value: arm.metrics.uptimeA1.mean, low: arm.metrics.uptimeA1.low, high: arm.metrics.uptimeA1.high, color: a1Color, label: pct(arm.metrics.uptimeA1.mean) },
        { value: arm.metrics.uptimeA2.mean, low: arm.metrics.uptimeA2.low, high: arm.metrics.uptimeA2.high, color: a2Color, label: pct(arm.metrics.uptimeA2.mean) },
      ],
    })),
    legend: [
      { label: 'A1: ≥ 1 Ready replica', color: a1Color, marker: 'box' },
      { label: 'A2: ≥ desired − allowed disruptions Ready', color: a2Color, marker: 'box' },
      { label: '95% CI', color: _INK, marker: 'whisker' },
    ],
    yLabel: 'Share of time (%)',
    yMin: axis.min,
    yMax: axis.max,
    barBase: axis.min,
    formatTick: (v) => formatNumber(v * 100, tickDecimals),
  });
}

/** Saving against the baseline per arm with its 95% CI; green where uptime is non-inferior. */
export function savingChart(result: SimulationResult, size: ChartSize = {}): string {
  const arms = result.arms.filter((a) => a.name !== result.baseline && a.verdict !== undefined);
  let lo = 0;
  let hi = 0;
  for (const arm of arms) {
    const s = arm.verdict?.savingVsBaseline;
    if (s === undefined) continue;
    lo = Math.min(lo, _finite(s.low), _finite(s.mean));
    hi = Math.max(hi, _finite(s.high), _finite(s.mean));
  }
  // Room above and below for the value labels.
  const span = Math.max(hi - lo, 0.01);
  const maxTicks = 8;
  const axis = niceAxis(lo < 0 ? lo - span * 0.08 : 0, hi > 0 ? hi + span * 0.08 : 0, maxTicks);
  const tickDecimals = stepDecimals(axis.step * 100);
  return intervalBarChart({
    ...size,
    title: `Saving vs ${result.baseline}, by arm`,
    subtitle: `Share of ${result.baseline}'s cost saved; negative means dearer. 95% CI over ${_seedsText(result)}`,
    groups: arms.map((arm) => {
      const s = arm.verdict?.savingVsBaseline ?? { mean: 0, low: 0, high: 0, samples: [] };
      const decimals = percentDecimals(s.mean, s.low, s.high);
      const p = (v: number): string => formatNumber(v * 100, decimals);
      return {
        category: arm.name,
        bars: [{ value: s.mean, low: s.low, high: s.high, color: arm.verdict?.uptimeNonInferior === true ? _GOOD_COLOR : _BAD_COLOR, label: `${p(s.mean)}% (${formatRange(s.low, s.high, p, '%')})` }],
      };
    }),
    legend: [
      { label: 'uptime non-inferior', color: _GOOD_COLOR, marker: 'box' },
      { label: 'uptime may be worse', color: _BAD_COLOR, marker: 'box' },
      { label: '95% CI', color: _INK, marker: 'whisker' },
    ],
    yLabel: `Saving vs ${result.baseline} (%)`,
    yMin: axis.min,
    yMax: axis.max,
    barBase: 0,
    maxTicks,
    formatTick: (v) => formatNumber(v * 100, tickDecimals),
  });
}

/**
 * A line chart over simulated time with axes, ticks, grid, a legend and axis titles. Long series
 * are thinned to a min and a max per pixel column, so peaks survive and the SVG stays small.
 *
 * @example lineChart({ title: 'Cost', durationSeconds: 86_400, yLabel: '$ per hour', formatY: String, series: [{ name: 'B0', color: '#333', stepSeconds: 3600, values: [1, 2, 3] }] })
 */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? _WIDTH;
  const height = spec.height ?? _HEIGHT;
  const legend = _legend(
    spec.series.map((s) => ({ label: s.legendLabel ?? s.name, color: s.color, marker: s.dashed === true ? 'dashed' : 'line' })),
    16,
    54,
    width - 32,
  );
  let min = 0;
  let max = 0;
  for (const s of spec.series) {
    for (const v of s.values) {
      if (!Number.isFinite(v)) continue;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  const yAxis = niceAxis(min, max, 5);
  const tickLabels = yAxis.ticks.map((t) => spec.formatY(t));
  const plotLeft = 16 + 12 + Math.max(...tickLabels.map((t) => _textWidth(t, 11))) + 8;
  const plotRight = width - 24;
  const plotTop = 54 + legend.height + 10;
  const plotBottom = height - 46;
  const x = linearScale(0, spec.durationSeconds, plotLeft, plotRight);
  const y = linearScale(yAxis.min, yAxis.max, plotBottom, plotTop);
  const time = timeAxis(spec.durationSeconds, Math.max(3, Math.floor((plotRight - plotLeft) / 60)));

  const parts: string[] = [legend.svg];
  yAxis.ticks.forEach((tick, k) => {
    parts.push(_el('line', { x1: plotLeft, y1: y(tick), x2: plotRight, y2: y(tick), stroke: tick === 0 && yAxis.min < 0 ? _MUTED : _GRID }));
    parts.push(_text(plotLeft - 6, y(tick) + 4, tickLabels[k] ?? '', { 'text-anchor': 'end', 'font-size': 11, fill: _MUTED }));
  });
  time.ticks.forEach((t, k) => {
    parts.push(_el('line', { x1: x(t), y1: plotBottom, x2: x(t), y2: plotBottom + 5, stroke: _MUTED }));
    parts.push(_text(x(t), plotBottom + 18, time.labels[k] ?? '', { 'text-anchor': 'middle', 'font-size': 11, fill: _MUTED }));
  });
  parts.push(_el('line', { x1: plotLeft, y1: plotBottom, x2: plotRight, y2: plotBottom, stroke: _MUTED }));
  parts.push(_el('line', { x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, stroke: _MUTED }));
  const buckets = Math.max(2, Math.floor(plotRight - plotLeft));
  for (const s of spec.series) {
    const d = _path(_decimate(s.values, buckets), s.stepSeconds, x, y);
    if (d === '') continue;
    parts.push(_el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 1.8, 'stroke-linejoin': 'round', 'stroke-dasharray': s.dashed === true ? '6 4' : undefined }));
  }
  if (spec.series.length === 0) parts.push(_text((plotLeft + plotRight) / 2, (plotTop + plotBottom) / 2, 'No data', { 'text-anchor': 'middle', fill: _MUTED }));
  parts.push(_text((plotLeft + plotRight) / 2, height - 10, `Simulated time (${time.unit})`, { 'text-anchor': 'middle', fill: _INK }));
  parts.push(_yTitle(16, (plotTop + plotBottom) / 2, spec.yLabel));
  return _document(width, height, spec.title, spec.subtitle, parts);
}

/**
 * Bars with confidence-interval whiskers, grouped by category, with an optional label on each
 * bar. Labels and category names that would not fit are shortened or left out, never overlapped.
 */
export function intervalBarChart(spec: IntervalBarChartSpec): string {
  const width = spec.width ?? _WIDTH;
  const height = spec.height ?? _HEIGHT;
  const legend = _legend(spec.legend, 16, 54, width - 32);
  const axis = niceAxis(spec.yMin, spec.yMax, spec.maxTicks ?? 5);
  const tickLabels = axis.ticks.map((t) => spec.formatTick(t));
  const plotLeft = 16 + 12 + Math.max(...tickLabels.map((t) => _textWidth(t, 11))) + 8;
  const plotRight = width - 24;
  // Headroom above the axis for the labels of bars that reach its top.
  const plotTop = 54 + legend.height + 10 + (spec.groups.some((g) => g.bars.some((b) => b.label !== undefined)) ? 16 : 0);
  const plotBottom = height - 46;
  const y = linearScale(axis.min, axis.max, plotBottom, plotTop);
  const clampY = (v: number): number => y(Math.min(axis.max, Math.max(axis.min, _finite(v, spec.barBase))));

  const parts: string[] = [legend.svg];
  axis.ticks.forEach((tick, k) => {
    parts.push(_el('line', { x1: plotLeft, y1: y(tick), x2: plotRight, y2: y(tick), stroke: _GRID }));
    parts.push(_text(plotLeft - 6, y(tick) + 4, tickLabels[k] ?? '', { 'text-anchor': 'end', 'font-size': 11, fill: _MUTED }));
  });
  const groupWidth = (plotRight - plotLeft) / Math.max(1, spec.groups.length);
  const maxBars = Math.max(1, ...spec.groups.map((g) => g.bars.length));
  const barWidth = Math.min(56, (groupWidth * 0.7) / maxBars);
  const labelSize = 10;
  spec.groups.forEach((group, g) => {
    const center = plotLeft + groupWidth * (g + 0.5);
    const start = center - (barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, b) => {
      const left = start + b * barWidth + 2;
      const w = barWidth - 4;
      const top = Math.min(clampY(bar.value), clampY(spec.barBase));
      const bottom = Math.max(clampY(bar.value), clampY(spec.barBase));
      parts.push(_el('rect', { class: 'bar', x: left, y: top, width: w, height: Math.max(bottom - top, 0.5), fill: bar.color }));
      const mid = left + w / 2;
      const wTop = clampY(bar.high);
      const wBottom = clampY(bar.low);
      parts.push(_el('path', { d: `M${_n(mid)} ${_n(wTop)}V${_n(wBottom)}M${_n(mid - 5)} ${_n(wTop)}H${_n(mid + 5)}M${_n(mid - 5)} ${_n(wBottom)}H${_n(mid + 5)}`, stroke: _INK, 'stroke-width': 1.3, fill: 'none' }));
      // Only the space of one bar (plus a little) is this label's, so labels never collide.
      if (bar.label !== undefined && _textWidth(bar.label, labelSize) <= barWidth + Math.max(0, groupWidth / group.bars.length - barWidth) * 0.9) {
        const down = bar.value < spec.barBase;
        parts.push(_text(mid, down ? Math.max(wBottom, bottom) + 13 : Math.min(wTop, top) - 5, bar.label, { 'text-anchor': 'middle', 'font-size': labelSize, fill: _INK }));
      }
    });
    const maxChars = Math.max(1, Math.floor((groupWidth - 6) / (12 * _EM_PER_BOLD_CHAR)));
    parts.push(_text(center, plotBottom + 18, truncate(group.category, maxChars), { 'text-anchor': 'middle', 'font-weight': 'bold', fill: _INK }));
  });
  if (spec.groups.length === 0) parts.push(_text((plotLeft + plotRight) / 2, (plotTop + plotBottom) / 2, 'No data', { 'text-anchor': 'middle', fill: _MUTED }));
  const baseY = clampY(spec.barBase);
  parts.push(_el('line', { x1: plotLeft, y1: baseY, x2: plotRight, y2: baseY, stroke: _MUTED }));
  parts.push(_el('line', { x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, stroke: _MUTED }));
  parts.push(_yTitle(16, (plotTop + plotBottom) / 2, spec.yLabel));
  return _document(width, height, spec.title, spec.subtitle, parts);
}

/** The fewest decimals (at most 6) that print every multiple of `step` exactly: 0.25 → 2, 20 → 0. */
export function stepDecimals(step: number): number {
  for (let d = 0; d < 6; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 6;
}

// ——— helpers ———

type _Attrs = Readonly<Record<string, string | number | undefined>>;

/** A {@link Chart} of an SVG document, its size read from the document. */
export function toChart(id: string, title: string, caption: string, svg: string): Chart {
  const match = /^<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  return { id, title, caption, width: Number(match?.[1] ?? _WIDTH), height: Number(match?.[2] ?? _HEIGHT), svg };
}

function _seedsText(result: SimulationResult): string {
  const n = result.seeds.length;
  return `${String(n)} seed${n === 1 ? '' : 's'}`;
}

function _seedText(result: SimulationResult): string {
  const n = result.seeds.length;
  const first = result.seeds[0];
  return n === 0 ? 'no seeds' : n === 1 ? `seed ${String(first)}` : `seed ${String(first)} of ${String(n)}`;
}

function _lineSeries(result: SimulationResult, arm: ArmResult, colors: ReadonlyMap<string, string>, values: readonly number[]): LineSeries {
  return { name: arm.name, color: colors.get(arm.name) ?? _INK, dashed: arm.name === result.baseline, stepSeconds: arm.series.stepSeconds, values };
}

function _formatUsdTick(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `$${formatNumber(value / 1e6, magnitude % 1e6 === 0 ? 0 : 1)}M`;
  if (magnitude >= 1e4) return `$${formatNumber(value / 1e3, magnitude % 1e3 === 0 ? 0 : 1)}k`;
  return formatUsd(value, Number.isInteger(value) ? 0 : value * 10 === Math.round(value * 10) ? 1 : 2);
}

function _n(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return String(rounded === 0 ? 0 : rounded);
}

function _el(tag: string, attrs: _Attrs, content?: string): string {
  const text = Object.entries(attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? _n(v) : escapeXml(v)}"`)
    .join('');
  return content === undefined ? `<${tag}${text}/>` : `<${tag}${text}>${content}</${tag}>`;
}

function _text(x: number, y: number, text: string, attrs: _Attrs = {}): string {
  return _el('text', { x, y, ...attrs }, escapeXml(text));
}

function _yTitle(x: number, y: number, text: string): string {
  return _el('text', { x, y, transform: `rotate(-90 ${_n(x)} ${_n(y)})`, 'text-anchor': 'middle', 'dominant-baseline': 'central', fill: _INK }, escapeXml(text));
}

function _textWidth(text: string, fontSize: number, bold = false): number {
  return [...text].length * fontSize * (bold ? _EM_PER_BOLD_CHAR : _EM_PER_CHAR);
}

/**
 * A bold name and muted detail on one line within `maxWidth`: the first of the `details`, longest
 * first, that fits; none when none does, and the name is shortened only as a last resort.
 */
function _panelHeading(x: number, y: number, maxWidth: number, name: string, details: readonly string[]): string {
  const nameText = truncate(name, Math.max(1, Math.floor(maxWidth / (12 * _EM_PER_BOLD_CHAR))));
  const room = maxWidth - _textWidth(nameText, 12, true) - 12 * _EM_PER_CHAR;
  const detailText = details.find((d) => _textWidth(d, 12) <= room) ?? '';
  // A leading space inside a tspan is collapsed away by SVG renderers: offset with dx instead.
  const detailSpan = detailText === '' ? '' : `<tspan dx="7" fill="${_MUTED}" font-weight="normal">${escapeXml(detailText)}</tspan>`;
  return _el('text', { x, y, fill: _INK, 'font-weight': 'bold' }, `${escapeXml(nameText)}${detailSpan}`);
}

function _count(value: number): string {
  return formatNumber(value, value === Math.round(value) || value >= 10 ? 0 : 1);
}

function _document(width: number, height: number, title: string, subtitle: string | undefined, parts: readonly string[]): string {
  const head = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${_n(width)}" height="${_n(height)}" viewBox="0 0 ${_n(width)} ${_n(height)}" font-family="${escapeXml(_FONT)}" font-size="12" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    _el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    _text(16, 24, truncate(title, Math.floor((width - 32) / (16 * _EM_PER_BOLD_CHAR))), { 'font-size': 16, 'font-weight': 'bold', fill: _INK }),
  ];
  if (subtitle !== undefined) head.push(_text(16, 42, truncate(subtitle, Math.floor((width - 32) / (12 * _EM_PER_CHAR))), { fill: _MUTED }));
  return `${[...head, ...parts].join('\n')}\n</svg>\n`;
}

/** A legend laid out left to right, wrapping to new rows within `maxWidth`. */
function _legend(items: readonly LegendItem[], x0: number, y0: number, maxWidth: number): { readonly svg: string; readonly height: number } {
  const rowHeight = 18;
  const parts: string[] = [];
  let x = x0;
  let row = 0;
  for (const item of items) {
    const label = truncate(item.label, Math.floor((maxWidth - 30) / (12 * _EM_PER_CHAR)));
    const w = 26 + _textWidth(label, 12) + 18;
    if (x > x0 && x + w > x0 + maxWidth) {
      x = x0;
      row++;
    }
    const cy = y0 + row * rowHeight + 9;
    parts.push(_legendMarker(item, x, cy));
    parts.push(_text(x + 26, cy + 4, label, { fill: _INK }));
    x += w;
  }
  return { svg: parts.join('\n'), height: items.length === 0 ? 0 : (row + 1) * rowHeight };
}

function _legendMarker(item: LegendItem, x: number, cy: number): string {
  switch (item.marker) {
    case 'box':
      return _el('rect', { x: x + 3, y: cy - 6, width: 16, height: 12, fill: item.color });
    case 'line':
    case 'dashed':
      return _el('line', { x1: x, y1: cy, x2: x + 22, y2: cy, stroke: item.color, 'stroke-width': 2.5, 'stroke-dasharray': item.marker === 'dashed' ? '6 3' : undefined });
    case 'whisker':
      return _el('path', { d: `M${_n(x + 11)} ${_n(cy - 7)}V${_n(cy + 7)}M${_n(x + 6)} ${_n(cy - 7)}H${_n(x + 16)}M${_n(x + 6)} ${_n(cy + 7)}H${_n(x + 16)}`, stroke: item.color, 'stroke-width': 1.3, fill: 'none' });
  }
}

interface _Point {
  readonly i: number;
  readonly v: number;
}

/**
 * Keeps the lowest and the highest point of each of `buckets` runs of consecutive samples (in
 * time order), so a line drawn through them shows every peak and trough; non-finite samples
 * become gaps.
 */
function _decimate(values: readonly number[], buckets: number): readonly _Point[] {
  if (values.length <= buckets * 2) return values.map((v, i) => ({ i, v }));
  const out: _Point[] = [];
  const size = values.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(values.length, Math.floor((b + 1) * size));
    let lo: _Point | undefined;
    let hi: _Point | undefined;
    for (let i = from; i < to; i++) {
      const v = values[i] ?? Number.NaN;
      if (!Number.isFinite(v)) {
        if (lo !== undefined && hi !== undefined) out.push(...(lo.i <= hi.i ? [lo, hi] : [hi, lo]));
        out.push({ i, v: Number.NaN });
        lo = hi = undefined;
        continue;
      }
      if (lo === undefined || v < lo.v) lo = { i, v };
      if (hi === undefined || v > hi.v) hi = { i, v };
    }
    if (lo !== undefined && hi !== undefined) out.push(...(lo.i === hi.i ? [lo] : lo.i < hi.i ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** The highest sample of each of `buckets` runs, at the run's first index: for stacked areas. */
function _bucketMax(values: readonly number[], buckets: number): readonly _Point[] {
  if (values.length <= buckets * 2) return values.map((v, i) => ({ i, v }));
  const out: _Point[] = [];
  const size = values.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(values.length, Math.floor((b + 1) * size));
    let max = Number.NEGATIVE_INFINITY;
    for (let i = from; i < to; i++) max = Math.max(max, values[i] ?? 0);
    if (to > from) out.push({ i: from, v: max });
  }
  const last = values.length - 1;
  if (out.at(-1)?.i !== last) out.push({ i: last, v: values[last] ?? 0 });
  return out;
}

function _path(points: readonly _Point[], stepSeconds: number, x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (!Number.isFinite(p.v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${_n(x(p.i * stepSeconds))} ${_n(y(p.v))}`;
    pen = true;
  }
  return d;
}

/** A filled band between an upper and a lower line sampled at the same indexes. */
function _area(upper: readonly _Point[], lower: readonly _Point[], stepSeconds: number, x: (t: number) => number, y: (v: number) => number, color: string): string {
  if (upper.length === 0) return '';
  const top = upper.map((p) => `${_n(x(p.i * stepSeconds))} ${_n(y(p.v))}`);
  const bottom = [...lower].reverse().map((p) => `${_n(x(p.i * stepSeconds))} ${_n(y(p.v))}`);
  return _el('path', { d: `M${top.join('L')}L${bottom.join('L')}Z`, fill: color, stroke: 'none' });
}

function _finite(value: number | undefined, fallback = 0): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

function _mean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? 0 : finite.reduce((a, b) => a + b, 0) / finite.length;
}
