/**
 * The informer's cache and the events it derives, with no I/O: a paged LIST and the watch
 * events that follow go in, add/update/delete callbacks come out. Pure enough to test on plain
 * data; {@link ResilientInformer} feeds it from the API server.
 *
 * As client-go's reflector and store:
 * - an event whose resourceVersion the cache already holds changes nothing (a re-watch may
 *   replay it);
 * - a re-LIST (after a 410 Gone) reports every object that changed while no watch was open
 *   as an update, and every object that is gone as a delete with the last state cached;
 * - a DELETED event for an object the cache never held reports nothing.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

export type InformerEvent = 'add' | 'update' | 'delete';

interface _Entry<T> {
  readonly resourceVersion: string;
  readonly value: T;
}

/** `namespace/name`, or `name` for a cluster-scoped object. */
export function objectKey(obj: KubernetesObject): string {
  return _key(obj.metadata?.name ?? '', obj.metadata?.namespace);
}

function _key(name: string, namespace: string | undefined): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

/**
 * What a consumer that keeps its own index needs cached: the identity and resourceVersion only.
 * A cache of whole pods costs about 15 times what the webhook's index keeps of each.
 */
export function keepMetadata(obj: KubernetesObject): KubernetesObject {
  const meta = obj.metadata ?? {};
  return {
    metadata: {
      name: meta.name ?? '',
      ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }),
      ...(meta.uid === undefined ? {} : { uid: meta.uid }),
      ...(meta.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }),
    },
  };
}

export class InformerStore<T extends KubernetesObject> {
  readonly #entries = new Map<string, _Entry<T>>();
  readonly #keep: (obj: T) => T;
  readonly #emit: (event: InformerEvent, obj: T) => void;
  #listed: Set<string> | undefined;

  /**
   * @param keep what the cache holds of each object (`list()`, `get()`, and the object a
   *   re-LIST's delete reports); the callbacks of add and update always get the whole object.
   */
  constructor(emit: (event: InformerEvent, obj: T) => void, keep: (obj: T) => T = (obj) => obj) {
    this.#emit = emit;
    this.#keep = keep;
  }

  /** Starts a LIST: objects not seen again before {@link endList} are reported deleted. */
  beginList(): void {
    this.#listed = new Set();
  }

  listItem(obj: T): void {
    this.#listed?.add(objectKey(obj));
    this.#upsert(obj);
  }

  /** Ends a complete LIST; returns how many cached objects it found gone. */
  endList(): number {
    const listed = this.#listed;
    this.#listed = undefined;
    if (listed === undefined) return 0;
    let gone = 0;
    for (const [key, entry] of this.#entries) {
      if (listed.has(key)) continue;
      this.#entries.delete(key);
      gone++;
      this.#emit('delete', entry.value);
    }
    return gone;
  }

  /** A LIST that failed part-way: what it delivered stays, nothing is reported gone. */
  abandonList(): void {
    this.#listed = undefined;
  }

  /** Applies one watch event (ADDED, MODIFIED, DELETED); other types change nothing. */
  event(type: string, obj: T): void {
    if (type === 'ADDED' || type === 'MODIFIED') this.#upsert(obj);
    else if (type === 'DELETED') {
      const key = objectKey(obj);
      if (!this.#entries.delete(key)) return;
      this.#emit('delete', obj);
    }
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#entries.get(_key(name, namespace))?.value;
  }

  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const { value } of this.#entries.values()) if (namespace === undefined || (value.metadata?.namespace ?? '') === namespace) out.push(value);
    return out;
  }

  get size(): number {
    return this.#entries.size;
  }

  #upsert(obj: T): void {
    const key = objectKey(obj);
    const resourceVersion = obj.metadata?.resourceVersion ?? '';
    const found = this.#entries.get(key);
    if (found !== undefined && resourceVersion !== '' && found.resourceVersion === resourceVersion) return;
    this.#entries.set(key, { resourceVersion, value: this.#keep(obj) });
    this.#emit(found === undefined ? 'add' : 'update', obj);
  }
}

/**
 * Splits a watch stream into its lines (one JSON event each) across chunk boundaries.
 * Feed it decoded text (`setEncoding('utf8')` keeps multi-byte characters whole).
 */
export class LineSplitter {
  #rest = '';

  push(chunk: string, onLine: (line: string) => void): void {
    const data = this.#rest === '' ? chunk : this.#rest + chunk;
    let start = 0;
    for (let nl = data.indexOf('\n', start); nl >= 0; nl = data.indexOf('\n', start)) {
      const line = data.slice(start, nl);
      start = nl + 1;
      if (line.trim() !== '') onLine(line);
    }
    this.#rest = data.slice(start);
  }

  /** What is left after the stream ended: a last line without a newline. */
  end(onLine: (line: string) => void): void {
    const rest = this.#rest;
    this.#rest = '';
    if (rest.trim() !== '') onLine(rest);
  }
}
