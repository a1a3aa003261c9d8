import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WEBHOOK_CONFIG } from '../config/webhook-config.js';
import { loadDeschedulerConfig } from './deschedule.js';

test('--config reads the shipped file as is, with the webhook\'s policy for the floor', () => {
  const config = loadDeschedulerConfig(fileURLToPath(new URL('../../deploy/config/stowage.yaml', import.meta.url)));
  assert.deepEqual(config.placement, DEFAULT_WEBHOOK_CONFIG);
});

test('spec.placement.webhookConfigurationFile is read relative to the config file; a missing one is a one-line error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-deschedule-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'webhook'));
  writeFileSync(join(dir, 'webhook', 'config.yaml'), 'apiVersion: stowage.io/v1alpha1\nkind: WebhookConfiguration\nspec: { placement: { base: 3 } }\n');
  const own = (file: string): string => `apiVersion: stowage.io/v1alpha1\nkind: DeschedulerConfiguration\nspec: { placement: { webhookConfigurationFile: ${file} } }\n`;
  writeFileSync(join(dir, 'descheduler.yaml'), own('webhook/config.yaml'));
  assert.equal(loadDeschedulerConfig(join(dir, 'descheduler.yaml')).placement?.placement.base, 3);
  writeFileSync(join(dir, 'broken.yaml'), own('missing.yaml'));
  assert.throws(() => loadDeschedulerConfig(join(dir, 'broken.yaml')), (error: Error) => {
    assert.match(error.message, /^Cannot read webhook configuration ".*missing\.yaml" \(spec\.placement\.webhookConfigurationFile of descheduler configuration ".*broken\.yaml"\): ENOENT$/);
    return true;
  });
});
