/**
 * Leader election as the e2e files check it: who holds a Lease, and how soon a standby must take
 * it over once the leader is gone.
 */
import { CoordinationV1Api } from '@kubernetes/client-node';
import type { TestCluster } from './cluster.js';

/** The Lease's holderIdentity; empty when nobody holds it or it does not exist. */
export async function leaseHolder(c: TestCluster, name: string, namespace = 'stowage-system'): Promise<string> {
  try {
    return (await c.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace })).spec?.holderIdentity ?? '';
  } catch {
    return '';
  }
}

/**
 * The longest a handover may take after the leader died without releasing the Lease. As
 * client-go: a candidate takes over one lease duration after it *saw* the record last change (its
 * own clock), and it looks every 1 to 2.2 retry periods: it sees the last renewal up to 2.2
 * periods late and takes the Lease up to 2.2 periods after it expired. A second of slack for
 * request latency on a busy machine.
 */
export function handoverBoundMs(leaseSeconds: number, retryPeriodMs: number): number {
  return leaseSeconds * 1000 + 2 * 2.2 * retryPeriodMs + 1000;
}
