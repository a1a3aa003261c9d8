/**
 * The webhook's parse thread: reads large review bodies (see {@link ReviewParser}) off the event
 * loop, so a body that costs a hundred ms to parse delays no other review. Answers each message
 * with the request the webhook reads, or the one-line reason the body is not a review.
 */
import { parentPort } from 'node:worker_threads';
import { AdmissionReviewError, oneLine, parseAdmissionReview } from './review.js';
import type { ParseReply, ParseTask } from './review-parser.js';

const port = parentPort;
if (port === null) throw new Error('Cannot start the webhook parse worker: it must run in a worker thread');

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
