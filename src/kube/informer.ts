/**
 * A list+watch informer that keeps going: client-go's reflector in small, on client-node's
 * kubeconfig handling (TLS, tokens, exec plugins, proxies).
 *
 * Why not client-node 1.x's own informer: it stops for good on the first error and can stall
 * silently on a half-open connection; it LISTs a whole collection in one response through its
 * model deserializer (a cluster's every pod at once); and it caches every object whole. This one:
 * - LISTs in pages (`limit`/`continue`) and parses plain JSON;
 * - caches only what the consumer asks it to keep ({@link keepMetadata} for a consumer with its
 *   own index), so a watch of every pod costs the index, not the pods;
 * - watches with bookmarks from the LIST's resourceVersion, re-watches from the last one seen
 *   when the server ends a watch (it does every 5–10 minutes), and re-LISTs only after a
 *   410 Gone, reporting what changed or vanished meanwhile;
 * - retries every failure with capped, jittered backoff, never sooner than the server's
 *   Retry-After, and a watchdog re-watches a watch
 *   that has been silent for too long.
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiException, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { describeApiError } from './errors.js';
import { InformerStore, LineSplitter, type InformerEvent } from './informer-store.js';
import { backoffDelay } from './retry.js';

export { keepMetadata, type InformerEvent } from './informer-store.js';

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and metrics: "pods", "nodes". */
  readonly name: string;
  /** The collection's path, e.g. `/api/v1/pods` or `/api/v1/namespaces/a/configmaps`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Objects per LIST page. Default 500, as client-go. */
  readonly pageSize?: number;
  /** What the cache keeps of each object; see {@link InformerStore}. Default: all of it. */
  readonly keep?: (obj: T) => T;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Re-watch when nothing (no event, no bookmark) was seen for this long. Default 5 min. */
  readonly idleRestartMs?: number;
  readonly onError?: (error: { name: string; message: string; restartInMs: number; restarts: number }) => void;
  /** A LIST page or watch answered 410 Gone: the informer re-LISTs at once. */
  readonly onRelist?: (info: { name: string; message: string; relists: number }) => void;
  readonly random?: () => number;
}

/** A LIST page or watch answered 410: the resourceVersion or continue token is too old. */
class _Gone extends Error {}

/** The watchdog's reason to end a watch. */
class _Idle extends Error {}

const LIST_TIMEOUT_MS = 60_000;

