import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tenantPhase, tenantStatus } from './status.js';

const pod = (nodeName: string, ready: boolean, deleting = false) => ({ name: 'p', nodeName, ready, deleting });

describe('tenant phase', () => {
  test('Pending → Scheduled → Ready as the pod is bound, then Ready', () => {
    assert.equal(tenantPhase([], 1), 'Pending');
    assert.equal(tenantPhase([pod('', false)], 1), 'Pending');
    assert.equal(tenantPhase([pod('n1', false)], 1), 'Scheduled');
    assert.equal(tenantPhase([pod('n1', true)], 1), 'Ready');
  });

  test('fewer live pods than replicas is Pending; a terminating pod does not count', () => {
    assert.equal(tenantPhase([pod('n1', true)], 2), 'Pending');
    assert.equal(tenantPhase([pod('n1', true), pod('', false, true)], 1), 'Ready');
    assert.equal(tenantPhase([pod('n1', true)], 1, true), 'Terminating');
  });

  test('status lists the nodes once, sorted', () => {
    assert.deepEqual(tenantStatus('t', 'premium', [pod('n2', true), pod('n1', true), pod('n1', false)], 3), {
      name: 't', class: 'premium', phase: 'Scheduled', nodes: ['n1', 'n2'], pods: 3, readyPods: 2, replicas: 3,
    });
  });
});
