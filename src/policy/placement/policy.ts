/**
 * The placement policy of a workload: how many replicas stay on on-demand and whether a pod may
 * fall back to the other capacity type. Resolved per field from the workload's annotations, then
 * its namespace's, then the config file's defaults, so a workload can override one knob only.
 */
import { z } from 'zod';
import type { Toleration } from '../../core/model.js';
import { formatZodError } from '../../core/validation.js';
import type { FloorSpec } from './floor.js';

/** Annotation names read from workloads (Deployment, StatefulSet) and namespaces. */
export const PlacementAnnotation = {
  /** `disabled` opts the workload or namespace out; `enabled` opts a workload back in. */
  Placement: 'stowage.io/placement',
  /** Non-negative integer: replicas always on on-demand. */
  OnDemandBase: 'stowage.io/on-demand-base',
  /** Integer from 0 to 100 (a trailing `%` is accepted): share of the replicas above base on on-demand. */
  OnDemandPercent: 'stowage.io/on-demand-percent',
  /** `true` or `false`: an on-demand pod may land on spot when no on-demand capacity has room. */
  OnDemandFallbackToSpot: 'stowage.io/on-demand-fallback-to-spot',
  /** `true` or `false`: a spot pod may land on on-demand when no spot capacity has room. */
  SpotFallbackToOnDemand: 'stowage.io/spot-fallback-to-on-demand',
} as const;

/** Whether a pod may use the other capacity type when its own has no room, so it never sits Pending forever. */
export interface FallbackPolicy {
  readonly onDemandToSpot: boolean;
  readonly spotToOnDemand: boolean;
}

/** A workload's split between spot and on-demand. */
export interface PlacementPolicy extends FloorSpec {
  readonly fallback: FallbackPolicy;
  /** Added to spot pods so they tolerate the spot nodes' taint; none when spot nodes are not tainted. */
  readonly spotToleration?: Toleration;
}

/**
 * The built-in default: one replica on on-demand, the rest on spot, fallback allowed both ways.
 * A single-replica workload therefore stays on on-demand, and every workload keeps one replica
 * when all spot capacity is reclaimed at once.
 */
export const DEFAULT_PLACEMENT_POLICY: PlacementPolicy = {
  base: 1,
  percent: 0,
  fallback: { onDemandToSpot: true, spotToOnDemand: true },
};

const tolerationSchema = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute', '']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

/** The config file's `placement` defaults; every field optional, filled from {@link DEFAULT_PLACEMENT_POLICY}. */
export const placementPolicySchema = z.strictObject({
  base: z.number().int().min(0).default(DEFAULT_PLACEMENT_POLICY.base),
  percent: z.number().int().min(0).max(100).default(DEFAULT_PLACEMENT_POLICY.percent),
  fallback: z
    .strictObject({
      onDemandToSpot: z.boolean().default(DEFAULT_PLACEMENT_POLICY.fallback.onDemandToSpot),
      spotToOnDemand: z.boolean().default(DEFAULT_PLACEMENT_POLICY.fallback.spotToOnDemand),
    })
    .default({ ...DEFAULT_PLACEMENT_POLICY.fallback }),
  spotToleration: tolerationSchema.optional(),
});

/**
 * Parses the config file's placement defaults.
 * Returns the policy, or a one-line error naming each bad field.
 */
export function parsePlacementPolicy(input: unknown): { readonly ok: true; readonly policy: PlacementPolicy } | { readonly ok: false; readonly error: string } {
  const result = placementPolicySchema.safeParse(input ?? {});
  if (!result.success) return { ok: false, error: `Invalid placement policy: ${formatZodError(result.error)}` };
  const { spotToleration, ...rest } = result.data;
  return { ok: true, policy: spotToleration === undefined ? rest : { ...rest, spotToleration } };
}

/** What {@link resolvePlacementPolicy} found. `notes` lists malformed annotations that were ignored. */
export type ResolvedPlacement =
  | { readonly optOut: false; readonly policy: PlacementPolicy; readonly notes: readonly string[] }
  | { readonly optOut: true; readonly reason: string; readonly notes: readonly string[] };

