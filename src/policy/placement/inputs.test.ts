import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { podFromKube, type KubePod } from '../../core/from-kube.js';
import { GI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
import type { NodeView, PodView, SchedulingConstraints } from '../../core/model.js';
import { FitState } from '../fit/state.js';
import { applyJsonPatch } from './json-patch.test-helper.js';
import { applyPlacement, countPlacement, countedPod, pinnedCapacityType, placementGroup, placementRoom, withoutPlacement } from './inputs.js';
import { DEFAULT_PLACEMENT_PATCH_OPTIONS, placementPatch, type PlacementPatchOptions, type RawPod } from './patch.js';

const KEY = 'node.kubernetes.io/capacity';
const label = DEFAULT_PLACEMENT_PATCH_OPTIONS.capacityLabel;
const odReq = { key: KEY, operator: 'In', values: ['on-demand'] } as const;
const spotReq = { key: KEY, operator: 'In', values: ['spot'] } as const;
const tol = { key: KEY, operator: 'Equal', value: 'spot', effect: 'NoSchedule' } as const;

test('placementGroup: a Deployment per revision, a StatefulSet as one', () => {
  assert.equal(placementGroup({ kind: 'Deployment', namespace: 'shop', name: 'cart' }, 'rs-1'), 'Deployment/shop/cart#rs-1');
  assert.equal(placementGroup({ kind: 'StatefulSet', namespace: 'shop', name: 'db' }, 'set-uid'), 'StatefulSet/shop/db');
});

test('pinnedCapacityType reads nodeSelector and required terms', () => {
  const terms = (...reqs: SchedulingConstraints['nodeSelector'][] | object[]): SchedulingConstraints => ({ nodeAffinity: { required: reqs.map((r) => ({ matchExpressions: [r as typeof odReq] })) } });
  assert.equal(pinnedCapacityType({ nodeSelector: { [KEY]: 'spot' } }), 'spot');
  assert.equal(pinnedCapacityType({ nodeSelector: { [KEY]: 'reserved' } }), 'other');
  assert.equal(pinnedCapacityType({}), undefined);
  assert.equal(pinnedCapacityType(terms(odReq)), 'on-demand');
  assert.equal(pinnedCapacityType(terms(odReq, odReq)), 'on-demand');
  assert.equal(pinnedCapacityType(terms(odReq, spotReq)), 'other');
  assert.equal(pinnedCapacityType(terms(odReq, { key: 'zone', operator: 'In', values: ['a'] })), undefined);
  assert.equal(pinnedCapacityType(terms({ key: KEY, operator: 'In', values: ['spot', 'on-demand'] })), 'other');
});

test('countPlacement: bound pods by their node, unbound by the decision, terminating and finished ones not at all', () => {
  const types: Record<string, 'spot' | 'on-demand' | 'unknown'> = { od: 'on-demand', sp: 'spot', odd: 'unknown' };
  const pods: PodView[] = [
    testPod('a', { nodeName: 'od' }),
    testPod('b', { nodeName: 'sp' }),
    testPod('c', { nodeName: 'sp', deletionRequestedAt: 1 }),
    testPod('d', { nodeName: 'od', phase: 'Succeeded' }),
    testPod('e', { nodeName: 'odd' }),
    testPod('f', { nodeName: 'gone' }),
    testPod('g', { annotations: { 'stowage.io/capacity-type': 'spot' }, constraints: { nodeAffinity: { preferred: [{ weight: 100, preference: { matchExpressions: [spotReq] } }] } } }),
    testPod('h', { constraints: { nodeSelector: { [KEY]: 'on-demand' } } }),
    testPod('i'),
  ];
  assert.deepEqual(countPlacement(pods.map((p) => countedPod(p, label)), (n) => types[n]), { onDemand: 2, spot: 2 });
});

test('placementRoom: full fit rules on the nodes of each type, the spot toleration, growth and reservations', () => {
  const od = testNode('od', { capacityType: 'on-demand', labels: { [KEY]: 'on-demand' }, allocatable: { cpu: 2000, memory: 4 * GI, pods: 10 } });
  const spot = testNode('spot', { capacityType: 'spot', labels: { [KEY]: 'spot' }, taints: [{ key: KEY, value: 'spot', effect: 'NoSchedule' }], allocatable: { cpu: 2000, memory: 4 * GI, pods: 10 } });
  const web = testPod('web-0', { labels: { app: 'web' }, nodeName: 'od', requests: { cpu: 500, memory: GI, pods: 1 } });
  const state = FitState.fromSnapshot(testSnapshot([od, spot], [web]));
  const pod = testPod('new', { uid: '', labels: { app: 'web' }, requests: { cpu: 1000, memory: GI, pods: 1 } });
  assert.deepEqual(placementRoom(state, pod, { capacityLabel: label }), { onDemand: true, spot: false }, 'spot is tainted and the pod lacks the toleration');
  assert.deepEqual(placementRoom(state, pod, { capacityLabel: label, spotToleration: tol }), { onDemand: true, spot: true });
  // Pod anti-affinity: a rule the cpu/memory check used to miss.
  const anti: PodView = { ...pod, constraints: { podAntiAffinity: { required: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
  assert.deepEqual(placementRoom(state, anti, { capacityLabel: label, spotToleration: tol }), { onDemand: false, spot: true });
  // A node the autoscaler can add stands in for room, when the pod passes every fit rule on it.
  const template = (name: string, type: 'on-demand' | 'spot', cpu: number, taints: NodeView['taints'] = []): NodeView => testNode(name, { capacityType: type, labels: { [KEY]: type }, allocatable: { cpu, memory: 8 * GI, pods: 110 }, taints });
  const before = state.nodeNames;
  assert.deepEqual(placementRoom(state, anti, { capacityLabel: label, growable: [template('od-template', 'on-demand', 4000)] }), { onDemand: true, spot: false }, 'growth stands in for room');
  assert.deepEqual(state.nodeNames, before, 'the template is gone from the state again');
  assert.deepEqual(placementRoom(state, anti, { capacityLabel: label, growable: [template('od-small', 'on-demand', 100)] }), { onDemand: false, spot: false }, 'a template too small for the pod is no room');
  assert.deepEqual(placementRoom(state, anti, { capacityLabel: label, growable: [template('od-tainted', 'on-demand', 4000, [{ key: 'tenant', value: 'a', effect: 'NoSchedule' }])] }), { onDemand: false, spot: false }, 'a template whose taint the pod does not tolerate is no room');
  // Room for the pod alone, but not for it and what is already promised to the type.
  assert.deepEqual(placementRoom(state, pod, { capacityLabel: label, spotToleration: tol, reserved: { 'on-demand': { cpu: 600 }, spot: { cpu: 1000 } } }), { onDemand: false, spot: true });
  const big = testPod('big', { uid: '', requests: { cpu: 3000, memory: GI, pods: 1 } });
  assert.deepEqual(placementRoom(state, big, { capacityLabel: label, spotToleration: tol }), { onDemand: false, spot: false });
  const spotTemplate = template('spot-template', 'spot', 4000, [{ key: KEY, value: 'spot', effect: 'NoSchedule' }]);
  assert.deepEqual(placementRoom(state, big, { capacityLabel: label, spotToleration: tol, growable: [spotTemplate] }), { onDemand: false, spot: true }, 'a spot template takes the pod with the toleration the patch adds');
  assert.deepEqual(placementRoom(state, big, { capacityLabel: label, growable: [spotTemplate] }), { onDemand: false, spot: false }, 'and not without it');
});

test('withoutPlacement takes out only what the webhook added', () => {
  const zone = { key: 'zone', operator: 'In', values: ['a'] } as const;
  const placed = testPod('p', { annotations: { 'stowage.io/capacity-type': 'on-demand', keep: 'me' }, constraints: { nodeAffinity: { required: [{ matchExpressions: [zone, odReq] }] } } });
  assert.deepEqual(withoutPlacement(placed, label).constraints, { nodeAffinity: { required: [{ matchExpressions: [zone] }] } });
  assert.deepEqual(withoutPlacement(placed, label).annotations, { keep: 'me' });
});

// --- the patch and its model twin agree --------------------------------------------------------

const requirementArb = fc.oneof(
  fc.constant(odReq),
  fc.constant(spotReq),
  fc.constant({ key: KEY, operator: 'In', values: ['spot', 'on-demand'] }),
  fc.record({ key: fc.constantFrom('zone', 'disk'), operator: fc.constantFrom('In', 'NotIn'), values: fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 2 }) }),
  fc.record({ key: fc.constantFrom('gpu', KEY), operator: fc.constantFrom('Exists', 'DoesNotExist') }),
);
const termArb = fc.oneof(
  fc.record({ matchExpressions: fc.array(requirementArb, { maxLength: 3 }) }),
  fc.record({ matchFields: fc.constant([{ key: 'metadata.name', operator: 'In', values: ['n1'] }]) }),
  fc.record({ matchExpressions: fc.array(requirementArb, { minLength: 1, maxLength: 2 }), matchFields: fc.constant([{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }]) }),
);
const tolerationArb = fc.oneof(
  fc.constant(tol),
  fc.constant({ key: KEY, operator: 'Exists' }),
  fc.record({ key: fc.constantFrom('gpu', 'dedicated'), operator: fc.constant('Exists'), effect: fc.constantFrom('NoSchedule', 'NoExecute') }),
);

/** Raw pods as an AdmissionReview carries them: every optional part present, empty or absent. */
const rawPodArb: fc.Arbitrary<KubePod & RawPod> = fc
  .record(
    {
      annotations: fc.option(fc.dictionary(fc.constantFrom('a', 'controller.kubernetes.io/pod-deletion-cost', 'stowage.io/capacity-type'), fc.constantFrom('1', 'x', 'spot'), { noNullPrototype: true }), { nil: undefined }),
      nodeSelector: fc.option(fc.dictionary(fc.constantFrom(KEY, 'zone'), fc.constantFrom('spot', 'on-demand', 'a'), { noNullPrototype: true }), { nil: undefined }),
      affinity: fc.option(
        fc.record(
          {
            nodeAffinity: fc.option(
              fc.record(
                {
                  requiredDuringSchedulingIgnoredDuringExecution: fc.record({ nodeSelectorTerms: fc.array(termArb, { maxLength: 3 }) }),
                  preferredDuringSchedulingIgnoredDuringExecution: fc.array(fc.record({ weight: fc.integer({ min: 1, max: 100 }), preference: termArb }), { maxLength: 2 }),
                },
                { requiredKeys: [] },
              ),
              { nil: undefined },
            ),
            podAntiAffinity: fc.constant({ requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'x' } }, topologyKey: 'kubernetes.io/hostname' }] }),
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
      tolerations: fc.option(fc.array(tolerationArb, { maxLength: 3 }), { nil: undefined }),
    },
    { requiredKeys: [] },
  )
  .map(({ annotations, nodeSelector, affinity, tolerations }) => {
    const spec: Record<string, unknown> = { containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] };
    if (nodeSelector !== undefined) spec['nodeSelector'] = nodeSelector;
    if (affinity !== undefined) spec['affinity'] = affinity;
    if (tolerations !== undefined) spec['tolerations'] = tolerations;
    return { metadata: { name: 'p', namespace: 'shop', ...(annotations === undefined ? {} : { annotations }) }, spec };
  });

