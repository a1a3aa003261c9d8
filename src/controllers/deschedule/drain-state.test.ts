import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { node, snapshot, workload } from '../../policy/deschedule/fixtures.test-helper.js';
import { decodeDrainRecord, encodeDrainRecord, hasDrainingTaint, leftoverDrainState, surgesSafely, withDrainingTaint, withoutDrainingTaint } from './drain-state.js';

describe('drain state on the node', () => {
  test('a record survives the annotation round trip', () => {
    const record = { planId: 'p1', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'spot-reschedule', pods: ['a/b'], previous: { hadTaint: false, unschedulable: false } };
    assert.deepEqual(decodeDrainRecord(encodeDrainRecord(record)), record);
  });

  test('a malformed annotation reads as no record', () => {
    assert.equal(decodeDrainRecord('not json'), undefined);
    assert.equal(decodeDrainRecord('{"planId":3}'), undefined);
    assert.equal(decodeDrainRecord(undefined), undefined);
  });

  test('the taint is added once and removed without touching others', () => {
    const other = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    const tainted = withDrainingTaint(withDrainingTaint([other], new Date(0)), new Date(0));
    assert.equal(tainted.length, 2);
    assert.ok(hasDrainingTaint(tainted));
    assert.deepEqual(withoutDrainingTaint(tainted), [other]);
    assert.ok(!hasDrainingTaint(undefined));
  });

  test('surge settings: defaults surge one replica safely, Recreate and maxUnavailable 1 do not', () => {
    assert.ok(surgesSafely(undefined, 1));
    assert.ok(surgesSafely({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, 1));
    assert.ok(!surgesSafely({ type: 'Recreate' }, 1));
    assert.ok(!surgesSafely({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, 1));
    assert.ok(!surgesSafely({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } }, 2));
  });
});

describe('drain state left by an earlier run', () => {
  test('tainted or recorded nodes and Deployments with a saved strategy are listed, with what a start does', () => {
    const record = encodeDrainRecord({ planId: 'p1', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'spot-reschedule', pods: ['a/b', 'a/c'], previous: { hadTaint: false, unschedulable: false } });
    const held = encodeDrainRecord({ planId: 'p0', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'consolidate', pods: [], previous: { hadTaint: false, unschedulable: false }, heldUntil: '2026-01-01T01:00:00.000Z' });
    const taint = { key: 'stowage.io/draining', value: 'true', effect: 'NoSchedule' } as const;
    const snap = snapshot({
      nodes: [
        node('clean'),
        node('both', { annotations: { 'stowage.io/drain': record }, taints: [taint] }),
        node('taint-only', { taints: [taint] }),
        node('garbled', { annotations: { 'stowage.io/drain': '{' } }),
        node('held', { annotations: { 'stowage.io/drain': held }, taints: [taint] }),
      ],
      workloads: [
        workload('web', 1, { annotations: { 'stowage.io/surge': JSON.stringify({ strategy: { type: 'Recreate' }, at: '2026-01-01T00:00:01.000Z' }) } }),
        workload('api', 2),
        workload('db', 1, { ref: { kind: 'StatefulSet', namespace: 'default', name: 'db' }, annotations: { 'stowage.io/surge': '{}' } }),
      ],
    });
    const before = Date.parse('2026-01-01T00:30:00.000Z');
    const left = leftoverDrainState(snap, before);
    assert.deepEqual(left.nodes.map((n) => [n.node, n.tainted, n.annotated, n.record?.planId, n.onStart]), [
      ['both', true, true, 'p1', 'roll-back'],
      ['garbled', false, true, undefined, 'roll-back'],
      ['held', true, true, 'p0', 'keep'],
      ['taint-only', true, false, undefined, 'roll-back'],
    ]);
    assert.deepEqual(left.surges, [{ namespace: 'default', name: 'web', saved: { strategy: { type: 'Recreate' }, at: '2026-01-01T00:00:01.000Z' } }], 'only Deployments surge');
    assert.equal(leftoverDrainState(snap, Date.parse('2026-01-01T01:00:00.001Z')).nodes.find((n) => n.node === 'held')?.onStart, 'roll-back', 'a hold that is over is rolled back');
    assert.deepEqual(leftoverDrainState(snapshot({ nodes: [node('clean')] }), before), { nodes: [], surges: [] });
  });
});
