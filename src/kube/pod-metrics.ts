/**
 * Reads what pods use from `metrics.k8s.io` (metrics-server's PodMetrics), for a strategy that
 * balances use (`balance` with `basis: usage`). The API is optional in a cluster: when it is not
 * served (404) or its backend is down (503), the reader says so with `undefined` and the strategy
 * plans nothing, rather than the cycle failing for every strategy.
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { ClusterSnapshot, Resources } from '../core/model.js';
import { addResources, resourcesFromList } from '../core/resources.js';
import { describeApiError } from './errors.js';

/** A PodMetrics item, as far as it is read. */
interface _PodMetrics {
  readonly metadata?: { readonly namespace?: string; readonly name?: string };
  readonly containers?: readonly { readonly usage?: Readonly<Record<string, string>> }[];
}

/**
 * Each pod's use, keyed `namespace/name`, its containers summed (cpu millicores, memory bytes).
 * A malformed quantity leaves that pod unmeasured (the planner then counts it at its request).
 */
export function podUsageFromMetrics(items: readonly _PodMetrics[]): Map<string, Resources> {
  const usage = new Map<string, Resources>();
  for (const item of items) {
    const { namespace, name } = item.metadata ?? {};
    if (namespace === undefined || name === undefined) continue;
    let total: Resources = {};
    try {
      for (const c of item.containers ?? []) total = addResources(total, resourcesFromList(c.usage ?? {}));
    } catch {
      continue;
    }
    usage.set(`${namespace}/${name}`, total);
  }
  return usage;
}

/** The snapshot's pods' use keyed by uid, as `ClusterSnapshot.podUsage` wants it; pods without a measurement are left out. */
export function podUsageByUid(snapshot: ClusterSnapshot, byName: ReadonlyMap<string, Resources>): Map<string, Resources> {
  const usage = new Map<string, Resources>();
  for (const pod of snapshot.pods) {
    const measured = byName.get(`${pod.namespace}/${pod.name}`);
    if (measured !== undefined) usage.set(pod.uid, measured);
  }
  return usage;
}

/** The result of {@link readPodMetrics}: the use by `namespace/name`, or why there is none. */
export type PodMetricsRead = { readonly ok: true; readonly usage: Map<string, Resources> } | { readonly ok: false; readonly message: string };

/** Lists every pod's metrics; a missing or unavailable metrics API is `ok: false`, other errors throw (the cycle retries). */
export async function readPodMetrics(kc: KubeConfig): Promise<PodMetricsRead> {
  try {
    const list = (await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods' })) as { readonly items?: readonly _PodMetrics[] };
    return { ok: true, usage: podUsageFromMetrics(list.items ?? []) };
  } catch (error) {
    const info = describeApiError(error);
    if (info.status === 404 || info.status === 503) return { ok: false, message: `metrics.k8s.io is not available (${info.status} ${info.reason}): is metrics-server installed?` };
    throw error;
  }
}
