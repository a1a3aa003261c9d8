/**
 * The cluster as the policy reads it, kept current by informers: nodes, pods, namespaces, the
 * workload controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs) and
 * PodDisruptionBudgets, one {@link ResilientInformer} each (paged LIST, watch with bookmarks,
 * re-LIST after 410 Gone, a watchdog for silent watches). A long-running controller plans from
 * {@link ClusterCache.snapshot} instead of LISTing eight kinds every cycle; the snapshot is the
 * same {@link ClusterSnapshot} the LIST-based reader builds, through the same conversion
 * ({@link snapshotFromObjects}), in the same order (the apiserver's: by namespace, then name).
 *
 * A cache lags the cluster by the watch's latency. A decision that must not act on stale state
 * (the executor's re-check before a drain) asks {@link ClusterCache.snapshotWith} for a snapshot
 * where what it is about (a node, the pods on it, the PDBs of their namespaces) is read from the
 * apiserver with targeted requests.
 */
import { CoreV1Api, PolicyV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import type { CapacityTypeRule } from '../core/capacity.js';
import type { KubeDaemonSet, KubeDeployment, KubeJob, KubeNode, KubeObjectMeta, KubePdb, KubePod, KubeReplicaSet, KubeService, KubeStatefulSet } from '../core/from-kube.js';
import type { ClusterSnapshot } from '../core/model.js';
import type { Logger } from '../observability/log.js';
import { describeApiError } from './errors.js';
import { ResilientInformer, type InformerEvent } from './informer.js';
import { objectKey } from './informer-store.js';
import { listAll, snapshotFromObjects, type ClusterObjects } from './read-snapshot.js';
import { withRetry, type RetryOptions } from './retry.js';

/** A namespace as the policy reads it: labels and annotations (the placement policy's defaults). */
export interface KubeNamespace {
  readonly metadata?: KubeObjectMeta;
}

/** What the cache holds of each kind. */
export interface CachedObjects {
  readonly nodes: KubeNode;
  readonly namespaces: KubeNamespace;
  readonly pods: KubePod;
  readonly replicasets: KubeReplicaSet;
  readonly deployments: KubeDeployment;
  readonly statefulsets: KubeStatefulSet;
  readonly daemonsets: KubeDaemonSet;
  readonly jobs: KubeJob;
  readonly poddisruptionbudgets: KubePdb;
  /** Only for the scheduler's default topology spread (a pod's Services select its peers). */
  readonly services: KubeService;
}

export type CacheKind = keyof CachedObjects;

/** Every kind, in start order: owners before the pods that point at them. */
export const CACHE_KINDS = ['nodes', 'namespaces', 'services', 'replicasets', 'deployments', 'statefulsets', 'daemonsets', 'jobs', 'poddisruptionbudgets', 'pods'] as const satisfies readonly CacheKind[];

/**
 * The kinds a {@link ClusterSnapshot} is built from (all but namespaces and Services). A cache that
 * also watches Services gives pods the default spread selector kube-scheduler builds from them.
 */
export const SNAPSHOT_KINDS = CACHE_KINDS.filter((k) => k !== 'namespaces' && k !== 'services');

const _API: Readonly<Record<CacheKind, { readonly prefix: string; readonly namespaced: boolean }>> = {
  nodes: { prefix: '/api/v1', namespaced: false },
  namespaces: { prefix: '/api/v1', namespaced: false },
  pods: { prefix: '/api/v1', namespaced: true },
  replicasets: { prefix: '/apis/apps/v1', namespaced: true },
  deployments: { prefix: '/apis/apps/v1', namespaced: true },
  statefulsets: { prefix: '/apis/apps/v1', namespaced: true },
  daemonsets: { prefix: '/apis/apps/v1', namespaced: true },
  jobs: { prefix: '/apis/batch/v1', namespaced: true },
  poddisruptionbudgets: { prefix: '/apis/policy/v1', namespaced: true },
  services: { prefix: '/api/v1', namespaced: true },
};

/** Called with each change the cache applies; `update` and `add` get the whole new object. */
export type CacheHandler<K extends CacheKind> = (event: InformerEvent, obj: CachedObjects[K]) => void;

export interface ClusterCacheOptions {
  readonly capacityRules: readonly CapacityTypeRule[];
  /** Only pods, workloads and PDBs of this namespace (and that namespace); nodes are cluster-wide. */
  readonly namespace?: string;
  /** The kinds to watch; default all of {@link CACHE_KINDS}. A snapshot needs all but namespaces. */
  readonly kinds?: readonly CacheKind[];
  readonly log?: Logger;
  /** Counts watch restarts and re-LISTs per kind when given. */
  readonly registry?: Registry;
  readonly idleRestartMs?: number;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** For the targeted reads of {@link ClusterCache.snapshotWith}. */
  readonly retry?: RetryOptions;
  readonly now?: () => number;
}

/** What {@link ClusterCache.snapshotWith} reads fresh from the apiserver. */
export interface SnapshotFocus {
  /** These nodes, every pod bound to them, and the PDBs of those pods' namespaces. */
  readonly nodes: readonly string[];
}

/**
 * The cache keeps whole objects but their `managedFields`: nothing in the policy reads them, and
 * they are often the largest part of an object.
 */
export function withoutManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * See the module comment.
 *
 * @example
 * const cache = new ClusterCache(kc, { capacityRules: DEFAULT_CAPACITY_TYPE_RULES, log });
 * await cache.start(); // every kind LISTed once
 * const plan = planDescheduling(cache.snapshot(), config, { now: Date.now(), prices });
 * cache.on('nodes', (event, node) => log.debug({ event, node: node.metadata?.name }));
 */
export class ClusterCache {
  readonly #kc: KubeConfig;
  readonly #options: ClusterCacheOptions;
  readonly #informers = new Map<CacheKind, ResilientInformer<KubernetesObject>>();
  readonly #handlers = new Map<CacheKind, Set<CacheHandler<CacheKind>>>();
  #synced = false;
  #started: Promise<void> | undefined;

  constructor(kc: KubeConfig, options: ClusterCacheOptions) {
    this.#kc = kc;
    this.#options = options;
    const restarts = options.registry === undefined ? undefined : _kindCounter(options.registry, 'stowage_cache_watch_restarts_total', 'Watches of the cluster cache restarted after a failure or a silent spell, by kind');
    const relists = options.registry === undefined ? undefined : _kindCounter(options.registry, 'stowage_cache_relists_total', 'Full re-LISTs of the cluster cache after a 410 Gone, by kind');
    const kinds = options.kinds ?? CACHE_KINDS;
    for (const kind of CACHE_KINDS.filter((k) => kinds.includes(k))) {
      const handlers = new Set<CacheHandler<CacheKind>>();
      this.#handlers.set(kind, handlers);
      const informer = new ResilientInformer<KubernetesObject>(kc, {
        name: kind,
        ..._pathOf(kind, options.namespace),
        keep: withoutManagedFields,
        ...(options.idleRestartMs === undefined ? {} : { idleRestartMs: options.idleRestartMs }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
        onError: (e) => {
          restarts?.inc({ kind });
          options.log?.warn({ informer: e.name, restartInMs: e.restartInMs, restarts: e.restarts }, `Watch of ${e.name} failed, restarting: ${e.message}`);
        },
        onRelist: (e) => {
          relists?.inc({ kind });
          options.log?.info({ informer: e.name, relists: e.relists }, `Watch of ${e.name} expired, re-listing: ${e.message}`);
        },
      });
      for (const event of ['add', 'update', 'delete'] as const) {
        informer.on(event, (obj) => {
          for (const handler of handlers) handler(event, obj);
        });
      }
      this.#informers.set(kind, informer);
    }
  }

  /** Starts every informer; resolves once each has its first complete LIST. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      const began = Date.now();
      await Promise.all([...this.#informers.values()].map((i) => i.start()));
      this.#synced = true;
      this.#options.log?.info({ ms: Date.now() - began, nodes: this.list('nodes').length, pods: this.#informers.has('pods') ? this.list('pods').length : 0 }, 'Cluster cache synced');
    })();
    return this.#started;
  }

  /** Stops every watch; the cache keeps what it holds. */
  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }

  /** Resolves once every kind has been LISTed (after {@link start}). */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync()));
  }

  /** True once every kind has been LISTed; stays true through later re-LISTs. */
  get hasSynced(): boolean {
    return this.#synced || [...this.#informers.values()].every((i) => i.synced);
  }

  /** Watch restarts and 410 re-LISTs so far, summed over the kinds. */
  get restarts(): { readonly failures: number; readonly relists: number } {
    let failures = 0;
    let relists = 0;
    for (const informer of this.#informers.values()) {
      failures += informer.restarts;
      relists += informer.relists;
    }
    return { failures, relists };
  }

  /** The cached objects of a kind (in one namespace when given), in no particular order. */
  list<K extends CacheKind>(kind: K, namespace?: string): readonly CachedObjects[K][] {
    return this.#informer(kind).list(namespace);
  }

  get<K extends CacheKind>(kind: K, name: string, namespace?: string): CachedObjects[K] | undefined {
    return this.#informer(kind).get(name, namespace);
  }

  /**
   * Calls `handler` with every change of a kind from now on (the first LIST arrives as adds);
   * returns the function that unsubscribes it.
   */
  on<K extends CacheKind>(kind: K, handler: CacheHandler<K>): () => void {
    const handlers = this.#handlers.get(kind);
    if (handlers === undefined) throw new Error(`The cluster cache does not watch ${kind}`);
    const h = handler as CacheHandler<CacheKind>;
    handlers.add(h);
    return () => handlers.delete(h);
  }

  /** The cluster as the cache holds it now, as the LIST-based reader would build it. */
  snapshot(): ClusterSnapshot {
    return snapshotFromObjects(this.#objects(), { capacityRules: this.#options.capacityRules, takenAt: this.#now() });
  }

  /**
   * A snapshot where `focus` is read from the apiserver rather than the cache: each node (gone
   * when the apiserver says 404), the pods bound to it (one LIST by `spec.nodeName`), and the
   * PDBs of those pods' namespaces (their `disruptionsAllowed` decides what may be evicted).
   * Everything else comes from the cache.
   */
  async snapshotWith(focus: SnapshotFocus): Promise<ClusterSnapshot> {
    const core = this.#kc.makeApiClient(CoreV1Api);
    const policy = this.#kc.makeApiClient(PolicyV1Api);
    const retry = this.#options.retry ?? {};
    const names = new Set(focus.nodes);
    const nodes = new Map<string, KubeNode | undefined>();
    const podsOn: KubePod[] = [];
    for (const name of names) {
      try {
        nodes.set(name, await withRetry(`read node "${name}"`, () => core.readNode({ name }), retry));
      } catch (error) {
        if (describeApiError((error as { cause?: unknown }).cause ?? error).status !== 404) throw error;
        nodes.set(name, undefined);
      }
      const ns = this.#options.namespace;
      const fieldSelector = `spec.nodeName=${name}`;
      podsOn.push(...(await listAll(`pods on node "${name}"`, (c) => (ns ? core.listNamespacedPod({ namespace: ns, fieldSelector, limit: 500, _continue: c }) : core.listPodForAllNamespaces({ fieldSelector, limit: 500, _continue: c })), retry)));
    }
    const namespaces = new Set(podsOn.map((p) => p.metadata?.namespace ?? ''));
    const pdbs: KubePdb[] = [];
    for (const namespace of namespaces) {
      pdbs.push(...(await listAll(`poddisruptionbudgets in "${namespace}"`, (c) => policy.listNamespacedPodDisruptionBudget({ namespace, limit: 500, _continue: c }), retry)));
    }
    const cached = this.#objects();
    const objects: ClusterObjects = {
      ...cached,
      nodes: _sorted([...cached.nodes.filter((n) => !names.has(n.metadata?.name ?? '')), ...[...nodes.values()].filter((n) => n !== undefined)]),
      pods: _sorted(_overlay(cached.pods.filter((p) => !names.has(p.spec?.nodeName ?? '')), podsOn)),
      pdbs: _sorted([...cached.pdbs.filter((p) => !namespaces.has(p.metadata?.namespace ?? '')), ...pdbs]),
    };
    return snapshotFromObjects(objects, { capacityRules: this.#options.capacityRules, takenAt: this.#now() });
  }

  #objects(): ClusterObjects {
    const of = <K extends CacheKind>(kind: K): CachedObjects[K][] => (this.#informers.has(kind) ? _sorted(this.list(kind)) : []);
    return {
      nodes: of('nodes'),
      pods: of('pods'),
      replicaSets: of('replicasets'),
      deployments: of('deployments'),
      statefulSets: of('statefulsets'),
      daemonSets: of('daemonsets'),
      jobs: of('jobs'),
      pdbs: of('poddisruptionbudgets'),
      ...(this.#informers.has('services') ? { services: of('services') } : {}),
    };
  }

  #informer(kind: CacheKind): ResilientInformer<KubernetesObject> {
    const informer = this.#informers.get(kind);
    if (informer === undefined) throw new Error(`The cluster cache does not watch ${kind}`);
    return informer;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

function _pathOf(kind: CacheKind, namespace: string | undefined): { path: string; fieldSelector?: string } {
  const api = _API[kind];
  if (namespace === undefined) return { path: `${api.prefix}/${kind}` };
  if (api.namespaced) return { path: `${api.prefix}/namespaces/${encodeURIComponent(namespace)}/${kind}` };
  // Namespaces: only the one watched. Nodes stay cluster-wide.
  return kind === 'namespaces' ? { path: `${api.prefix}/${kind}`, fieldSelector: `metadata.name=${namespace}` } : { path: `${api.prefix}/${kind}` };
}

/**
 * In the apiserver's LIST order (its storage keys: namespace, then name, compared as bytes), so a
 * plan from the cache breaks ties as a plan from LISTs does.
 */
function _sorted<T extends { readonly metadata?: { readonly name?: string; readonly namespace?: string } }>(objects: readonly T[]): T[] {
  const keyed = objects.map((o) => [objectKey(o as KubernetesObject), o] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map(([, o]) => o);
}

/** `base` with each of `fresh` in place of the object of the same namespace/name, or added. */
function _overlay<T>(base: readonly T[], fresh: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const obj of base) byKey.set(objectKey(obj as KubernetesObject), obj);
  for (const obj of fresh) byKey.set(objectKey(obj as KubernetesObject), obj);
  return [...byKey.values()];
}

/**
 * The counter of that name in `registry`, made on first use. A controller builds a new cache for
 * each leadership term on the same registry; prom-client refuses a second registration of a name,
 * which made the descheduler fail when it won the Lease a second time.
 */
function _kindCounter(registry: Registry, name: string, help: string): Counter<'kind'> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<'kind'>;
  return new Counter({ name, help, labelNames: ['kind'] as const, registers: [registry] });
}
