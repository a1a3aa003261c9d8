/**
 * The few statistics the runner needs: means with Student-t confidence intervals and
 * percentiles. Written out rather than pulled in as a dependency because it is small, and the
 * exact method (two-sided, n − 1 degrees of freedom) must be stated next to the result.
 */
import type { Estimate } from './result.js';

/** Mean of a non-empty list (NaN for an empty one, so a missing value is visible, not 0). */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values. */
export function sampleSd(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/**
 * The mean of per-seed values with its two-sided 95% confidence interval from Student's t with
 * n − 1 degrees of freedom. With one seed the interval collapses to the value: there is no
 * spread to estimate, and the report says how many seeds were run.
 */
export function estimate(samples: readonly number[], confidence = 0.95): Estimate {
  const m = mean(samples);
  const n = samples.length;
  if (n < 2) return { mean: m, low: m, high: m, samples: [...samples] };
  const half = studentTQuantile(1 - (1 - confidence) / 2, n - 1) * (sampleSd(samples) / Math.sqrt(n));
  return { mean: m, low: m - half, high: m + half, samples: [...samples] };
}

/**
 * The `q`-th percentile (0..100) by linear interpolation between closest ranks (NumPy's
 * default). `sorted` must be in ascending order.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = (Math.min(100, Math.max(0, q)) / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** The quantile of Student's t distribution: the `t` with P(T ≤ t) = p for `df` degrees of freedom. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`Invalid probability ${p}: expected a number between 0 and 1`);
  if (!(df > 0)) throw new RangeError(`Invalid degrees of freedom ${df}: expected a positive number`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  // Bisection on the CDF: 200 halvings of a bracket that surely holds the answer give full
  // double precision, and this runs once per metric, not per event.
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom, via the regularised incomplete beta. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * _regularisedBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

function _regularisedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(_logGamma(a + b) - _logGamma(a) - _logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast on one side of the mean; use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * _betaFraction(x, a, b)) / a;
  return 1 - (front * _betaFraction(1 - x, b, a)) / b;
}

/** Lentz's method for the incomplete beta continued fraction (Numerical Recipes §6.4). */
function _betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Lanczos approximation (g = 7, n = 9), accurate to about 15 digits for positive arguments. */
function _logGamma(z: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - _logGamma(1 - z);
  const x = z - 1;
  let sum = coefficients[0] as number;
  for (let i = 1; i < coefficients.length; i++) sum += (coefficients[i] as number) / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}
