import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeInfoOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { FitState } from './state.js';

const cordoned = testNode('cordoned', { unschedulable: true });
const healthy = testNode('healthy');
const state = FitState.fromSnapshot(testSnapshot([cordoned, healthy]));

test('NodeUnschedulable rejects a cordoned node unless the pod tolerates node.kubernetes.io/unschedulable', () => {
  assert.deepEqual(nodeUnschedulable.filter(state, testPod('p'), nodeInfoOf(state, cordoned)), {
    ok: false,
    plugin: 'NodeUnschedulable',
    reason: 'node(s) were unschedulable',
  });
  assert.deepEqual(nodeUnschedulable.filter(state, testPod('p'), nodeInfoOf(state, healthy)), { ok: true });
  const daemon = testPod('ds', { constraints: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.deepEqual(nodeUnschedulable.filter(state, daemon, nodeInfoOf(state, cordoned)), { ok: true });
  const noExecuteOnly = testPod('x', { constraints: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }] } });
  assert.equal(nodeUnschedulable.filter(state, noExecuteOnly, nodeInfoOf(state, cordoned)).ok, false);
});

test('a node cordoned in the planning state is unschedulable until uncordoned, on that state only', () => {
  const planning = state.clone();
  planning.cordon('healthy');
  assert.equal(nodeUnschedulable.filter(planning, testPod('p'), nodeInfoOf(planning, healthy)).ok, false);
  assert.equal(nodeUnschedulable.filter(state, testPod('p'), nodeInfoOf(state, healthy)).ok, true);
  planning.uncordon('healthy');
  assert.equal(nodeUnschedulable.filter(planning, testPod('p'), nodeInfoOf(planning, healthy)).ok, true);
  assert.throws(() => planning.cordon('ghost'), { message: 'Cannot cordon node "ghost": the node is not in the state' });
});
