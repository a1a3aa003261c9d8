/**
 * Reads a whole-cluster snapshot with paginated LISTs (one consistent page walk per kind), for
 * one-shot commands (`stowage snapshot`, `deschedule --dry-run`). Long-running controllers build
 * the same model from informers ({@link ClusterCache} in cluster-cache.ts); both go through
 * {@link snapshotFromObjects}, so the two readers cannot convert differently.
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, PolicyV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { CapacityTypeRule } from '../core/capacity.js';
import {
  nodeFromKube,
  ownerResolver,
  pdbFromKube,
  podFromKube,
  spreadSelectorResolver,
  workloadFromKube,
  type KubeDaemonSet,
  type KubeDeployment,
  type KubeJob,
  type KubeNode,
  type KubePdb,
  type KubePod,
  type KubeReplicaSet,
  type KubeService,
  type KubeStatefulSet,
} from '../core/from-kube.js';
import type { ClusterSnapshot } from '../core/model.js';
import { withRetry, type RetryOptions } from './retry.js';

const PAGE_SIZE = 500;

interface ListPage<T> {
  items: T[];
  metadata?: { _continue?: string };
}

/** Walks every page of a LIST, retrying passing failures of each page. */
export async function listAll<T>(what: string, list: (cont: string | undefined) => Promise<ListPage<T>>, retry: RetryOptions = {}): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const page = await withRetry(`list ${what}`, () => list(cont), retry);
    items.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont !== undefined);
  return items;
}

export interface ReadSnapshotOptions {
  readonly capacityRules: readonly CapacityTypeRule[];
  /** Only pods, workloads and PDBs of this namespace; nodes are always cluster-wide. */
  readonly namespace?: string;
  readonly now?: () => number;
  readonly retry?: RetryOptions;
}

/** Lists nodes, pods, controllers and PDBs and builds the model from them. */
export async function readClusterSnapshot(kc: KubeConfig, options: ReadSnapshotOptions): Promise<ClusterSnapshot> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const ns = options.namespace;
  const page = { limit: PAGE_SIZE };
  const r = options.retry ?? {};

  const [nodes, pods, replicaSets, deployments, statefulSets, daemonSets, jobs, pdbs] = await Promise.all([
    listAll('nodes', (c) => core.listNode({ ...page, _continue: c }), r),
    listAll('pods', (c) => (ns ? core.listNamespacedPod({ namespace: ns, ...page, _continue: c }) : core.listPodForAllNamespaces({ ...page, _continue: c })), r),
    listAll('replicasets', (c) => (ns ? apps.listNamespacedReplicaSet({ namespace: ns, ...page, _continue: c }) : apps.listReplicaSetForAllNamespaces({ ...page, _continue: c })), r),
    listAll('deployments', (c) => (ns ? apps.listNamespacedDeployment({ namespace: ns, ...page, _continue: c }) : apps.listDeploymentForAllNamespaces({ ...page, _continue: c })), r),
    listAll('statefulsets', (c) => (ns ? apps.listNamespacedStatefulSet({ namespace: ns, ...page, _continue: c }) : apps.listStatefulSetForAllNamespaces({ ...page, _continue: c })), r),
    listAll('daemonsets', (c) => (ns ? apps.listNamespacedDaemonSet({ namespace: ns, ...page, _continue: c }) : apps.listDaemonSetForAllNamespaces({ ...page, _continue: c })), r),
    listAll('jobs', (c) => (ns ? batch.listNamespacedJob({ namespace: ns, ...page, _continue: c }) : batch.listJobForAllNamespaces({ ...page, _continue: c })), r),
    listAll('poddisruptionbudgets', (c) => (ns ? policy.listNamespacedPodDisruptionBudget({ namespace: ns, ...page, _continue: c }) : policy.listPodDisruptionBudgetForAllNamespaces({ ...page, _continue: c })), r),
  ]);

  return snapshotFromObjects({ nodes, pods, replicaSets, deployments, statefulSets, daemonSets, jobs, pdbs }, { capacityRules: options.capacityRules, takenAt: (options.now ?? Date.now)() });
}

/** The API objects a {@link ClusterSnapshot} is built from, as LISTs or an informer cache hold them. */
export interface ClusterObjects {
  readonly nodes: readonly KubeNode[];
  readonly pods: readonly KubePod[];
  readonly replicaSets: readonly KubeReplicaSet[];
  readonly deployments: readonly KubeDeployment[];
  readonly statefulSets: readonly KubeStatefulSet[];
  readonly daemonSets: readonly KubeDaemonSet[];
  readonly jobs: readonly KubeJob[];
  readonly pdbs: readonly KubePdb[];
  /** When given, pods' default spread selectors include the Services that select them, as kube-scheduler's. */
  readonly services?: readonly KubeService[];
}

/** The one conversion from API objects to the model, for every reader of the cluster. */
export function snapshotFromObjects(objects: ClusterObjects, options: { readonly capacityRules: readonly CapacityTypeRule[]; readonly takenAt: number }): ClusterSnapshot {
  const resolve = ownerResolver(objects.replicaSets, objects.jobs);
  // Without Services, the default spread counts the pods of a pod's ReplicaSet or StatefulSet only.
  const spreadSelector = spreadSelectorResolver({ replicaSets: objects.replicaSets, statefulSets: objects.statefulSets, ...(objects.services === undefined ? {} : { services: objects.services }) });
  return {
    takenAt: options.takenAt,
    nodes: objects.nodes.map((n) => nodeFromKube(n, options.capacityRules)),
    pods: objects.pods.map((p) => podFromKube(p, resolve, spreadSelector)),
    workloads: [
      ...objects.deployments.map((d) => workloadFromKube(d, 'Deployment')),
      ...objects.statefulSets.map((s) => workloadFromKube(s, 'StatefulSet')),
      ...objects.daemonSets.map((d) => workloadFromKube(d, 'DaemonSet')),
    ],
    pdbs: objects.pdbs.map((p) => pdbFromKube(p)),
  };
}

/**
 * Every namespace's annotations, for the placement policy's per-namespace overrides and opt-outs
 * (the descheduler resolves each workload's policy as the webhook does).
 */
export async function readNamespaceAnnotations(kc: KubeConfig, retry: RetryOptions = {}): Promise<ReadonlyMap<string, Readonly<Record<string, string>>>> {
  const core = kc.makeApiClient(CoreV1Api);
  const namespaces = await listAll('namespaces', (c) => core.listNamespace({ limit: PAGE_SIZE, _continue: c }), retry);
  return new Map(namespaces.map((ns) => [ns.metadata?.name ?? '', ns.metadata?.annotations ?? {}] as const));
}
