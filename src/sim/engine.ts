/**
 * The discrete-event core: a clock and a queue of timed callbacks.
 *
 * Deterministic by construction: no wall time, no ambient randomness, and events at the same
 * instant run in the order they were scheduled (a sequence number breaks ties), so one
 * (scenario, seed) always replays the same history.
 *
 * Time is an integer count of milliseconds since the start of the run. Integers keep the
 * order of events exact: sums of float seconds drift, and a drift can swap two events.
 */
import { BinaryHeap } from '../core/heap.js';

/** A scheduled callback. Keep the object to cancel it. */
export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  /** Replaced by a no-op on cancel, so cancelling is O(1) and the heap is never searched. */
  fn: () => void;
  cancelled: boolean;
}

const _NOOP = (): void => {};

/**
 * A binary min-heap of events ordered by (time, seq): push and pop are O(log n) with a few
 * hundred thousand pending events in a large run, where an insertion sort would be O(n).
 */
export class EventQueue {
  readonly #heap = new BinaryHeap<SimEvent>(_before);

  get size(): number {
    return this.#heap.size;
  }

  push(event: SimEvent): void {
    this.#heap.push(event);
  }

  /** The earliest event, without removing it. */
  peek(): SimEvent | undefined {
    return this.#heap.peek();
  }

  pop(): SimEvent | undefined {
    return this.#heap.pop();
  }
}

function _before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * The simulation clock and its event queue.
 *
 * @example
 * const engine = new Engine();
 * engine.after(1_000, () => console.log(engine.now)); // 1000
 * engine.run(60_000);
 */
export class Engine {
  readonly #queue = new EventQueue();
  #now = 0;
  #seq = 0;
  #processed = 0;

  /** Milliseconds since the start of the run. */
  get now(): number {
    return this.#now;
  }

  /** Events run so far, for the benchmark's events-per-second figure. */
  get processed(): number {
    return this.#processed;
  }

  get pending(): number {
    return this.#queue.size;
  }

  /**
   * Runs `fn` at `time` (milliseconds since the start). A time in the past is a bug in a
   * model, so it throws instead of silently reordering history.
   */
  at(time: number, fn: () => void): SimEvent {
    if (!(time >= this.#now)) throw new RangeError(`Cannot schedule an event at ${time} ms: the clock is already at ${this.#now} ms`);
    const event: SimEvent = { time: Math.round(time), seq: this.#seq++, fn, cancelled: false };
    this.#queue.push(event);
    return event;
  }

  /** Runs `fn` after `delay` milliseconds (rounded to a whole millisecond). */
  after(delay: number, fn: () => void): SimEvent {
    return this.at(this.#now + Math.max(0, delay), fn);
  }

  /** Calls `fn` every `interval` ms, first at `start`, while `fn` returns anything but `false`. */
  every(interval: number, start: number, fn: () => boolean | void): void {
    if (!(interval > 0)) throw new RangeError(`Invalid interval ${interval} ms: expected a positive number`);
    const tick = (): void => {
      if (fn() === false) return;
      this.after(interval, tick);
    };
    this.at(start, tick);
  }

  cancel(event: SimEvent | undefined): void {
    if (event === undefined) return;
    event.cancelled = true;
    event.fn = _NOOP;
  }

  /**
   * Runs every event with a time up to and including `until`, then sets the clock to `until`.
   * Events scheduled during the run at or before `until` run too.
   */
  run(until: number): void {
    const queue = this.#queue;
    for (let next = queue.peek(); next !== undefined && next.time <= until; next = queue.peek()) {
      queue.pop();
      this.#now = next.time;
      if (!next.cancelled) {
        this.#processed++;
        next.fn();
      }
    }
    if (until > this.#now) this.#now = until;
  }
}
