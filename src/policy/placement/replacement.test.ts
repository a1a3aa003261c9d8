import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testPod } from '../../core/fixtures.test-helper.js';
import type { PodView } from '../../core/model.js';
import { replacementPod } from './replacement.js';
import { DEFAULT_PLACEMENT_PATCH_OPTIONS } from './patch.js';

const base: PodView = testPod('cart-1', {
  namespace: 'shop', uid: 'u1', requests: {}, nodeName: 'od-1', owner: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
});
const key = 'node.kubernetes.io/capacity';
const od = { key, operator: 'In', values: ['on-demand'] } as const;
const spot = { key, operator: 'In', values: ['spot'] } as const;
const zone = { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] } as const;
const tol = { key: 'spot', operator: 'Exists', effect: 'NoSchedule' } as const;
const options = { ...DEFAULT_PLACEMENT_PATCH_OPTIONS, spotToleration: tol };

test('the webhook\'s old requirement is swapped for the new one; the user\'s stay', () => {
  const placed: PodView = {
    ...base,
    annotations: { 'stowage.io/capacity-type': 'on-demand' },
    constraints: { nodeAffinity: { required: [{ matchExpressions: [zone, od] }, { matchExpressions: [od] }] }, tolerations: [{ key: 'gpu', operator: 'Exists' }] },
  };
  const next = replacementPod(placed, 'spot', options);
  assert.deepEqual(next.constraints, {
    nodeAffinity: { required: [{ matchExpressions: [zone, spot] }] },
    tolerations: [{ key: 'gpu', operator: 'Exists' }, tol],
  });
  assert.equal(next.annotations['stowage.io/capacity-type'], 'spot');
  assert.equal(next.uid, 'u1');
  assert.deepEqual(placed.constraints.nodeAffinity?.required?.[0]?.matchExpressions, [zone, od], 'the original is not changed');
});

test('a pod the webhook never saw gets the requirement added; a preferred term from a fallback is dropped', () => {
  assert.deepEqual(replacementPod(base, 'on-demand', options).constraints, { nodeAffinity: { required: [{ matchExpressions: [od] }] } });
  const preferred: PodView = { ...base, annotations: { 'stowage.io/capacity-type': 'spot' }, constraints: { nodeAffinity: { preferred: [{ weight: 100, preference: { matchExpressions: [spot] } }] }, tolerations: [tol] } };
  assert.deepEqual(replacementPod(preferred, 'on-demand', options).constraints, { nodeAffinity: { required: [{ matchExpressions: [od] }] }, tolerations: [tol] });
});

test('a term or nodeSelector naming the capacity label is the user\'s and stays', () => {
  const userTerm: PodView = { ...base, constraints: { nodeAffinity: { required: [{ matchExpressions: [od] }, { matchExpressions: [zone] }] } } };
  assert.deepEqual(replacementPod(userTerm, 'spot', options).constraints.nodeAffinity?.required, [{ matchExpressions: [od] }, { matchExpressions: [zone, spot] }]);
  const pinned: PodView = { ...base, constraints: { nodeSelector: { [key]: 'on-demand' } } };
  assert.equal(replacementPod(pinned, 'spot', options), pinned);
});

test('no capacity type: only the webhook\'s old requirement goes (an opted-out workload\'s replacement)', () => {
  const placed: PodView = { ...base, annotations: { 'stowage.io/capacity-type': 'on-demand' }, constraints: { nodeAffinity: { required: [{ matchExpressions: [od] }] } } };
  const next = replacementPod(placed, undefined, options);
  assert.deepEqual(next.constraints, {});
  assert.deepEqual(next.annotations, {});
});
