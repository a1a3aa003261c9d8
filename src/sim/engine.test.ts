import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, EventQueue, type SimEvent } from './engine.js';

test('events at the same time run in the order they were scheduled', () => {
  const engine = new Engine();
  const order: string[] = [];
  engine.at(1_000, () => order.push('a'));
  engine.at(500, () => order.push('early'));
  engine.at(1_000, () => order.push('b'));
  engine.at(1_000, () => order.push('c'));
  engine.run(2_000);
  assert.deepEqual(order, ['early', 'a', 'b', 'c']);
  assert.equal(engine.now, 2_000);
});

test('an event scheduled for now by a running event runs after the events already queued for now', () => {
  const engine = new Engine();
  const order: string[] = [];
  engine.at(10, () => {
    order.push('first');
    engine.after(0, () => order.push('scheduled-by-first'));
  });
  engine.at(10, () => order.push('second'));
  engine.run(10);
  assert.deepEqual(order, ['first', 'second', 'scheduled-by-first']);
});

test('cancelled events do not run and run(until) stops at until', () => {
  const engine = new Engine();
  const seen: number[] = [];
  const e = engine.at(5, () => seen.push(5));
  engine.at(6, () => seen.push(6));
  engine.at(20, () => seen.push(20));
  engine.cancel(e);
  engine.run(10);
  assert.deepEqual(seen, [6]);
  assert.equal(engine.now, 10);
  engine.run(30);
  assert.deepEqual(seen, [6, 20]);
});

test('scheduling in the past throws', () => {
  const engine = new Engine();
  engine.run(100);
  assert.throws(() => engine.at(50, () => {}), /Cannot schedule an event at 50 ms: the clock is already at 100 ms/);
});

test('every() repeats until its callback returns false', () => {
  const engine = new Engine();
  const ticks: number[] = [];
  engine.every(10, 0, () => {
    ticks.push(engine.now);
    return ticks.length < 3;
  });
  engine.run(1_000);
  assert.deepEqual(ticks, [0, 10, 20]);
});

test('the heap pops a shuffled set in (time, seq) order', () => {
  const queue = new EventQueue();
  const events: SimEvent[] = [];
  let seq = 0;
  for (let i = 0; i < 500; i++) events.push({ time: (i * 7919) % 101, seq: seq++, fn: () => {}, cancelled: false });
  for (const e of events) queue.push(e);
  const popped: SimEvent[] = [];
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) popped.push(e);
  const expected = [...events].sort((a, b) => a.time - b.time || a.seq - b.seq);
  assert.deepEqual(popped.map((e) => e.seq), expected.map((e) => e.seq));
});
