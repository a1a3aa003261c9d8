import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlacementDecision } from './decide.js';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../../core/capacity.js';
import { capacityLabelFromNodes, DEFAULT_PLACEMENT_PATCH_OPTIONS, escapeJsonPointer, placementPatch } from './patch.js';
import type { JsonPatchOperation, PlacementPatchOptions, RawPod } from './patch.js';

/** RFC 6902 `add` only (all placement emits), strict about missing parents as the apiserver is. */
function applyPatch(doc: unknown, ops: readonly JsonPatchOperation[]): unknown {
  const root = structuredClone(doc) as Record<string, unknown>;
  for (const op of ops) {
    assert.equal(op.op, 'add');
    const tokens = op.path.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const leaf = tokens.pop();
    assert.ok(leaf !== undefined, `empty path in ${op.path}`);
    let parent: unknown = root;
    for (const t of tokens) {
      assert.ok(typeof parent === 'object' && parent !== null, `missing parent at ${op.path}`);
      parent = Array.isArray(parent) ? parent[Number(t)] : (parent as Record<string, unknown>)[t];
    }
    assert.ok(typeof parent === 'object' && parent !== null, `missing parent of ${op.path}`);
    const value = structuredClone(op.value);
    if (Array.isArray(parent)) {
      const index = leaf === '-' ? parent.length : Number(leaf);
      assert.ok(Number.isInteger(index) && index <= parent.length, `bad index in ${op.path}`);
      parent.splice(index, 0, value);
    } else {
      (parent as Record<string, unknown>)[leaf] = value;
    }
  }
  return root;
}

const spotRequired: PlacementDecision = { capacityType: 'spot', required: true, floor: 1, reason: '' };
const onDemandRequired: PlacementDecision = { capacityType: 'on-demand', required: true, floor: 1, reason: '' };
const onDemandPreferred: PlacementDecision = { capacityType: 'on-demand', required: false, floor: 1, reason: '' };
const spotToleration = { key: 'node.kubernetes.io/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' } as const;
const options: PlacementPatchOptions = { ...DEFAULT_PLACEMENT_PATCH_OPTIONS, spotToleration };
const spotReq = { key: 'node.kubernetes.io/capacity', operator: 'In', values: ['spot'] };
const odReq = { key: 'node.kubernetes.io/capacity', operator: 'In', values: ['on-demand'] };

test('a bare pod gets affinity, toleration and annotations created', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } };
  const ops = placementPatch(pod, spotRequired, options);
  assert.deepEqual(ops, [
    { op: 'add', path: '/spec/affinity', value: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [spotReq] }] } } } },
    { op: 'add', path: '/spec/tolerations', value: [spotToleration] },
    { op: 'add', path: '/metadata/annotations', value: { 'controller.kubernetes.io/pod-deletion-cost': '-100', 'stowage.io/capacity-type': 'spot' } },
  ]);
  assert.deepEqual(applyPatch(pod, ops), {
    metadata: { name: 'p', annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-100', 'stowage.io/capacity-type': 'spot' } },
    spec: {
      containers: [{ name: 'c' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [spotReq] }] } } },
      tolerations: [spotToleration],
    },
  });
});

test('the requirement joins every required term; the user\'s terms, preferences and pod affinity stay', () => {
  const zoneReq = { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] };
  const pod = {
    metadata: { annotations: { team: 'x' } },
    spec: {
      affinity: {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }] },
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [zoneReq] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [zoneReq] } }],
        },
      },
    },
  };
  const patched = applyPatch(pod, placementPatch(pod, onDemandRequired, options));
  assert.deepEqual(patched, {
    metadata: { annotations: { team: 'x', 'controller.kubernetes.io/pod-deletion-cost': '100', 'stowage.io/capacity-type': 'on-demand' } },
    spec: {
      affinity: {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }] },
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [zoneReq, odReq] },
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }], matchExpressions: [odReq] },
            ],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [zoneReq] } }],
        },
      },
    },
  });
});

