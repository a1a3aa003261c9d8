import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PLACEMENT_POLICY, parsePlacementPolicy, resolvePlacementPolicy } from './policy.js';
import type { PlacementPolicy } from './policy.js';

const defaults: PlacementPolicy = { base: 2, percent: 10, fallback: { onDemandToSpot: true, spotToOnDemand: false } };

test('no annotations: the defaults', () => {
  assert.deepEqual(resolvePlacementPolicy(undefined, undefined, defaults), { optOut: false, policy: defaults, notes: [] });
});

test('each field comes from the workload, else the namespace, else the defaults', () => {
  const resolved = resolvePlacementPolicy(
    { 'stowage.io/on-demand-base': '0' },
    { 'stowage.io/on-demand-base': '5', 'stowage.io/on-demand-percent': '50%', 'stowage.io/spot-fallback-to-on-demand': 'True' },
    defaults,
  );
  assert.deepEqual(resolved, {
    optOut: false,
    policy: { base: 0, percent: 50, fallback: { onDemandToSpot: true, spotToOnDemand: true } },
    notes: [],
  });
});

test('opt-out per namespace, and a workload opting back in', () => {
  assert.deepEqual(resolvePlacementPolicy({}, { 'stowage.io/placement': 'disabled' }, defaults), {
    optOut: true,
    reason: 'Placement disabled by namespace annotation stowage.io/placement="disabled"',
    notes: [],
  });
  const back = resolvePlacementPolicy({ 'stowage.io/placement': 'enabled' }, { 'stowage.io/placement': 'disabled' }, defaults);
  assert.equal(back.optOut, false);
  assert.deepEqual(resolvePlacementPolicy({ 'stowage.io/placement': 'Disabled' }, {}, defaults).optOut, true);
});

test('a malformed annotation is named in a note and the next level is used', () => {
  const resolved = resolvePlacementPolicy(
    { 'stowage.io/on-demand-base': 'two', 'stowage.io/on-demand-percent': '150', 'stowage.io/placement': 'off' },
    { 'stowage.io/on-demand-base': '3', 'stowage.io/on-demand-fallback-to-spot': 'yes' },
    defaults,
  );
  assert.deepEqual(resolved, {
    optOut: false,
    policy: { base: 3, percent: 10, fallback: { onDemandToSpot: true, spotToOnDemand: false } },
    notes: [
      'Ignoring workload annotation "stowage.io/placement": expected "enabled" or "disabled", got "off"',
      'Ignoring workload annotation "stowage.io/on-demand-base": expected a non-negative integer, got "two"',
      'Ignoring workload annotation "stowage.io/on-demand-percent": expected an integer from 0 to 100, got "150"',
      'Ignoring namespace annotation "stowage.io/on-demand-fallback-to-spot": expected "true" or "false", got "yes"',
    ],
  });
  for (const bad of ['-1', '1.5', '', ' ', '1e3', '0x10']) {
    const r = resolvePlacementPolicy({ 'stowage.io/on-demand-base': bad }, {}, defaults);
    assert.equal(r.optOut === false && r.policy.base, 2, JSON.stringify(bad));
  }
});

test('the spot toleration of the defaults is kept', () => {
  const withToleration: PlacementPolicy = { ...defaults, spotToleration: { key: 'spot', operator: 'Exists', effect: 'NoSchedule' } };
  const r = resolvePlacementPolicy({ 'stowage.io/on-demand-base': '1' }, {}, withToleration);
  assert.deepEqual(r.optOut === false && r.policy.spotToleration, { key: 'spot', operator: 'Exists', effect: 'NoSchedule' });
});

test('parsePlacementPolicy fills defaults and reports bad fields on one line', () => {
  assert.deepEqual(parsePlacementPolicy(undefined), { ok: true, policy: DEFAULT_PLACEMENT_POLICY });
  assert.deepEqual(parsePlacementPolicy({ percent: 40, fallback: { spotToOnDemand: false } }), {
    ok: true,
    policy: { base: 1, percent: 40, fallback: { onDemandToSpot: true, spotToOnDemand: false } },
  });
  const bad = parsePlacementPolicy({ base: -1, percent: '5' });
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /^Invalid placement policy: base: .+; percent: .+$/);
});
