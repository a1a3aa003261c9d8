/**
 * The MutatingWebhookConfiguration of deploy/webhook/webhook.yaml, pointed at a webhook that
 * runs outside the cluster (`clientConfig.url`), as on a local control plane where the webhook
 * is a process on 127.0.0.1 rather than a Service. Selectors, match conditions, timeouts and
 * policies stay exactly as shipped, so tests and benchmarks exercise the real registration.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { repoPath } from '../../devcluster/paths.js';

/** The object, as plain JSON for the API (client-node's `V1MutatingWebhookConfiguration` accepts it). */
export interface WebhookConfigurationObject {
  readonly apiVersion: 'admissionregistration.k8s.io/v1';
  readonly kind: 'MutatingWebhookConfiguration';
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly webhooks: readonly Readonly<Record<string, unknown>>[];
}

/** The shipped registration, as in deploy/webhook/webhook.yaml. */
export function shippedWebhookConfiguration(): WebhookConfigurationObject {
  const path = repoPath('deploy', 'webhook', 'webhook.yaml');
  const object = parseYaml(readFileSync(path, 'utf8')) as WebhookConfigurationObject | null;
  if (object?.kind !== 'MutatingWebhookConfiguration') throw new Error(`Cannot read "${path}": expected a MutatingWebhookConfiguration`);
  return object;
}

/**
 * The shipped registration calling `url` (e.g. `https://127.0.0.1:8443/mutate`) and trusting
 * `caPem`; `name` renames it so several can coexist.
 *
 * @example
 * await admission.createMutatingWebhookConfiguration({ body: urlWebhookConfiguration(`https://127.0.0.1:${port}/mutate`, ca.certPem) });
 */
export function urlWebhookConfiguration(url: string, caPem: string, name?: string): WebhookConfigurationObject {
  const shipped = shippedWebhookConfiguration();
  const caBundle = Buffer.from(caPem).toString('base64');
  return {
    ...shipped,
    metadata: { ...shipped.metadata, ...(name === undefined ? {} : { name }) },
    webhooks: shipped.webhooks.map((hook) => ({ ...hook, clientConfig: { url, caBundle } })),
  };
}
