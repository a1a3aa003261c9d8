import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SchedulingQueue, type QueuedPodInfo } from './queue.js';

const pod = (key: string, priority = 0): QueuedPodInfo => ({ key, priority });

test('activeQ pops by priority, then by arrival (PrioritySort)', () => {
  const queue = new SchedulingQueue();
  queue.add(pod('low-old', 0), 1);
  queue.add(pod('high-new', 100), 3);
  queue.add(pod('low-new', 0), 2);
  queue.add(pod('high-old', 100), 2);
  const order = [1, 2, 3, 4].map(() => queue.pop(10)?.key);
  assert.deepEqual(order, ['high-old', 'high-new', 'low-old', 'low-new']);
  assert.equal(queue.pop(10), undefined);
  assert.deepEqual(queue.lengths(), { active: 0, backoff: 0, unschedulable: 0, inFlight: 4 });
});

test('gang members pop together, groups by their creation time then key, whatever their arrival', () => {
  const queue = new SchedulingQueue();
  const member = (key: string, group: string, createdAt: number): QueuedPodInfo => ({ key, priority: 0, gang: { key: group, createdAt } });
  queue.add(member('b-1', 'ns/b', 5), 1);
  queue.add(member('a-1', 'ns/a', 5), 2);
  queue.add(pod('solo'), 3);
  queue.add(member('b-0', 'ns/b', 5), 4);
  queue.add(member('a-0', 'ns/a', 5), 5);
  queue.add(member('old-0', 'ns/old', 0), 6);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => queue.pop(10)?.key), ['old-0', 'solo', 'a-0', 'a-1', 'b-0', 'b-1']);
});

test('backoff doubles from 1 s to at most 10 s', () => {
  const queue = new SchedulingQueue();
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((n) => queue.backoffMs(n)), [0, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
});

test('a pod whose bind failed waits out its backoff before it pops again', () => {
  const queue = new SchedulingQueue();
  queue.add(pod('a'), 0);
  assert.equal(queue.pop(0)?.key, 'a');
  queue.requeueBackoff('a', 100);
  assert.equal(queue.locationOf('a'), 'backoff');
  assert.equal(queue.nextWakeAt(100), 1_100);
  assert.equal(queue.pop(1_099), undefined);
  assert.equal(queue.pop(1_100)?.key, 'a');
  queue.requeueBackoff('a', 2_000);
  assert.equal(queue.nextWakeAt(2_000), 4_000, 'second failure: 2 s');
});

test('an unschedulable pod waits for a cluster event, then goes back (to backoffQ while its backoff lasts)', () => {
  const queue = new SchedulingQueue();
  queue.add(pod('a'), 0);
  queue.add(pod('b'), 0);
  queue.pop(0);
  queue.pop(0);
  queue.requeueUnschedulable('a', 0);
  queue.requeueUnschedulable('b', 0);
  assert.equal(queue.pop(5_000), undefined, 'no event: no retry before the flush');
  // An event that can help only "a": "a" is past its 1 s backoff, so it is active at once.
  assert.equal(queue.moveAllToActiveOrBackoff(5_000, (p) => p.key === 'a'), 1);
  assert.equal(queue.locationOf('a'), 'active');
  assert.equal(queue.locationOf('b'), 'unschedulable');
  assert.equal(queue.pop(5_000)?.key, 'a');
  // Within its backoff, a moved pod goes to backoffQ.
  queue.requeueUnschedulable('a', 6_000);
  queue.moveAllToActiveOrBackoff(6_500);
  assert.equal(queue.locationOf('a'), 'backoff');
  assert.equal(queue.locationOf('b'), 'active');
});

test('the periodic flush retries a pod unschedulable for 5 minutes', () => {
  const queue = new SchedulingQueue();
  queue.add(pod('a'), 0);
  queue.pop(0);
  queue.requeueUnschedulable('a', 1_000);
  assert.equal(queue.nextWakeAt(1_000), 301_000);
  queue.flushUnschedulable(300_999);
  assert.equal(queue.locationOf('a'), 'unschedulable');
  queue.flushUnschedulable(301_000);
  assert.equal(queue.locationOf('a'), 'active');
});

test('a pod that fails after an event came while it was in flight goes to backoffQ, not to wait for another event', () => {
  const queue = new SchedulingQueue();
  queue.add(pod('a'), 0);
  queue.pop(0);
  queue.moveAllToActiveOrBackoff(10); // e.g. a node was added while "a" was being scheduled
  queue.requeueUnschedulable('a', 20);
  assert.equal(queue.locationOf('a'), 'backoff');
  assert.equal(queue.pop(1_020)?.key, 'a');
});

test('add updates a queued pod: an unschedulable one moves back, a priority change reorders activeQ', () => {
  const queue = new SchedulingQueue();
  queue.add(pod('a', 0), 0);
  queue.add(pod('b', 0), 1);
  queue.add(pod('b', 10), 2);
  assert.equal(queue.size, 2);
  assert.equal(queue.pop(3)?.key, 'b');
  queue.requeueUnschedulable('b', 3);
  queue.add(pod('b', 10), 5_000);
  assert.equal(queue.locationOf('b'), 'active');
  queue.delete('a');
  queue.delete('missing');
  assert.equal(queue.pop(5_000)?.key, 'b');
  assert.equal(queue.pop(5_000), undefined);
});

// --- properties ---------------------------------------------------------------------------

type Op =
  | { readonly kind: 'add'; readonly key: string; readonly priority: number }
  | { readonly kind: 'pop' }
  | { readonly kind: 'fail'; readonly unschedulable: boolean; readonly which: number }
  | { readonly kind: 'done'; readonly which: number }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'event' }
  | { readonly kind: 'flush' }
  | { readonly kind: 'wait'; readonly ms: number };

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom(...KEYS), priority: fc.constantFrom(0, 10, 100) }),
  fc.constant({ kind: 'pop' as const }),
  fc.record({ kind: fc.constant('fail' as const), unschedulable: fc.boolean(), which: fc.nat(5) }),
  fc.record({ kind: fc.constant('done' as const), which: fc.nat(5) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
  fc.constant({ kind: 'event' as const }),
  fc.constant({ kind: 'flush' as const }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(10, 500, 1_000, 4_000, 20_000) }),
);

