/**
 * The foundation, end to end: a real control plane with KWOK nodes labelled on-demand and spot,
 * a Deployment placed by the real kube-scheduler, `stowage snapshot` checked against what the
 * API server says, and `stowage simulate --from` that snapshot starting from the cluster as it is.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_PRICE_TABLE } from '../../src/core/pricing.js';
import { renderTable } from '../../src/report/table.js';
import type { SimulationResult } from '../../src/sim/result.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { createNamespace, useCluster } from './support/cluster.js';
import { runCli } from './support/exec.js';
import { isReady } from './support/ready-watch.js';

const cluster = useCluster();
const NS = 'shop';

describe('foundation', () => {
  test('the fake nodes are Ready and carry their capacity-type labels', async () => {
    const { core } = cluster();
    const nodes = (await core.listNode()).items;
    const byType = new Map<string, string[]>();
    for (const n of nodes) {
      const type = n.metadata?.labels?.['node.kubernetes.io/capacity'] ?? 'none';
      byType.set(type, [...(byType.get(type) ?? []), n.metadata?.name ?? '']);
      assert.ok(n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${n.metadata?.name} is Ready`);
      assert.equal(n.status?.allocatable?.cpu, '4');
    }
    assert.deepEqual(byType.get('on-demand')?.sort(), ['on-demand-1', 'on-demand-2']);
    assert.deepEqual(byType.get('spot')?.sort(), ['spot-1', 'spot-2']);
  });

  test('a 3-replica Deployment is placed by kube-scheduler, becomes Ready, and `stowage snapshot` reports it', async () => {
    const { core, apps, state } = cluster();
    await createNamespace(core, NS);
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'cart' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'cart' } },
          template: {
            metadata: { labels: { app: 'cart' } },
            spec: {
              containers: [{ name: 'cart', image: 'registry.example/cart:1', resources: { requests: { cpu: '500m', memory: '256Mi' } } }],
              initContainers: [{ name: 'migrate', image: 'registry.example/migrate:1', resources: { requests: { cpu: '1', memory: '64Mi' } } }],
            },
          },
        },
      },
    });

    let pods: V1Pod[] = [];
    await waitFor('3 Ready cart pods', async () => {
      pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=cart' })).items;
      return pods.length === 3 && pods.every((p) => p.spec?.nodeName && isReady(p));
    }, { timeoutMs: 60_000 });
    const podsPerNode = new Map<string, number>();
    for (const p of pods) podsPerNode.set(p.spec?.nodeName ?? '', (podsPerNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    // Where kube-scheduler puts them is its choice, not Stowage's to check: LeastAllocated and the
    // default spread put three pods on three of the four empty nodes almost always, but in CI the
    // real scheduler once put two on one node and once all three ([on-demand-2: 3], at load 3;
    // cause not established). What is checked below is that the snapshot reports them where they are.

    const result = await runCli(['snapshot', '--kubeconfig', state.kubeconfigPath, '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as SnapshotDocumentShape;
    assert.equal(doc.apiVersion, 'stowage.io/v1alpha1');
    assert.equal(doc.kind, 'ClusterSnapshot');
    const summary = doc.status.summary;

    // Requests as the scheduler counts them: max(init 1 cpu, containers 500m) = 1 cpu per pod;
    // memory max(64Mi, 256Mi) = 256Mi.
    for (const node of summary.nodes) {
      const n = podsPerNode.get(node.name) ?? 0;
      assert.equal(node.requested.cpu, n * 1000, `${node.name} requested cpu`);
      assert.equal(node.requested.memory, n * 256 * 1024 ** 2, `${node.name} requested memory`);
      assert.equal(node.allocatable.cpu, 4000);
      assert.equal(node.allocatable.memory, 16 * 1024 ** 3);
      assert.equal(node.utilisation.cpu, (n * 1000) / 4000);
    }
    const groups = new Map(summary.groups.map((g) => [g.capacityType, g]));
    assert.equal(groups.get('on-demand')?.nodes, 2);
    assert.equal(groups.get('spot')?.nodes, 2);
    assert.equal(summary.totals.nodes, 4);
    assert.equal(summary.totals.requested.cpu, 3000);
    assert.equal(summary.totals.allocatable.cpu, 16000);

    const onDemand = DEFAULT_PRICE_TABLE.priceOf('m5.xlarge', 'on-demand');
    const spot = DEFAULT_PRICE_TABLE.priceOf('m5.xlarge', 'spot');
    assert.ok(onDemand !== undefined && spot !== undefined && spot < onDemand);
    assert.ok(Math.abs((groups.get('on-demand')?.usdPerHour ?? 0) - 2 * onDemand) < 1e-9);
    assert.ok(Math.abs((groups.get('spot')?.usdPerHour ?? 0) - 2 * spot) < 1e-9);
    assert.ok(Math.abs(summary.totals.usdPerHour - 2 * (onDemand + spot)) < 1e-9);

    // The model carries the pods with their resolved owner: the Deployment, not the ReplicaSet.
    const cartPods = doc.spec.pods.filter((p) => p.namespace === NS);
    assert.equal(cartPods.length, 3);
    for (const p of cartPods) assert.deepEqual(p.owner, { kind: 'Deployment', namespace: NS, name: 'cart' });
  });

  test('`stowage snapshot -o yaml` prints the same document as YAML, and the table shows the groups', async () => {
    const { state } = cluster();
    const yaml = await runCli(['snapshot', '--kubeconfig', state.kubeconfigPath, '-o', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    const doc = parseYaml(yaml.stdout) as SnapshotDocumentShape;
    assert.equal(doc.kind, 'ClusterSnapshot');
    assert.equal(doc.spec.nodes.length, 4);

    const table = await runCli(['snapshot', '--kubeconfig', state.kubeconfigPath]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /on-demand/);
    assert.match(table.stdout, /spot/);
    assert.match(table.stdout, /TOTAL/i);
  });

  test('`stowage simulate --from` a snapshot of this cluster starts from today: its nodes at their prices, then B0 and the arms', async () => {
    const { core, state } = cluster();
    const yaml = await runCli(['snapshot', '--kubeconfig', state.kubeconfigPath, '-o', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    const file = join(mkdtempSync(join(tmpdir(), 'stowage-snapshot-')), 'snapshot.yaml');
    writeFileSync(file, yaml.stdout);

    const json = await runCli(['simulate', '--from', file, '--seeds', '1', '--duration', '1h', '--arms', 'T1', '--no-report', '--no-progress', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const result = JSON.parse(json.stdout) as SimulationResult;
    // Today is what the API server says the nodes are, at the built-in prices: nothing simulated.
    const nodes = (await core.listNode()).items;
    const count = (type: string): number => nodes.filter((n) => n.metadata?.labels?.['node.kubernetes.io/capacity'] === type).length;
    assert.deepEqual(result.today?.nodes, { onDemand: count('on-demand'), spot: count('spot'), unknown: 0 });
    const perHour = nodes.reduce((sum, n) => {
      const type = n.metadata?.labels?.['node.kubernetes.io/capacity'] === 'spot' ? 'spot' : 'on-demand';
      return sum + (DEFAULT_PRICE_TABLE.priceOf(n.metadata?.labels?.['node.kubernetes.io/instance-type'] ?? '', type) ?? Number.NaN);
    }, 0);
    assert.ok(Math.abs((result.today?.usdPerDay ?? 0) - 24 * perHour) < 1e-6, `today ${result.today?.usdPerDay} $/day = 24 × ${perHour} $/h`);
    assert.equal(result.today?.nodeHoursOnDemand, count('on-demand'), 'the nodes are kept for the hour simulated');
    assert.deepEqual(result.arms.map((a) => a.name), ['B0', 'T1']);

    // The table the command prints without -o json, from the same result (the CLI's own renderer).
    const table = renderTable(result);
    const lines = table.split('\n');
    const at = (arm: string): number => lines.findIndex((l) => l.startsWith(`${arm} `));
    assert.ok(at('today') > 0 && at('today') < at('B0') && at('B0') < at('T1'), `rows read today → B0 → T1:\n${table}`);
    assert.match(table, /today {2,}the cluster as it runs now: its 4 nodes \(2 on-demand, 2 spot\)/);
  });

  test('a wrong --context fails with one clear line', async () => {
    const { state } = cluster();
    const result = await runCli(['snapshot', '--kubeconfig', state.kubeconfigPath, '--context', 'nope']);
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /context "nope"/);
  });
});

interface ResourcesShape { cpu: number; memory: number }
interface SnapshotDocumentShape {
  apiVersion: string;
  kind: string;
  spec: { nodes: unknown[]; pods: { namespace: string; owner: unknown }[] };
  status: {
    summary: {
      nodes: { name: string; requested: ResourcesShape; allocatable: ResourcesShape; utilisation: ResourcesShape }[];
      groups: { capacityType: string; nodes: number; usdPerHour: number }[];
      totals: { nodes: number; requested: ResourcesShape; allocatable: ResourcesShape; usdPerHour: number };
    };
  };
}
