import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PriceTable } from '../../core/pricing.js';
import { GI, nodeInfosOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { costAwareScore, podHourlyCostOnNode } from './cost-aware.js';
import { COST_AWARE_PROFILE, DEFAULT_PROFILE } from './profiles.js';
import { selectNode } from './score.js';
import { FitState } from './state.js';
import { scoresOf } from './plugin.js';

const prices = PriceTable.create({
  instanceTypes: {
    'm5.xlarge': { onDemand: 0.192, spot: 0.08 },
    'm5.2xlarge': { onDemand: 0.384 },
    'c5.xlarge': { onDemand: 0.17 },
  },
});
const onDemand = testNode('od', { instanceType: 'm5.xlarge' });
const spot = testNode('spot', { instanceType: 'm5.xlarge', capacityType: 'spot' });
const big = testNode('big', { instanceType: 'm5.2xlarge', allocatable: { cpu: 8000, memory: 32 * GI, pods: 110 } });
const pod = testPod('api', { requests: { cpu: 1000, memory: 2 * GI } });

test("a pod's hourly cost on a node is the node's price times the pod's dominant share of it", () => {
  const close = (actual: number | undefined, expected: number) => assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${actual} ≉ ${expected}`);
  close(podHourlyCostOnNode(prices, pod, onDemand), 0.192 * 0.25);
  close(podHourlyCostOnNode(prices, pod, spot), 0.08 * 0.25);
  // Twice the node for twice the price: the cpu share halves, the cost per resource stays.
  close(podHourlyCostOnNode(prices, pod, big), 0.384 * 0.125);
  assert.equal(podHourlyCostOnNode(prices, pod, testNode('empty', { allocatable: {} })), undefined);
});

test('CostAware scores the saving against the dearest node: spot at 42% of the price scores 59', () => {
  const c5 = testNode('c5', { instanceType: 'c5.xlarge' });
  const state = FitState.fromSnapshot(testSnapshot([onDemand, spot, big, c5]), { prices });
  assert.deepEqual(scoresOf(costAwareScore, state, pod, nodeInfosOf(state, [onDemand, spot, big])), [0, 59, 0]);
  // c5.xlarge costs 0.17 for the same share: 100 - trunc(100 × 0.17 / 0.192) = 100 - 88.
  assert.deepEqual(scoresOf(costAwareScore, state, pod, nodeInfosOf(state, [onDemand, c5])), [0, 12]);
});

test('the cost-aware profile puts the pod on spot where the default profile spreads it', () => {
  const used = testPod('used', { nodeName: 'spot', requests: { cpu: 2000, memory: 4 * GI } });
  const state = FitState.fromSnapshot(testSnapshot([onDemand, spot], [used]), { prices });
  const byCost = selectNode(state, pod, COST_AWARE_PROFILE);
  assert.ok(byCost.ok);
  assert.equal(byCost.nodeName, 'spot');
  const byDefault = selectNode(state, pod, DEFAULT_PROFILE);
  assert.ok(byDefault.ok);
  assert.equal(byDefault.nodeName, 'od');
});
