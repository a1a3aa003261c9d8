import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDrainRecord, encodeDrainRecord, hasDrainingTaint, surgesSafely, withDrainingTaint, withoutDrainingTaint } from './drain-state.js';

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
