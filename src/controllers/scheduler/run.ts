/**
 * One leadership term of the scheduler (or the whole run without election): start the cluster
 * cache, build the fit state from it once, and schedule until the signal aborts.
 */
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { CapacityTypeRule } from '../../core/capacity.js';
import type { PriceTable } from '../../core/pricing.js';
import type { SchedulerConfig } from '../../config/scheduler-config.js';
import { ClusterCache, type CacheKind } from '../../kube/cluster-cache.js';
import type { EventRecorder } from '../../kube/events.js';
import { TokenBucket } from '../../kube/rate-limit.js';
import type { Logger } from '../../observability/log.js';
import { LiveFitState } from './live-state.js';
import { PodGroups } from './pod-groups.js';
import type { SchedulerMetrics } from './metrics.js';
import { LiveScheduler } from './scheduler.js';

/**
 * What the scheduler watches: nodes and pods; namespaces (affinity namespace selectors); Services,
 * ReplicaSets and StatefulSets (the default topology spread's selector); Jobs (owners); PDBs
 * (preemption). Not Deployments or DaemonSets: nothing the scheduler decides reads them.
 */
export const SCHEDULER_CACHE_KINDS = ['nodes', 'namespaces', 'services', 'replicasets', 'statefulsets', 'jobs', 'poddisruptionbudgets', 'pods'] as const satisfies readonly CacheKind[];

export interface RunSchedulerOptions {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly config: SchedulerConfig;
  readonly prices?: PriceTable;
  readonly capacityRules: readonly CapacityTypeRule[];
  readonly log: Logger;
  /** Made once per process (a new leadership term reuses it). */
  readonly metrics: SchedulerMetrics;
  /** Where the cluster cache's watch-restart and relist counters go (the process's; each term's cache finds them there). */
  readonly registry?: Registry;
  readonly events: (schedulerName: string) => EventRecorder;
  /** The client budget for binds, deletes and status writes; events get the same again. 0 is unlimited. */
  readonly qps: number;
  readonly burst: number;
  readonly signal: AbortSignal;
  /** Called once the cache is synced and the state built. */
  readonly onSynced?: () => void;
}

/** Runs the scheduler until `signal` aborts. */
export async function runScheduler(options: RunSchedulerOptions): Promise<void> {
  const { signal, log } = options;
  let podGroups: PodGroups | undefined;
  const cache = new ClusterCache(options.kc, { capacityRules: options.capacityRules, kinds: SCHEDULER_CACHE_KINDS, log, ...(options.registry === undefined ? {} : { registry: options.registry }) });
  try {
    // Gang scheduling reads the PodGroup CRD (deploy/scheduler/podgroup-crd.yaml); without it a pod
    // with the pod-group label waits (its group cannot be found) rather than be bound alone.
    podGroups = (await PodGroups.served(options.kc)) ? new PodGroups(options.kc, log) : undefined;
    if (podGroups === undefined) log.warn('The PodGroup CRD (scheduling.x-k8s.io/v1alpha1) is not served: pods of a pod group stay pending');
    await Promise.race([Promise.all([cache.start(), podGroups?.start()]), new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    if (signal.aborted) return;
    // Built and subscribed in the same turn as the snapshot it starts from: no event falls between.
    const state = new LiveFitState(cache, { capacityRules: options.capacityRules, ...(options.prices === undefined ? {} : { prices: options.prices }) });
    const scheduler = new LiveScheduler({
      core: options.core,
      cache,
      state,
      config: options.config,
      log,
      metrics: options.metrics,
      events: options.events,
      limiter: new TokenBucket(options.qps, options.burst),
      eventLimiter: new TokenBucket(options.qps, options.burst),
      ...(podGroups === undefined ? {} : { podGroups }),
    });
    options.onSynced?.();
    await scheduler.run(signal);
  } finally {
    await Promise.all([cache.stop(), podGroups?.stop()]);
  }
}
