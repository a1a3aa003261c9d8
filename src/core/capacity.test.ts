import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capacityTypeLabelFor, capacityTypeOf, DEFAULT_CAPACITY_TYPE_RULES, type CapacityTypeRule } from './capacity.js';
import type { CapacityType } from './model.js';

describe('capacityTypeOf', () => {
  const CASES: readonly (readonly [Record<string, string>, CapacityType])[] = [
    [{ 'node.kubernetes.io/capacity': 'spot' }, 'spot'],
    [{ 'node.kubernetes.io/capacity': 'on-demand' }, 'on-demand'],
    [{ 'karpenter.sh/capacity-type': 'spot' }, 'spot'],
    [{ 'karpenter.sh/capacity-type': 'on-demand' }, 'on-demand'],
    [{ 'karpenter.sh/capacity-type': 'reserved' }, 'on-demand'],
    [{ 'eks.amazonaws.com/capacityType': 'SPOT' }, 'spot'],
    [{ 'eks.amazonaws.com/capacityType': 'ON_DEMAND' }, 'on-demand'],
    // Values are case-sensitive, as label values are.
    [{ 'eks.amazonaws.com/capacityType': 'spot' }, 'unknown'],
    [{ 'cloud.google.com/gke-spot': 'true' }, 'spot'],
    [{ 'cloud.google.com/gke-spot': 'false' }, 'unknown'],
    [{ 'cloud.google.com/gke-preemptible': 'true' }, 'spot'],
    [{ 'kubernetes.azure.com/scalesetpriority': 'spot' }, 'spot'],
    [{}, 'unknown'],
    [{ 'kubernetes.io/hostname': 'n1' }, 'unknown'],
    // The first rule that matches wins; an unlisted value lets later rules decide.
    [{ 'node.kubernetes.io/capacity': 'on-demand', 'karpenter.sh/capacity-type': 'spot' }, 'on-demand'],
    [{ 'node.kubernetes.io/capacity': 'weird', 'karpenter.sh/capacity-type': 'spot' }, 'spot'],
  ];
  for (const [labels, expected] of CASES) {
    it(`${JSON.stringify(labels)} is ${expected}`, () => assert.equal(capacityTypeOf(labels, DEFAULT_CAPACITY_TYPE_RULES), expected));
  }

  it('uses the default rules when none are given', () => {
    assert.equal(capacityTypeOf({ 'karpenter.sh/capacity-type': 'spot' }), 'spot');
  });

  it('uses custom rules only when given', () => {
    const rules: CapacityTypeRule[] = [{ label: 'example.com/lifecycle', spot: ['Ec2Spot'], onDemand: ['OnDemand'] }];
    assert.equal(capacityTypeOf({ 'example.com/lifecycle': 'Ec2Spot' }, rules), 'spot');
    assert.equal(capacityTypeOf({ 'karpenter.sh/capacity-type': 'spot' }, rules), 'unknown');
  });
});

describe('capacityTypeLabelFor', () => {
  const karpenterSpot = { labels: { 'karpenter.sh/capacity-type': 'spot' } };
  const karpenterOnDemand = { labels: { 'karpenter.sh/capacity-type': 'on-demand' } };
  const eksSpot = { labels: { 'eks.amazonaws.com/capacityType': 'SPOT' } };
  const gkeSpot = { labels: { 'cloud.google.com/gke-spot': 'true' } };

  it('picks the first rule some node carries', () => {
    assert.deepEqual(capacityTypeLabelFor('spot', DEFAULT_CAPACITY_TYPE_RULES, [eksSpot, karpenterSpot]), { key: 'karpenter.sh/capacity-type', value: 'spot' });
    assert.deepEqual(capacityTypeLabelFor('spot', DEFAULT_CAPACITY_TYPE_RULES, [eksSpot]), { key: 'eks.amazonaws.com/capacityType', value: 'SPOT' });
    assert.deepEqual(capacityTypeLabelFor('on-demand', DEFAULT_CAPACITY_TYPE_RULES, [karpenterSpot, karpenterOnDemand]), {
      key: 'karpenter.sh/capacity-type',
      value: 'on-demand',
    });
  });

  it('uses the value the nodes carry, not only the first listed', () => {
    const reserved = { labels: { 'karpenter.sh/capacity-type': 'reserved' } };
    assert.deepEqual(capacityTypeLabelFor('on-demand', DEFAULT_CAPACITY_TYPE_RULES, [reserved]), { key: 'karpenter.sh/capacity-type', value: 'reserved' });
  });

  it('returns undefined when no node has a label for that capacity type', () => {
    assert.equal(capacityTypeLabelFor('spot', DEFAULT_CAPACITY_TYPE_RULES, [karpenterOnDemand]), undefined);
    // GKE marks only spot nodes, so there is nothing to require for on-demand.
    assert.equal(capacityTypeLabelFor('on-demand', DEFAULT_CAPACITY_TYPE_RULES, [gkeSpot]), undefined);
    assert.equal(capacityTypeLabelFor('spot', DEFAULT_CAPACITY_TYPE_RULES, []), undefined);
  });
});
