/**
 * The webhook and the simulator place a pod the same way. On random clusters (nodes of both
 * types, tainted, cordoned or not Ready; pods bound, decided but unbound, terminating; pods with
 * anti-affinity) the live webhook (`PlacementAdmitter` on its informer-fed `PlacementIndex`,
 * answering an AdmissionReview with a JSON Patch) and `placeNewPod` (what the simulator runs, on a
 * fit state built from the same objects) must take the same decision and give the pod the same
 * constraints and annotations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nodeFromKube, ownerResolver, podFromKube, workloadFromKube, type KubeNode, type KubePod } from '../../core/from-kube.js';
import { webhookConfigFromDocument } from '../../config/webhook-config.js';
import { FitState } from '../../policy/fit/index.js';
import { countedPod, pendingRequests, placeNewPod, placementGroupOf } from '../../policy/placement/inputs.js';
import { applyJsonPatch } from '../../policy/placement/json-patch.test-helper.js';
import { DEFAULT_PLACEMENT_PATCH_OPTIONS } from '../../policy/placement/patch.js';
import { resolvePlacementPolicy } from '../../policy/placement/policy.js';
import { PlacementAdmitter } from './admitter.js';
import { createRequest, deployment, node, NS, replicaSet, rsPod } from './fixtures.test-helper.js';
import { RESERVATION_ANNOTATION, ReservationLedger } from './ledger.js';
import { PlacementIndex } from './placement-index.js';

const KEY = 'node.kubernetes.io/capacity';

interface _Case {
  readonly nodes: readonly { readonly spot: boolean; readonly cpu: number; readonly tainted: boolean; readonly cordoned: boolean; readonly ready: boolean }[];
  readonly spotTaint: boolean;
  readonly base: number;
  readonly percent: number;
  readonly fallback: { readonly onDemandToSpot: boolean; readonly spotToOnDemand: boolean };
  readonly replicas: number;
  /** Pods of the Deployment: -1 unbound, else a node index; the decision of an unbound one; terminating; cpu. */
  readonly pods: readonly { readonly at: number; readonly decided: 'spot' | 'on-demand' | 'none'; readonly deleting: boolean; readonly cpu: number; readonly revision: 'aaa' | 'bbb' }[];
  /** Other pods that take room and may repel the new pod. */
  readonly others: readonly { readonly at: number; readonly cpu: number; readonly label: 'db' | 'cache' }[];
  readonly newPod: { readonly cpu: number; readonly antiAffinity: 'none' | 'db' | 'web'; readonly userTerm: boolean; readonly userToleration: boolean };
}

const caseArb: fc.Arbitrary<_Case> = fc.record({
  nodes: fc.array(
    fc.record({ spot: fc.boolean(), cpu: fc.constantFrom(1000, 2000, 4000), tainted: fc.boolean(), cordoned: fc.constantFrom(false, false, true), ready: fc.constantFrom(true, true, true, false) }),
    { minLength: 1, maxLength: 6 },
  ),
  spotTaint: fc.boolean(),
  base: fc.integer({ min: 0, max: 3 }),
  percent: fc.constantFrom(0, 25, 50, 100),
  fallback: fc.record({ onDemandToSpot: fc.boolean(), spotToOnDemand: fc.boolean() }),
  replicas: fc.integer({ min: 1, max: 8 }),
  pods: fc.array(
    fc.record({ at: fc.integer({ min: -1, max: 5 }), decided: fc.constantFrom('spot' as const, 'on-demand' as const, 'none' as const), deleting: fc.constantFrom(false, false, false, true), cpu: fc.constantFrom(100, 500, 900), revision: fc.constantFrom('aaa' as const, 'aaa' as const, 'bbb' as const) }),
    { maxLength: 8 },
  ),
  others: fc.array(fc.record({ at: fc.integer({ min: 0, max: 5 }), cpu: fc.constantFrom(200, 1500), label: fc.constantFrom('db' as const, 'cache' as const) }), { maxLength: 4 }),
  newPod: fc.record({ cpu: fc.constantFrom(100, 700, 1500), antiAffinity: fc.constantFrom('none' as const, 'db' as const, 'web' as const), userTerm: fc.boolean(), userToleration: fc.boolean() }),
});

function _kubeNodes(c: _Case): KubeNode[] {
  return c.nodes.map((n, i) => {
    const type = n.spot ? 'spot' : 'on-demand';
    const taints = n.spot && n.tainted && c.spotTaint ? [{ key: KEY, value: 'spot', effect: 'NoSchedule' }] : n.tainted ? [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] : [];
    return node(`n${i}`, type, { cpu: `${n.cpu}m`, taints, ready: n.ready, unschedulable: n.cordoned });
  });
}

function _kubePods(c: _Case): KubePod[] {
  const pods: KubePod[] = [];
  const nodeName = (at: number): string | undefined => (at < 0 ? undefined : `n${at % c.nodes.length}`);
  c.pods.forEach((p, i) => {
    const at = nodeName(p.at);
    pods.push(
      rsPod('web', p.revision, `web-${p.revision}-${i}`, {
        cpu: `${p.cpu}m`,
        deleting: p.deleting,
        ...(at === undefined ? {} : { nodeName: at }),
        annotations: p.decided === 'none' ? {} : { 'stowage.io/capacity-type': p.decided },
      }),
    );
  });
  c.others.forEach((o, i) => {
    pods.push(rsPod(o.label, 'zzz', `${o.label}-${i}`, { cpu: `${o.cpu}m`, nodeName: `n${o.at % c.nodes.length}` }));
  });
  return pods;
}

