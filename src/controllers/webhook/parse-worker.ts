/**
 * The webhook's parse thread: reads large review bodies (see {@link ReviewParser}) off the event
 * loop, so a body that costs a hundred ms to parse delays no other review. Answers each message
 * with the request the webhook reads, or the one-line reason the body is not a review.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { AdmissionReviewError, oneLine, parseAdmissionReview } from './review.js';
import type { ParseReply, ParseTask } from './review-parser.js';

const port = parentPort;
if (port === null) throw new Error('Cannot start the webhook parse worker: it must run in a worker thread');

/** How much lower than the event loop's this thread's scheduling priority is (nice, +0..19). */
const PARSE_THREAD_NICE = 10;

/**
 * Only large bodies come here, and no real pod's review is one: parsing them may wait. On a busy
 * machine (two cores shared with the apiserver) this thread then yields the CPU to the event loop,
 * which answers every small review, instead of competing with it. On Linux a nice value belongs to
 * a thread, and /proc/thread-self names this one; elsewhere, or if refused, it keeps the process's.
 */
function _yieldToTheEventLoop(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return;
    setPriority(tid, Math.min(19, getPriority(tid) + PARSE_THREAD_NICE));
  } catch {
    // Not Linux, or not permitted: parse at the process's priority.
  }
}
_yieldToTheEventLoop();

port.on('message', (task: ParseTask) => {
  let reply: ParseReply;
  try {
    reply = { id: task.id, request: parseAdmissionReview(Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength).toString('utf8')) };
  } catch (error) {
    reply = { id: task.id, error: error instanceof AdmissionReviewError ? error.detail : oneLine(error instanceof Error ? error.message : String(error)) };
  }
  port.postMessage(reply);
});
// Loaded (through tsx, from the sources, this takes a while): the parser may count on it now.
port.postMessage({ ready: true });
