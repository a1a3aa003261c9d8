import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skipReasonCode } from './metrics.js';

describe('skipReasonCode', () => {
  test('maps the policy\'s sentences to few label values', () => {
    assert.equal(skipReasonCode('Cannot move pod "a/b": PodDisruptionBudget "a/b" allows 0 disruptions (status 0, computed 0)'), 'pdb');
    assert.equal(skipReasonCode('Pod "a/b" fits nowhere else: 0/2 nodes are available'), 'no-fit');
    assert.equal(skipReasonCode('Node "n" failed to drain 2 time(s): retrying in 300s'), 'backoff');
    assert.equal(skipReasonCode('Cannot move pod "a/b": Deployment "a/b" has 1 of 3 pods not Ready'), 'unsettled');
    assert.equal(skipReasonCode('Pod "a/b" is 10s old, younger than the minimum of 300s'), 'not-movable');
    assert.equal(skipReasonCode('something new'), 'other');
  });
});
