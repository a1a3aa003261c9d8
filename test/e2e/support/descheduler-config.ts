/** Descheduler config files for the e2e tests that run `stowage deschedule`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `<dir>/<name>.yaml`: a DeschedulerConfiguration with pods movable at any age,
 * consolidation off, a 120 s replacement timeout, and `deschedule` lines (indented under
 * `spec.deschedule`) for the rest. Returns its path.
 */
export function writeDeschedulerConfig(dir: string, name: string, deschedule: readonly string[] = []): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    [
      'apiVersion: stowage.io/v1alpha1',
      'kind: DeschedulerConfiguration',
      'spec:',
      '  deschedule:',
      '    eviction: { minPodAgeSeconds: 0 }',
      '    strategies: { consolidate: { enabled: false } }',
      ...deschedule.map((line) => `    ${line}`),
      '  replacementTimeoutSeconds: 120',
      '',
    ].join('\n'),
  );
  return path;
}
