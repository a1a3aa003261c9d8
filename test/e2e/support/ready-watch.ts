/**
 * The fewest Ready replicas a workload had at any instant, seen by watching its pods through the
 * API (never through Stowage's own counters): availability checked as a user would see it.
 */
import { Watch, type V1Pod } from '@kubernetes/client-node';
import type { TestCluster } from './cluster.js';

/** A Ready pod that is not on its way out. */
export function servesTraffic(pod: V1Pod): boolean {
  return (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false) && pod.metadata?.deletionTimestamp === undefined;
}

/** Counts Ready pods of one selector after every watch event, once the workload first had `settled`. */
export class MinReadyWatch {
  readonly #pods = new Map<string, V1Pod>();
  #abort: AbortController | undefined;
  #armed = false;
  minReady = Number.POSITIVE_INFINITY;
  events = 0;

  readonly c: TestCluster;
  readonly namespace: string;
  readonly selector: string;
  readonly settled: number;

  constructor(c: TestCluster, namespace: string, selector: string, settled: number) {
    this.c = c;
    this.namespace = namespace;
    this.selector = selector;
    this.settled = settled;
  }

  async start(): Promise<void> {
    const list = await this.c.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.selector });
    for (const p of list.items) this.#pods.set(p.metadata?.uid ?? '', p);
    this.#observe();
    this.#abort = await new Watch(this.c.kc).watch(
      `/api/v1/namespaces/${this.namespace}/pods`,
      { labelSelector: this.selector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
      (type: string, pod: V1Pod) => {
        if (type === 'DELETED') this.#pods.delete(pod.metadata?.uid ?? '');
        else this.#pods.set(pod.metadata?.uid ?? '', pod);
        this.events++;
        this.#observe();
      },
      () => undefined,
    );
  }

  stop(): void {
    this.#abort?.abort();
  }

  #observe(): void {
    const ready = [...this.#pods.values()].filter(servesTraffic).length;
    if (ready >= this.settled) this.#armed = true;
    if (this.#armed) this.minReady = Math.min(this.minReady, ready);
  }
}
