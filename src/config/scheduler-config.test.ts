import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { DEFAULT_PROFILE } from '../policy/fit/profiles.js';
import { DEFAULT_SCHEDULER_CONFIG, schedulerConfigFromDocument } from './scheduler-config.js';

const doc = (spec: unknown): unknown => ({ apiVersion: 'stowage.io/v1alpha1', kind: 'SchedulerConfiguration', spec });

test('no file: one profile "stowage" with kube-scheduler\'s default plugins, and kube-scheduler\'s queue settings', () => {
  assert.deepEqual(DEFAULT_SCHEDULER_CONFIG, {
    profiles: [{ schedulerName: 'stowage', preset: 'default', fit: { name: 'stowage', scores: DEFAULT_PROFILE.scores }, preemption: true }],
    percentageOfNodesToScore: 0,
    podInitialBackoffMs: 1000,
    podMaxBackoffMs: 10_000,
    bindConcurrency: 256,
  });
  assert.deepEqual(schedulerConfigFromDocument(doc({})), DEFAULT_SCHEDULER_CONFIG);
});

test('profiles by schedulerName: a preset, weights replaced by plugin name, a plugin added', () => {
  const config = schedulerConfigFromDocument(
    parse(`
apiVersion: stowage.io/v1alpha1
kind: SchedulerConfiguration
spec:
  profiles:
    - schedulerName: stowage
    - schedulerName: cheap
      plugins: cost-aware
      scores: [{ plugin: CostAware, weight: 7 }]
      preemption: false
    - schedulerName: packed
      scores: [{ plugin: AutoscalerRemoval, weight: 5 }]
  bindConcurrency: 4
`),
  );
  assert.deepEqual(config.profiles.map((p) => [p.schedulerName, p.preset, p.preemption]), [['stowage', 'default', true], ['cheap', 'cost-aware', false], ['packed', 'default', true]]);
  assert.equal(config.profiles[1]?.fit.scores.find((s) => s.plugin === 'CostAware')?.weight, 7);
  assert.deepEqual(config.profiles[2]?.fit.scores.at(-1), { plugin: 'AutoscalerRemoval', weight: 5 });
  assert.equal(config.bindConcurrency, 4);
});

test('bad input: one line naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ apiVersion: 'v1', kind: 'SchedulerConfiguration' }, /^Invalid scheduler configuration: apiVersion: /],
    [doc({ profiles: [{ schedulerName: 'a' }, { schedulerName: 'a' }] }), /^Invalid scheduler configuration: spec\.profiles\[1\]\.schedulerName: "a" is named by an earlier profile$/],
    [doc({ profiles: [{ schedulerName: 'a', plugins: 'fastest' }] }), /^Invalid scheduler configuration: spec\.profiles\[0\]\.plugins: /],
    [doc({ profiles: [{ schedulerName: 'a', scores: [{ plugin: 'Nope', weight: 1 }] }] }), /spec\.profiles\[0\]\.scores\[0\]\.plugin: /],
    [doc({ profiles: [] }), /spec\.profiles: /],
    [doc({ podInitialBackoffSeconds: 20 }), /^Invalid scheduler configuration: spec\.podMaxBackoffSeconds: must be at least podInitialBackoffSeconds \(20\)$/],
    [doc({ bindConcurrency: 0 }), /spec\.bindConcurrency: /],
    [doc({ extra: 1 }), /spec: /],
  ];
  for (const [input, expected] of cases) {
    assert.throws(() => schedulerConfigFromDocument(input), (error: Error) => expected.test(error.message) && !error.message.includes('\n'), JSON.stringify(input));
  }
});
