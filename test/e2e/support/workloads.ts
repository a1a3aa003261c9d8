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

/** A Deployment of pods labelled `app=<name>` that stop in 1 s, and a PodDisruptionBudget for them if `pdb` is given. */
export interface DeploymentSpec {
  readonly name: string;
  readonly replicas: number;
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly annotations?: Readonly<Record<string, string>>;
  readonly strategy?: V1DeploymentStrategy;
  /** The PDB's spec without its selector (the Deployment's). */
  readonly pdb?: { readonly minAvailable?: number | string; readonly maxUnavailable?: number | string };
}

/** Creates the Deployment (and its PDB) of `spec`; does not wait for its pods. */
export async function createDeployment(c: TestCluster, ns: string, spec: DeploymentSpec): Promise<void> {
  const { name } = spec;
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name, ...(spec.annotations === undefined ? {} : { annotations: { ...spec.annotations } }) },
      spec: {
        replicas: spec.replicas,
        ...(spec.strategy === undefined ? {} : { strategy: spec.strategy }),
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name, image: `registry.example/${name}:1`, resources: { requests: { ...spec.requests } } }] },
        },
      },
    },
  });
  if (spec.pdb !== undefined) await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name }, spec: { ...spec.pdb, selector: { matchLabels: { app: name } } } } });
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
    await createDeployment(c, ns, { name, replicas, requests: { cpu: '500m', memory: '256Mi' }, ...(strategy === undefined ? {} : { strategy }) });
    await waitFor(`${replicas} Ready ${name} pods on "${where.node}"`, async () => {
      const pods = await podsOf(c, ns, name);
      return pods.length === replicas && pods.every((p) => servesTraffic(p) && p.spec?.nodeName === where.node);
    }, { timeoutMs: 120_000, intervalMs: 200 });
  } finally {
    await setCordoned(c, where.cordon, false);
  }
}
