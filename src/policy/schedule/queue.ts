/**
 * kube-scheduler's scheduling queue (pkg/scheduler/backend/queue, v1.36), as pure data: the
 * caller passes the time in and arms its own timer from `nextWakeAt`.
 *
 * - **activeQ**: pods ready to be tried, highest priority first, then the oldest (QueueSort's
 *   PrioritySort: priority, then the time the pod entered the queue).
 * - **backoffQ**: pods that failed and wait out their backoff, 1 s doubling per attempt up to 10 s
 *   (`podInitialBackoffSeconds`, `podMaxBackoffSeconds`).
 * - **unschedulable pods**: pods no node took. A cluster event that could make them fit (a node
 *   added or changed, a pod deleted) moves them back, to backoffQ while their backoff lasts, else
 *   to activeQ; one left there longer than `unschedulableFlushMs` (5 min) goes back anyway.
 * - **in flight**: popped and being scheduled. A pod that fails after a move event happened while
 *   it was in flight goes to backoffQ, not to the unschedulable pods: the event might have been
 *   the one that makes it fit, and it must not wait for another (upstream's moveRequestCycle).
 *
 * Every pod added and not deleted is in exactly one of the four: none is lost.
 */
import { BinaryHeap } from '../../core/heap.js';

/** What the queue needs to know of a pod. */
export interface QueuedPodInfo {
  /** `namespace/name` (or uid): one entry per key. */
  readonly key: string;
  readonly priority: number;
  /**
   * The pod's gang (PodGroup), when it has one: members sort by the group's creation time and key
   * instead of their own arrival, so a group's members come out together and groups in a fixed
   * order (Coscheduling's QueueSort).
   */
  readonly gang?: { readonly key: string; readonly createdAt: number };
}

/** Options of {@link SchedulingQueue}; the defaults are kube-scheduler's. */
export interface SchedulingQueueOptions {
  /** `podInitialBackoffSeconds`, in ms: 1 s. */
  readonly initialBackoffMs?: number;
  /** `podMaxBackoffSeconds`, in ms: 10 s. */
  readonly maxBackoffMs?: number;
  /** How long a pod may stay unschedulable without an event before it is retried: 5 min. */
  readonly unschedulableFlushMs?: number;
}

/** Where a queued pod is. */
export type QueueLocation = 'active' | 'backoff' | 'unschedulable' | 'inFlight';

/** The lengths of the queue's parts, for metrics (`scheduler_pending_pods{queue=…}`). */
export interface QueueLengths {
  readonly active: number;
  readonly backoff: number;
  readonly unschedulable: number;
  readonly inFlight: number;
}

interface _Entry<T extends QueuedPodInfo> {
  pod: T;
  /** `none` only between leaving one part and entering the next. */
  location: QueueLocation | 'none';
  /** When the pod entered activeQ (the age that orders equal priorities). */
  enqueuedAt: number;
  /** Failed attempts so far: sets the backoff. */
  attempts: number;
  /** When the last attempt failed. */
  failedAt: number;
  /** The move cycle when the pod was popped: a later move event sends a failure to backoffQ. */
  poppedAtCycle: number;
  /** Changes on every move, so heap items left behind are recognised and skipped (the heaps have no removal). */
  generation: number;
}

/**
 * A pod's place in a heap. The ordering key (pod, enqueuedAt, backoff end) is copied at push: the
 * entry changes in place (a priority update, a new failure) while older, stale items of it are
 * still in the heap, and a key that changed under a heap would break its order for every pod.
 */
interface _HeapItem<T extends QueuedPodInfo> {
  readonly entry: _Entry<T>;
  readonly generation: number;
  readonly pod: T;
  readonly enqueuedAt: number;
  readonly until: number;
}

/**
 * The scheduling queue.
 *
 * @example
 * ```ts
 * const queue = new SchedulingQueue<PodView & QueuedPodInfo>();
 * queue.add(pod, now());
 * const next = queue.pop(now());
 * if (next === undefined) setTimeout(retry, (queue.nextWakeAt(now()) ?? now() + 1000) - now());
 * else if (!scheduled) queue.requeueUnschedulable(next.key, now());
 * else queue.done(next.key);
 * ```
 */
