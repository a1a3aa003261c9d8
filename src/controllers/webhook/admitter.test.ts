import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KubePod, KubeWorkload } from '../../core/from-kube.js';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfig, type WebhookConfig } from '../../config/webhook-config.js';
import { onDemandFloor } from '../../policy/placement/floor.js';
import { CAPACITY_TYPE_ANNOTATION, type JsonPatchOperation } from '../../policy/placement/patch.js';
import { PlacementAdmitter, type AdmitResult, type ObjectLookup } from './admitter.js';
import { barePod, createRequest, deployment, node, NS, replicaSet, rsPod, statefulSet, stsPod, twoByTwo } from './fixtures.test-helper.js';
import { RESERVATION_ANNOTATION, ReservationLedger } from './ledger.js';
import { podFields } from './review.js';
import type { PlacementIndex } from './placement-index.js';

interface Setup {
  readonly index: PlacementIndex;
  readonly ledger: ReservationLedger;
  readonly admitter: PlacementAdmitter;
  now: number;
}

function setup(options: { config?: WebhookConfig; lookup?: ObjectLookup; dryRun?: boolean } = {}): Setup {
  const config = options.config ?? DEFAULT_WEBHOOK_CONFIG;
  const ledger = new ReservationLedger(config.reservationTtlMs);
  const index = twoByTwo(config, (id) => ledger.release(id));
  const state: Setup = {
    index,
    ledger,
    admitter: undefined as unknown as PlacementAdmitter,
    now: 1_000,
  };
  (state as { admitter: PlacementAdmitter }).admitter = new PlacementAdmitter({
    config,
    index,
    ledger,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    now: () => state.now,
    dryRun: options.dryRun ?? false,
  });
  return state;
}

function withDeployment(s: Setup, d: KubeWorkload, hash = 'aaa'): void {
  s.index.upsertWorkload('Deployment', d);
  s.index.upsertReplicaSet(replicaSet(d.metadata?.name ?? '', hash));
}

function typeOf(result: AdmitResult): string {
  return result.outcome === 'patched' ? result.decision.capacityType : `unchanged:${result.skipped}`;
}

/** Applies the patch's annotation operations, as the apiserver would, so the pod can be "seen" by the index. */
function admittedPod(pod: KubePod, patch: readonly JsonPatchOperation[]): KubePod {
  const annotations: Record<string, string> = { ...pod.metadata?.annotations };
  for (const op of patch) {
    if (op.path === '/metadata/annotations') Object.assign(annotations, op.value);
    else if (op.path.startsWith('/metadata/annotations/')) annotations[op.path.slice('/metadata/annotations/'.length).replace(/~1/g, '/').replace(/~0/g, '~')] = op.value as string;
  }
  return { ...pod, metadata: { ...pod.metadata, annotations } };
}

test('a single-replica Deployment goes on-demand: required affinity, deletion cost, annotations, reservation', async () => {
  const s = setup();
  withDeployment(s, deployment('solo', 1));
  const pod = rsPod('solo', 'aaa', 'solo-aaa-1');
  const result = await s.admitter.admit(createRequest(pod, 'req-1'));
  assert.equal(result.outcome, 'patched');
  if (result.outcome !== 'patched') return;
  assert.equal(result.decision.capacityType, 'on-demand');
  assert.equal(result.decision.required, true);
  assert.deepEqual(result.workload, { kind: 'Deployment', namespace: NS, name: 'solo' });
  assert.deepEqual(result.patch, [
    {
      op: 'add',
      path: '/spec/affinity',
      value: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node.kubernetes.io/capacity', operator: 'In', values: ['on-demand'] }] }] } } },
    },
    { op: 'add', path: '/metadata/annotations/controller.kubernetes.io~1pod-deletion-cost', value: '100' },
    { op: 'add', path: '/metadata/annotations/stowage.io~1capacity-type', value: 'on-demand' },
    { op: 'add', path: '/metadata/annotations/stowage.io~1placement-request', value: 'req-1' },
  ]);
  assert.deepEqual(s.ledger.counts('Deployment/shop/solo#rs-solo-aaa', s.now), { onDemand: 1, spot: 0 });
});

