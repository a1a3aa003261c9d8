import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DESCHEDULER_CONFIG, deschedulerConfigFromDocument, parseDeschedulerConfig, placementContextOf } from './descheduler-config.js';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfig } from './webhook-config.js';

const WEBHOOK = 'apiVersion: stowage.io/v1alpha1\nkind: WebhookConfiguration\nspec: { placement: { base: 2, percent: 50 }, optOutNamespaces: [batch] }\n';
const DESCHEDULER = 'apiVersion: stowage.io/v1alpha1\nkind: DeschedulerConfiguration\nspec: { replacementTimeoutSeconds: 60 }\n';
const noFiles = (path: string): never => {
  throw new Error(`Cannot read "${path}"`);
};

describe('descheduler configuration', () => {
  test('an absent document gives the defaults', () => {
    assert.deepEqual(deschedulerConfigFromDocument(undefined), DEFAULT_DESCHEDULER_CONFIG);
  });

  test('the deschedule section is read by the policy schema, with its defaults', () => {
    const config = deschedulerConfigFromDocument({
      apiVersion: 'stowage.io/v1alpha1',
      kind: 'DeschedulerConfiguration',
      spec: { deschedule: { eviction: { minPodAgeSeconds: 0 }, strategies: { consolidate: { enabled: false } } }, replacementTimeoutSeconds: 60 },
    });
    assert.equal(config.deschedule.eviction.minPodAgeSeconds, 0);
    assert.equal(config.deschedule.strategies.consolidate.enabled, false);
    assert.equal(config.deschedule.strategies['spot-reschedule'].enabled, true);
    assert.equal(config.replacementTimeoutMs, 60_000);
  });

  test('errors name the field, on one line', () => {
    assert.throws(
      () => deschedulerConfigFromDocument({ apiVersion: 'stowage.io/v1alpha1', kind: 'DeschedulerConfiguration', spec: { deschedule: { budgets: { maxEvictionsPerCycle: -1 } } } }),
      /^Error: Invalid descheduler configuration: spec\.deschedule: budgets\.maxEvictionsPerCycle: .*$/,
    );
    assert.throws(() => deschedulerConfigFromDocument({ apiVersion: 'v1', kind: 'DeschedulerConfiguration' }), /apiVersion/);
  });

  test('one file serves both commands: each reads its document, the descheduler the webhook\'s policy too', () => {
    const text = `${WEBHOOK}---\n${DESCHEDULER}`;
    const webhook = parseWebhookConfig(text, 'cfg');
    assert.equal(webhook.placement.base, 2);
    const config = parseDeschedulerConfig(text, 'cfg', noFiles);
    assert.equal(config.replacementTimeoutMs, 60_000);
    assert.deepEqual(config.placement, webhook);
    assert.deepEqual(placementContextOf(webhook), { defaults: webhook.placement, capacityLabel: webhook.capacityLabel, optOutNamespaces: ['batch'] });
    // The documents may come in any order; a file of the webhook's document alone gives the descheduler's defaults.
    assert.deepEqual(parseDeschedulerConfig(`${DESCHEDULER}---\n${WEBHOOK}`, 'cfg', noFiles), config);
    assert.deepEqual(parseDeschedulerConfig(`${WEBHOOK}---\n`, 'cfg', noFiles), { ...DEFAULT_DESCHEDULER_CONFIG, placement: webhook });
  });

  test('without a WebhookConfiguration the descheduler plans as if no webhook ran', () => {
    assert.equal(parseDeschedulerConfig(DESCHEDULER, 'cfg', noFiles).placement, undefined);
  });

  test('spec.placement.webhookConfigurationFile names the webhook\'s own file', () => {
    const text = `${DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { webhookConfigurationFile: webhook.yaml }')}`;
    const read: string[] = [];
    const config = parseDeschedulerConfig(text, 'cfg', (path) => {
      read.push(path);
      return { text: WEBHOOK, source: `webhook configuration "${path}"` };
    });
    assert.deepEqual(read, ['webhook.yaml']);
    assert.equal(config.placement?.placement.base, 2);
    assert.deepEqual(parseDeschedulerConfig(text, 'cfg', () => ({ text: '', source: 'empty' })).placement, DEFAULT_WEBHOOK_CONFIG, 'an empty webhook file is the webhook\'s defaults');
  });

  test('the webhook\'s policy may be given inline, read as the same section of the webhook\'s file', () => {
    const text = DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { base: 2, percent: 50 }');
    const config = parseDeschedulerConfig(text, 'cfg', noFiles);
    const webhook = parseWebhookConfig('apiVersion: stowage.io/v1alpha1\nkind: WebhookConfiguration\nspec: { placement: { base: 2, percent: 50 } }\n', 'cfg');
    assert.deepEqual(config.placement, webhook);
    assert.deepEqual(config.placement?.optOutNamespaces, DEFAULT_WEBHOOK_CONFIG.optOutNamespaces, 'the webhook\'s other settings take their defaults');
    assert.deepEqual(deschedulerConfigFromDocument({ apiVersion: 'stowage.io/v1alpha1', kind: 'DeschedulerConfiguration', spec: { placement: { base: 2, percent: 50 } } }).placement, webhook);
  });

  test('bad files fail with one line naming the source and what is wrong', () => {
    const cases: readonly [text: string, expected: RegExp][] = [
      [`${WEBHOOK}---\n${DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { webhookConfigurationFile: w.yaml }')}`, /^Invalid cfg: spec\.placement\.webhookConfigurationFile is set and the file holds a WebhookConfiguration too: keep one$/],
      [`${DESCHEDULER}---\n${DESCHEDULER}`, /^Invalid cfg: 2 DeschedulerConfiguration documents, expected at most one$/],
      [`${DESCHEDULER}---\nkind: PriceTable\n`, /^Invalid cfg: document 2: kind "PriceTable" is not one of WebhookConfiguration, DeschedulerConfiguration$/],
      [`${DESCHEDULER}---\n${WEBHOOK.replace('base: 2', 'base: -1')}`, /^Invalid cfg: spec\.placement: base: /],
      [DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { file: w.yaml }'), /^Invalid cfg: spec\.placement.*"file"/],
      [`${WEBHOOK}---\n${DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { base: 1 }')}`, /^Invalid cfg: spec\.placement gives a policy inline and the file holds a WebhookConfiguration too: keep one$/],
      [DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { base: 1, webhookConfigurationFile: w.yaml }'), /^Invalid cfg: spec\.placement: give the policy inline or webhookConfigurationFile, not both \(found "base" too\)$/],
      [DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { webhookConfigurationFile: "" }'), /^Invalid cfg: spec\.placement\.webhookConfigurationFile: /],
      [DESCHEDULER.replace('replacementTimeoutSeconds: 60', 'placement: { percent: 101 }'), /^Invalid cfg: spec\.placement: percent: /],
      [`${DESCHEDULER}---\n{ not: yaml`, /^Cannot parse cfg: /],
    ];
    for (const [text, expected] of cases) {
      assert.throws(() => parseDeschedulerConfig(text, 'cfg', noFiles), (error: Error) => {
        assert.match(error.message, expected);
        assert.equal(error.message.split('\n').length, 1, error.message);
        return true;
      });
    }
    assert.throws(() => parseWebhookConfig(`${DESCHEDULER}---\n${DESCHEDULER.replace('60', '30')}`, 'cfg'), /^Error: Invalid cfg: no WebhookConfiguration document among its 2$/);
  });
});
