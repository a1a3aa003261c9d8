/**
 * `stowage deschedule` never works against the cluster's autoscaler, end to end on a real control
 * plane (real ReplicaSet, Deployment and disruption controllers and kube-scheduler; kwok plays the
 * kubelets): a node Cluster Autoscaler has soft-tainted as a scale-down candidate is never a
 * destination, and spot-reschedule leaves an on-demand node alone when the on-demand floor's pods
 * would keep it anyway. The test watches the pods itself through the API.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { runCli } from './support/exec.js';
import { servesTraffic as serves } from './support/ready-watch.js';
import { deployOnNode, podsOf } from './support/workloads.js';

const cluster = useCluster({
  podStartupMs: 1000,
  nodes: {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'NodeFixture',
    nodes: [
      { name: 'on-demand', count: 1, capacityType: 'on-demand', instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity: { cpu: '4', memory: '16Gi', pods: '110' } },
      { name: 'spot', count: 2, capacityType: 'spot', instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity: { cpu: '4', memory: '16Gi', pods: '110' } },
    ],
  },
});
const ON_DEMAND = 'on-demand';
const SPOT = ['spot-1', 'spot-2'];
const CANDIDATE_TAINT = { key: 'DeletionCandidateOfClusterAutoscaler', value: String(Math.floor(Date.now() / 1000)), effect: 'PreferNoSchedule' };
const dir = mkdtempSync(join(tmpdir(), 'stowage-deschedule-autoscaler-e2e-'));

/** A descheduler config file with spot-reschedule alone (its section `strategy`) or `more` strategies, and `extra` lines under `spec`. */
function config(name: string, extra: readonly string[], strategy = '{}', more = ''): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    [
      'apiVersion: stowage.io/v1alpha1',
      'kind: DeschedulerConfiguration',
      'spec:',
      '  deschedule:',
      '    eviction: { minPodAgeSeconds: 0 }',
      `    strategies: { consolidate: { enabled: false }, spot-reschedule: ${strategy}${more} }`,
      '  replacementTimeoutSeconds: 120',
      ...extra,
      '',
    ].join('\n'),
  );
  return path;
}

interface RunReport {
  readonly report?: { readonly drains: readonly { readonly node: string; readonly outcome: string }[] };
  readonly status: {
    readonly skipped: readonly { readonly node: string; readonly strategy: string; readonly reason: { readonly code: string; readonly message: string } }[];
    readonly moves: readonly { readonly pod: { readonly name: string }; readonly fromNode: string; readonly toNode: string; readonly mode: string }[];
  };
}

async function deschedule(c: TestCluster, path: string, mode: '--once' | '--dry-run'): Promise<RunReport> {
  const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', path, mode, '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
  assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as RunReport;
}

/** A Deployment whose `replicas` pods all run on the on-demand node (spot cordoned while they start). */
async function deployOnOnDemand(c: TestCluster, ns: string, name: string, replicas: number): Promise<void> {
  await deployOnNode(c, ns, name, replicas, { node: ON_DEMAND, cordon: SPOT });
}

/** Every node a pod of the selector was ever bound to, seen by a watch. */
async function watchNodes(c: TestCluster, ns: string, selector: string): Promise<{ readonly nodes: Set<string>; readonly stop: () => void }> {
  const nodes = new Set<string>();
  const list = await c.core.listNamespacedPod({ namespace: ns, labelSelector: selector });
  for (const p of list.items) if (p.spec?.nodeName) nodes.add(p.spec.nodeName);
  const abort = await new Watch(c.kc).watch(
    `/api/v1/namespaces/${ns}/pods`,
    { labelSelector: selector, resourceVersion: list.metadata?.resourceVersion },
    (_type: string, pod: V1Pod) => {
      if (pod.spec?.nodeName) nodes.add(pod.spec.nodeName);
    },
    () => undefined,
  );
  return { nodes, stop: () => abort.abort() };
}

async function cleanup(c: TestCluster, ns: string, name: string): Promise<void> {
  await c.apps.deleteNamespacedDeployment({ name, namespace: ns }).catch(() => undefined);
  await waitFor(`pods of ${name} gone`, async () => (await podsOf(c, ns, name)).length === 0, { timeoutMs: 120_000, intervalMs: 250 });
}

