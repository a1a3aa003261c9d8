/**
 * The informers that feed the webhook's {@link PlacementIndex}: pods, nodes, ReplicaSets,
 * Deployments, StatefulSets and namespaces, cluster-wide, each list+watch only (what the
 * ClusterRole in deploy/webhook grants), and Karpenter's NodePools and NodeClaims when the cluster
 * serves them (what the autoscaler can add: see `growth.ts`; looked for once at start, so a
 * Karpenter installed later is seen after a restart). ResilientInformer restarts a failed or silent watch,
 * and every restart begins with a fresh LIST, so the index converges on what the cluster holds.
 */
import { CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeNode, KubePod, KubeReplicaSet, KubeWorkload } from '../../core/from-kube.js';
import { describeApiError } from '../../kube/errors.js';
import { keepMetadata, ResilientInformer } from '../../kube/informer.js';
import { NODE_CLAIMS, NODE_POOLS, type KarpenterNodeClaim, type KarpenterNodePool } from '../../kube/node-pools.js';
import { withRetry } from '../../kube/retry.js';
import type { WebhookMetrics } from './metrics.js';
import type { PlacementIndex } from './placement-index.js';

export interface ClusterWatchOptions {
  readonly log?: Logger;
  readonly metrics?: WebhookMetrics;
  /** Restart a watch silent for this long. Default 5 minutes. */
  readonly idleRestartMs?: number;
}

/** The running informers; {@link ClusterWatch.synced} is the readiness signal. */
export interface ClusterWatch {
  /** Resolves once every informer has loaded its first LIST into the index. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly synced: boolean;
}

interface _Feed<T extends KubernetesObject> {
  readonly name: string;
  readonly path: string;
  readonly upsert: (obj: T) => void;
  readonly remove: (obj: T) => void;
}

/**
 * Watches the cluster into `index`.
 *
 * @example
 * const watch = watchCluster(kc, index, { log, metrics });
 * await watch.start(); // the index now holds the cluster
 */
export function watchCluster(kc: KubeConfig, index: PlacementIndex, options: ClusterWatchOptions = {}): ClusterWatch {
  const feeds: _Feed<KubernetesObject>[] = [
    _feed({ name: 'nodes', path: '/api/v1/nodes', upsert: (o: KubeNode) => index.upsertNode(o), remove: (o: KubeNode) => index.deleteNode(o) }),
    _feed({ name: 'namespaces', path: '/api/v1/namespaces', upsert: (o: V1Namespace) => index.upsertNamespace(o), remove: (o: V1Namespace) => index.deleteNamespace(o) }),
    _feed({
      name: 'replicasets',
      path: '/apis/apps/v1/replicasets',
      upsert: (o: KubeReplicaSet) => index.upsertReplicaSet(o),
      remove: (o: KubeReplicaSet) => index.deleteReplicaSet(o),
    }),
    _feed({
      name: 'deployments',
      path: '/apis/apps/v1/deployments',
      upsert: (o: KubeWorkload) => index.upsertWorkload('Deployment', o),
      remove: (o: KubeWorkload) => index.deleteWorkload('Deployment', o),
    }),
    _feed({
      name: 'statefulsets',
      path: '/apis/apps/v1/statefulsets',
      upsert: (o: KubeWorkload) => index.upsertWorkload('StatefulSet', o),
      remove: (o: KubeWorkload) => index.deleteWorkload('StatefulSet', o),
    }),
    // Pods last: their owners are then mostly known when they are first indexed.
    _feed({ name: 'pods', path: '/api/v1/pods', upsert: (o: KubePod) => index.upsertPod(o), remove: (o: KubePod) => index.deletePod(o) }),
  ];
  const informerOf = (feed: _Feed<KubernetesObject>): ResilientInformer<KubernetesObject> => {
    const informer = new ResilientInformer<KubernetesObject>(kc, {
      name: feed.name,
      path: feed.path,
      // The index keeps what it reads of each object; the informer needs only identities.
      keep: keepMetadata,
      ...(options.idleRestartMs === undefined ? {} : { idleRestartMs: options.idleRestartMs }),
      onError: (e) => {
        options.metrics?.informerRestarts.inc({ informer: e.name });
        options.log?.warn({ informer: e.name, restartInMs: e.restartInMs, restarts: e.restarts }, `Watch of ${e.name} failed, restarting: ${e.message}`);
      },
    });
    informer.on('add', feed.upsert);
    informer.on('update', feed.upsert);
    informer.on('delete', feed.remove);
    return informer;
  };
  const informers = feeds.map(informerOf);
  let synced = false;
  return {
    async start() {
      const started = Date.now();
      if (await _servesNodePools(kc, options.log)) {
        informers.unshift(
          informerOf(_feed({ name: 'nodepools', path: `/apis/${NODE_POOLS.group}/${NODE_POOLS.version}/${NODE_POOLS.plural}`, upsert: (o: KarpenterNodePool) => index.upsertNodePool(o), remove: (o: KarpenterNodePool) => index.deleteNodePool(o) })),
          informerOf(_feed({ name: 'nodeclaims', path: `/apis/${NODE_CLAIMS.group}/${NODE_CLAIMS.version}/${NODE_CLAIMS.plural}`, upsert: (o: KarpenterNodeClaim) => index.upsertNodeClaim(o), remove: (o: KarpenterNodeClaim) => index.deleteNodeClaim(o) })),
        );
      }
      await Promise.all(informers.map((i) => i.start()));
      synced = true;
      options.log?.info({ ms: Date.now() - started, pods: index.podCount, nodes: index.nodeTypes() }, 'Informer caches synced');
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
    },
    get synced() {
      return synced;
    },
  };
}

/**
 * Whether the cluster serves Karpenter's NodePools to this identity: 404 (no Karpenter) and 403
 * (no permission: an older ClusterRole) mean no, said once in the log; 429 and 5xx are retried.
 */
async function _servesNodePools(kc: KubeConfig, log: Logger | undefined): Promise<boolean> {
  try {
    await withRetry('list NodePools', () => kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ ...NODE_POOLS, limit: 1 }));
    return true;
  } catch (error) {
    const { status, message } = describeApiError((error as { cause?: unknown }).cause ?? error);
    if (status === 404) log?.info('No Karpenter NodePools served: a pod with no room now falls back as configured');
    else log?.warn({ status }, `Cannot list Karpenter's NodePools, so growth is not counted as room: ${message}`);
    return false;
  }
}

/** Erases a feed's object type so feeds of different kinds share one array. */
function _feed<T>(feed: { name: string; path: string; upsert: (obj: T) => void; remove: (obj: T) => void }): _Feed<KubernetesObject> {
  return feed as unknown as _Feed<KubernetesObject>;
}
