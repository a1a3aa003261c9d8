/**
 * What the `stowage scheduler` e2e files share: the shipped PodGroup CRD and ServiceAccount, a
 * SchedulerConfiguration, pods for the scheduler, and PodGroups read through the API.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { waitFor } from '../../../src/devcluster/processes.js';
import type { TestCluster } from './cluster.js';
import { kubeconfigForServiceAccount } from './service-account.js';

/** PodGroup label of the scheduler-plugins Coscheduling convention. */
export const POD_GROUP_LABEL = 'scheduling.x-k8s.io/pod-group';

/**
 * Installs what a scheduler process needs: the PodGroup CRD as shipped (served before this
 * returns), the ServiceAccount and RBAC of deploy/scheduler, and a SchedulerConfiguration with the
 * `stowage` profile. Returns the kubeconfig (as that ServiceAccount) and config paths.
 */
export async function installScheduler(c: TestCluster, dir: string): Promise<{ readonly kubeconfig: string; readonly config: string }> {
  const kubeconfig = await kubeconfigForServiceAccount(c, 'scheduler', 'stowage-system', 'stowage-scheduler', dir);
  const config = join(dir, 'scheduler.yaml');
  writeFileSync(config, ['apiVersion: stowage.io/v1alpha1', 'kind: SchedulerConfiguration', 'spec:', '  profiles:', '    - { schedulerName: stowage, plugins: default }', ''].join('\n'));
  const objects = KubernetesObjectApi.makeApiClient(c.kc);
  const crd = parseAllDocuments(readFileSync(new URL('../../../deploy/scheduler/podgroup-crd.yaml', import.meta.url), 'utf8'))[0]?.toJS() as KubernetesObject;
  await objects.create(crd);
  await waitFor('the PodGroup CRD to be served', async () => {
    try {
      await c.kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'scheduling.x-k8s.io', version: 'v1alpha1', plural: 'podgroups' });
      return true;
    } catch {
      return false;
    }
  }, { timeoutMs: 30_000, intervalMs: 200 });
  return { kubeconfig, config };
}

/** A pod for `stowage` (or `schedulerName`) that selects the nodes of its `pool`. */
export function schedulerPod(name: string, pool: string, cpu: string, extra: { schedulerName?: string; priorityClassName?: string; gracePeriod?: number; group?: string; gated?: boolean } = {}): V1Pod {
  return {
    metadata: { name, labels: { test: name, ...(extra.group === undefined ? {} : { [POD_GROUP_LABEL]: extra.group }) } },
    spec: {
      schedulerName: extra.schedulerName ?? 'stowage',
      ...(extra.priorityClassName === undefined ? {} : { priorityClassName: extra.priorityClassName }),
      ...(extra.gated === true ? { schedulingGates: [{ name: 'stowage.io/e2e-hold' }] } : {}),
      terminationGracePeriodSeconds: extra.gracePeriod ?? 1,
      nodeSelector: { pool },
      containers: [{ name: 'c', image: 'registry.example/app:1', resources: { requests: { cpu, memory: '128Mi' } } }],
    },
  };
}

export interface PodGroupStatus {
  readonly phase?: string;
  readonly scheduled?: number;
  readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
}

export async function createPodGroup(c: TestCluster, ns: string, name: string, minMember: number, scheduleTimeoutSeconds = 10): Promise<void> {
  await c.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: 'scheduling.x-k8s.io', version: 'v1alpha1', plural: 'podgroups', namespace: ns, body: { apiVersion: 'scheduling.x-k8s.io/v1alpha1', kind: 'PodGroup', metadata: { name }, spec: { minMember, scheduleTimeoutSeconds } } });
}

export async function podGroupStatus(c: TestCluster, ns: string, name: string): Promise<PodGroupStatus> {
  const obj = (await c.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'scheduling.x-k8s.io', version: 'v1alpha1', plural: 'podgroups', namespace: ns, name })) as { status?: PodGroupStatus };
  return obj.status ?? {};
}

/** The names of the group's pods that have a node, read from the API. */
export async function boundMembers(c: TestCluster, ns: string, group: string): Promise<string[]> {
  const pods = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `${POD_GROUP_LABEL}=${group}` })).items;
  return pods.filter((p) => (p.spec?.nodeName ?? '') !== '').map((p) => p.metadata?.name ?? '');
}
