/**
 * Reads from the API what the informer cache does not hold yet (a Deployment created a few
 * milliseconds before its first pod), bounded by a timeout well inside the apiserver's
 * `timeoutSeconds`, and remembered briefly so a burst of pods costs one read, not one each.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { KubeReplicaSet, KubeWorkload } from '../../core/from-kube.js';
import type { PlacedWorkloadKind } from '../../policy/placement/decide.js';
import { describeApiError } from '../../kube/errors.js';
import type { ObjectLookup } from './admitter.js';

export interface ApiLookupOptions {
  /** Give up on a read after this long; the admitter then fails open. Default 1 s. */
  readonly timeoutMs?: number;
  /** Remember an answer (found or not) this long. Default 2 s. */
  readonly rememberMs?: number;
  readonly now?: () => number;
}

type _Namespace = { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } };

/** {@link ObjectLookup} over the API: GETs that return undefined on 404. */
export class ApiLookup implements ObjectLookup {
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #timeoutMs: number;
  readonly #rememberMs: number;
  readonly #now: () => number;
  readonly #remembered = new Map<string, { readonly at: number; readonly value: Promise<unknown> }>();

  constructor(kc: KubeConfig, options: ApiLookupOptions = {}) {
    this.#apps = kc.makeApiClient(AppsV1Api);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#timeoutMs = options.timeoutMs ?? 1_000;
    this.#rememberMs = options.rememberMs ?? 2_000;
    this.#now = options.now ?? Date.now;
  }

  replicaSet(namespace: string, name: string): Promise<KubeReplicaSet | undefined> {
    return this.#read(`ReplicaSet "${namespace}/${name}"`, () => this.#apps.readNamespacedReplicaSet({ namespace, name }));
  }

  workload(kind: PlacedWorkloadKind, namespace: string, name: string): Promise<KubeWorkload | undefined> {
    return this.#read(`${kind} "${namespace}/${name}"`, () =>
      kind === 'Deployment' ? this.#apps.readNamespacedDeployment({ namespace, name }) : this.#apps.readNamespacedStatefulSet({ namespace, name }),
    );
  }

  namespace(name: string): Promise<_Namespace | undefined> {
    return this.#read(`Namespace "${name}"`, () => this.#core.readNamespace({ name }));
  }

  #read<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    const now = this.#now();
    const hit = this.#remembered.get(what);
    if (hit !== undefined && now - hit.at < this.#rememberMs) return hit.value as Promise<T | undefined>;
    for (const [key, entry] of this.#remembered) if (now - entry.at >= this.#rememberMs) this.#remembered.delete(key);
    const value = this.#withTimeout(what, call());
    this.#remembered.set(what, { at: now, value });
    // A failed read is not remembered: the next pod tries again.
    value.catch(() => this.#remembered.delete(what));
    return value;
  }

  async #withTimeout<T>(what: string, promise: Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Cannot read ${what}: no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } catch (error) {
      if (describeApiError(error).status === 404) return undefined;
      if (error instanceof Error && error.message.startsWith('Cannot read')) throw error;
      const info = describeApiError(error);
      throw new Error(`Cannot read ${what}: ${info.status ? `HTTP ${info.status}: ` : ''}${info.message}`, { cause: error });
    } finally {
      clearTimeout(timer);
      // The losing request still settles later; nothing waits for it.
      promise.catch(() => undefined);
    }
  }
}
