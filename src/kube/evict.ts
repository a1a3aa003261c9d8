/**
 * Evicting a pod through the Eviction API (policy/v1 Eviction subresource), so the apiserver
 * enforces every PodDisruptionBudget. A 429 whose Status names a `DisruptionBudget` cause means a
 * PDB refuses: that is an answer, not a passing failure, so it is returned rather than retried.
 * Any other 429 (API Priority and Fairness shedding load), 5xx and network errors are retried with
 * backoff, honouring Retry-After.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
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
      if (info.status === 429 && _disruptionBudgetRefusal(error)) return { kind: 'blocked', reason: info.message };
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

/**
 * Whether a 429 is the Eviction API's PDB refusal: its Status carries a `DisruptionBudget` cause
 * (k8s.io/kubernetes pkg/registry/core/pod/storage/eviction.go), which a 429 from API Priority and
 * Fairness ("Too many requests, please try again later") does not.
 */
function _disruptionBudgetRefusal(error: unknown): boolean {
  if (!(error instanceof ApiException)) return false;
  let status: unknown = error.body;
  if (typeof status === 'string') {
    try {
      status = JSON.parse(status);
    } catch {
      return false;
    }
  }
  const causes = (status as { details?: { causes?: readonly { reason?: unknown }[] } } | null)?.details?.causes ?? [];
  const message = (status as { message?: unknown } | null)?.message;
  return causes.some((c) => c.reason === 'DisruptionBudget') || (typeof message === 'string' && /disruption budget/i.test(message));
}
