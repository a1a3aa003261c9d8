/**
 * The descheduler's configuration file:
 *
 * ```yaml
 * apiVersion: stowage.io/v1alpha1
 * kind: DeschedulerConfiguration
 * spec:
 *   deschedule:            # the policy's own schema (strategies, budgets, eviction, backoff)
 *     eviction: { minPodAgeSeconds: 300 }
 *     autoscaler: { scaleDownUtilizationThreshold: 0.5 }   # as the cluster's Cluster Autoscaler
 *   placement: { base: 1 }   # the placement webhook's policy, when it runs: the floor stays on on-demand
 *   replacementTimeoutSeconds: 300
 * ```
 *
 * The `deschedule` section is validated by the policy's `deschedulingConfigSchema`, so the file
 * and the simulator read the same settings; only what the live executor needs is added here.
 */
import { z } from 'zod';
import { DEFAULT_DESCHEDULING_CONFIG, parseDeschedulingConfig, type DeschedulingConfig } from '../policy/deschedule/plan.js';
import { formatZodError } from '../core/validation.js';
import { parsePlacementPolicy, type PlacementPolicy } from '../policy/placement/policy.js';

/** The parsed configuration. */
export interface DeschedulerConfig {
  readonly deschedule: DeschedulingConfig;
  /**
   * The placement webhook's policy when one runs (its config's `placement` section): planning
   * then knows which pods the on-demand floor keeps and where a recreated pod will be sent.
   */
  readonly placement?: PlacementPolicy;
  /** How long a replacement pod may take to be Ready before a drain is abandoned and rolled back. */
  readonly replacementTimeoutMs: number;
}

/** Five minutes per replacement: a slow image pull, not a stuck rollout. */
export const DEFAULT_DESCHEDULER_CONFIG: DeschedulerConfig = { deschedule: DEFAULT_DESCHEDULING_CONFIG, replacementTimeoutMs: 300_000 };

const documentSchema = z.strictObject({
  apiVersion: z.literal('stowage.io/v1alpha1'),
  kind: z.literal('DeschedulerConfiguration'),
  metadata: z.record(z.string(), z.unknown()).optional(),
  spec: z
    .strictObject({
      deschedule: z.unknown().optional(),
      placement: z.unknown().optional(),
      replacementTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
    })
    .default({ replacementTimeoutSeconds: 300 }),
});

/**
 * Validates a parsed configuration document and fills in the defaults.
 *
 * @throws {Error} one line naming each bad field
 */
export function deschedulerConfigFromDocument(document: unknown, source = 'descheduler configuration'): DeschedulerConfig {
  if (document === null || document === undefined) return DEFAULT_DESCHEDULER_CONFIG;
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) throw new Error(`Invalid ${source}: ${formatZodError(parsed.error)}`);
  const policy = parseDeschedulingConfig(parsed.data.spec.deschedule);
  if (!policy.ok) throw new Error(`Invalid ${source}: spec.deschedule: ${policy.error.replace(/^Invalid deschedule config: /, '')}`);
  const base = { deschedule: policy.config, replacementTimeoutMs: parsed.data.spec.replacementTimeoutSeconds * 1000 };
  if (parsed.data.spec.placement === undefined) return base;
  const placement = parsePlacementPolicy(parsed.data.spec.placement);
  if (!placement.ok) throw new Error(`Invalid ${source}: spec.placement: ${placement.error.replace(/^Invalid placement policy: /, '')}`);
  return { ...base, placement: placement.policy };
}
