import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../core/capacity.js';
import { DEFAULT_PLACEMENT_POLICY } from '../policy/placement/policy.js';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfig } from './webhook-config.js';

const HEADER = 'apiVersion: stowage.io/v1alpha1\nkind: WebhookConfiguration\n';

test('an empty file, or a document without spec, gives the built-in defaults', () => {
  assert.deepEqual(parseWebhookConfig(''), DEFAULT_WEBHOOK_CONFIG);
  const config = parseWebhookConfig(HEADER);
  assert.deepEqual(config.placement, DEFAULT_PLACEMENT_POLICY);
  assert.deepEqual(config.capacityLabel, { key: 'node.kubernetes.io/capacity', values: { 'on-demand': 'on-demand', spot: 'spot' } });
  assert.deepEqual(config.optOutNamespaces, ['kube-system', 'stowage-system']);
  assert.deepEqual(config.deletionCost, { 'on-demand': 100, spot: -100 });
  assert.equal(config.reservationTtlMs, 10_000);
  assert.equal(config.capacityTypeRules[0]?.label, 'node.kubernetes.io/capacity');
  assert.equal(config.capacityTypeRules.length, DEFAULT_CAPACITY_TYPE_RULES.length);
});

test('every field is read, and the spot taint becomes the spot toleration', () => {
  const config = parseWebhookConfig(`${HEADER}spec:
  placement: { base: 2, percent: 25, fallback: { onDemandToSpot: false } }
  spotTaint: { key: spot, value: "true", effect: NoSchedule }
  capacityLabel: { key: karpenter.sh/capacity-type, onDemand: on-demand, spot: spot }
  capacityTypeRules: [{ label: example.com/pool, spot: [cheap] }]
  optOutNamespaces: [kube-system, monitoring, monitoring]
  deletionCost: { onDemand: 5, spot: -5 }
  reservationTtlSeconds: 2.5
`);
  assert.deepEqual(config.placement, {
    base: 2,
    percent: 25,
    fallback: { onDemandToSpot: false, spotToOnDemand: true },
    spotToleration: { key: 'spot', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
  });
  assert.deepEqual(config.capacityLabel, { key: 'karpenter.sh/capacity-type', values: { 'on-demand': 'on-demand', spot: 'spot' } });
  // The patch's label classifies nodes first, then the user's rules, then the built-in ones (without a duplicate).
  assert.deepEqual(config.capacityTypeRules.slice(0, 2), [
    { label: 'karpenter.sh/capacity-type', spot: ['spot'], onDemand: ['on-demand'] },
    { label: 'example.com/pool', spot: ['cheap'], onDemand: [] },
  ]);
  assert.equal(config.capacityTypeRules.filter((r) => r.label === 'karpenter.sh/capacity-type').length, 1);
  assert.deepEqual(config.optOutNamespaces, ['kube-system', 'monitoring']);
  assert.deepEqual(config.deletionCost, { 'on-demand': 5, spot: -5 });
  assert.equal(config.reservationTtlMs, 2_500);
});

test('a taint without a value is tolerated with Exists', () => {
  const config = parseWebhookConfig(`${HEADER}spec: { spotTaint: { key: spot } }`);
  assert.deepEqual(config.placement.spotToleration, { key: 'spot', operator: 'Exists' });
});

test('bad files fail with one line naming the source and each field', () => {
  const cases: readonly [text: string, expected: RegExp][] = [
    ['apiVersion: v1\nkind: WebhookConfiguration', /^Invalid cfg: apiVersion: /],
    [`${HEADER}spec: { placement: { percent: 150 } }`, /^Invalid cfg: spec\.placement: percent: /],
    [`${HEADER}spec: { placement: { base: 1, spotToleration: { key: a } }, spotTaint: { key: b } }`, /set spec\.spotTaint or spec\.placement\.spotToleration, not both/],
    [`${HEADER}spec: { deletionCost: { onDemand: -1, spot: 1 } }`, /^Invalid cfg: spec\.deletionCost: spot must be lower than onDemand/],
    [`${HEADER}spec: { capacityLabel: { key: a, onDemand: x, spot: x } }`, /onDemand and spot must be different values/],
    [`${HEADER}spec: { reservationTtlSeconds: 0 }`, /^Invalid cfg: spec\.reservationTtlSeconds: /],
    [`${HEADER}spec: { unknownField: 1 }`, /^Invalid cfg: spec: .*unknownField/],
    ['{ not: yaml', /^Cannot parse cfg: /],
  ];
  for (const [text, expected] of cases) {
    assert.throws(() => parseWebhookConfig(text, 'cfg'), (error: Error) => {
      assert.match(error.message, expected);
      assert.equal(error.message.split('\n').length, 1, error.message);
      return true;
    });
  }
});

test('the shared configuration file (deploy/config/stowage.yaml) is the defaults written out', () => {
  const config = parseWebhookConfig(readFileSync(new URL('../../deploy/config/stowage.yaml', import.meta.url), 'utf8'));
  assert.deepEqual(config, DEFAULT_WEBHOOK_CONFIG);
  assert.deepEqual(config.placement, DEFAULT_PLACEMENT_POLICY);
});
