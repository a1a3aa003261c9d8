import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionReviewError, parseAdmissionReview, reviewResponse } from './review.js';

test('a review is read into the fields the webhook uses, with defaults for what is absent', () => {
  const request = parseAdmissionReview(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop', operation: 'CREATE', object: { metadata: { generateName: 'cart-' } }, dryRun: true },
    }),
  );
  assert.deepEqual(request, {
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: '', resource: '' },
    subResource: '',
    namespace: 'shop',
    name: '',
    operation: 'CREATE',
    object: { metadata: { generateName: 'cart-' } },
    dryRun: true,
  });
});

test('errors are AdmissionReviewErrors with one line', () => {
  for (const body of ['', 'null', '"x"', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":""}}', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":[1]}}']) {
    assert.throws(() => parseAdmissionReview(body), (error: Error) => error instanceof AdmissionReviewError && !error.message.includes('\n') && error.message.startsWith('Invalid AdmissionReview: '));
  }
});

test('the response is allowed, with a base64 JSON Patch only when there are operations', () => {
  assert.deepEqual(reviewResponse('u'), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u', allowed: true } });
  const patch = [{ op: 'add', path: '/metadata/annotations/a~1b', value: 'x' }] as const;
  const response = reviewResponse('u', patch).response;
  assert.equal(response.patchType, 'JSONPatch');
  assert.deepEqual(JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8')), patch);
});
