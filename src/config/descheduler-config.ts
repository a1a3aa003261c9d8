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
 *   replacementTimeoutSeconds: 300
 *   placement:             # optional: where the placement webhook's configuration is
 *     webhookConfigurationFile: /etc/stowage/webhook/config.yaml
 *   # or the webhook's placement policy inline: placement: { base: 1, percent: 0 }
 * ---
 * apiVersion: stowage.io/v1alpha1  # or the webhook's document in the same file
 * kind: WebhookConfiguration
 * spec: { placement: { base: 1, percent: 0 } }
 * ```
 *
 * The `deschedule` section is validated by the policy's `deschedulingConfigSchema`, so the file
 * and the simulator read the same settings; only what the live executor needs is added here.
 *
 * The descheduler needs the placement webhook's policy to know where a recreated pod will go and
 * which pods hold a workload's on-demand floor (spot-reschedule leaves those on on-demand). It
 * reads the webhook's own configuration, never a copy: the `WebhookConfiguration` document of the
 * same file (one file serves both commands), or the file `spec.placement.webhookConfigurationFile`
 * names. A webhook run with only a `placement` section may instead have that policy given inline as
 * `spec.placement` (the webhook's other settings then take their defaults); one of the three at most.
 * With none, the descheduler plans as if no webhook ran.
 */
import { z } from 'zod';
import { DEFAULT_DESCHEDULING_CONFIG, parseDeschedulingConfig, type DeschedulingConfig } from '../policy/deschedule/plan.js';
import type { PlacementContext } from '../policy/deschedule/types.js';
import { findConfigDocument, parseConfigDocuments } from './documents.js';
import { formatZodError } from '../core/validation.js';
import { parseWebhookConfig, webhookConfigFromDocument, type WebhookConfig } from './webhook-config.js';

/** The parsed configuration. */
export interface DeschedulerConfig {
  readonly deschedule: DeschedulingConfig;
  /** How long a replacement pod may take to be Ready before a drain is abandoned and rolled back. */
  readonly replacementTimeoutMs: number;
  /** The placement webhook's configuration, when one runs; see the module comment. */
  readonly placement?: WebhookConfig;
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
      // The webhook's policy inline, or { webhookConfigurationFile }: told apart in _fromDocument.
      placement: z.unknown().optional(),
      replacementTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
    })
    .default({ replacementTimeoutSeconds: 300 }),
});

interface _Parsed {
  readonly config: DeschedulerConfig;
  readonly webhookConfigurationFile?: string;
  /** Whether `config.placement` came from an inline `spec.placement` policy. */
  readonly inline?: true;
}

function _fromDocument(document: unknown, source: string): _Parsed {
  if (document === null || document === undefined) return { config: DEFAULT_DESCHEDULER_CONFIG };
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) throw new Error(`Invalid ${source}: ${formatZodError(parsed.error)}`);
  const policy = parseDeschedulingConfig(parsed.data.spec.deschedule);
  if (!policy.ok) throw new Error(`Invalid ${source}: spec.deschedule: ${policy.error.replace(/^Invalid deschedule config: /, '')}`);
  const config = { deschedule: policy.config, replacementTimeoutMs: parsed.data.spec.replacementTimeoutSeconds * 1000 };
  const placement: unknown = parsed.data.spec.placement;
  if (placement === undefined) return { config };
  if (typeof placement === 'object' && placement !== null && 'webhookConfigurationFile' in placement) {
    const file = z.strictObject({ webhookConfigurationFile: z.string().min(1) }).safeParse(placement);
    if (!file.success) {
      const others = Object.keys(placement).filter((k) => k !== 'webhookConfigurationFile');
      if (others.length > 0) throw new Error(`Invalid ${source}: spec.placement: give the policy inline or webhookConfigurationFile, not both (found ${others.map((k) => `"${k}"`).join(', ')} too)`);
      throw new Error(`Invalid ${source}: spec.placement.webhookConfigurationFile: ${formatZodError(file.error)}`);
    }
    return { config, webhookConfigurationFile: file.data.webhookConfigurationFile };
  }
  // The webhook's own parser, so an inline policy means exactly what the same section of its file does.
  const webhook = webhookConfigFromDocument({ apiVersion: 'stowage.io/v1alpha1', kind: 'WebhookConfiguration', spec: { placement } }, source);
  return { config: { ...config, placement: webhook }, inline: true };
}

/**
 * Validates a parsed `DeschedulerConfiguration` document and fills in the defaults. A placement
 * policy given inline is kept; a webhook configuration file it names is not read here: see
 * {@link parseDeschedulerConfig}.
 *
 * @throws {Error} one line naming each bad field
 */
export function deschedulerConfigFromDocument(document: unknown, source = 'descheduler configuration'): DeschedulerConfig {
  return _fromDocument(document, source).config;
}

/**
 * Parses a configuration file's text: its `DeschedulerConfiguration` document (the defaults when
 * the file has none, only the webhook's) and the placement webhook's configuration, from the
 * same file's `WebhookConfiguration` document, from `spec.placement.webhookConfigurationFile`
 * read with `readFile` (which resolves the path and names the file in its errors), or from the
 * policy given inline as `spec.placement`.
 *
 * @example
 * parseDeschedulerConfig(text, 'descheduler configuration "stowage.yaml"', (path) => readFileSync(path, 'utf8'));
 * @throws {Error} one line naming the file and what is wrong
 */
export function parseDeschedulerConfig(text: string, source: string, readFile: (path: string) => { readonly text: string; readonly source: string }): DeschedulerConfig {
  const documents = parseConfigDocuments(text, source);
  // A file of the webhook's document alone (its own --config file) gives the descheduler's defaults and the floor.
  const webhookOnly = documents.length === 1 && (documents[0] as { kind?: unknown } | null)?.kind === 'WebhookConfiguration';
  const own = webhookOnly ? undefined : findConfigDocument(documents, 'DeschedulerConfiguration', source);
  const webhook = webhookOnly ? documents[0] : documents.length > 1 ? findConfigDocument(documents, 'WebhookConfiguration', source) : undefined;
  const { config, webhookConfigurationFile, inline } = _fromDocument(own, source);
  if (webhook !== undefined && webhookConfigurationFile !== undefined) {
    throw new Error(`Invalid ${source}: spec.placement.webhookConfigurationFile is set and the file holds a WebhookConfiguration too: keep one`);
  }
  if (webhook !== undefined && inline === true) {
    throw new Error(`Invalid ${source}: spec.placement gives a policy inline and the file holds a WebhookConfiguration too: keep one`);
  }
  if (webhook !== undefined) return { ...config, placement: webhookConfigFromDocument(webhook, source) };
  if (webhookConfigurationFile === undefined) return config;
  const other = readFile(webhookConfigurationFile);
  return { ...config, placement: parseWebhookConfig(other.text, other.source) };
}

/**
 * What planning needs of the webhook's configuration: its default policy, the label it pins pods
 * with and the namespaces it never places. Namespace annotations are the caller's to add.
 */
export function placementContextOf(config: WebhookConfig): PlacementContext {
  return { defaults: config.placement, capacityLabel: config.capacityLabel, optOutNamespaces: config.optOutNamespaces };
}