test('a burst of concurrent creates cannot race past the floor: 10 replicas at base 1 + 25% give exactly 4 on-demand', async () => {
  const s = setup();
  withDeployment(s, deployment('fleet', 10, { 'stowage.io/on-demand-percent': '25' }));
  const pods = Array.from({ length: 10 }, (_, i) => rsPod('fleet', 'aaa', `fleet-aaa-${i}`));
  const results = await Promise.all(pods.map((p, i) => s.admitter.admit(createRequest(p, `req-${i}`))));
  const types = results.map(typeOf);
  assert.equal(types.filter((t) => t === 'on-demand').length, 4, types.join(','));
  assert.equal(types.filter((t) => t === 'spot').length, 6);
  // Spot pods get the lower deletion cost, so scale-down removes them first.
  const costs = results.map((r) => (r.outcome === 'patched' ? r.patch.find((op) => op.path.includes('pod-deletion-cost'))?.value : undefined));
  assert.deepEqual(new Set(costs), new Set(['100', '-100']));
});

test('a pod appearing in the cache releases its reservation without being counted twice', async () => {
  const s = setup();
  withDeployment(s, deployment('trio', 3, { 'stowage.io/on-demand-percent': '50' })); // floor 1 + ceil(1) = 2
  const group = 'Deployment/shop/trio#rs-trio-aaa';
  const p0 = rsPod('trio', 'aaa', 'trio-0');
  const r0 = await s.admitter.admit(createRequest(p0, 'req-0'));
  assert.equal(typeOf(r0), 'on-demand');
  assert.ok(r0.outcome === 'patched');
  s.index.upsertPod(admittedPod(p0, r0.patch));
  assert.deepEqual(s.ledger.counts(group, s.now), { onDemand: 0, spot: 0 }, 'released when seen');
  assert.deepEqual(s.index.liveCounts(group), { onDemand: 1, spot: 0 }, 'counted once, by its pin, before it is bound');
  const r1 = await s.admitter.admit(createRequest(rsPod('trio', 'aaa', 'trio-1'), 'req-1'));
  const r2 = await s.admitter.admit(createRequest(rsPod('trio', 'aaa', 'trio-2'), 'req-2'));
  assert.deepEqual([typeOf(r1), typeOf(r2)], ['on-demand', 'spot']);
});

test('an expired reservation stops counting: a create rejected after admission does not hold the floor forever', async () => {
  const s = setup();
  withDeployment(s, deployment('solo', 1));
  assert.equal(typeOf(await s.admitter.admit(createRequest(rsPod('solo', 'aaa', 'x'), 'lost'))), 'on-demand');
  assert.equal(typeOf(await s.admitter.admit(createRequest(rsPod('solo', 'aaa', 'y'), 'next'))), 'spot', 'the first is still in flight');
  s.now += DEFAULT_WEBHOOK_CONFIG.reservationTtlMs + 1;
  assert.equal(typeOf(await s.admitter.admit(createRequest(rsPod('solo', 'aaa', 'z'), 'retry'))), 'on-demand');
});

test('a rollout: the new revision gets its own on-demand replicas while the old pods still run', async () => {
  const s = setup();
  withDeployment(s, deployment('cart', 3));
  s.index.upsertPod(rsPod('cart', 'aaa', 'a1', { nodeName: 'od-1' }));
  s.index.upsertPod(rsPod('cart', 'aaa', 'a2', { nodeName: 'spot-1' }));
  s.index.upsertPod(rsPod('cart', 'aaa', 'a3', { nodeName: 'spot-2' }));
  s.index.upsertReplicaSet(replicaSet('cart', 'bbb'));
  const first = await s.admitter.admit(createRequest(rsPod('cart', 'bbb', 'b1'), 'b1'));
  const second = await s.admitter.admit(createRequest(rsPod('cart', 'bbb', 'b2'), 'b2'));
  assert.deepEqual([typeOf(first), typeOf(second)], ['on-demand', 'spot']);
});