test('annotation keys are escaped as JSON Pointer tokens, and the user\'s deletion cost is kept', () => {
  const pod = { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '7' } }, spec: {} };
  const ops = placementPatch(pod, spotRequired, DEFAULT_PLACEMENT_PATCH_OPTIONS);
  assert.deepEqual(ops.filter((o) => o.path.startsWith('/metadata')), [{ op: 'add', path: '/metadata/annotations/stowage.io~1capacity-type', value: 'spot' }]);
  assert.equal(escapeJsonPointer('a~b/c'), 'a~0b~1c');
  const fresh = { metadata: { annotations: {} }, spec: {} };
  assert.deepEqual(
    placementPatch(fresh, spotRequired).map((o) => o.path).filter((p) => p.startsWith('/metadata')),
    ['/metadata/annotations/controller.kubernetes.io~1pod-deletion-cost', '/metadata/annotations/stowage.io~1capacity-type'],
  );
});

test('not required: a preferred term is appended once; no required term is added', () => {
  const pod = { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }] } } } };
  const patched = applyPatch(pod, placementPatch(pod, onDemandPreferred, options)) as RawPod;
  assert.deepEqual(patched.spec?.affinity?.nodeAffinity, {
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 1, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
      { weight: 100, preference: { matchExpressions: [odReq] } },
    ],
  });
  // Applying again (a re-invoked webhook) adds no second preference.
  assert.deepEqual(placementPatch(patched, onDemandPreferred, options).filter((o) => o.path.startsWith('/spec')), []);
  // Missing parents are created.
  assert.deepEqual(placementPatch({ spec: { affinity: {} } }, onDemandPreferred, options)[0], {
    op: 'add', path: '/spec/affinity/nodeAffinity', value: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [odReq] } }] },
  });
});

test('the spot toleration is appended without duplicating; on-demand pods get none', () => {
  const other = { key: 'gpu', operator: 'Exists' };
  const pod = { spec: { tolerations: [other] } };
  const once = applyPatch(pod, placementPatch(pod, spotRequired, options)) as RawPod;
  assert.deepEqual(once.spec?.tolerations, [other, spotToleration]);
  assert.deepEqual(placementPatch(once, spotRequired, options).filter((o) => o.path.startsWith('/spec/tolerations')), []);
  assert.deepEqual(placementPatch(pod, onDemandRequired, options).filter((o) => o.path.startsWith('/spec/tolerations')), []);
  assert.deepEqual(placementPatch(pod, spotRequired, DEFAULT_PLACEMENT_PATCH_OPTIONS).filter((o) => o.path.startsWith('/spec/tolerations')), []);
});

test('terms that already name the capacity label, or a nodeSelector on it, are the user\'s choice', () => {
  const pod = {
    spec: {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [odReq] }, { matchExpressions: [] }] } } },
    },
  };
  assert.deepEqual(placementPatch(pod, spotRequired).filter((o) => o.path.startsWith('/spec/affinity')), [
    { op: 'add', path: '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/1/matchExpressions/-', value: spotReq },
  ]);
  const selected = { spec: { nodeSelector: { 'node.kubernetes.io/capacity': 'on-demand' } } };
  assert.deepEqual(placementPatch(selected, spotRequired).filter((o) => o.path.startsWith('/spec')), []);
});

test('capacityLabelFromNodes picks the first rule label that tells both types apart', () => {
  const karpenter = [{ labels: { 'karpenter.sh/capacity-type': 'spot' } }, { labels: { 'karpenter.sh/capacity-type': 'reserved' } }];
  assert.deepEqual(capacityLabelFromNodes(DEFAULT_CAPACITY_TYPE_RULES, karpenter), { key: 'karpenter.sh/capacity-type', values: { spot: 'spot', 'on-demand': 'reserved' } });
  const seed: { labels: Record<string, string> }[] = [{ labels: { 'node.kubernetes.io/capacity': 'on-demand' } }, { labels: { 'node.kubernetes.io/capacity': 'spot', 'karpenter.sh/capacity-type': 'spot' } }];
  assert.deepEqual(capacityLabelFromNodes(DEFAULT_CAPACITY_TYPE_RULES, seed), DEFAULT_PLACEMENT_PATCH_OPTIONS.capacityLabel);
  assert.equal(capacityLabelFromNodes(DEFAULT_CAPACITY_TYPE_RULES, [{ labels: { 'cloud.google.com/gke-spot': 'true' } }, { labels: {} }]), undefined);
});
