/**
 * What Karpenter can still launch counts as room for the placement webhook, live as in the
 * simulator: on the real control plane with Karpenter's KWOK provider, both on-demand nodes are
 * full and an on-demand NodePool (nodes labelled as the webhook's capacity label says) can grow.
 * A workload's floor pod is placed on on-demand — required — and waits the seconds Karpenter takes
 * to launch a node for it, instead of falling back to spot as it did when only the nodes already
 * there counted. With the pool at its cpu limit, the same request falls back (on-demand preferred,
 * spot allowed) and runs on spot. Checked
 * through the API: the pods' decisions, the nodes they run on and the NodeClaims.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { parseNodeFixture } from '../../src/devcluster/nodes.js';
import { NODE_CLAIMS, NODE_POOLS } from '../../src/kube/node-pools.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { parseTenantClasses } from '../../src/tenants/classes.js';
import { useCluster, type TestCluster } from './support/cluster.js';
import { placementWebhookSuite } from './support/placement-webhook.js';
import { podsOf } from './support/workloads.js';
import { servesTraffic } from './support/ready-watch.js';

const CAPACITY = 'node.kubernetes.io/capacity';
const POOL = 'od-pool';
const NS = 'growth';
const WORK = mkdtempSync(join(tmpdir(), 'stowage-webhook-growth-e2e-'));

// One on-demand and one spot node, both in us-east-1a (the pool's zone), 4 cpu each.
const nodes = parseNodeFixture(
  [
    'apiVersion: stowage.io/v1alpha1',
    'kind: NodeFixture',
    'nodes:',
    '  - { name: on-demand, count: 1, capacityType: on-demand, instanceType: m5.xlarge, zone: us-east-1a, capacity: { cpu: "4", memory: 16Gi, pods: "110" } }',
    '  - { name: spot, count: 1, capacityType: spot, instanceType: m5.xlarge, zone: us-east-1a, capacity: { cpu: "4", memory: 16Gi, pods: "110" } }',
  ].join('\n'),
  'webhook-growth nodes',
);
// An on-demand NodePool whose nodes carry the capacity label the webhook requires, consolidation
// off (a launched node must stay for the test to look at it).
const classes = parseTenantClasses(
  [
    'apiVersion: stowage.io/v1alpha1',
    'kind: TenantClasses',
    'spec:',
    '  nodeGroups:',
    `    - { name: ${POOL}, instanceTypes: [m5.xlarge], labels: { ${CAPACITY}: on-demand }, maxSize: 3, zones: [us-east-1a], capacityTypes: [on-demand], consolidateAfter: 1h }`,
    '  classes:',
    `    - { name: standard, nodeGroup: ${POOL} }`,
  ].join('\n'),
  'webhook-growth classes',
);
const cluster = useCluster({ autoscaler: 'karpenter', tenantClasses: classes, nodes, podStartupMs: 500 });
const CONFIG = join(WORK, 'webhook.yaml');
writeFileSync(CONFIG, ['apiVersion: stowage.io/v1alpha1', 'kind: WebhookConfiguration', 'spec:', '  placement: { base: 1, percent: 0 }', ''].join('\n'));

async function deploy(c: TestCluster, name: string, cpu: string, placement: 'placed' | 'opt-out', nodeSelector?: Record<string, string>): Promise<void> {
  await c.apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name, ...(placement === 'opt-out' ? { annotations: { 'stowage.io/placement': 'disabled' } } : {}) },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            terminationGracePeriodSeconds: 1,
            ...(nodeSelector === undefined ? {} : { nodeSelector }),
            containers: [{ name, image: `registry.example/${name}:1`, resources: { requests: { cpu, memory: '1Gi' } } }],
          },
        },
      },
    },
  });
}

/** The Deployment's one pod once it serves, with the node it runs on. */
async function servingPod(c: TestCluster, name: string, timeoutMs: number): Promise<{ pod: V1Pod; node: V1Node }> {
  let pod: V1Pod | undefined;
  await waitFor(`a serving pod of ${name}`, async () => {
    const pods = await podsOf(c, NS, name);
    pod = pods.length === 1 && servesTraffic(pods[0] as never) ? pods[0] : undefined;
    return pod !== undefined;
  }, { timeoutMs, intervalMs: 500 });
  const node = await c.core.readNode({ name: pod?.spec?.nodeName ?? '' });
  return { pod: pod as V1Pod, node };
}