test('a scale-up the cache has not seen yet still raises the floor: the pods that will exist bound the replicas', async () => {
  const s = setup();
  withDeployment(s, deployment('web', 1, { 'stowage.io/on-demand-percent': '50' }));
  s.index.upsertPod(rsPod('web', 'aaa', 'w1', { nodeName: 'od-1' }));
  // Scaled to 3, but the Deployment in the cache still says 1: floor(2) = 1 + ceil(0.5) = 2.
  const result = await s.admitter.admit(createRequest(rsPod('web', 'aaa', 'w2'), 'w2'));
  assert.equal(typeOf(result), 'on-demand');
});

test('StatefulSet: the lowest ordinals on on-demand, a recreated low ordinal back on on-demand', async () => {
  const s = setup();
  s.index.upsertWorkload('StatefulSet', statefulSet('db', 4, { 'stowage.io/on-demand-base': '2' }));
  const types: string[] = [];
  for (let ordinal = 0; ordinal < 4; ordinal++) {
    const pod = stsPod('db', ordinal);
    const result = await s.admitter.admit(createRequest(pod, `db-${ordinal}`));
    types.push(typeOf(result));
    assert.ok(result.outcome === 'patched');
    s.index.upsertPod({ ...admittedPod(pod, result.patch), spec: { ...pod.spec, nodeName: result.decision.capacityType === 'spot' ? 'spot-1' : 'od-1' } });
  }
  assert.deepEqual(types, ['on-demand', 'on-demand', 'spot', 'spot']);
  // db-1 is deleted (spot reclaim, eviction) and recreated: its ordinal decides, not the count.
  s.index.deletePod(stsPod('db', 1));
  s.index.upsertPod({ ...stsPod('db', 5, { nodeName: 'od-2' }) });
  assert.equal(typeOf(await s.admitter.admit(createRequest(stsPod('db', 1), 'db-1-again'))), 'on-demand');
});

test('no spot room: a spot decision becomes a preference, so the pod lands on on-demand instead of Pending', async () => {
  const s = setup();
  s.index.deleteNode(node('spot-1', 'spot'));
  s.index.deleteNode(node('spot-2', 'spot'));
  withDeployment(s, deployment('cart', 3));
  s.index.upsertPod(rsPod('cart', 'aaa', 'a1', { nodeName: 'od-1' }));
  const result = await s.admitter.admit(createRequest(rsPod('cart', 'aaa', 'a2'), 'a2'));
  assert.ok(result.outcome === 'patched');
  assert.equal(result.decision.capacityType, 'spot');
  assert.equal(result.decision.required, false);
  assert.deepEqual(result.patch[0], {
    op: 'add',
    path: '/spec/affinity',
    value: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'node.kubernetes.io/capacity', operator: 'In', values: ['spot'] }] } }] } },
  });
});

test('the user\'s affinity and tolerations are merged into, and the configured spot taint is tolerated', async () => {
  const config = parseWebhookConfig('apiVersion: stowage.io/v1alpha1\nkind: WebhookConfiguration\nspec: { spotTaint: { key: spot, effect: NoSchedule } }');
  const s = setup({ config });
  withDeployment(s, deployment('cart', 2));
  s.index.upsertPod(rsPod('cart', 'aaa', 'a1', { nodeName: 'od-1' }));
  const spec = {
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } },
    tolerations: [{ key: 'team', operator: 'Exists' }],
  };
  const result = await s.admitter.admit(createRequest(rsPod('cart', 'aaa', 'a2', { spec }), 'a2'));
  assert.ok(result.outcome === 'patched');
  assert.equal(result.decision.capacityType, 'spot');
  assert.deepEqual(result.patch.slice(0, 2), [
    { op: 'add', path: '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/-', value: { key: 'node.kubernetes.io/capacity', operator: 'In', values: ['spot'] } },
    { op: 'add', path: '/spec/tolerations/-', value: { key: 'spot', operator: 'Exists', effect: 'NoSchedule' } },
  ]);
});

