/**
 * A tenant's phase, from its pods: Pending until every pod is bound to a node, Scheduled until
 * every pod is Ready, then Ready. A tenant with no pod yet (its Deployment has not made one) is
 * Pending; one whose namespace is being deleted is Terminating.
 */
export const TenantPhase = { Pending: 'Pending', Scheduled: 'Scheduled', Ready: 'Ready', Terminating: 'Terminating' } as const;
export type TenantPhase = (typeof TenantPhase)[keyof typeof TenantPhase];

/** What the phase is read from, per pod. */
export interface TenantPodState {
  readonly name: string;
  readonly nodeName: string;
  readonly ready: boolean;
  readonly deleting: boolean;
}

/** A tenant as `list` and `get` show it. */
export interface TenantStatus {
  readonly name: string;
  readonly class: string;
  readonly phase: TenantPhase;
  /** The nodes its pods run on, sorted. */
  readonly nodes: readonly string[];
  readonly pods: number;
  readonly readyPods: number;
  /** The desired replicas, when its Deployment exists. */
  readonly replicas?: number;
}

/** The phase of a tenant with these pods; `wanted` is its Deployment's replicas (fewer pods than that is Pending). */
export function tenantPhase(pods: readonly TenantPodState[], wanted: number, namespaceDeleting = false): TenantPhase {
  if (namespaceDeleting) return TenantPhase.Terminating;
  const live = pods.filter((p) => !p.deleting);
  if (live.length < Math.max(wanted, 1) || live.some((p) => p.nodeName === '')) return TenantPhase.Pending;
  return live.every((p) => p.ready) ? TenantPhase.Ready : TenantPhase.Scheduled;
}

/** The status of one tenant. */
export function tenantStatus(name: string, tenantClass: string, pods: readonly TenantPodState[], replicas: number | undefined, namespaceDeleting = false): TenantStatus {
  const live = pods.filter((p) => !p.deleting);
  return {
    name,
    class: tenantClass,
    phase: tenantPhase(pods, replicas ?? 1, namespaceDeleting),
    nodes: [...new Set(live.map((p) => p.nodeName).filter((n) => n !== ''))].sort(),
    pods: live.length,
    readyPods: live.filter((p) => p.ready).length,
    ...(replicas === undefined ? {} : { replicas }),
  };
}