describe('stowage deschedule and the autoscaler', () => {
  test('a node Cluster Autoscaler soft-tainted as a scale-down candidate is never a destination', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'candidate';
    await createNamespace(c.core, ns);
    t.after(() => cleanup(c, ns, 'web'));
    await deployOnOnDemand(c, ns, 'web', 2);
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } } });
    await waitFor('the PDB allows 1', async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    // spot-1 would be the first choice (both spot nodes are empty; ties go by name): CA's soft taint must rule it out.
    await c.core.patchNode({ name: 'spot-1', body: [{ op: 'add', path: '/spec/taints', value: [CANDIDATE_TAINT] }] });
    t.after(() => c.core.patchNode({ name: 'spot-1', body: [{ op: 'remove', path: '/spec/taints' }] }).catch(() => undefined));
    const path = config('candidate', []);

    const dry = await deschedule(c, path, '--dry-run');
    assert.equal(dry.status.moves.length, 2, JSON.stringify(dry.status));
    assert.deepEqual(dry.status.moves.map((m) => m.toNode), ['spot-2', 'spot-2'], 'the plan never names the candidate node as a destination');

    const watch = await watchNodes(c, ns, 'app=web');
    t.after(() => watch.stop());
    const run = await deschedule(c, path, '--once');
    assert.equal(run.report?.drains.find((d) => d.node === ON_DEMAND)?.outcome, 'done', JSON.stringify(run.report));
    await waitFor('2 Ready web pods on spot', async () => {
      const pods = await podsOf(c, ns, 'web');
      return pods.length === 2 && pods.every((p) => serves(p) && SPOT.includes(p.spec?.nodeName ?? ''));
    }, { timeoutMs: 60_000, intervalMs: 200 });
    watch.stop();
    assert.ok(!watch.nodes.has('spot-1'), `no replacement ever landed on the candidate node (pods were on: ${[...watch.nodes].sort().join(', ')})`);
    assert.deepEqual((await podsOf(c, ns, 'web')).map((p) => p.spec?.nodeName), ['spot-2', 'spot-2']);
  });

  test('spot-reschedule leaves an on-demand node alone when the on-demand floor\'s pods keep it', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'floor';
    await createNamespace(c.core, ns);
    t.after(() => cleanup(c, ns, 'api'));
    // Two replicas with the webhook's default floor (base 1): one stays on on-demand, so moving the other frees nothing.
    await deployOnOnDemand(c, ns, 'api', 2);
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'api' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } } } });
    await waitFor('the PDB allows 1', async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: 'api', namespace: ns })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    const before = (await podsOf(c, ns, 'api')).map((p) => p.metadata?.uid).sort();
    const placement = ['  placement: { base: 1 }'];

    // The same cluster with the rule turned off plans the move: the floor is what holds the node.
    const loose = await deschedule(c, config('floor-loose', placement, '{ onlyWhenEmptied: false }'), '--dry-run');
    assert.equal(loose.status.moves.length, 1, JSON.stringify(loose.status));

    const run = await deschedule(c, config('floor', placement), '--once');
    assert.deepEqual(run.status.moves, []);
    const skip = run.status.skipped.find((s) => s.node === ON_DEMAND && s.strategy === 'spot-reschedule');
    assert.equal(skip?.reason.code, 'not-worth-it', JSON.stringify(run.status.skipped));
    assert.match(skip?.reason.message ?? '', /would keep pods of an on-demand floor/);
    assert.equal(run.report?.drains.length ?? 0, 0);
    // A short wait shows nothing happens later either.
    await new Promise((r) => setTimeout(r, 2000));
    const after = await podsOf(c, ns, 'api');
    assert.deepEqual(after.map((p) => p.metadata?.uid).sort(), before, 'no pod was evicted');
    assert.ok(after.every((p) => serves(p) && p.spec?.nodeName === ON_DEMAND));
    const node = await c.core.readNode({ name: ON_DEMAND });
    assert.deepEqual(node.spec?.taints ?? [], [], 'the node was not tainted');
  });
  test('balance on use in a cluster without metrics-server plans nothing and says why, without failing the cycle', { timeout: 2 * 60_000 }, async () => {
    const c = cluster();
    const path = config('balance-usage', [], '{ enabled: false }', ', balance: { enabled: true, basis: usage }');
    const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', path, '--dry-run', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
    assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
    // The apiserver serves no metrics.k8s.io here: its 404 is the answer, not a failed cycle.
    assert.match(result.stderr, /Balancing on use plans nothing this cycle: metrics\.k8s\.io is not available \(404 [^)]*\): is metrics-server installed\?/);
    const report = JSON.parse(result.stdout) as RunReport;
    assert.ok(!report.status.skipped.some((s) => s.strategy === 'balance'), 'balance looked at no node');
  });
});