export class SchedulingQueue<T extends QueuedPodInfo> {
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #flushMs: number;
  readonly #entries = new Map<string, _Entry<T>>();
  readonly #active = new BinaryHeap<_HeapItem<T>>((a, b) => _activeBefore(a, b));
  readonly #backoff = new BinaryHeap<_HeapItem<T>>((a, b) => a.until < b.until);
  readonly #unschedulable = new Set<_Entry<T>>();
  #moveCycle = 0;
  #activeCount = 0;
  #backoffCount = 0;
  #inFlightCount = 0;

  constructor(options: SchedulingQueueOptions = {}) {
    this.#initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.#flushMs = options.unschedulableFlushMs ?? 300_000;
  }

  /** How many pods the queue holds, in flight included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The lengths of activeQ, backoffQ, the unschedulable pods and the pods in flight. */
  lengths(): QueueLengths {
    return { active: this.#activeCount, backoff: this.#backoffCount, unschedulable: this.#unschedulable.size, inFlight: this.#inFlightCount };
  }

  /** Where the pod is, or undefined when the queue does not hold it. */
  locationOf(key: string): QueueLocation | undefined {
    const location = this.#entries.get(key)?.location;
    return location === 'none' ? undefined : location;
  }

  /** The failed attempts of a queued pod (0 for a new one). */
  attemptsOf(key: string): number {
    return this.#entries.get(key)?.attempts ?? 0;
  }

  /**
   * A new pending pod goes to activeQ. A pod the queue already holds is updated in place, and one
   * waiting as unschedulable is moved back (its spec changed: it may fit now), as upstream's Update.
   */
  add(pod: T, now: number): void {
    const entry = this.#entries.get(pod.key);
    if (entry === undefined) {
      const fresh: _Entry<T> = { pod, location: 'none', enqueuedAt: now, attempts: 0, failedAt: now, poppedAtCycle: -1, generation: 0 };
      this.#entries.set(pod.key, fresh);
      this.#toActive(fresh, now);
      return;
    }
    const priorityChanged = entry.pod.priority !== pod.priority;
    entry.pod = pod;
    if (entry.location === 'unschedulable') this.#moveBack(entry, now);
    else if (priorityChanged && entry.location === 'active') this.#toActive(entry, entry.enqueuedAt);
  }

  /** The pod is gone (deleted, or bound by someone else): forgotten wherever it is. */
  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#leave(entry);
    this.#entries.delete(key);
  }

  /**
   * The next pod to schedule, first moving the pods whose backoff is over to activeQ; undefined
   * when activeQ is empty. The pod is in flight until `done`, `requeueUnschedulable` or `requeueBackoff`.
   */
  pop(now: number): T | undefined {
    this.flushBackoff(now);
    for (;;) {
      const item = this.#active.pop();
      if (item === undefined) return undefined;
      const entry = item.entry;
      if (item.generation !== entry.generation || entry.location !== 'active') continue;
      this.#leave(entry);
      entry.location = 'inFlight';
      entry.poppedAtCycle = this.#moveCycle;
      this.#inFlightCount++;
      return entry.pod;
    }
  }

  /** The pod in flight was scheduled (assumed): the queue lets it go. */
  done(key: string): void {
    this.delete(key);
  }

