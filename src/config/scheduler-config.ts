/**
 * The scheduler's configuration file (`stowage scheduler --config FILE`), shaped after
 * kube-scheduler's KubeSchedulerConfiguration: one profile per `schedulerName`.
 *
 * ```yaml
 * apiVersion: stowage.io/v1alpha1
 * kind: SchedulerConfiguration
 * spec:
 *   profiles:
 *     - schedulerName: stowage             # pods with spec.schedulerName: stowage
 *       plugins: default                   # kube-scheduler's default plugins and weights
 *     - schedulerName: stowage-cost-aware
 *       plugins: cost-aware                # price per allocatable unit, spot, no nodes being removed
 *       scores: [{ plugin: CostAware, weight: 6 }]   # optional: replaces the preset's weights by plugin
 *       preemption: false                  # default true (DefaultPreemption)
 *   percentageOfNodesToScore: 0            # 0: kube-scheduler's adaptive default
 *   podInitialBackoffSeconds: 1
 *   podMaxBackoffSeconds: 10
 *   bindConcurrency: 256                   # binds in flight at once (kube-scheduler: no bound)
 * ```
 *
 * Every field is optional; no file gives one profile, `stowage`, with the `default` plugins.
 */
import { z } from 'zod';
import { formatZodError } from '../core/validation.js';
import { SCORE_PLUGINS } from '../policy/fit/registry.js';
import { PROFILE_PRESETS, type ProfilePresetName, type SchedulerProfile } from '../policy/schedule/framework.js';

/** The scheduler's settings, validated and with every default filled in. */
export interface SchedulerConfig {
  /** One per schedulerName, in the file's order. */
  readonly profiles: readonly SchedulerProfile[];
  /** kube-scheduler's percentageOfNodesToScore: 0 is its adaptive default. */
  readonly percentageOfNodesToScore: number;
  readonly podInitialBackoffMs: number;
  readonly podMaxBackoffMs: number;
  /** Binds (pods/binding requests) in flight at once; the next pod is scheduled meanwhile. */
  readonly bindConcurrency: number;
}

/** The scheduler name pods set to be scheduled by Stowage when the file names none. */
export const DEFAULT_SCHEDULER_NAME = 'stowage';

const _scoreNames = SCORE_PLUGINS.map((p) => p.name) as [string, ...string[]];
const _presetNames = Object.keys(PROFILE_PRESETS) as [ProfilePresetName, ...ProfilePresetName[]];

const _profileSchema = z.strictObject({
  schedulerName: z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name'),
  plugins: z.enum(_presetNames).default('default'),
  scores: z.array(z.strictObject({ plugin: z.enum(_scoreNames), weight: z.number().int().min(0).max(100) })).optional(),
  preemption: z.boolean().default(true),
});

const _specSchema = z.strictObject({
  profiles: z.array(_profileSchema).min(1).default([{ schedulerName: DEFAULT_SCHEDULER_NAME, plugins: 'default', preemption: true }]),
  percentageOfNodesToScore: z.number().int().min(0).max(100).default(0),
  podInitialBackoffSeconds: z.number().min(0.001).max(3600).default(1),
  podMaxBackoffSeconds: z.number().min(0.001).max(3600).default(10),
  bindConcurrency: z.number().int().min(1).max(1024).default(256),
});

const _documentSchema = z.strictObject({
  apiVersion: z.literal('stowage.io/v1alpha1'),
  kind: z.literal('SchedulerConfiguration'),
  metadata: z.record(z.string(), z.unknown()).optional(),
  spec: _specSchema.default(_specSchema.parse({})),
});

/** What `stowage scheduler` runs with when no `--config` is given. */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = schedulerConfigFromDocument(undefined);

/**
 * Validates a parsed configuration document and fills in the defaults.
 *
 * @throws {Error} one line naming each bad field
 */
export function schedulerConfigFromDocument(document: unknown, source = 'scheduler configuration'): SchedulerConfig {
  const parsed = _documentSchema.safeParse(document ?? { apiVersion: 'stowage.io/v1alpha1', kind: 'SchedulerConfiguration' });
  if (!parsed.success) throw new Error(`Invalid ${source}: ${formatZodError(parsed.error)}`);
  const spec = parsed.data.spec;
  const names = new Set<string>();
  for (const [i, profile] of spec.profiles.entries()) {
    if (names.has(profile.schedulerName)) throw new Error(`Invalid ${source}: spec.profiles[${i}].schedulerName: "${profile.schedulerName}" is named by an earlier profile`);
    names.add(profile.schedulerName);
  }
  if (spec.podMaxBackoffSeconds < spec.podInitialBackoffSeconds) {
    throw new Error(`Invalid ${source}: spec.podMaxBackoffSeconds: must be at least podInitialBackoffSeconds (${spec.podInitialBackoffSeconds})`);
  }
  return {
    profiles: spec.profiles.map((p) => {
      const preset = PROFILE_PRESETS[p.plugins];
      const overrides = new Map((p.scores ?? []).map((s) => [s.plugin, s.weight]));
      const scores = preset.scores.map((s) => ({ plugin: s.plugin, weight: overrides.get(s.plugin) ?? s.weight }));
      for (const [plugin, weight] of overrides) {
        if (!scores.some((s) => s.plugin === plugin)) scores.push({ plugin: plugin as (typeof scores)[number]['plugin'], weight });
      }
      return { schedulerName: p.schedulerName, preset: p.plugins, fit: { name: p.schedulerName, scores }, preemption: p.preemption };
    }),
    percentageOfNodesToScore: spec.percentageOfNodesToScore,
    podInitialBackoffMs: Math.round(spec.podInitialBackoffSeconds * 1000),
    podMaxBackoffMs: Math.round(spec.podMaxBackoffSeconds * 1000),
    bindConcurrency: spec.bindConcurrency,
  };
}