function _newPod(c: _Case): KubePod {
  const spec: Record<string, unknown> = {};
  if (c.newPod.antiAffinity !== 'none') {
    spec['affinity'] = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: c.newPod.antiAffinity } }, topologyKey: 'kubernetes.io/hostname' }] } };
  }
  if (c.newPod.userTerm) {
    spec['affinity'] = { ...(spec['affinity'] as object | undefined), nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } };
  }
  if (c.newPod.userToleration) spec['tolerations'] = [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }];
  const pod = rsPod('web', 'aaa', 'web-aaa-new', { cpu: `${c.newPod.cpu}m`, spec });
  return { ...pod, metadata: { ...pod.metadata, uid: '' } };
}

test('property: the webhook and the simulator\'s placement agree on the decision and the placed pod', async () => {
  let compared = 0;
  let required = 0;
  let spot = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const config = webhookConfigFromDocument({
        apiVersion: 'stowage.io/v1alpha1',
        kind: 'WebhookConfiguration',
        spec: {
          placement: { base: c.base, percent: c.percent, fallback: c.fallback },
          ...(c.spotTaint ? { spotTaint: { key: KEY, value: 'spot', effect: 'NoSchedule' } } : {}),
        },
      });
      const nodes = _kubeNodes(c);
      const pods = _kubePods(c);
      const workload = deployment('web', c.replicas);
      const replicaSets = [replicaSet('web', 'aaa'), replicaSet('web', 'bbb'), replicaSet('db', 'zzz'), replicaSet('cache', 'zzz')];
      const raw = _newPod(c);

      // The live webhook, fed as its informers feed it.
      const ledger = new ReservationLedger(config.reservationTtlMs);
      const index = new PlacementIndex({ capacityTypeRules: config.capacityTypeRules, capacityLabel: config.capacityLabel });
      for (const n of nodes) index.upsertNode(n);
      for (const rs of replicaSets) index.upsertReplicaSet(rs);
      index.upsertWorkload('Deployment', workload);
      index.upsertNamespace({ metadata: { name: NS } });
      for (const p of pods) index.upsertPod(p);
      const admitter = new PlacementAdmitter({ config, index, ledger, now: () => 1_000 });
      const result = await admitter.admit(createRequest(raw, 'review-1'));
      assert.equal(result.outcome, 'patched');
      if (result.outcome !== 'patched') return;
      const { [RESERVATION_ANNOTATION]: _reservation, ...webhookAnnotations } = podFromKube(applyJsonPatch(raw, result.patch), () => result.workload).annotations;
      const webhookPod = podFromKube(applyJsonPatch(raw, result.patch), () => result.workload);

      // The simulator's path: a fit state of the same cluster, the group's pods, the shared placement.
      const resolve = ownerResolver(replicaSets, []);
      const views = pods.map((p) => podFromKube(p, resolve));
      const pod = podFromKube(raw, resolve);
      const state = FitState.fromSnapshot({ takenAt: 0, nodes: nodes.map((n) => nodeFromKube(n, config.capacityTypeRules)), pods: views, workloads: [], pdbs: [] });
      const group = placementGroupOf(pod);
      const resolved = resolvePlacementPolicy(workloadFromKube(workload, 'Deployment').annotations, {}, config.placement);
      assert.ok(!resolved.optOut);
      if (resolved.optOut) return;
      const placed = placeNewPod({
        pod,
        workload: { kind: 'Deployment', namespace: NS, name: 'web' },
        replicas: c.replicas,
        members: views.filter((v) => placementGroupOf(v) === group).map((v) => countedPod(v, config.capacityLabel)),
        policy: resolved.policy,
        state,
        options: {
          ...DEFAULT_PLACEMENT_PATCH_OPTIONS,
          capacityLabel: config.capacityLabel,
          deletionCost: config.deletionCost,
          reserved: pendingRequests(views.map((v) => ({ ...countedPod(v, config.capacityLabel), requests: v.requests }))),
        },
      });

      assert.deepEqual(
        { capacityType: placed.decision.capacityType, required: placed.decision.required, floor: placed.decision.floor },
        { capacityType: result.decision.capacityType, required: result.decision.required, floor: result.decision.floor },
        `room ${JSON.stringify(placed.input.room)}, live ${JSON.stringify(placed.input.live)}`,
      );
      assert.equal(placed.decision.reason, result.decision.reason);
      assert.deepEqual(placed.pod.constraints, webhookPod.constraints);
      assert.deepEqual(placed.pod.annotations, webhookAnnotations);
      compared++;
      if (placed.decision.required) required++;
      if (placed.decision.capacityType === 'spot') spot++;
    }),
    { numRuns: 500, seed: 42 },
  );
  // The generator reaches every kind of decision, or the agreement would prove little.
  assert.equal(compared, 500);
  assert.ok(required > 50 && required < 450, `required in ${required} of 500`);
  assert.ok(spot > 50 && spot < 450, `spot in ${spot} of 500`);
});
