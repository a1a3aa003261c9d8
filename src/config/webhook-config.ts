/**
 * The placement webhook's configuration file (`stowage webhook --config FILE`):
 *
 * ```yaml
 * apiVersion: stowage.io/v1alpha1
 * kind: WebhookConfiguration
 * spec:
 *   placement:                 # the default policy; workload and namespace annotations override it
 *     base: 1
 *     percent: 0
 *     fallback: { onDemandToSpot: true, spotToOnDemand: true }
 *   spotTaint: { key: node.kubernetes.io/capacity, value: spot, effect: NoSchedule }
 *   capacityLabel: { key: node.kubernetes.io/capacity, onDemand: on-demand, spot: spot }
 *   capacityTypeRules: []      # extra node-label rules, tried before the built-in ones
 *   optOutNamespaces: [kube-system, stowage-system]
 *   deletionCost: { onDemand: 100, spot: -100 }
 *   reservationTtlSeconds: 10
 * ```
 *
 * Every field is optional; an empty file (or no file) gives the built-in defaults.
 */
import { findConfigDocument, parseConfigDocuments } from './documents.js';
import { z } from 'zod';
import { DEFAULT_CAPACITY_TYPE_RULES, type CapacityTypeRule } from '../core/capacity.js';
import type { Toleration } from '../core/model.js';
import type { PlacedCapacityType } from '../policy/placement/decide.js';
import { DEFAULT_PLACEMENT_PATCH_OPTIONS } from '../policy/placement/patch.js';
import { DEFAULT_PLACEMENT_POLICY, parsePlacementPolicy, type PlacementPolicy } from '../policy/placement/policy.js';
import { formatZodError } from '../core/validation.js';

/** The webhook's settings, validated and with every default filled in. */
export interface WebhookConfig {
  /** The default policy; `spotToleration` is the toleration of `spotTaint`, when one is set. */
  readonly placement: PlacementPolicy;
  /** The node label the patch requires, and its value for each capacity type. */
  readonly capacityLabel: { readonly key: string; readonly values: Readonly<Record<PlacedCapacityType, string>> };
  /** How nodes are classified: the capacity label first, then the given rules, then the built-in ones. */
  readonly capacityTypeRules: readonly CapacityTypeRule[];
  /** Pods in these namespaces are never placed, whatever their annotations say. */
  readonly optOutNamespaces: readonly string[];
  /** `controller.kubernetes.io/pod-deletion-cost` per type: spot lower, so scale-down removes spot first. */
  readonly deletionCost: Readonly<Record<PlacedCapacityType, number>>;
  /** How long a decision waits, as an in-flight reservation, for its pod to appear in the cache. */
  readonly reservationTtlMs: number;
}

/**
 * Ten seconds: the pod normally reaches the informer within milliseconds. A reservation whose pod
 * never comes (a later admission plugin rejected it) over-counts its type until it expires, so
 * the TTL is kept short; one that expires before a slow watch delivers the pod under-counts,
 * which only ever places one extra pod on on-demand.
 */
const DEFAULT_RESERVATION_TTL_SECONDS = 10;

/** Stowage's own namespace and the control plane's are never placed. */
export const DEFAULT_OPT_OUT_NAMESPACES: readonly string[] = ['kube-system', 'stowage-system'];

/** The built-in configuration: what `stowage webhook` runs with when no `--config` is given. */
export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  placement: DEFAULT_PLACEMENT_POLICY,
  capacityLabel: DEFAULT_PLACEMENT_PATCH_OPTIONS.capacityLabel,
  capacityTypeRules: DEFAULT_CAPACITY_TYPE_RULES,
  optOutNamespaces: DEFAULT_OPT_OUT_NAMESPACES,
  deletionCost: DEFAULT_PLACEMENT_PATCH_OPTIONS.deletionCost,
  reservationTtlMs: DEFAULT_RESERVATION_TTL_SECONDS * 1000,
};

const labelValue = z.string().min(1).max(63);

