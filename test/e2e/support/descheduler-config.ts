/** Descheduler config files for the e2e tests that run `stowage deschedule`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What else goes into the file. */
export interface DeschedulerConfigOptions {
  /** The `strategies` value; consolidation off by default. */
  readonly strategies?: string;
  /** The placement webhook's `spec.placement`, as a WebhookConfiguration document first in the same file. */
  readonly webhookPlacement?: string;
  /** `spec.replacementTimeoutSeconds`; 120 when absent. */
  readonly replacementTimeoutSeconds?: number;
}

/**
 * Writes `<dir>/<name>.yaml`: a DeschedulerConfiguration with pods movable at any age,
 * consolidation off, a 120 s replacement timeout (unless told), and `deschedule` lines (indented under
 * `spec.deschedule`) for the rest. Returns its path.
 */
export function writeDeschedulerConfig(dir: string, name: string, deschedule: readonly string[] = [], options: DeschedulerConfigOptions = {}): string {
  const path = join(dir, `${name}.yaml`);
  const webhook = options.webhookPlacement === undefined ? [] : ['apiVersion: stowage.io/v1alpha1', 'kind: WebhookConfiguration', 'spec:', `  placement: ${options.webhookPlacement}`, '---'];
  writeFileSync(
    path,
    [
      ...webhook,
      'apiVersion: stowage.io/v1alpha1',
      'kind: DeschedulerConfiguration',
      'spec:',
      '  deschedule:',
      '    eviction: { minPodAgeSeconds: 0 }',
      `    strategies: ${options.strategies ?? '{ consolidate: { enabled: false } }'}`,
      ...deschedule.map((line) => `    ${line}`),
      `  replacementTimeoutSeconds: ${options.replacementTimeoutSeconds ?? 120}`,
      '',
    ].join('\n'),
  );
  return path;
}
