/**
 * Kubernetes int-or-string fields that hold a count or a percentage (`maxUnavailable: 25%`,
 * `minAvailable: 2`), resolved as apimachinery's `intstr.GetScaledValueFromIntOrPercent`.
 */

/**
 * `value` against `total`: a number as it is, a percentage of `total` rounded up or down;
 * undefined when the text is not a number (each caller has its own safe fallback).
 *
 * @example
 * scaledIntOrPercent('25%', 3, false); // 0
 * scaledIntOrPercent('25%', 3, true);  // 1
 * scaledIntOrPercent(2, 10, true);     // 2
 */
export function scaledIntOrPercent(value: number | string, total: number, roundUp: boolean): number | undefined {
  if (typeof value === 'number') return value;
  const percent = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(percent)) return undefined;
  const scaled = (percent * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
