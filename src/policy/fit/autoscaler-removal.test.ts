import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PriceTable } from '../../core/pricing.js';
import { nodeInfosOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { AutoscalerTaint, autoscalerRemovalScore } from './autoscaler-removal.js';
import { COST_AWARE_PROFILE } from './profiles.js';
import { selectNode } from './score.js';
import { FitState } from './state.js';
import { scoresOf } from './plugin.js';

const prices = PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } });

test('AutoscalerRemoval scores 0 the nodes an autoscaler removes or means to remove, 100 the others', () => {
  const nodes = [
    testNode('plain'),
    testNode('candidate', { taints: [{ key: AutoscalerTaint.DeletionCandidate, effect: 'PreferNoSchedule' }] }),
    testNode('karpenter', { taints: [{ key: AutoscalerTaint.KarpenterDisrupted, effect: 'NoSchedule' }] }),
    testNode('other-taint', { taints: [{ key: 'example.com/x', effect: 'PreferNoSchedule' }] }),
  ];
  const state = FitState.fromSnapshot(testSnapshot(nodes));
  assert.deepEqual(scoresOf(autoscalerRemovalScore, state, testPod('p'), nodeInfosOf(state, nodes)), [100, 0, 0, 100]);
});

test('the cost-aware profile leaves a cheaper spot node that Cluster Autoscaler wants gone for a dearer one', () => {
  const spot = testNode('spot', { instanceType: 'm5.xlarge', capacityType: 'spot', taints: [{ key: AutoscalerTaint.DeletionCandidate, effect: 'PreferNoSchedule' }] });
  const onDemand = testNode('od', { instanceType: 'm5.xlarge' });
  const state = FitState.fromSnapshot(testSnapshot([spot, onDemand]), { prices });
  const choice = selectNode(state, testPod('p', { requests: { cpu: 500, pods: 1 } }), COST_AWARE_PROFILE);
  assert.ok(choice.ok);
  assert.equal(choice.nodeName, 'od');
  // Without the taint the spot node's price wins.
  const clean = FitState.fromSnapshot(testSnapshot([{ ...spot, taints: [] }, onDemand]), { prices });
  const cheaper = selectNode(clean, testPod('p', { requests: { cpu: 500, pods: 1 } }), COST_AWARE_PROFILE);
  assert.ok(cheaper.ok);
  assert.equal(cheaper.nodeName, 'spot');
});