/** Whether the pod's required node affinity pins it to on-demand. */
function requiresOnDemand(pod: V1Pod): boolean {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return terms.length > 0 && terms.every((t) => (t.matchExpressions ?? []).some((e) => e.key === CAPACITY && e.operator === 'In' && e.values?.length === 1 && e.values[0] === 'on-demand'));
}

async function nodeClaims(c: TestCluster): Promise<string[]> {
  const list = (await c.kc.makeApiClient(CustomObjectsApi).listClusterCustomObject(NODE_CLAIMS)) as { items: { metadata: { name: string } }[] };
  return list.items.map((i) => i.metadata.name);
}

describe('the placement webhook counts what Karpenter can launch as room', () => {
  const observed = placementWebhookSuite(cluster, { namespace: NS, config: CONFIG, work: WORK, tag: 'WEBHOOK-GROWTH-E2E' });

  test('a floor pod with no on-demand room now waits for the on-demand node Karpenter launches, instead of falling back to spot', async () => {
    const c = cluster();
    // The on-demand node nearly full (3.5 of 4 cpu), by a pod the webhook does not place.
    await deploy(c, 'filler', '3500m', 'opt-out', { [CAPACITY]: 'on-demand' });
    const filler = await servingPod(c, 'filler', 60_000);
    assert.equal(filler.node.metadata?.labels?.[CAPACITY], 'on-demand');
    assert.deepEqual(await nodeClaims(c), [], 'nothing launched yet');
    await deploy(c, 'app', '2', 'placed');
    const started = Date.now();
    const { pod, node } = await servingPod(c, 'app', 180_000);
    observed['launchedForFloorPodMs'] = Date.now() - started;
    observed['appNode'] = { name: node.metadata?.name, labels: { pool: node.metadata?.labels?.['karpenter.sh/nodepool'], capacity: node.metadata?.labels?.[CAPACITY] } };
    assert.equal(pod.metadata?.annotations?.['stowage.io/capacity-type'], 'on-demand', 'the webhook kept the floor pod on on-demand');
    assert.ok(requiresOnDemand(pod), 'required, not merely preferred: it waited for the node');
    assert.equal(node.metadata?.labels?.['karpenter.sh/nodepool'], POOL, 'on a node Karpenter launched for it');
    assert.equal(node.metadata?.labels?.[CAPACITY], 'on-demand');
    assert.equal((await nodeClaims(c)).length, 1, 'one NodeClaim');
  });

  test('with the NodePool at its cpu limit nothing can grow: the floor pod falls back to spot', async () => {
    const c = cluster();
    const custom = c.kc.makeApiClient(CustomObjectsApi);
    await custom.patchClusterCustomObject({ ...NODE_POOLS, name: POOL, body: { spec: { limits: { cpu: '4' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    // Karpenter's status counts the launched node (2 of its cpu here, as the KWOK provider reports
    // it): with one more m5.xlarge (4 cpu) the pool would pass its limit of 4.
    let resources: unknown;
    await waitFor('the NodePool to count its node against the limit', async () => {
      const pool = (await custom.getClusterCustomObject({ ...NODE_POOLS, name: POOL })) as { spec?: { limits?: { cpu?: string } }; status?: { resources?: { cpu?: string } } };
      resources = pool.status?.resources;
      return pool.spec?.limits?.cpu === '4' && Number.parseFloat(pool.status?.resources?.cpu ?? '0') > 0;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    observed['poolResourcesAtLimit'] = resources;
    // The webhook's informer delivers the change within moments; give it one.
    await new Promise((r) => setTimeout(r, 2_000));
    await deploy(c, 'app2', '2', 'placed');
    const { pod, node } = await servingPod(c, 'app2', 120_000);
    observed['atLimit'] = { annotation: pod.metadata?.annotations?.['stowage.io/capacity-type'], node: node.metadata?.name };
    // The fallback: on-demand preferred, spot allowed (the annotation names the preferred type).
    assert.equal(pod.metadata?.annotations?.['stowage.io/capacity-type'], 'on-demand');
    assert.ok(!requiresOnDemand(pod), 'on-demand only preferred');
    assert.equal(node.metadata?.labels?.[CAPACITY], 'spot', 'fell back to spot');
    assert.equal((await nodeClaims(c)).length, 1, 'no second NodeClaim');
  });
});
