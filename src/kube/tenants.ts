/**
 * Tenants in a live cluster: apply their bundles with server-side apply, read their phase from
 * their pods, delete them with their namespace, and read what the scheduler and the autoscaler
 * said about their pods (Events). The rendering and the phase rules are pure (`src/tenants`).
 */
import { AppsV1Api, CoreV1Api, type CoreV1Event, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { FIELD_MANAGER, MANAGED_BY, MANAGED_BY_LABEL, TENANT_CLASS_LABEL, TENANT_LABEL, type KubeObject } from '../tenants/bundle.js';
import { tenantStatus, type TenantPodState, type TenantStatus } from '../tenants/status.js';
import { deleteObject, serverSideApply, type AppliedObject } from './apply.js';
import { listAll } from './read-snapshot.js';
import { withRetry, type RetryOptions } from './retry.js';

/** Applies one tenant's rendered bundle, in its order. */
export async function applyBundle(kc: KubeConfig, objects: readonly KubeObject[], retry: RetryOptions = {}): Promise<AppliedObject[]> {
  return serverSideApply(kc, objects, FIELD_MANAGER, retry);
}

function _podState(pod: { metadata?: { name?: string; deletionTimestamp?: unknown }; spec?: { nodeName?: string }; status?: { conditions?: { type?: string; status?: string }[] } }): TenantPodState {
  return {
    name: pod.metadata?.name ?? '',
    nodeName: pod.spec?.nodeName ?? '',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    deleting: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
  };
}

/** Every tenant (namespaces labelled `stowage.io/tenant`), or the one named, with its phase and nodes, sorted by name. */
export async function listTenants(kc: KubeConfig, only?: string, retry: RetryOptions = {}): Promise<TenantStatus[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const selector = only === undefined ? TENANT_LABEL : `${TENANT_LABEL}=${only}`;
  const [namespaces, pods, deployments] = await Promise.all([
    listAll('namespaces', (c) => core.listNamespace({ labelSelector: selector, _continue: c, limit: 500 }), retry),
    listAll('pods', (c) => core.listPodForAllNamespaces({ labelSelector: selector, _continue: c, limit: 500 }), retry),
    listAll('deployments', (c) => apps.listDeploymentForAllNamespaces({ labelSelector: selector, _continue: c, limit: 500 }), retry),
  ]);
  return namespaces
    .map((ns: V1Namespace) => {
      const name = ns.metadata?.labels?.[TENANT_LABEL] ?? ns.metadata?.name ?? '';
      const namespace = ns.metadata?.name ?? '';
      const replicas = deployments.filter((d) => d.metadata?.namespace === namespace).reduce<number | undefined>((sum, d) => (sum ?? 0) + (d.spec?.replicas ?? 1), undefined);
      const states = pods.filter((p) => p.metadata?.namespace === namespace).map(_podState);
      const deleting = ns.metadata?.deletionTimestamp !== undefined && ns.metadata.deletionTimestamp !== null;
      return tenantStatus(name, ns.metadata?.labels?.[TENANT_CLASS_LABEL] ?? '', states, replicas, deleting);
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Deletes a tenant: its namespace, and with it every object of its bundle. Refuses a namespace
 * Stowage did not make. Returns false when the tenant did not exist.
 */
export async function deleteTenant(kc: KubeConfig, name: string, retry: RetryOptions = {}): Promise<boolean> {
  const core = kc.makeApiClient(CoreV1Api);
  let namespace: V1Namespace;
  try {
    namespace = await withRetry(`read namespace "${name}"`, () => core.readNamespace({ name }), retry);
  } catch (error) {
    if ((error as { cause?: { code?: number } }).cause?.code === 404) return false;
    throw error;
  }
  const labels = namespace.metadata?.labels ?? {};
  if (labels[TENANT_LABEL] !== name || labels[MANAGED_BY_LABEL] !== MANAGED_BY) {
    throw new Error(`Cannot delete tenant "${name}": namespace "${name}" is not a Stowage tenant (no ${TENANT_LABEL}=${name} label)`);
  }
  return deleteObject(kc, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, retry);
}

/** Whether a tenant's namespace still exists (it lingers while its objects are finalized). */
export async function tenantExists(kc: KubeConfig, name: string): Promise<boolean> {
  return (await listTenants(kc, name)).length > 0;
}

/** An Event about a tenant's pod, reduced to what progress and `get` print. */
export interface PodEvent {
  readonly uid: string;
  readonly count: number;
  readonly pod: string;
  readonly reason: string;
  /** Who reported it: `default-scheduler`, `karpenter`, `cluster-autoscaler`. */
  readonly source: string;
  readonly message: string;
  readonly at: number;
}

function _eventTime(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t === undefined ? 0 : new Date(t).getTime();
}

/** The Events on pods in `namespace`, oldest first. */
export async function podEvents(kc: KubeConfig, namespace: string, retry: RetryOptions = {}): Promise<PodEvent[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const events = await listAll('events', (c) => core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.kind=Pod', _continue: c, limit: 500 }), retry);
  return events
    .map((e) => ({
      uid: e.metadata?.uid ?? '',
      count: e.count ?? e.series?.count ?? 1,
      pod: e.involvedObject.name ?? '',
      reason: e.reason ?? '',
      source: e.reportingComponent || e.source?.component || e.reportingInstance || '',
      message: (e.message ?? '').trim(),
      at: _eventTime(e),
    }))
    .sort((a, b) => a.at - b.at);
}
