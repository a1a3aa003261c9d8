/**
 * Axis arithmetic for the charts: round tick values ("nice" numbers) and time ticks in units a
 * person reads (minutes, hours, days).
 */

/** A value axis: its rounded ends, the step between ticks and the ticks themselves. */
export interface NiceAxis {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly ticks: readonly number[];
}

/** The smallest of 1, 2, 2.5, 5 × 10^k that is at least `rough`. */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const base = 10 ** Math.floor(Math.log10(rough));
  // The tolerance keeps float noise (1 − 0.99 = 0.010000000000000009) from bumping a step up.
  const fraction = rough / base - 1e-9;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * base;
}

/**
 * An axis covering [min, max] with at most about `maxTicks` round ticks; the ends are widened to
 * whole steps. An empty range is widened so that the axis still has ticks.
 *
 * @example niceAxis(0, 87, 5) // { min: 0, max: 100, step: 20, ticks: [0, 20, 40, 60, 80, 100] }
 */
export function niceAxis(min: number, max: number, maxTicks = 5): NiceAxis {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : 1;
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    hi += pad;
    if (lo !== 0) lo -= pad;
  }
  const step = niceStep((hi - lo) / Math.max(1, maxTicks));
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const round = (v: number): number => Number(v.toFixed(decimals)) + 0;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(round(k * step));
  return { min: round(first * step), max: round(last * step), step, ticks };
}

/** A linear map from a domain to a range of pixels. */
export function linearScale(domainMin: number, domainMax: number, rangeMin: number, rangeMax: number): (value: number) => number {
  const span = domainMax - domainMin;
  if (span === 0) return () => (rangeMin + rangeMax) / 2;
  return (value) => rangeMin + ((value - domainMin) / span) * (rangeMax - rangeMin);
}

/** Ticks for simulated time: positions in seconds, labels in `unit`. */
export interface TimeAxis {
  readonly unit: 'min' | 'h' | 'd';
  readonly unitSeconds: number;
  readonly ticks: readonly number[];
  readonly labels: readonly string[];
}

const _TIME_STEPS: readonly number[] = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800, 1_209_600, 2_419_200];

/**
 * Ticks for a time axis from 0 to `durationSeconds`: the finest of 1, 2, 5, 10, 15, 30 min,
 * 1, 2, 3, 6, 12 h, 1, 2, 7, 14, 28 d (then round numbers of days) giving at most `maxTicks`
 * ticks. Labels are numbers in the unit of the step.
 *
 * @example timeAxis(172_800, 10).labels // ['0', '6', '12', …, '48'] (hours)
 */
export function timeAxis(durationSeconds: number, maxTicks = 10): TimeAxis {
  const duration = durationSeconds > 0 && Number.isFinite(durationSeconds) ? durationSeconds : 60;
  const limit = Math.max(2, maxTicks);
  let step = _TIME_STEPS.find((s) => Math.floor(duration / s) + 1 <= limit);
  step ??= niceStep(duration / 86_400 / (limit - 1)) * 86_400;
  const unitSeconds = step < 3600 ? 60 : step < 86_400 ? 3600 : 86_400;
  const unit = unitSeconds === 60 ? 'min' : unitSeconds === 3600 ? 'h' : 'd';
  const ticks: number[] = [];
  for (let t = 0; t <= duration + 1e-9; t += step) ticks.push(t);
  const labels = ticks.map((t) => String(Number((t / unitSeconds).toFixed(2))));
  return { unit, unitSeconds, ticks, labels };
}