test('pods that are not placed are admitted unchanged, with the reason', async () => {
  const config = parseWebhookConfig('apiVersion: stowage.io/v1alpha1\nkind: WebhookConfiguration\nspec: { optOutNamespaces: [infra] }');
  const s = setup({ config });
  withDeployment(s, deployment('cart', 3));
  withDeployment(s, deployment('legacy', 3, { 'stowage.io/placement': 'disabled' }));
  s.index.upsertNamespace({ metadata: { name: 'quiet', annotations: { 'stowage.io/placement': 'disabled' } } });
  s.index.upsertWorkload('Deployment', { ...deployment('cart', 3), metadata: { name: 'cart', namespace: 'quiet' } });
  const daemon = barePod('agent-x', { spec: {} });
  const daemonPod: KubePod = { ...daemon, metadata: { ...daemon.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds', controller: true }] } };
  const orphanRs: KubePod = rsPod('loner', 'zzz', 'loner-zzz-1', { labels: { 'pod-template-hash': 'other' } });
  const cases: readonly [string, Parameters<PlacementAdmitter['admit']>[0]][] = [
    ['unchanged:not-placed-kind', createRequest(barePod('debug'), 'bare')],
    ['unchanged:not-placed-kind', createRequest(daemonPod, 'ds')],
    ['unchanged:not-placed-kind', createRequest(orphanRs, 'rs-without-deployment')],
    ['unchanged:namespace-opted-out', createRequest(rsPod('cart', 'aaa', 'c1'), 'infra', { namespace: 'infra' })],
    ['unchanged:workload-opted-out', createRequest({ ...rsPod('cart', 'aaa', 'c1'), metadata: { ...rsPod('cart', 'aaa', 'c1').metadata, namespace: 'quiet' } }, 'quiet', { namespace: 'quiet' })],
    ['unchanged:workload-opted-out', createRequest(rsPod('legacy', 'aaa', 'l1'), 'legacy')],
    ['unchanged:pod-opted-out', createRequest(rsPod('cart', 'aaa', 'c2', { labels: { 'stowage.io/placement': 'disabled' } }), 'label')],
    ['unchanged:pinned-by-user', createRequest(rsPod('cart', 'aaa', 'c3', { spec: { nodeSelector: { 'node.kubernetes.io/capacity': 'spot' } } }), 'pinned')],
    ['unchanged:not-a-pod-create', createRequest(rsPod('cart', 'aaa', 'c4'), 'update', { operation: 'UPDATE' })],
    ['unchanged:not-a-pod-create', createRequest(rsPod('cart', 'aaa', 'c5'), 'binding', { subResource: 'binding' })],
  ];
  for (const [expected, request] of cases) assert.equal(typeOf(await s.admitter.admit(request)), expected, request.uid);
  assert.equal(s.ledger.size, 0, 'nothing was reserved');
});

test('policy comes from the workload annotation, else the namespace annotation, else the config', async () => {
  const s = setup();
  s.index.upsertNamespace({ metadata: { name: NS, annotations: { 'stowage.io/on-demand-base': '2' } } });
  withDeployment(s, deployment('ns-policy', 4));
  withDeployment(s, deployment('own-policy', 4, { 'stowage.io/on-demand-base': '0' }));
  const run = async (name: string): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < 4; i++) out.push(typeOf(await s.admitter.admit(createRequest(rsPod(name, 'aaa', `${name}-${i}`), `${name}-${i}`))));
    return out;
  };
  assert.deepEqual(await run('ns-policy'), ['on-demand', 'on-demand', 'spot', 'spot']);
  assert.deepEqual(await run('own-policy'), ['spot', 'spot', 'spot', 'spot']);
});