/** Runs `ops`, checking after each that every pod added and not done or deleted is in exactly one part. */
function run(ops: readonly Op[]): { queue: SchedulingQueue<QueuedPodInfo>; alive: Set<string>; inFlight: string[]; now: number } {
  const queue = new SchedulingQueue();
  const alive = new Set<string>();
  let inFlight: string[] = [];
  let now = 0;
  for (const o of ops) {
    switch (o.kind) {
      case 'add':
        queue.add(pod(o.key, o.priority), now);
        alive.add(o.key);
        break;
      case 'pop': {
        const before = queue.lengths();
        const popped = queue.pop(now);
        if (popped !== undefined) {
          assert.equal(queue.locationOf(popped.key), 'inFlight');
          inFlight.push(popped.key);
        } else assert.equal(before.active, 0);
        break;
      }
      case 'fail':
      case 'done': {
        const key = inFlight[o.which % Math.max(inFlight.length, 1)];
        if (key === undefined) break;
        inFlight = inFlight.filter((k) => k !== key);
        if (o.kind === 'done') {
          queue.done(key);
          alive.delete(key);
        } else if (o.unschedulable) queue.requeueUnschedulable(key, now);
        else queue.requeueBackoff(key, now);
        break;
      }
      case 'delete':
        queue.delete(o.key);
        alive.delete(o.key);
        inFlight = inFlight.filter((k) => k !== o.key);
        break;
      case 'event':
        queue.moveAllToActiveOrBackoff(now);
        break;
      case 'flush':
        queue.flushUnschedulable(now);
        queue.flushBackoff(now);
        break;
      case 'wait':
        now += o.ms;
        break;
    }
    const lengths = queue.lengths();
    assert.equal(lengths.active + lengths.backoff + lengths.unschedulable + lengths.inFlight, alive.size);
    assert.equal(queue.size, alive.size);
    for (const key of alive) assert.notEqual(queue.locationOf(key), undefined, `pod ${key} lost`);
    assert.equal(lengths.inFlight, inFlight.length);
  }
  return { queue, alive, inFlight, now };
}

test('property: no pod is lost; every pending pod pops again after an event and its backoff', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const { queue, alive, inFlight } = run(ops);
      for (const key of inFlight) queue.requeueUnschedulable(key, 0);
      let now = 1_000_000;
      queue.moveAllToActiveOrBackoff(now);
      now += 10_000;
      const popped = new Set<string>();
      for (let next = queue.pop(now); next !== undefined; next = queue.pop(now)) popped.add(next.key);
      assert.deepEqual([...popped].sort(), [...alive].sort());
    }),
    { numRuns: 400 },
  );
});

test('property: whatever the history, activeQ pops by priority, and pods still backing off stay out', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const { queue, now } = run(ops);
      // Whatever the history, what activeQ yields now is ordered by priority, highest first.
      let last = Number.POSITIVE_INFINITY;
      const backoffBefore = queue.lengths().backoff;
      for (let next = queue.pop(now); next !== undefined; next = queue.pop(now)) {
        assert.ok(next.priority <= last, `priority ${next.priority} after ${last}`);
        last = next.priority;
      }
      // Pods still backing off did not pop.
      assert.ok(queue.lengths().backoff <= backoffBefore);
      const wake = queue.nextWakeAt(now);
      if (queue.lengths().backoff > 0) assert.ok(wake !== undefined && wake > now);
    }),
    { numRuns: 400 },
  );
});
