/**
 * The fewest Ready replicas a workload had at any instant, seen by watching its pods through the
 * API (never through Stowage's own counters): availability checked as a user would see it. The
 * watch is the project's ResilientInformer, so it outlives an apiserver restart.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { ResilientInformer } from '../../../src/kube/informer.js';
import type { TestCluster } from './cluster.js';

/** A pod whose Ready condition is True. */
export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A Ready pod that is not on its way out. */
export function servesTraffic(pod: V1Pod): boolean {
  return isReady(pod) && pod.metadata?.deletionTimestamp === undefined;
}

/** Counts Ready pods of one selector after every change, once the workload first had `settled`. */
export class MinReadyWatch {
  readonly #informer: ResilientInformer<V1Pod>;
  readonly #settled: number;
  #armed = false;
  minReady = Number.POSITIVE_INFINITY;
  events = 0;
  /** Every pod uid seen, in the order first seen: a replacement is a new uid. */
  readonly uids: string[] = [];

  constructor(c: TestCluster, namespace: string, selector: string, settled: number) {
    this.#settled = settled;
    this.#informer = new ResilientInformer<V1Pod>(c.kc, { name: 'pods', path: `/api/v1/namespaces/${namespace}/pods`, labelSelector: selector, backoff: { baseMs: 100, maxMs: 1000 } });
    for (const event of ['add', 'update', 'delete'] as const) {
      this.#informer.on(event, () => {
        this.events++;
        this.#observe();
      });
    }
  }

  async start(): Promise<void> {
    await this.#informer.start();
    this.#observe();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  #observe(): void {
    const pods = this.#informer.list();
    for (const p of pods) if (!this.uids.includes(p.metadata?.uid ?? '')) this.uids.push(p.metadata?.uid ?? '');
    const ready = pods.filter(servesTraffic).length;
    if (ready >= this.#settled) this.#armed = true;
    if (this.#armed) this.minReady = Math.min(this.minReady, ready);
  }
}