test('cache misses read the API; a workload that does not exist admits the pod unchanged', async () => {
  const reads: string[] = [];
  const lookup: ObjectLookup = {
    async replicaSet(namespace, name) {
      reads.push(`rs ${name}`);
      return name === 'fresh-aaa' ? replicaSet('fresh', 'aaa') : undefined;
    },
    async workload(kind, namespace, name) {
      reads.push(`${kind} ${name}`);
      return name === 'fresh' ? deployment('fresh', 1) : undefined;
    },
    async namespace() {
      reads.push('ns');
      return undefined;
    },
  };
  const s = setup({ lookup });
  s.index.deleteNamespace({ metadata: { name: NS } });
  assert.equal(typeOf(await s.admitter.admit(createRequest(rsPod('fresh', 'aaa', 'f1'), 'f1'))), 'on-demand');
  assert.deepEqual(reads, ['rs fresh-aaa', 'Deployment fresh', 'ns']);
  assert.equal(typeOf(await s.admitter.admit(createRequest(stsPod('ghost', 0), 'g0'))), 'unchanged:workload-not-found');
});

test('a lookup that throws propagates, for the server to fail open', async () => {
  const boom = async (): Promise<never> => {
    throw new Error('Cannot read Deployment "shop/x": HTTP 503: unavailable');
  };
  const s = setup({ lookup: { replicaSet: boom, workload: boom, namespace: boom } });
  await assert.rejects(s.admitter.admit(createRequest(rsPod('x', 'aaa', 'x1'), 'x1')), /HTTP 503/);
});

test('server-side dry run gets the patch but reserves nothing; --dry-run decides but changes nothing', async () => {
  const s = setup();
  withDeployment(s, deployment('solo', 1));
  const result = await s.admitter.admit(createRequest(rsPod('solo', 'aaa', 's1'), 's1', { dryRun: true }));
  assert.equal(typeOf(result), 'on-demand');
  assert.equal(s.ledger.size, 0);

  const dry = setup({ dryRun: true });
  withDeployment(dry, deployment('solo', 1));
  const decided = await dry.admitter.admit(createRequest(rsPod('solo', 'aaa', 's1'), 's1'));
  assert.equal(decided.outcome, 'unchanged');
  assert.ok(decided.outcome === 'unchanged' && decided.skipped === 'dry-run' && decided.decision?.capacityType === 'on-demand');
  assert.equal(dry.ledger.size, 0);
});

test('a reinvoked pod gets its recorded decision merged again, without a new reservation', async () => {
  const s = setup();
  withDeployment(s, deployment('solo', 1));
  const pod = rsPod('solo', 'aaa', 's1', { annotations: { [RESERVATION_ANNOTATION]: 'first', [CAPACITY_TYPE_ANNOTATION]: 'spot' } });
  const result = await s.admitter.admit(createRequest(pod, 'second'));
  assert.ok(result.outcome === 'patched' && result.reinvoked);
  assert.equal(result.decision.capacityType, 'spot');
  assert.equal(s.ledger.size, 0);
});

test('an aborted review (deadline passed) reserves nothing', async () => {
  const s = setup();
  withDeployment(s, deployment('solo', 1));
  const controller = new AbortController();
  controller.abort();
  assert.equal(typeOf(await s.admitter.admit(createRequest(rsPod('solo', 'aaa', 's1'), 's1'), controller.signal)), 'unchanged:deadline');
  assert.equal(s.ledger.size, 0);
});

