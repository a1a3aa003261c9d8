/**
 * Karpenter's NodeClaims (`karpenter.sh/v1`), for deleting a node the descheduler emptied: deleting
 * a Node's NodeClaim is how Karpenter is asked to terminate it (its termination controller taints
 * the node, drains what is left with the Eviction API, deletes the instance and the Node). A
 * cluster without Karpenter serves no NodeClaims; a node Karpenter did not launch has none.
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { describeApiError } from './errors.js';
import { withRetry } from './retry.js';

const _API = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' } as const;

/** What the executor needs of a node provisioner to delete a node. */
export interface NodeDeleter {
  /** The name of the NodeClaim that launched `nodeName`, or undefined (none, or no Karpenter in the cluster). */
  claimOf(nodeName: string): Promise<string | undefined>;
  /** Deletes the NodeClaim; gone already counts as done. */
  deleteClaim(name: string): Promise<void>;
}

interface _NodeClaim {
  readonly metadata?: { readonly name?: string; readonly deletionTimestamp?: unknown };
  readonly status?: { readonly nodeName?: string };
}

/** Karpenter's NodeClaims through the API, with retries on 409/429/5xx. */
export class KarpenterNodeDeleter implements NodeDeleter {
  readonly #api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
  }

  async claimOf(nodeName: string): Promise<string | undefined> {
    let list: { readonly items?: readonly _NodeClaim[] };
    try {
      list = (await withRetry('list NodeClaims', () => this.#api.listClusterCustomObject(_API))) as { readonly items?: readonly _NodeClaim[] };
    } catch (error) {
      if (describeApiError((error as { cause?: unknown }).cause ?? error).status === 404) return undefined;
      throw error;
    }
    return list.items?.find((c) => c.status?.nodeName === nodeName)?.metadata?.name;
  }

  async deleteClaim(name: string): Promise<void> {
    try {
      await withRetry(`delete NodeClaim "${name}"`, () => this.#api.deleteClusterCustomObject({ ..._API, name }));
    } catch (error) {
      if (describeApiError((error as { cause?: unknown }).cause ?? error).status !== 404) throw error;
    }
  }
}
