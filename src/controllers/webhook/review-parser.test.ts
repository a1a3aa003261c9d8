import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { INLINE_MAX_VALUES, ReviewParser, WORKER_IDLE_MS } from './review-parser.js';

/** Each thread's nice value, from /proc (Linux). */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Field 19 of stat is the nice value; fields are counted from the one after the ")".
      nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nice;
}

test('the parse worker runs at a lower priority than the event loop, so on a busy machine the event loop gets the CPU first', { skip: !existsSync('/proc/thread-self') && 'needs Linux /proc' }, async () => {
  const before = niceByThread();
  const parser = new ReviewParser();
  await parser.start();
  try {
    const main = niceByThread().get(process.pid) ?? Number.NaN;
    const started = [...niceByThread()].filter(([tid]) => !before.has(tid));
    assert.ok(started.some(([, nice]) => nice === Math.min(19, main + 10)), `a new thread at nice ${main} + 10: ${JSON.stringify(started)}`);
    // And it still parses: a body with more values than the inline limit goes to it.
    const object = { metadata: {}, spec: { tolerations: Array.from({ length: INLINE_MAX_VALUES + 1 }, () => ({ key: 'k', operator: 'Exists' })) } };
    const body = Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE', object } }));
    // The worker does not hold the event loop open (in the webhook, the server does): this timer does.
    const hold = setInterval(() => undefined, 1_000);
    const request = await parser.parse(body, INLINE_MAX_VALUES * 3).finally(() => clearInterval(hold));
    assert.equal((request.object?.['spec'] as { tolerations: unknown[] }).tolerations.length, INLINE_MAX_VALUES + 1);
  } finally {
    await parser.close();
  }
});

test('the worker stops when idle, giving its heap back, and starts again for the next large body', { skip: !existsSync('/proc/thread-self') && 'needs Linux /proc' }, async () => {
  const parser = new ReviewParser();
  const hold = setInterval(() => undefined, 1_000);
  try {
    const before = niceByThread();
    await parser.start();
    const body = (uid: string): Buffer => Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, operation: 'CREATE', object: { metadata: {}, junk: Array.from({ length: 5_000 }, () => ({})) } } }));
    const workerThreads = (): number[] => [...niceByThread()].filter(([tid, nice]) => !before.has(tid) && nice > (before.get(process.pid) ?? 0)).map(([tid]) => tid);
    assert.equal((await parser.parse(body('a'), 5_010)).uid, 'a');
    assert.equal(workerThreads().length, 1, 'the worker runs');
    // Stopped after WORKER_IDLE_MS; a thread's teardown takes a while longer on a busy machine.
    const stopping = Date.now();
    await new Promise((r) => setTimeout(r, WORKER_IDLE_MS));
    while (workerThreads().length > 0 && Date.now() - stopping < 20_000) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(workerThreads(), [], 'the idle worker has stopped');
    assert.equal((await parser.parse(body('b'), 5_010)).uid, 'b', 'a later large body is parsed by a new worker');
  } finally {
    clearInterval(hold);
    await parser.close();
  }
});