test('property: however pods appear and creates interleave, a revision gets exactly its floor on on-demand', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 100 }),
      fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
      fc.integer({ min: 1, max: 5 }),
      async (replicas, base, percent, appearEarly, batch) => {
        const s = setup();
        withDeployment(s, deployment('p', replicas, { 'stowage.io/on-demand-base': String(base), 'stowage.io/on-demand-percent': String(percent) }));
        const admitted: { pod: KubePod; result: AdmitResult }[] = [];
        for (let start = 0; start < replicas; start += batch) {
          const pods = Array.from({ length: Math.min(batch, replicas - start) }, (_, i) => rsPod('p', 'aaa', `p-${start + i}`));
          const results = await Promise.all(pods.map((pod) => s.admitter.admit(createRequest(pod, `req-${pod.metadata?.name ?? ''}`))));
          pods.forEach((pod, i) => admitted.push({ pod, result: results[i] as AdmitResult }));
          // Some pods reach the cache before the next batch, some after.
          for (const [i, entry] of admitted.entries()) {
            if (appearEarly[i] === true && entry.result.outcome === 'patched') s.index.upsertPod(admittedPod(entry.pod, entry.result.patch));
          }
        }
        const onDemand = admitted.filter((a) => typeOf(a.result) === 'on-demand').length;
        assert.equal(onDemand, onDemandFloor(replicas, { base, percent }));
      },
    ),
    { numRuns: 150 },
  );
});

test('the pod fields the parser keeps decide exactly as the whole pod does: same decision, same patch, same reservation', async () => {
  const config = parseWebhookConfig('apiVersion: stowage.io/v1alpha1\nkind: WebhookConfiguration\nspec: { spotTaint: { key: spot, effect: NoSchedule } }');
  const noise = { image: 'registry.example/app:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { path: '/' } } };
  const specs: Record<string, unknown>[] = [
    {},
    { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['od-1'] }] }] } } } },
    { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [{ key: 'node.kubernetes.io/capacity', operator: 'In', values: ['spot'] }] } }] } }, tolerations: [{ key: 'spot', operator: 'Exists', effect: 'NoSchedule' }] },
    { nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ key: 'team', operator: 'Exists' }], priorityClassName: 'high', priority: 1000 },
    { nodeSelector: { 'node.kubernetes.io/capacity': 'spot' } },
    { containers: [{ name: 'app', ...noise, resources: { requests: { cpu: '3500m', memory: '1Gi' }, limits: { cpu: '4' } } }] },
    { initContainers: [{ name: 'init', ...noise, resources: { requests: { cpu: '2' } } }, { name: 'sidecar', restartPolicy: 'Always', ...noise, resources: { requests: { cpu: '500m' } } }], overhead: { cpu: '250m' } },
    { volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'host', hostPath: { path: '/var' } }, { name: 'data', persistentVolumeClaim: { claimName: 'data' } }, { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } }] },
    { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'cart' } } }], affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'cart' } } }] } } },
  ];
  const annotations: Record<string, string>[] = [{}, { [CAPACITY_TYPE_ANNOTATION]: 'spot', [RESERVATION_ANNOTATION]: 'earlier' }, { 'controller.kubernetes.io/pod-deletion-cost': '7' }];
  let n = 0;
  for (const spec of specs) {
    for (const a of annotations) {
      for (const pod of [rsPod('cart', 'aaa', `c${n}`, { spec, annotations: a }), stsPod('db', n % 3, { spec, annotations: a })]) {
        n += 1;
        const full = { ...pod, metadata: { ...pod.metadata, managedFields: [{ manager: 'kube-controller-manager', fieldsV1: { 'f:spec': {} } }] } } as KubePod;
        const results = [];
        for (const object of [full, podFields(full as Record<string, unknown>)]) {
          const s = setup({ config });
          withDeployment(s, deployment('cart', 4));
          s.index.upsertWorkload('StatefulSet', statefulSet('db', 3));
          s.index.upsertPod(rsPod('cart', 'aaa', 'running', { nodeName: 'od-1' }));
          const result = await s.admitter.admit(createRequest(object, `req-${n}`));
          results.push({ result, counts: [s.ledger.counts('Deployment/shop/cart#rs-cart-aaa', s.now), s.ledger.counts('StatefulSet/shop/db', s.now)] });
        }
        assert.deepEqual(results[1], results[0], `pod ${n}: ${JSON.stringify(pod.spec)} ${JSON.stringify(a)}`);
      }
    }
  }
});
