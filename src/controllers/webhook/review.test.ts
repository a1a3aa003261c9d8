import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionReviewError, parseAdmissionReview, POD_FIELD_LIMITS, reviewResponse } from './review.js';

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

const REVIEW = (object: unknown): string => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object } });

test('only the pod fields placement reads are kept: no images, env, probes, managedFields or junk', () => {
  const container = { name: 'app', image: 'x:1', env: [{ name: 'A', value: '1' }], resources: { requests: { cpu: '1' }, limits: { cpu: '2' } }, livenessProbe: { exec: { command: ['true'] } } };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'cart-', labels: { app: 'cart' }, annotations: { a: 'b' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-1', controller: true }], managedFields: [{ manager: 'm' }] },
    spec: {
      containers: [container],
      initContainers: [{ ...container, restartPolicy: 'Always' }],
      tolerations: [{ key: 't', operator: 'Exists' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      nodeSelector: null,
      volumes: [{ name: 'v', configMap: { name: 'c' }, ephemeral: { volumeClaimTemplate: { spec: { resources: {} } } } }],
      serviceAccountName: 'sa',
    },
    status: { phase: 'Pending' },
    junk: Array.from({ length: 1_000 }, () => ({})),
  };
  assert.deepEqual(parseAdmissionReview(REVIEW(pod)).object, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'cart-', labels: { app: 'cart' }, annotations: { a: 'b' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-1', controller: true }] },
    spec: {
      containers: [{ name: 'app', resources: { requests: { cpu: '1' } } }],
      initContainers: [{ name: 'app', resources: { requests: { cpu: '1' } }, restartPolicy: 'Always' }],
      tolerations: [{ key: 't', operator: 'Exists' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      nodeSelector: null,
      volumes: [{ name: 'v', ephemeral: {} }],
    },
    status: { phase: 'Pending' },
  });
  // A field of an unexpected type is kept as it is, for the admitter to judge.
  assert.deepEqual(parseAdmissionReview(REVIEW({ metadata: 'x', spec: { containers: { a: 1 } } })).object, { metadata: 'x', spec: { containers: { a: 1 } } });
});

test('pod fields too large for a real pod are refused in one line naming the field', () => {
  const huge = (object: unknown): string => {
    try {
      parseAdmissionReview(REVIEW(object));
      return 'accepted';
    } catch (error) {
      assert.ok(error instanceof AdmissionReviewError);
      assert.ok(!error.message.includes('\n'));
      return error.message;
    }
  };
  assert.equal(huge({ metadata: { annotations: { a: 'x'.repeat(POD_FIELD_LIMITS.maxStringBytes + 1) } } }), `Invalid AdmissionReview: request.object.metadata.annotations is too large: the pod fields the webhook reads hold more than ${POD_FIELD_LIMITS.maxStringBytes} characters`);
  assert.equal(huge({ spec: { tolerations: Array.from({ length: POD_FIELD_LIMITS.maxValues }, () => ({})) } }), `Invalid AdmissionReview: request.object.spec.tolerations is too large: the pod fields the webhook reads hold more than ${POD_FIELD_LIMITS.maxValues} values`);
  assert.match(huge({ spec: { containers: Array.from({ length: POD_FIELD_LIMITS.maxValues }, () => ({ name: 'c' })) } }), /request\.object\.spec\.containers\.\d+(\.name)? is too large/);
  // What is not kept costs nothing: 120,000 empty objects beside the pod are no reason to refuse it.
  assert.equal(huge({ metadata: {}, junk: Array.from({ length: 120_000 }, () => ({})), spec: { containers: [{ name: 'c', env: Array.from({ length: 30_000 }, () => ({ name: 'x' })) }] } }), 'accepted');
});
