import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeInfoOf, nodeInfosOf, normalizedOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { taintTolerationFilter, taintTolerationScore } from './taint-toleration.js';
import { FitState } from './state.js';
import { scoresOf } from './plugin.js';

const spot = testNode('spot-1', { taints: [{ key: 'spot', value: 'true', effect: 'NoSchedule' }] });
const draining = testNode('drain-1', { taints: [{ key: 'drain', effect: 'NoExecute' }] });
const soft = testNode('soft-1', {
  taints: [
    { key: 'spot', value: 'true', effect: 'PreferNoSchedule' },
    { key: 'team', value: 'ml', effect: 'PreferNoSchedule' },
  ],
});
const plain = testNode('plain-1');
const state = FitState.fromSnapshot(testSnapshot([spot, draining, soft, plain]));

test('TaintToleration rejects a node with a NoSchedule taint the pod does not tolerate', () => {
  assert.deepEqual(taintTolerationFilter.filter(state, testPod('p'), nodeInfoOf(state, spot)), {
    ok: false,
    plugin: 'TaintToleration',
    reason: 'node(s) had untolerated taint(s)',
  });
  assert.deepEqual(taintTolerationFilter.filter(state, testPod('p'), nodeInfoOf(state, draining)), {
    ok: false,
    plugin: 'TaintToleration',
    reason: 'node(s) had untolerated taint(s)',
  });
});

test('TaintToleration admits a pod that tolerates the taint, and ignores PreferNoSchedule taints', () => {
  const tolerant = testPod('p', { constraints: { tolerations: [{ key: 'spot', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] } });
  assert.deepEqual(taintTolerationFilter.filter(state, tolerant, nodeInfoOf(state, spot)), { ok: true });
  const everything = testPod('q', { constraints: { tolerations: [{ operator: 'Exists' }] } });
  assert.deepEqual(taintTolerationFilter.filter(state, everything, nodeInfoOf(state, draining)), { ok: true });
  assert.deepEqual(taintTolerationFilter.filter(state, testPod('r'), nodeInfoOf(state, soft)), { ok: true });
});

test('TaintToleration scores fewer untolerated PreferNoSchedule taints higher, reverse-normalized', () => {
  const nodes = [soft, plain];
  const raw = scoresOf(taintTolerationScore, state, testPod('p'), nodeInfosOf(state, nodes));
  assert.deepEqual(raw, [2, 0]);
  assert.deepEqual(normalizedOf(taintTolerationScore, raw), [0, 100]);
  const tolerant = testPod('t', { constraints: { tolerations: [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }] } });
  const rawTolerant = scoresOf(taintTolerationScore, state, tolerant, nodeInfosOf(state, nodes));
  assert.deepEqual(rawTolerant, [1, 0]);
  assert.deepEqual(normalizedOf(taintTolerationScore, rawTolerant), [0, 100]);
  assert.deepEqual(normalizedOf(taintTolerationScore, [0, 0]), [100, 100]);
});
