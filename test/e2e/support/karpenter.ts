/**
 * Karpenter's objects for the e2e files that run against the dev cluster's Karpenter (KWOK
 * provider): a NodePool of chosen instance types, its readiness, its NodeClaims, and a Deployment
 * whose pods only its nodes take.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitFor } from '../../../src/devcluster/processes.js';
import { LAUNCH_ANNOTATION, NODE_CLAIMS, NODE_POOLS } from '../../../src/kube/node-pools.js';
import { NODE_GROUP_LABEL } from '../../../src/tenants/classes.js';
import type { TestCluster } from './cluster.js';
import { servesTraffic } from './ready-watch.js';
import { podsOf } from './workloads.js';

export const INSTANCE_TYPE = 'node.kubernetes.io/instance-type';

/**
 * A NodePool `name`: on-demand in us-east-1a, of `types`, at most `nodes` nodes, its nodes
 * labelled `NODE_GROUP_LABEL=<name>` and tainted `size=<name>:NoSchedule`; Karpenter disrupts
 * none of them itself (consolidation off, a budget of 0 nodes for drift), so only the descheduler
 * replaces, one node at a time (a budget of 1 node for the other reasons).
 */
export function nodePool(name: string, types: readonly string[], nodes: string): Record<string, unknown> {
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name },
    spec: {
      template: {
        metadata: { labels: { [NODE_GROUP_LABEL]: name } },
        spec: {
          nodeClassRef: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' },
          taints: [{ key: 'size', value: name, effect: 'NoSchedule' }],
          requirements: [
            { key: INSTANCE_TYPE, operator: 'In', values: [...types] },
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
            { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] },
          ],
          expireAfter: 'Never',
        },
      },
      limits: { nodes },
      // No drift replacement (the tests change the template), one node at a time for the rest: the descheduler's budget.
      disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: 'Never', budgets: [{ nodes: '0', reasons: ['Drifted'] }, { nodes: '1' }] },
    },
  };
}

/** Waits until the NodePool is Ready for its current generation. */
export async function poolReady(c: TestCluster, name: string): Promise<void> {
  const custom = c.kc.makeApiClient(CustomObjectsApi);
  await waitFor(`NodePool "${name}" to be Ready`, async () => {
    const pool = (await custom.getClusterCustomObject({ ...NODE_POOLS, name })) as { metadata?: { generation?: number }; status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] } };
    const ready = pool.status?.conditions?.find((cond) => cond.type === 'Ready');
    return ready?.status === 'True' && (ready.observedGeneration ?? 0) >= (pool.metadata?.generation ?? 0);
  }, { timeoutMs: 60_000, intervalMs: 500 });
}

/**
 * Waits until the NodePool's status counts `nodes` nodes: Karpenter updates that counter every
 * few seconds, and a plan made before it drops after a NodeClaim is deleted still sees the pool
 * at its limit (Stowage reads the limit as Karpenter does).
 */
export async function poolCounts(c: TestCluster, name: string, nodes: number): Promise<void> {
  const custom = c.kc.makeApiClient(CustomObjectsApi);
  await waitFor(`NodePool "${name}" to count ${nodes} node(s)`, async () => {
    const pool = (await custom.getClusterCustomObject({ ...NODE_POOLS, name })) as { status?: { resources?: Record<string, string> } };
    return pool.status?.resources?.['nodes'] === String(nodes);
  }, { timeoutMs: 60_000, intervalMs: 500 });
}

/** Merge-patches the NodePool's spec. */
export async function patchPool(c: TestCluster, name: string, spec: Record<string, unknown>): Promise<void> {
  await c.kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject({ ...NODE_POOLS, name, body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

/** A NodeClaim as the tests read it. */
export interface ClaimSeen {
  readonly name: string;
  readonly nodeName: string;
  readonly instanceType: string;
  /** Its `stowage.io/launched-for`, when the descheduler created it. */
  readonly launchedFor?: string;
  readonly deleting: boolean;
}

/** The NodeClaims of the pool (all pools when absent), those being deleted included. */
export async function claimsOf(c: TestCluster, pool?: string): Promise<ClaimSeen[]> {
  const list = (await c.kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ ...NODE_CLAIMS, ...(pool === undefined ? {} : { labelSelector: `karpenter.sh/nodepool=${pool}` }) })) as {
    items: { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string }; status?: { nodeName?: string } }[];
  };
  return list.items.map((i) => ({
    name: i.metadata.name,
    nodeName: i.status?.nodeName ?? '',
    instanceType: i.metadata.labels?.[INSTANCE_TYPE] ?? '',
    ...(i.metadata.annotations?.[LAUNCH_ANNOTATION] === undefined ? {} : { launchedFor: i.metadata.annotations[LAUNCH_ANNOTATION] }),
    deleting: i.metadata.deletionTimestamp !== undefined,
  }));
}

/**
 * A Deployment for the pool's nodes (by default one 1500m / 1Gi pod, stopping in 1 s), waited for
 * until every pod serves on a node of the pool; that node (the first pod's).
 */
export async function deployOnPool(c: TestCluster, ns: string, name: string, pool: string, options: { replicas?: number; cpu?: string } = {}): Promise<string> {
  const { replicas = 1, cpu = '1500m' } = options;
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            terminationGracePeriodSeconds: 1,
            nodeSelector: { [NODE_GROUP_LABEL]: pool },
            tolerations: [{ key: 'size', operator: 'Equal', value: pool, effect: 'NoSchedule' }],
            containers: [{ name, image: `registry.example/${name}:1`, resources: { requests: { cpu, memory: '1Gi' } } }],
          },
        },
      },
    },
  });
  let node = '';
  await waitFor(`${replicas} serving ${name} pod(s) on a ${pool} node`, async () => {
    const pods = await podsOf(c, ns, name);
    node = pods.length === replicas && pods.every((p) => servesTraffic(p)) ? (pods[0]?.spec?.nodeName ?? '') : '';
    return node !== '';
  }, { timeoutMs: 180_000, intervalMs: 500 });
  return node;
}