const optionsArb: fc.Arbitrary<PlacementPatchOptions> = fc.record({
  capacityLabel: fc.constant(label),
  deletionCost: fc.constant(DEFAULT_PLACEMENT_PATCH_OPTIONS.deletionCost),
  preferredWeight: fc.integer({ min: 1, max: 100 }),
  spotToleration: fc.constantFrom(tol, { key: 'spot', operator: 'Exists' } as const),
});

test('property: applyPlacement on the pod model equals placementPatch applied to the raw pod and read back', () => {
  const owner = (): { kind: 'None'; namespace: string; name: string } => ({ kind: 'None', namespace: 'shop', name: 'p' });
  fc.assert(
    fc.property(rawPodArb, fc.constantFrom('spot' as const, 'on-demand' as const), fc.boolean(), optionsArb, (raw, capacityType, required, options) => {
      const decision = { capacityType, required, floor: 1, reason: '' };
      const patched = podFromKube(applyJsonPatch(raw, placementPatch(raw, decision, options)), owner);
      const modelled = applyPlacement(podFromKube(raw, owner), decision, options);
      assert.deepEqual(modelled.constraints, patched.constraints);
      assert.deepEqual(modelled.annotations, patched.annotations);
    }),
    { numRuns: 2000, seed: 20261205 },
  );
});
