/**
 * Workloads for the descheduler e2e files: a Deployment started on one node (the others cordoned
 * while its pods start), its pods, and cordoning by name.
 */
import type { V1DeploymentStrategy, V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../../src/devcluster/processes.js';
import type { TestCluster } from './cluster.js';
import { servesTraffic } from './ready-watch.js';

/** The pods labelled `app=<app>` in `ns`, read through the API. */
export async function podsOf(c: TestCluster, ns: string, app: string): Promise<V1Pod[]> {
  return (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
}

/** Cordons (or uncordons) each named node. */
export async function setCordoned(c: TestCluster, nodes: readonly string[], unschedulable: boolean): Promise<void> {
  for (const name of nodes) await c.core.patchNode({ name, body: [{ op: 'replace', path: '/spec/unschedulable', value: unschedulable }] });
}

/**
 * Creates a Deployment of `replicas` pods (500m / 256Mi each) and waits until all serve on
 * `where.node`; the nodes in `where.cordon` are cordoned while they start and uncordoned after.
 */
export async function deployOnNode(
  c: TestCluster,
  ns: string,
  name: string,
  replicas: number,
  where: { readonly node: string; readonly cordon: readonly string[] },
  strategy?: V1DeploymentStrategy,
): Promise<void> {
  await setCordoned(c, where.cordon, true);
  try {
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          replicas,
          ...(strategy === undefined ? {} : { strategy }),
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { terminationGracePeriodSeconds: 1, containers: [{ name, image: `registry.example/${name}:1`, resources: { requests: { cpu: '500m', memory: '256Mi' } } }] },
          },
        },
      },
    });
    await waitFor(`${replicas} Ready ${name} pods on "${where.node}"`, async () => {
      const pods = await podsOf(c, ns, name);
      return pods.length === replicas && pods.every((p) => servesTraffic(p) && p.spec?.nodeName === where.node);
    }, { timeoutMs: 120_000, intervalMs: 200 });
  } finally {
    await setCordoned(c, where.cordon, false);
  }
}