const specSchema = z.strictObject({
  // Parsed by the placement module's own schema, so the file and the annotations agree on fields.
  placement: z.unknown().optional(),
  spotTaint: z
    .strictObject({
      key: z.string().min(1),
      value: z.string().optional(),
      effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    })
    .optional(),
  capacityLabel: z
    .strictObject({ key: z.string().min(1).max(316), onDemand: labelValue, spot: labelValue })
    .refine((l) => l.onDemand !== l.spot, { message: 'onDemand and spot must be different values' })
    .optional(),
  capacityTypeRules: z
    .array(z.strictObject({ label: z.string().min(1), spot: z.array(z.string()).default([]), onDemand: z.array(z.string()).default([]) }))
    .default([]),
  optOutNamespaces: z.array(z.string().min(1)).default([...DEFAULT_OPT_OUT_NAMESPACES]),
  deletionCost: z
    .strictObject({ onDemand: z.number().int(), spot: z.number().int() })
    .refine((c) => c.spot < c.onDemand, { message: 'spot must be lower than onDemand, so scale-down removes spot pods first' })
    .optional(),
  reservationTtlSeconds: z.number().positive().max(600).default(DEFAULT_RESERVATION_TTL_SECONDS),
});

const documentSchema = z.strictObject({
  apiVersion: z.literal('stowage.io/v1alpha1'),
  kind: z.literal('WebhookConfiguration'),
  metadata: z.record(z.string(), z.unknown()).optional(),
  spec: specSchema.default(specSchema.parse({})),
});

/** The toleration a spot pod needs for `taint`: `Equal` on its value, or `Exists` when it has none. */
function _tolerationFor(taint: { key: string; value?: string | undefined; effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | undefined }): Toleration {
  return {
    key: taint.key,
    ...(taint.value === undefined ? { operator: 'Exists' as const } : { operator: 'Equal' as const, value: taint.value }),
    ...(taint.effect === undefined ? {} : { effect: taint.effect }),
  };
}

/**
 * Validates a parsed configuration document and fills in the defaults.
 *
 * @throws {Error} one line naming each bad field
 */
export function webhookConfigFromDocument(document: unknown, source = 'webhook configuration'): WebhookConfig {
  if (document === null || document === undefined) return DEFAULT_WEBHOOK_CONFIG;
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) throw new Error(`Invalid ${source}: ${formatZodError(parsed.error)}`);
  const spec = parsed.data.spec;
  const placement = parsePlacementPolicy(spec.placement);
  if (!placement.ok) throw new Error(`Invalid ${source}: spec.placement: ${placement.error.replace(/^Invalid placement policy: /, '')}`);
  if (spec.spotTaint !== undefined && placement.policy.spotToleration !== undefined) {
    throw new Error(`Invalid ${source}: set spec.spotTaint or spec.placement.spotToleration, not both`);
  }
  const policy: PlacementPolicy = spec.spotTaint === undefined ? placement.policy : { ...placement.policy, spotToleration: _tolerationFor(spec.spotTaint) };
  const label = spec.capacityLabel === undefined
    ? DEFAULT_WEBHOOK_CONFIG.capacityLabel
    : { key: spec.capacityLabel.key, values: { 'on-demand': spec.capacityLabel.onDemand, spot: spec.capacityLabel.spot } };
  // The label the patch requires must also classify nodes, or the webhook would pin pods to a
  // type it cannot count; it goes first so a node carrying several labels is read the same way.
  const labelRule: CapacityTypeRule = { label: label.key, spot: [label.values.spot], onDemand: [label.values['on-demand']] };
  const rules = [labelRule, ...spec.capacityTypeRules, ...DEFAULT_CAPACITY_TYPE_RULES.filter((r) => r.label !== label.key)];
  return {
    placement: policy,
    capacityLabel: label,
    capacityTypeRules: rules,
    optOutNamespaces: [...new Set(spec.optOutNamespaces)],
    deletionCost: spec.deletionCost === undefined ? DEFAULT_WEBHOOK_CONFIG.deletionCost : { 'on-demand': spec.deletionCost.onDemand, spot: spec.deletionCost.spot },
    reservationTtlMs: Math.round(spec.reservationTtlSeconds * 1000),
  };
}

/**
 * Parses a configuration file's text (YAML or JSON): its `WebhookConfiguration` document, which
 * may share the file with other components' documents (see `documents.ts`).
 *
 * @example
 * const config = parseWebhookConfig(readFileSync(path, 'utf8'), `webhook configuration "${path}"`);
 * @throws {Error} one line naming the file and each bad field
 */
export function parseWebhookConfig(text: string, source = 'webhook configuration'): WebhookConfig {
  const documents = parseConfigDocuments(text, source);
  const document = findConfigDocument(documents, 'WebhookConfiguration', source);
  if (document === undefined && documents.length > 0) throw new Error(`Invalid ${source}: no WebhookConfiguration document among its ${documents.length}`);
  return webhookConfigFromDocument(document, source);
}