export class ResilientInformer<T extends KubernetesObject> {
  readonly #kc: KubeConfig;
  readonly #options: InformerOptions<T>;
  readonly #store: InformerStore<T>;
  readonly #handlers: { [K in InformerEvent]: ((obj: T) => void)[] } = { add: [], update: [], delete: [] };
  #resourceVersion = '';
  #attempt = 0;
  #restarts = 0;
  #relists = 0;
  #stopped = true;
  #synced = false;
  #lastActivity = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #syncWaiters: (() => void)[] = [];
  /** The request in progress, so stop() and the watchdog can end it. */
  #current: ClientRequest | undefined;
  /** Why the watchdog ended the current request, so the loop doesn't count it a failure. */
  #idle: _Idle | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(kc: KubeConfig, options: InformerOptions<T>) {
    this.#kc = kc;
    this.#options = options;
    this.#store = new InformerStore<T>((event, obj) => {
      for (const handler of this.#handlers[event]) handler(obj);
    }, options.keep);
  }

  /** Starts listing and watching; resolves once the first complete LIST is in the cache. */
  async start(): Promise<void> {
    if (!this.#stopped) return this.waitForSync();
    this.#stopped = false;
    this.#lastActivity = Date.now();
    const idle = this.#options.idleRestartMs ?? 5 * 60_000;
    this.#watchdog = setInterval(() => {
      if (this.#current !== undefined && Date.now() - this.#lastActivity > idle) {
        this.#lastActivity = Date.now();
        this.#idle = new _Idle(`no event for ${Math.round(idle / 1000)} s`);
        this.#current.destroy(this.#idle);
      }
    }, Math.max(250, Math.floor(idle / 4)));
    this.#watchdog.unref();
    this.#loop = this.#run();
    return this.waitForSync();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#watchdog);
    this.#current?.destroy();
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
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
    return this.#store.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#store.get(name, namespace);
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** How often a 410 Gone (an expired resourceVersion or continue token) made the informer re-LIST. */
  get relists(): number {
    return this.#relists;
  }

  /** How often the informer had to start over after a failure or a silent watch. */
  get restarts(): number {
    return this.#restarts;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#resourceVersion === '') await this.#list();
        await this.#watch();
        // The server ended the watch (its timeout): carry on from the last resourceVersion.
        this.#attempt = 0;
      } catch (thrown) {
        if (this.#stopped) break;
        const error = this.#idle ?? thrown;
        this.#idle = undefined;
        if (error instanceof _Gone) {
          this.#resourceVersion = '';
          this.#relists += 1;
          this.#options.onRelist?.({ name: this.#options.name, message: _goneMessage(error.message), relists: this.#relists });
          continue;
        }
        this.#restarts += 1;
        const idle = error instanceof _Idle;
        if (!idle) this.#attempt += 1;
        const info = describeApiError(error);
        // A Retry-After (API Priority and Fairness raises it, up to 32 s, while a priority level
        // sheds load) is the least wait, as client-go's REST client honours it: coming back sooner
        // only meets another 429.
        const delay = idle ? 0 : Math.max(info.retryAfterMs ?? 0, backoffDelay(this.#attempt, this.#options.backoff?.baseMs ?? 500, this.#options.backoff?.maxMs ?? 30_000, this.#options.random ?? Math.random));
        const message = idle ? `watch idle (${(error).message})` : info.status ? `HTTP ${info.status}: ${info.message}` : info.message;
        this.#options.onError?.({ name: this.#options.name, message, restartInMs: delay, restarts: this.#restarts });
        await this.#sleep(delay);
      }
    }
  }

  /** One complete, paged LIST into the store; sets the resourceVersion to watch from. */
  async #list(): Promise<void> {
    const pageSize = this.#options.pageSize ?? 500;
    let token = '';
    this.#store.beginList();
    try {
      do {
        const query = this.#query({ limit: String(pageSize), ...(token === '' ? {} : { continue: token }) });
        const list = JSON.parse(await this.#text(`${this.#options.path}?${query}`)) as { items?: T[] | null; metadata?: { continue?: string; resourceVersion?: string } };
        this.#lastActivity = Date.now();
        for (const item of list.items ?? []) this.#store.listItem(item);
        token = list.metadata?.continue ?? '';
        this.#resourceVersion = list.metadata?.resourceVersion ?? '';
      } while (token !== '' && !this.#stopped);
    } catch (error) {
      this.#store.abandonList();
      this.#resourceVersion = '';
      throw error;
    }
    if (this.#stopped) {
      this.#store.abandonList();
      return;
    }
    this.#store.endList();
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  /** Watches from the current resourceVersion until the server ends the stream; throws on errors. */
  async #watch(): Promise<void> {
    if (this.#stopped) return;
    // Between 5 and 10 minutes, as client-go, so many informers don't re-watch in step.
    const timeoutSeconds = 300 + Math.floor((this.#options.random ?? Math.random)() * 300);
    const query = this.#query({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.#resourceVersion, timeoutSeconds: String(timeoutSeconds) });
    const response = await this.#open(`${this.#options.path}?${query}`, undefined);
    this.#lastActivity = Date.now();
    const lines = new LineSplitter();
    let failure: Error | undefined;
    const onLine = (line: string): void => {
      if (failure !== undefined) return;
      let event: { type?: string; object?: T & { code?: number; message?: string; reason?: string } };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        failure = new Error(`Malformed watch event from ${this.#options.path}: ${line.slice(0, 120)}`);
        return;
      }
      const object = event.object;
      if (event.type === undefined || object === undefined) return;
      this.#lastActivity = Date.now();
      if (event.type === 'ERROR') {
        failure = object.code === 410 ? new _Gone(object.message ?? 'Gone') : new ApiException(object.code ?? 500, object.message ?? 'Watch error', JSON.stringify(object), {});
        return;
      }
      this.#store.event(event.type, object);
      const resourceVersion = object.metadata?.resourceVersion;
      if (resourceVersion !== undefined && resourceVersion !== '') this.#resourceVersion = resourceVersion;
    };
    await new Promise<void>((resolve, reject) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        lines.push(chunk, onLine);
        if (failure !== undefined) response.destroy(failure);
      });
      response.on('end', () => {
        lines.end(onLine);
        if (failure === undefined) resolve();
        else reject(failure);
      });
      response.on('error', (error) => reject(failure ?? error));
      response.on('close', () => (this.#stopped ? resolve() : reject(failure ?? new Error(`The watch of ${this.#options.path} closed before it ended`))));
    }).finally(() => {
      this.#current = undefined;
    });
  }

  #query(params: Record<string, string>): string {
    const query = new URLSearchParams(params);
    if (this.#options.labelSelector !== undefined) query.set('labelSelector', this.#options.labelSelector);
    if (this.#options.fieldSelector !== undefined) query.set('fieldSelector', this.#options.fieldSelector);
    return query.toString();
  }

  /** A GET's whole body; a non-200 answer throws an ApiException (410 a {@link _Gone}). */
  async #text(pathAndQuery: string): Promise<string> {
    const response = await this.#open(pathAndQuery, LIST_TIMEOUT_MS);
    try {
      return await _readAll(response);
    } finally {
      this.#current = undefined;
    }
  }

  /** Sends a GET with the kubeconfig's TLS and credentials; resolves on a 200's headers. */
  async #open(pathAndQuery: string, timeoutMs: number | undefined): Promise<IncomingMessage> {
    const cluster = this.#kc.getCurrentCluster();
    if (cluster === null) throw new Error('No current cluster in the kubeconfig');
    const url = new URL(`${cluster.server.replace(/\/+$/, '')}${pathAndQuery}`);
    const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.#kc.applyToHTTPSOptions(options);
    if (this.#stopped) throw new Error('Informer stopped');
    this.#idle = undefined;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
      const req = send(url, options, resolve);
      this.#current = req;
      req.on('error', reject);
      if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error(`No answer from ${url.pathname} within ${timeoutMs / 1000} s`)));
      req.end();
    });
    if (response.statusCode === 200) return response;
    this.#current = undefined;
    const body = await _readAll(response).catch(() => '');
    if (response.statusCode === 410) throw new _Gone(body);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(response.headers)) if (typeof value === 'string') headers[key] = value;
    throw new ApiException(response.statusCode ?? 0, `HTTP ${response.statusCode ?? 0} from ${url.pathname}`, body, headers);
  }

  /** Waits `ms`, or less if stop() is called. */
  async #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }
}

/** The apiserver's message out of a 410's Status body (or the body itself), on one line. */
function _goneMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // Not JSON: the text as it came.
  }
  return body.replace(/\s+/g, ' ').slice(0, 200) || 'Gone';
}

function _readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('The response was cut off')));
  });
}