  /**
   * No node took the pod in flight: it waits as unschedulable for an event that could make it fit,
   * or, when such an event came while it was in flight, in backoffQ.
   */
  requeueUnschedulable(key: string, now: number): void {
    const entry = this.#failed(key, now);
    if (entry === undefined) return;
    if (this.#moveCycle > entry.poppedAtCycle) this.#toBackoff(entry);
    else {
      entry.location = 'unschedulable';
      this.#unschedulable.add(entry);
    }
  }

  /** The pod in flight failed for a passing reason (its bind failed, an API error): it backs off. */
  requeueBackoff(key: string, now: number): void {
    const entry = this.#failed(key, now);
    if (entry !== undefined) this.#toBackoff(entry);
  }

  /**
   * A cluster event that could make unschedulable pods fit (a node added or changed, a pod
   * deleted): those `couldFit` accepts (all by default, as a plugin without queueing hints) move
   * back, to backoffQ while their backoff lasts, else to activeQ.
   */
  moveAllToActiveOrBackoff(now: number, couldFit: (pod: T) => boolean = () => true): number {
    this.#moveCycle++;
    let moved = 0;
    for (const entry of [...this.#unschedulable]) {
      if (!couldFit(entry.pod)) continue;
      this.#moveBack(entry, now);
      moved++;
    }
    return moved;
  }

  /** Moves the pods whose backoff is over to activeQ (`pop` does it first). */
  flushBackoff(now: number): void {
    for (;;) {
      const item = this.#backoff.peek();
      if (item === undefined) return;
      const entry = item.entry;
      if (item.generation !== entry.generation || entry.location !== 'backoff') {
        this.#backoff.pop();
        continue;
      }
      if (this.#backoffUntil(entry) > now) return;
      this.#backoff.pop();
      this.#leave(entry);
      this.#toActive(entry, now);
    }
  }

  /** Moves back the pods unschedulable for longer than `unschedulableFlushMs` (upstream's periodic flush). */
  flushUnschedulable(now: number): void {
    for (const entry of [...this.#unschedulable]) {
      if (now - entry.failedAt >= this.#flushMs) this.#moveBack(entry, now);
    }
  }

  /**
   * When the caller should next call `pop` or `flushUnschedulable` if nothing else happens: the
   * earliest end of a backoff or of an unschedulable wait; `now` when activeQ is not empty.
   */
  nextWakeAt(now: number): number | undefined {
    if (this.#activeCount > 0) return now;
    let wake: number | undefined;
    const item = this.#backoff.peek();
    if (item !== undefined) wake = this.#backoffUntil(item.entry);
    for (const entry of this.#unschedulable) {
      const at = entry.failedAt + this.#flushMs;
      if (wake === undefined || at < wake) wake = at;
    }
    return wake;
  }

  /** The backoff after `attempts` failures: 1 s, 2 s, 4 s, 8 s, then 10 s. */
  backoffMs(attempts: number): number {
    if (attempts <= 0) return 0;
    let duration = this.#initialBackoffMs;
    for (let i = 1; i < attempts && duration < this.#maxBackoffMs; i++) duration *= 2;
    return Math.min(duration, this.#maxBackoffMs);
  }

  #item(entry: _Entry<T>): _HeapItem<T> {
    return { entry, generation: entry.generation, pod: entry.pod, enqueuedAt: entry.enqueuedAt, until: this.#backoffUntil(entry) };
  }

  #backoffUntil(entry: _Entry<T>): number {
    return entry.failedAt + this.backoffMs(entry.attempts);
  }

  #failed(key: string, now: number): _Entry<T> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.location !== 'inFlight') return undefined;
    this.#leave(entry);
    entry.attempts++;
    entry.failedAt = now;
    return entry;
  }

  #moveBack(entry: _Entry<T>, now: number): void {
    this.#leave(entry);
    if (this.#backoffUntil(entry) > now) this.#toBackoff(entry);
    else this.#toActive(entry, now);
  }

  #toActive(entry: _Entry<T>, enqueuedAt: number): void {
    if (entry.location === 'active') this.#activeCount--;
    entry.location = 'active';
    entry.enqueuedAt = enqueuedAt;
    entry.generation++;
    this.#activeCount++;
    this.#active.push(this.#item(entry));
  }

  #toBackoff(entry: _Entry<T>): void {
    entry.location = 'backoff';
    entry.generation++;
    this.#backoffCount++;
    this.#backoff.push(this.#item(entry));
  }

  /** Takes the entry out of its part's count; heap items left behind are skipped by generation. */
  #leave(entry: _Entry<T>): void {
    switch (entry.location) {
      case 'active':
        this.#activeCount--;
        break;
      case 'backoff':
        this.#backoffCount--;
        break;
      case 'unschedulable':
        this.#unschedulable.delete(entry);
        break;
      case 'inFlight':
        this.#inFlightCount--;
        break;
      case 'none':
        break;
    }
    entry.generation++;
    entry.location = 'none';
  }
}

/**
 * PrioritySort: higher priority first, then the earlier arrival in activeQ (a gang member: its
 * group's creation), then the group's key, then the pod's key (a total order).
 */
function _activeBefore<T extends QueuedPodInfo>(a: Pick<_HeapItem<T>, 'pod' | 'enqueuedAt'>, b: Pick<_HeapItem<T>, 'pod' | 'enqueuedAt'>): boolean {
  if (a.pod.priority !== b.pod.priority) return a.pod.priority > b.pod.priority;
  const aAt = a.pod.gang?.createdAt ?? a.enqueuedAt;
  const bAt = b.pod.gang?.createdAt ?? b.enqueuedAt;
  if (aAt !== bAt) return aAt < bAt;
  const aGroup = a.pod.gang?.key ?? a.pod.key;
  const bGroup = b.pod.gang?.key ?? b.pod.key;
  if (aGroup !== bGroup) return aGroup < bGroup;
  return a.pod.key < b.pod.key;
}