type Annotations = Readonly<Record<string, string>> | undefined;

interface _Level {
  readonly name: 'workload' | 'namespace';
  readonly annotations: Annotations;
}

type _Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

function _malformed(level: _Level, key: string, value: string, expected: string): string {
  return `Ignoring ${level.name} annotation "${key}": expected ${expected}, got ${JSON.stringify(value)}`;
}

function _parseBase(raw: string): _Parsed<number> {
  const text = raw.trim();
  if (!/^\d{1,6}$/.test(text)) return { ok: false, error: 'a non-negative integer' };
  return { ok: true, value: Number(text) };
}

function _parsePercent(raw: string): _Parsed<number> {
  const text = raw.trim().replace(/%$/, '');
  if (!/^\d{1,3}$/.test(text) || Number(text) > 100) return { ok: false, error: 'an integer from 0 to 100' };
  return { ok: true, value: Number(text) };
}

function _parseBoolean(raw: string): _Parsed<boolean> {
  const text = raw.trim().toLowerCase();
  if (text === 'true') return { ok: true, value: true };
  if (text === 'false') return { ok: true, value: false };
  return { ok: false, error: '"true" or "false"' };
}

function _parseSwitch(raw: string): _Parsed<'enabled' | 'disabled'> {
  const text = raw.trim().toLowerCase();
  if (text === 'enabled' || text === 'disabled') return { ok: true, value: text };
  return { ok: false, error: '"enabled" or "disabled"' };
}

/** The first level whose annotation parses; malformed ones are noted and skipped. */
function _pick<T>(levels: readonly _Level[], key: string, parse: (raw: string) => _Parsed<T>, notes: string[]): { readonly value: T; readonly level: _Level } | undefined {
  for (const level of levels) {
    const raw = level.annotations?.[key];
    if (raw === undefined) continue;
    const parsed = parse(raw);
    if (parsed.ok) return { value: parsed.value, level };
    notes.push(_malformed(level, key, raw, parsed.error));
  }
  return undefined;
}

/**
 * The policy of one workload: each field from the workload's annotations, else the namespace's,
 * else `defaults`. Never throws: a malformed annotation is skipped, named in `notes`, and the next
 * level is used, so a typo can't crash the webhook or block pod creation.
 *
 * @example
 * resolvePlacementPolicy({ 'stowage.io/on-demand-percent': '50' }, {}, DEFAULT_PLACEMENT_POLICY);
 * // { optOut: false, policy: { base: 1, percent: 50, fallback: {…} }, notes: [] }
 */
export function resolvePlacementPolicy(workloadAnnotations: Annotations, namespaceAnnotations: Annotations, defaults: PlacementPolicy): ResolvedPlacement {
  const levels: readonly _Level[] = [
    { name: 'workload', annotations: workloadAnnotations },
    { name: 'namespace', annotations: namespaceAnnotations },
  ];
  const notes: string[] = [];
  const placement = _pick(levels, PlacementAnnotation.Placement, _parseSwitch, notes);
  if (placement?.value === 'disabled') {
    return { optOut: true, reason: `Placement disabled by ${placement.level.name} annotation ${PlacementAnnotation.Placement}="disabled"`, notes };
  }
  const base = _pick(levels, PlacementAnnotation.OnDemandBase, _parseBase, notes);
  const percent = _pick(levels, PlacementAnnotation.OnDemandPercent, _parsePercent, notes);
  const toSpot = _pick(levels, PlacementAnnotation.OnDemandFallbackToSpot, _parseBoolean, notes);
  const toOnDemand = _pick(levels, PlacementAnnotation.SpotFallbackToOnDemand, _parseBoolean, notes);
  const policy: PlacementPolicy = {
    ...defaults,
    base: base?.value ?? defaults.base,
    percent: percent?.value ?? defaults.percent,
    fallback: {
      onDemandToSpot: toSpot?.value ?? defaults.fallback.onDemandToSpot,
      spotToOnDemand: toOnDemand?.value ?? defaults.fallback.spotToOnDemand,
    },
  };
  return { optOut: false, policy, notes };
}
