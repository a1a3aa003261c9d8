/**
 * karpenter-consolidate deletes the node it emptied, live, through Karpenter: on the real control
 * plane with Karpenter's KWOK provider, two nodes of one NodePool each run a single-replica
 * Deployment whose pod would fit beside the other. Karpenter's own consolidation is off for the
 * pool (`consolidateAfter: Never`: a user who keeps Karpenter from evicting single replicas
 * without a spare). `stowage deschedule --once` drains one node surge-first and deletes its
 * NodeClaim; Karpenter terminates the node. Checked through the API: the node and its NodeClaim
 * are gone, both pods serve on the other node, neither Deployment ever had fewer than one Ready
 * pod (watched throughout), and nothing is left tainted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { NODE_GROUP_LABEL } from '../../src/tenants/classes.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { runCli } from './support/exec.js';
import { MinReadyWatch, servesTraffic } from './support/ready-watch.js';
import { podsOf, setCordoned } from './support/workloads.js';

const cluster = useCluster({ autoscaler: 'karpenter', podStartupMs: 1000 });
const POOL = 'large';
const NS = 'karpenter-consolidate';
const APPS = ['alpha', 'beta'] as const;
const dir = mkdtempSync(join(tmpdir(), 'stowage-deschedule-karpenter-e2e-'));
const NODE_CLAIMS = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' } as const;

async function poolNodes(c: TestCluster): Promise<V1Node[]> {
  return (await c.core.listNode({ labelSelector: `${NODE_GROUP_LABEL}=${POOL}` })).items;
}

async function nodeClaims(c: TestCluster): Promise<{ name: string; nodeName: string }[]> {
  const list = (await c.kc.makeApiClient(CustomObjectsApi).listClusterCustomObject(NODE_CLAIMS)) as { items: { metadata: { name: string }; status?: { nodeName?: string } }[] };
  return list.items.map((i) => ({ name: i.metadata.name, nodeName: i.status?.nodeName ?? '' }));
}

/** A single-replica Deployment for the pool's nodes (1500m of a 4-cpu node), serving on a node of the pool. */
async function deploy(c: TestCluster, name: string): Promise<string> {
  await c.apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            terminationGracePeriodSeconds: 1,
            nodeSelector: { [NODE_GROUP_LABEL]: POOL },
            tolerations: [{ key: 'size', operator: 'Equal', value: POOL, effect: 'NoSchedule' }],
            containers: [{ name, image: `registry.example/${name}:1`, resources: { requests: { cpu: '1500m', memory: '1Gi' } } }],
          },
        },
      },
    },
  });
  let node = '';
  await waitFor(`a serving ${name} pod on a ${POOL} node`, async () => {
    const pods = await podsOf(c, NS, name);
    node = pods.length === 1 && servesTraffic(pods[0] as never) ? (pods[0]?.spec?.nodeName ?? '') : '';
    return node !== '';
  }, { timeoutMs: 180_000, intervalMs: 500 });
  return node;
}

describe('karpenter-consolidate with Karpenter', () => {
  before(async () => {
    const c = cluster();
    // Karpenter's own consolidation off for the pool: the descheduler is the one that consolidates.
    await c.kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
      { group: 'karpenter.sh', version: 'v1', plural: 'nodepools', name: POOL, body: { spec: { disruption: { consolidateAfter: 'Never' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await createNamespace(c.core, NS);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an emptied node is deleted through its NodeClaim, with every single replica kept serving', { timeout: 8 * 60_000 }, async () => {
    const c = cluster();
    const first = await deploy(c, 'alpha');
    // The second pod gets a node of its own: Karpenter launches one while the first is cordoned.
    await setCordoned(c, [first], true);
    let second: string;
    try {
      second = await deploy(c, 'beta');
    } finally {
      await setCordoned(c, [first], false);
    }
    assert.notEqual(first, second);
    assert.equal((await poolNodes(c)).length, 2);
    const claimsBefore = await nodeClaims(c);
    assert.deepEqual(claimsBefore.map((cl) => cl.nodeName).sort(), [first, second].sort(), 'each node has its NodeClaim');

    const watches = APPS.map((app) => new MinReadyWatch(c, NS, `app=${app}`, 1));
    await Promise.all(watches.map((w) => w.start()));
    try {
      const config = writeDeschedulerConfig(dir, 'karpenter', [], {
        strategies: '{ consolidate: { enabled: false }, spot-reschedule: { enabled: false }, karpenter-consolidate: { enabled: true, settleSeconds: 0 } }',
      });
      const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', config, '--once', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'info' });
      assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
      const report = (JSON.parse(result.stdout) as { report?: { drains: { node: string; outcome: string; strategy: string }[] } }).report;
      const done = report?.drains.filter((d) => d.outcome === 'done') ?? [];
      assert.equal(done.length, 1, JSON.stringify(report));
      const drained = done[0]?.node ?? '';
      const kept = drained === first ? second : first;
      assert.ok([first, second].includes(drained));
      assert.match(result.stderr, /Deleted the drained node's NodeClaim/);

      // Karpenter terminates it: the Node and its NodeClaim go.
      await waitFor(`node "${drained}" to be gone`, async () => !(await poolNodes(c)).some((n) => n.metadata?.name === drained), { timeoutMs: 120_000, intervalMs: 500 });
      await waitFor('its NodeClaim to be gone', async () => !(await nodeClaims(c)).some((cl) => cl.nodeName === drained), { timeoutMs: 120_000, intervalMs: 500 });
      for (const app of APPS) {
        const pods = await podsOf(c, NS, app);
        assert.deepEqual(pods.map((p) => [p.spec?.nodeName, servesTraffic(p)]), [[kept, true]], `${app} serves on "${kept}"`);
      }
      const remaining = await poolNodes(c);
      assert.deepEqual(remaining.map((n) => n.metadata?.name), [kept]);
      assert.deepEqual((remaining[0]?.spec?.taints ?? []).filter((t) => t.key.startsWith('stowage.io/')), [], 'nothing of Stowage left on the node that stays');
    } finally {
      await Promise.all(watches.map((w) => w.stop()));
    }
    for (const [i, app] of APPS.entries()) {
      const watch = watches[i] as MinReadyWatch;
      process.stdout.write(`# ${app}: lowest Ready 1 expected, seen ${watch.minReady} over ${watch.events} watch events, ${watch.uids.length} pod(s)\n`);
      assert.equal(watch.minReady, 1, `${app} never dropped below its one Ready replica`);
    }
  });
});
