/**
 * An informer that keeps going. @kubernetes/client-node 1.x informers stop for good on the first
 * error (a refused connection, a 5xx on LIST, a dropped watch that fails to resume) and can stall
 * silently on a half-open connection. This wrapper restarts them with capped, jittered backoff,
 * and a watchdog re-establishes a watch that has been silent for too long (a restart resumes from
 * the last resourceVersion, so it costs one request, not a full LIST).
 */
import { makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { describeApiError } from './errors.js';
import { backoffDelay } from './retry.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and metrics: "pods", "nodes". */
  readonly name: string;
  /** The watch path, e.g. `/api/v1/pods`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Restart the watch when nothing (no event, no reconnect) was seen for this long. Default 5 min. */
  readonly idleRestartMs?: number;
  readonly onError?: (error: { name: string; message: string; restartInMs: number; restarts: number }) => void;
  readonly random?: () => number;
}

/** The informer behind the wrapper; only what we use of it. */
interface InnerInformer<T extends KubernetesObject> {
  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void;
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  list(namespace?: string): readonly T[];
  get(name: string, namespace?: string): T | undefined;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>;
  readonly #inner: InnerInformer<T>;
  readonly #handlers: { [K in InformerEvent]: ((obj: T) => void)[] } = { add: [], update: [], delete: [] };
  #attempt = 0;
  #restarts = 0;
  #stopped = true;
  #synced = false;
  #lastActivity = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #syncWaiters: (() => void)[] = [];
  /** Set when the current start() attempt reported an error (the inner start() still resolves). */
  #runFailed = false;

  constructor(kc: KubeConfig, options: InformerOptions<T>) {
    this.#options = options;
    this.#inner = makeInformer(kc, options.path, options.list, options.labelSelector);
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.#inner.on(verb, (obj: T) => {
        this.#lastActivity = Date.now();
        for (const handler of this.#handlers[verb]) handler(obj);
      });
    }
    this.#inner.on('connect', () => {
      this.#lastActivity = Date.now();
    });
    this.#inner.on('error', (error?: unknown) => {
      this.#runFailed = true;
      this.#onError(error);
    });
  }

  /** Starts listing and watching; resolves once the first LIST has been loaded. */
  async start(): Promise<void> {
    if (!this.#stopped) return this.waitForSync();
    this.#stopped = false;
    this.#lastActivity = Date.now();
    const idle = this.#options.idleRestartMs ?? 5 * 60_000;
    this.#watchdog = setInterval(() => {
      if (!this.#stopped && this.#restartTimer === undefined && Date.now() - this.#lastActivity > idle) {
        this.#lastActivity = Date.now();
        this.#restart('watch idle');
      }
    }, Math.max(1_000, Math.floor(idle / 2)));
    this.#watchdog.unref();
    void this.#runOnce();
    return this.waitForSync();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    clearInterval(this.#watchdog);
    this.#restartTimer = undefined;
    await this.#inner.stop();
  }

  /** Resolves once the cache holds a full LIST (immediately if it already does). */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  on(verb: InformerEvent, handler: (obj: T) => void): void {
    this.#handlers[verb].push(handler);
  }

  list(namespace?: string): readonly T[] {
    return this.#inner.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#inner.get(name, namespace);
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** How often the informer had to be restarted (errors and idle watches). */
  get restarts(): number {
    return this.#restarts;
  }

  async #runOnce(): Promise<void> {
    this.#runFailed = false;
    try {
      await this.#inner.start();
    } catch (error) {
      this.#runFailed = true;
      this.#onError(error);
    }
    if (!this.#runFailed && !this.#stopped) {
      this.#attempt = 0;
      if (!this.#synced) {
        this.#synced = true;
        for (const resolve of this.#syncWaiters.splice(0)) resolve();
      }
    }
  }

  #onError(error: unknown): void {
    if (this.#stopped || this.#restartTimer !== undefined) return;
    this.#attempt += 1;
    const info = describeApiError(error);
    const delay = backoffDelay(this.#attempt, this.#options.backoff?.baseMs ?? 500, this.#options.backoff?.maxMs ?? 30_000, this.#options.random ?? Math.random);
    this.#options.onError?.({ name: this.#options.name, message: info.status ? `HTTP ${info.status}: ${info.message}` : info.message, restartInMs: delay, restarts: this.#restarts });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restart('error');
    }, delay);
    this.#restartTimer.unref();
  }

  #restart(_why: string): void {
    if (this.#stopped) return;
    this.#restarts += 1;
    void this.#inner.stop().then(() => this.#runOnce());
  }
}
