import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DESCHEDULER_CONFIG, deschedulerConfigFromDocument } from './descheduler-config.js';

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
});
