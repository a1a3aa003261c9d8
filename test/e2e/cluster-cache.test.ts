/**
 * The cluster cache on a real control plane: after a series of changes of every kind it holds,
 * its snapshot is the one the LIST-based reader builds (same views, same order); and a
 * descheduler loop that plans from it sends a handful of requests per cycle instead of LISTing
 * eight kinds, counted from the apiserver's own audit log of the descheduler's ServiceAccount.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchV1Api } from '@kubernetes/client-node';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../../src/core/capacity.js';
import { spawnOwned, waitFor } from '../../src/devcluster/processes.js';
import { ClusterCache, SNAPSHOT_KINDS } from '../../src/kube/cluster-cache.js';
import { onDemandAndSpot } from './support/nodes.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { assertSameAsLists } from './support/snapshots.js';
import { auditPolicyFor, kubeconfigForServiceAccount, readAuditLog } from './support/service-account.js';

const dir = mkdtempSync(join(tmpdir(), 'stowage-cache-e2e-'));
const SA = 'system:serviceaccount:stowage-system:stowage-descheduler';
const AUDIT_LOG = join(dir, 'audit.log');
writeFileSync(join(dir, 'audit-policy.yaml'), auditPolicyFor(SA));
const BIN = fileURLToPath(new URL('../../bin/stowage.js', import.meta.url));

const cluster = useCluster({
  apiserverArgs: [`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${AUDIT_LOG}`],
  nodes: onDemandAndSpot('8', '32Gi'),
});

const notes: string[] = [];
after(() => process.stdout.write(`# cluster cache e2e observations:\n${notes.map((l) => `#   ${l}\n`).join('')}`));

function container(name: string): { name: string; image: string; resources: { requests: { cpu: string; memory: string } } } {
  return { name, image: `registry.example/${name}:1`, resources: { requests: { cpu: '100m', memory: '64Mi' } } };
}

async function deployment(c: TestCluster, ns: string, name: string, replicas: number): Promise<void> {
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 0, containers: [container(name)] } } } },
  });
}

test('after changes of every kind, the cache snapshot is the LIST reader\'s, views and order', { timeout: 6 * 60_000 }, async () => {
  const c = cluster();
  const batch = c.kc.makeApiClient(BatchV1Api);
  await createNamespace(c.core, 'shop');
  await deployment(c, 'shop', 'web', 3);
  await c.apps.createNamespacedStatefulSet({ namespace: 'shop', body: { metadata: { name: 'db' }, spec: { serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 0, containers: [container('db')] } } } } });
  await c.apps.createNamespacedDaemonSet({ namespace: 'shop', body: { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 0, containers: [container('agent')] } } } } });
  await c.policy.createNamespacedPodDisruptionBudget({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } } });

  const cache = new ClusterCache(c.kc, { capacityRules: DEFAULT_CAPACITY_TYPE_RULES, kinds: SNAPSHOT_KINDS });
  const seen = { add: 0, update: 0, delete: 0 };
  const nodeEvents: string[] = [];
  cache.on('pods', (event) => (seen[event] += 1));
  cache.on('nodes', (event, node) => {
    if (event !== 'update') nodeEvents.push(`${event} ${node.metadata?.name ?? ''}`);
  });
  try {
    assert.equal(cache.hasSynced, false);
    await cache.start();
    assert.equal(cache.hasSynced, true);
    await cache.waitForSync();

    // A series of changes of everything the snapshot reads.
    await waitFor('web and db running', async () => (await c.core.listNamespacedPod({ namespace: 'shop' })).items.filter((p) => p.status?.phase === 'Running').length >= 8, { timeoutMs: 120_000, intervalMs: 250 });
    await c.apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 5 }] });
    const victim = (await c.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items[0]?.metadata?.name ?? '';
    await c.core.deleteNamespacedPod({ name: victim, namespace: 'shop' });
    await c.core.patchNode({ name: 'spot-1', body: [{ op: 'add', path: '/metadata/labels/team', value: 'blue' }] });
    await c.core.patchNode({ name: 'spot-2', body: [{ op: 'replace', path: '/spec/unschedulable', value: true }] });
    await c.core.patchNode({ name: 'on-demand', body: [{ op: 'add', path: '/spec/taints', value: [{ key: 'example.com/dedicated', value: 'x', effect: 'NoSchedule' }] }] });
    await c.policy.deleteNamespacedPodDisruptionBudget({ name: 'web', namespace: 'shop' });
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: 'shop', body: { metadata: { name: 'db' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } } });
    await createNamespace(c.core, 'ops');
    await deployment(c, 'ops', 'tool', 1);
    await batch.createNamespacedJob({ namespace: 'ops', body: { metadata: { name: 'once' }, spec: { template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [container('once')] } } } } });
    await c.apps.deleteNamespacedDaemonSet({ name: 'agent', namespace: 'shop' });
    await c.core.createNode({ body: { metadata: { name: 'late', labels: { 'node.kubernetes.io/capacity': 'spot' }, annotations: { 'kwok.x-k8s.io/node': 'fake' } }, status: { allocatable: { cpu: '2', memory: '4Gi', pods: '10' } } } });
    await waitFor('the changes to settle (5 web, 2 db, 1 tool running)', async () => {
      const pods = (await c.core.listPodForAllNamespaces()).items.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase === 'Running');
      return pods.filter((p) => p.metadata?.labels?.['app'] === 'web').length === 5 && pods.some((p) => p.metadata?.labels?.['app'] === 'tool');
    }, { timeoutMs: 120_000, intervalMs: 250 });

    const listed = await assertSameAsLists(c, () => cache.snapshot(), 'the cache snapshot');
    assert.ok(listed.nodes.length === 4 && listed.pods.length >= 8 && listed.workloads.length >= 3 && listed.pdbs.length === 1, `a snapshot worth comparing: ${listed.nodes.length} nodes, ${listed.pods.length} pods, ${listed.workloads.length} workloads, ${listed.pdbs.length} PDBs`);
    assert.ok(listed.nodes.some((n) => n.name === 'spot-2' && n.unschedulable), 'the cordon is in both');
    // The focused read (the executor's re-check) agrees too, for a node with pods on it.
    const busy = listed.pods.find((p) => p.nodeName !== undefined && p.nodeName !== '')?.nodeName ?? 'spot-1';
    await assertSameAsLists(c, () => cache.snapshotWith({ nodes: [busy, 'gone-node'] }), `a snapshot with "${busy}" read fresh`);
    assert.ok(seen.add >= 10 && seen.update > 0 && seen.delete >= 2, `pod notifications: ${JSON.stringify(seen)}`);
    assert.ok(nodeEvents.includes('add late'), `node notifications: ${nodeEvents.join(', ')}`);
    notes.push(`snapshots equal: ${listed.nodes.length} nodes, ${listed.pods.length} pods, ${listed.workloads.length} workloads, ${listed.pdbs.length} PDBs; pod notifications ${JSON.stringify(seen)}`);
  } finally {
    await cache.stop();
    await c.core.deleteNode({ name: 'late' }).catch(() => undefined);
    await c.core.patchNode({ name: 'on-demand', body: [{ op: 'remove', path: '/spec/taints' }] }).catch(() => undefined);
    await c.core.patchNode({ name: 'spot-2', body: [{ op: 'replace', path: '/spec/unschedulable', value: false }] }).catch(() => undefined);
  }
});

test('a descheduler loop plans from the cache: requests per cycle, from the apiserver\'s audit log', { timeout: 4 * 60_000 }, async () => {
  const c = cluster();
  const kubeconfig = await kubeconfigForServiceAccount(c, 'descheduler', 'stowage-system', 'stowage-descheduler', dir);
  const config = join(dir, 'descheduler.yaml');
  writeFileSync(config, ['apiVersion: stowage.io/v1alpha1', 'kind: DeschedulerConfiguration', 'spec:', '  deschedule:', '    strategies: { consolidate: { enabled: false } }', ''].join('\n'));

  // Before: what one snapshot costs the LIST reader, as a dry run reads it.
  const beforeDry = Date.now();
  const dry = await new Promise<number | null>((resolve) => spawnOwned('the dry run', process.execPath, [BIN, 'deschedule', '--kubeconfig', kubeconfig, '--config', config, '--dry-run', '-o', 'json'], { stdio: 'ignore' }).once('exit', resolve));
  assert.equal(dry, 0, 'the dry run works with the shipped RBAC');
  await new Promise((r) => setTimeout(r, 500));
  const listReads = readAuditLog(AUDIT_LOG).filter((r) => r.at >= beforeDry - 1000);
  // The dry run also lists the NodeClaims a crashed run may have left (to report them): not part of the snapshot.
  const claimLists = listReads.filter((r) => r.verb === 'list' && r.resource === 'nodeclaims');
  assert.equal(claimLists.length, 1, 'the dry run looks once for NodeClaims a crashed run left');
  const lists = listReads.filter((r) => r.verb === 'list' && r.resource !== 'nodeclaims');
  assert.deepEqual([...new Set(lists.map((r) => r.resource))].sort(), ['daemonsets', 'deployments', 'jobs', 'nodes', 'poddisruptionbudgets', 'pods', 'replicasets', 'statefulsets'], 'the LIST reader lists the eight kinds');

  // After: a loop every second, planning from the cache.
  const child = spawnOwned('the descheduler', process.execPath, [BIN, 'deschedule', '--kubeconfig', kubeconfig, '--config', config, '--interval', '1s'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STOWAGE_LOG_LEVEL: 'info' } });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const planned = (): number[] => stderr.split('\n').filter((l) => l.includes('"msg":"Planned"')).map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
  try {
    await waitFor('eight cycles', async () => planned().length >= 8, { timeoutMs: 120_000, intervalMs: 200, abortIf: () => (child.exitCode !== null ? `the descheduler exited: ${stderr.slice(-2000)}` : undefined) });
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const times = planned();
  const from = times[1] as number;
  const to = times[7] as number;
  const inWindow = readAuditLog(AUDIT_LOG).filter((r) => r.at >= from && r.at < to);
  const cycles = 6;
  const perCycle = inWindow.length / cycles;
  const breakdown = new Map<string, number>();
  for (const r of inWindow) breakdown.set(`${r.verb} ${r.resource}`, (breakdown.get(`${r.verb} ${r.resource}`) ?? 0) + 1);
  const clusterLists = inWindow.filter((r) => r.verb === 'list' && !r.requestURI.includes('/namespaces/') && !r.requestURI.includes('fieldSelector'));
  assert.deepEqual(clusterLists.filter((r) => r.resource !== 'deployments').map((r) => r.requestURI), [], 'no cluster-wide LIST of what the cache holds');
  assert.ok(perCycle < lists.length, `fewer requests per cycle (${perCycle}) than the LIST reader's ${lists.length} per snapshot`);
  const watches = readAuditLog(AUDIT_LOG).filter((r) => r.verb === 'watch' && r.at >= beforeDry);
  notes.push(`LIST reader: ${lists.length} LISTs per snapshot (${listReads.length} requests for the dry run); cache loop: ${perCycle.toFixed(1)} requests per cycle over ${cycles} cycles (${[...breakdown].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}), ${watches.length} watches opened in all`);
});
