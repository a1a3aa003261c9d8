/**
 * The on-demand floor of a workload: how many of its replicas must run on on-demand capacity.
 * The same rule as an EC2 Auto Scaling group's `OnDemandBaseCapacity` and
 * `OnDemandPercentageAboveBaseCapacity`, so operators reason about one familiar formula.
 */

/** The two knobs of the floor. `base` is a replica count, `percent` an integer from 0 to 100. */
export interface FloorSpec {
  readonly base: number;
  readonly percent: number;
}

/**
 * Replicas that must run on on-demand capacity:
 * `min(replicas, base + ceil(percent / 100 × max(0, replicas − base)))`.
 *
 * Integer arithmetic on `percent × rest` avoids the float trap where `7 / 100 × 100` is
 * `7.000000000000001` and `ceil` would add a replica.
 *
 * @example
 * onDemandFloor(10, { base: 1, percent: 25 }); // 1 + ceil(0.25 × 9) = 4
 * onDemandFloor(1, { base: 1, percent: 0 });   // 1: a single replica stays on on-demand
 */
export function onDemandFloor(replicas: number, spec: FloorSpec): number {
  const n = Math.max(0, Math.floor(replicas));
  const base = Math.max(0, Math.floor(spec.base));
  const percent = Math.min(100, Math.max(0, spec.percent));
  const rest = Math.max(0, n - base);
  return Math.min(n, base + Math.ceil((percent * rest) / 100));
}
