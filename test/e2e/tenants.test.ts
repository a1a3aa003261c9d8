/**
 * Tenants end to end, on the real control plane with a real autoscaler and both tenant node
 * groups at zero nodes: tenants created at once each get their own new node of their group;
 * re-applying changes nothing; a pod that does not tolerate a group's taint stays Pending and
 * `doctor` names the taint; deleting the tenants empties both groups.
 *
 * The same tests run once per autoscaler: Karpenter's KWOK provider (built from the Go module
 * proxy, always), and Cluster Autoscaler's kwok provider when `STOWAGE_CLUSTER_AUTOSCALER_BINARY`
 * names a binary (no module proxy serves it; skipped otherwise, with the reason printed).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi, type V1Node } from '@kubernetes/client-node';
import { CLUSTER_AUTOSCALER_BINARY_ENV } from '../../src/devcluster/cluster-autoscaler.js';
import { DEV_AUTOSCALERS, type DevAutoscaler } from '../../src/devcluster/cluster.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { useCluster, type TestCluster } from './support/cluster.js';
import { runCli } from './support/exec.js';
import { isReady } from './support/ready-watch.js';

const AUTOSCALER_NAMES: Record<DevAutoscaler, string> = { 'karpenter': 'Karpenter', 'cluster-autoscaler': 'Cluster Autoscaler' };
const TENANTS = [
  { name: 'premium-1', class: 'premium', group: 'large' },
  { name: 'premium-2', class: 'premium', group: 'large' },
  { name: 'standard-1', class: 'standard', group: 'medium' },
] as const;
const tenantsFile = join(mkdtempSync(join(tmpdir(), 'stowage-tenants-')), 'tenants.yaml');
writeFileSync(
  tenantsFile,
  TENANTS.map((t) => `apiVersion: stowage.io/v1alpha1\nkind: Tenant\nmetadata: { name: ${t.name} }\nspec: { class: ${t.class} }\n`).join('---\n'),
);

for (const autoscaler of DEV_AUTOSCALERS) {
  const name = AUTOSCALER_NAMES[autoscaler];
  const skip = autoscaler === 'cluster-autoscaler' && !process.env[CLUSTER_AUTOSCALER_BINARY_ENV]
    ? `${CLUSTER_AUTOSCALER_BINARY_ENV} is not set: no Go module proxy serves Cluster Autoscaler, so its run needs a binary built from kubernetes/autoscaler`
    : false;
  if (skip) process.stdout.write(`# tenants with ${name}: skipped (${skip})\n`);
  describe(`tenants with ${name}`, { skip }, () => {
    if (!skip) tenantTests(autoscaler, useCluster({ autoscaler, podStartupMs: 500 }));
  });
}

function tenantTests(autoscaler: DevAutoscaler, cluster: () => TestCluster): void {
  const cli = (...args: string[]) => runCli([...args, '--kubeconfig', cluster().state.kubeconfigPath]);
  const groupNodes = async (group: string): Promise<V1Node[]> => (await cluster().core.listNode({ labelSelector: `stowage.io/node-group=${group}` })).items;

  test('three tenants created at once from zero nodes each get their own new node of their group', async () => {
    assert.equal((await groupNodes('large')).length, 0);
    assert.equal((await groupNodes('medium')).length, 0);
    const started = Date.now();
    const result = await cli('tenants', 'apply', '-f', tenantsFile, '--wait', '--timeout', '3m');
    assert.equal(result.code, 0, result.stderr);
    process.stdout.write(`# ${autoscaler}: create → Ready from zero nodes (3 tenants, 2 groups): ${((Date.now() - started) / 1000).toFixed(1)}s\n`);

    const pods = (await cluster().core.listPodForAllNamespaces({ labelSelector: 'stowage.io/tenant' })).items;
    assert.equal(pods.length, 3);
    assert.ok(pods.every(isReady), 'every tenant pod is Ready');
    assert.equal(new Set(pods.map((p) => p.spec?.nodeName)).size, 3, 'each tenant pod is alone on its node');
    const large = await groupNodes('large');
    const medium = await groupNodes('medium');
    assert.equal(large.length, 2, 'two new large nodes');
    assert.equal(medium.length, 1, 'one new medium node');
    for (const tenant of TENANTS) {
      const pod = pods.find((p) => p.metadata?.namespace === tenant.name);
      const node = [...large, ...medium].find((n) => n.metadata?.name === pod?.spec?.nodeName);
      assert.ok(node, `${tenant.name} runs on a node of group ${tenant.group}`);
      const size = tenant.group;
      assert.equal(node.metadata?.labels?.['size'], size);
      assert.equal(node.metadata?.labels?.['node.kubernetes.io/instance-type'], tenant.group === 'large' ? 't3a.xlarge' : 't3a.medium');
      assert.ok(node.spec?.taints?.some((t) => t.key === 'size' && t.value === size && t.effect === 'NoSchedule'), `${node.metadata?.name} carries size=${size}:NoSchedule`);
    }
    const list = await cli('tenants', 'list');
    for (const tenant of TENANTS) assert.match(list.stdout, new RegExp(`${tenant.name}\\s+${tenant.class}\\s+Ready`));
  });

  test('applying the same tenants again changes nothing', async () => {
    const client = KubernetesObjectApi.makeApiClient(cluster().kc);
    const refs = TENANTS.flatMap((t) => [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: t.name } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${t.name}-secret`, namespace: t.name } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${t.name}-config`, namespace: t.name } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: t.name, namespace: t.name } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: t.name, namespace: t.name } },
    ]);
    const versions = async () => Promise.all(refs.map(async (r) => (await client.read(r)).metadata?.resourceVersion));
    const before = await versions();
    const result = await cli('tenants', 'apply', '-f', tenantsFile);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 15);
    assert.ok(lines.every((l) => l.endsWith(' unchanged')), result.stdout);
    assert.deepEqual(await versions(), before, 'no resourceVersion changed');
  });

  test('a pod without the toleration stays Pending, no node is added for it, and doctor names the taint', async () => {
    const { core } = cluster();
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'stray' }, spec: { nodeSelector: { size: 'large' }, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } },
    });
    await waitFor('the scheduler to mark the stray pod unschedulable', async () => {
      const pod = await core.readNamespacedPod({ name: 'stray', namespace: 'default' });
      return pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ?? false;
    }, { timeoutMs: 30_000 });
    // Karpenter batches pending pods within a few seconds, Cluster Autoscaler scans every 2 s:
    // give them several times that.
    await new Promise((r) => setTimeout(r, 15_000));
    const pod = await core.readNamespacedPod({ name: 'stray', namespace: 'default' });
    assert.equal(pod.spec?.nodeName ?? '', '', 'the stray pod is still Pending');
    assert.equal((await groupNodes('large')).length, 2, 'no large node was added for it');
    // Karpenter sets the NodeClaim's name; for Cluster Autoscaler's copies the KWOK stage sets the node's.
    const hostnames = (await groupNodes('large')).map((n) => n.metadata?.labels?.['kubernetes.io/hostname'] ?? '');
    assert.ok(hostnames.every((h) => h !== ''), 'every new node carries a hostname label');
    assert.equal(new Set(hostnames).size, hostnames.length, `no two nodes share a hostname: ${hostnames.join(', ')}`);
    const doctor = await cli('tenants', 'doctor', '--pod', 'default/stray');
    assert.equal(doctor.code, 0, doctor.stderr);
    process.stdout.write(`# doctor:\n${doctor.stdout.replace(/^/gm, '#   ')}\n`);
    assert.match(doctor.stdout, /TaintNotTolerated: the pod does not tolerate taint size=large:NoSchedule of node group "large"/);
    await core.deleteNamespacedPod({ name: 'stray', namespace: 'default', gracePeriodSeconds: 0 });
  });

  test('deleting the tenants brings both groups back to zero nodes within two minutes', async () => {
    const started = Date.now();
    const result = await cli('tenants', 'delete', ...TENANTS.map((t) => t.name));
    assert.equal(result.code, 0, result.stderr);
    await waitFor('both groups to be empty', async () => (await groupNodes('large')).length === 0 && (await groupNodes('medium')).length === 0, {
      timeoutMs: 120_000,
      intervalMs: 1_000,
    });
    process.stdout.write(`# ${autoscaler}: delete → zero nodes: ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    const list = await cli('tenants', 'list');
    for (const tenant of TENANTS) assert.doesNotMatch(list.stdout, new RegExp(`${tenant.name}\\s+\\S+\\s+(Pending|Scheduled|Ready)`), 'a deleted tenant is gone or Terminating');
  });
}
