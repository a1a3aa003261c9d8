/**
 * Evicting a pod through the Eviction API (policy/v1 Eviction subresource), so the apiserver
 * enforces every PodDisruptionBudget. A 429 means a PDB refuses: that is an answer, not a passing
 * failure, so it is returned rather than retried. 5xx and network errors are retried with backoff.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api } from '@kubernetes/client-node';
import { describeApiError } from './errors.js';
import { backoffDelay } from './retry.js';

/** How an eviction ended. */
export type EvictionOutcome =
  | { readonly kind: 'evicted' }
  /** A PodDisruptionBudget refused (HTTP 429): the caller stops and backs off. */
  | { readonly kind: 'blocked'; readonly reason: string }
  /** The pod is already gone (HTTP 404). */
  | { readonly kind: 'gone' };

/** Retry settings for passing failures. */
export interface EvictOptions {
  readonly attempts?: number;
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly random?: () => number;
  /** The pod's uid: the eviction applies only to this pod, not to a namesake created since. */
  readonly uid?: string;
}

/**
 * Evicts `namespace/name` through the Eviction API. Throws a one-line error on a refusal that is
 * neither a PDB (429) nor a passing failure, or when retries run out.
 */
export async function evictPod(core: CoreV1Api, namespace: string, name: string, options: EvictOptions = {}): Promise<EvictionOutcome> {
  const attempts = options.attempts ?? 5;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      await core.createNamespacedPodEviction({
        name,
        namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
          ...(options.uid === undefined ? {} : { deleteOptions: { preconditions: { uid: options.uid } } }),
        },
      });
      return { kind: 'evicted' };
    } catch (error) {
      const info = describeApiError(error);
      if (info.status === 429) return { kind: 'blocked', reason: info.message };
      if (info.status === 404) return { kind: 'gone' };
      // A uid precondition that fails means the pod was replaced by a namesake: ours is gone.
      if (info.status === 409 && options.uid !== undefined && /precondition/i.test(info.message)) return { kind: 'gone' };
      if (!info.retryable || attempt >= attempts) {
        const status = info.status ? `HTTP ${info.status}: ` : '';
        throw new Error(`Cannot evict pod "${namespace}/${name}": ${status}${info.message}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`, { cause: error });
      }
      await sleep(Math.max(info.retryAfterMs ?? 0, backoffDelay(attempt, options.baseMs ?? 200, options.maxMs ?? 10_000, random)));
    }
  }
}
