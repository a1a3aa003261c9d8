/**
 * A bounded flood of hostile requests against a webhook on loopback, and a steady stream of
 * valid reviews beside it, for the flood benchmark and the e2e flood test.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../../runtime/worker-thread.js';
import { hostileRequest, type HostileRequest } from './hostile.test-helper.js';

/** What one request got: an HTTP status, or -1 when the server closed the connection first. */
export interface SendResult {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
  /** Sent on a new connection (its TCP and TLS handshakes in `ms`), not a kept-alive one. */
  readonly newConnection?: boolean;
}

/** Bodies are written in pieces of this size, each once the previous one is on its way. */
export const BODY_PIECE_BYTES = 64 * 1024;

/**
 * POSTs one body to `/mutate`. A server may answer a refused body (413, 400 from the pre-scan,
 * 503) and close before the client has written it all: the client then sees the answer or a reset.
 *
 * A body larger than `pieceBytes` (default {@link BODY_PIECE_BYTES}; 0: all at once) is written
 * piece by piece, the next when the socket has taken the last, and no more once the server has
 * answered: as an HTTP client streaming a body does, so a refused multi-megabyte body costs the
 * sender (here: the same two cores as the server) the pieces written before the answer, not the
 * encryption of every byte. Written whole, each hostile body was encrypted in full at once.
 */
export function postReview(options: { port: number; agent: Agent; body: Buffer | string; contentType?: string; path?: string; timeoutMs?: number; pieceBytes?: number }): Promise<SendResult> {
  const started = performance.now();
  const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  const pieceBytes = options.pieceBytes ?? BODY_PIECE_BYTES;
  return new Promise((resolve) => {
    let answered = false;
    // Bytes of the body handed to the request so far.
    let at = 0;
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        method: 'POST',
        path: options.path ?? '/mutate?timeout=3s',
        agent: options.agent,
        headers: { 'content-type': options.contentType ?? 'application/json', 'content-length': body.length },
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        answered = true;
        const newConnection = !req.reusedSocket;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          // Answered before the body was all handed to the socket: the rest is not wanted, and the
          // connection cannot carry another request. (Not `writableFinished`: the socket's write
          // callback may come after the answer, and a sound connection would be dropped.)
          if (at < body.length) req.destroy();
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started, newConnection });
        });
        res.on('error', () => resolve({ status: -1, body: 'response error', ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: -1, body: error.code ?? error.message, ms: performance.now() - started }));
    if (pieceBytes <= 0 || body.length <= pieceBytes) {
      at = body.length;
      req.end(body);
      return;
    }
    const pump = (): void => {
      while (!answered && !req.destroyed && at < body.length) {
        const end = Math.min(at + pieceBytes, body.length);
        const piece = body.subarray(at, end);
        at = end;
        if (at === body.length) {
          req.end(piece);
          return;
        }
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

export interface FloodResult {
  /** Per kind, per status: how many. */
  readonly statuses: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Answers that are not among the kind's expected statuses (a reset of a refused body is expected). */
  readonly unexpected: readonly string[];
  readonly seconds: number;
}

/** Where to send a flood and how much. */
export interface FloodOptions {
  readonly port: number;
  /** The PEM of the CA that signed the server's certificate. */
  readonly ca: string;
  readonly count: number;
  readonly clients: number;
  readonly path?: string;
  /** See {@link postReview}: 0 writes each body at once, as this flood did before. */
  readonly pieceBytes?: number;
}

/**
 * Sends `count` hostile requests (the kinds in turn) from `clients` concurrent clients, each
 * sending its next request as soon as the previous one is answered.
 */
export async function floodWebhook(options: FloodOptions): Promise<FloodResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients, ca: options.ca });
  const statuses: Record<string, Record<string, number>> = {};
  const unexpected: string[] = [];
  let next = 0;
  const started = performance.now();
  const client = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= options.count) return;
      const hostile: HostileRequest = hostileRequest(i);
      const result = await postReview({ port: options.port, agent, body: hostile.body, contentType: hostile.contentType, ...(options.path === undefined ? {} : { path: options.path }), ...(options.pieceBytes === undefined ? {} : { pieceBytes: options.pieceBytes }) });
      const byStatus = (statuses[hostile.kind] ??= {});
      byStatus[String(result.status)] = (byStatus[String(result.status)] ?? 0) + 1;
      // A body the server may refuse (413, 400, 503 close the connection unread) may be answered
      // by a reset while the client still writes it: the server's close discards the answer.
      const refusedMidBody = result.status === -1 && (result.body === 'ECONNRESET' || result.body === 'EPIPE') && hostile.expect.some((status) => status !== 200);
      if (!hostile.expect.includes(result.status) && !refusedMidBody) unexpected.push(`${hostile.kind}: ${result.status} ${result.body.slice(0, 120)}`);
      if (result.status !== -1 && result.status !== 200 && result.body.split('\n').filter((l) => l !== '').length !== 1) unexpected.push(`${hostile.kind}: not one line: ${result.body.slice(0, 120)}`);
      if (/call stack/i.test(result.body)) unexpected.push(`${hostile.kind}: ${result.body.slice(0, 120)}`);
    }
  };
  await Promise.all(Array.from({ length: options.clients }, () => client()));
  agent.destroy();
  return { statuses, unexpected, seconds: (performance.now() - started) / 1000 };
}

/** A keep-alive agent of at most 25 connections to one server, like the apiserver's webhook client. */
export function apiserverLikeAgent(ca: string): Agent {
  return new Agent({ keepAlive: true, maxSockets: 25, ca });
}

/**
 * Sends valid reviews open-loop at `perSecond` (on a schedule, not when the previous one returns)
 * until `stop()` resolves, through `agent` (its connections kept for the next stream, as the
 * apiserver keeps its idle connections for 90 s) or else a new {@link apiserverLikeAgent},
 * destroyed at the end.
 */
export async function streamValidReviews(options: { port: number; ca: string; perSecond: number; body: (i: number) => string; stop: Promise<unknown>; path?: string; agent?: Agent }): Promise<{ results: SendResult[] }> {
  const agent = options.agent ?? apiserverLikeAgent(options.ca);
  const pending: Promise<SendResult>[] = [];
  let stopped = false;
  void options.stop.then(() => (stopped = true));
  const started = performance.now();
  for (let i = 0; !stopped; i++) {
    const wait = started + (i * 1000) / options.perSecond - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(postReview({ port: options.port, agent, body: options.body(i), ...(options.path === undefined ? {} : { path: options.path }) }));
  }
  const results = await Promise.all(pending);
  if (options.agent === undefined) agent.destroy();
  return { results };
}

/**
 * Runs {@link floodWebhook} in a worker thread: the flood's TLS work gets its own event loop, so
 * it does not delay the caller's own timers (an RSS sampler, valid reviews, API calls).
 */
export function floodInWorker(options: FloodOptions): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const worker = spawnModuleWorker(import.meta.url, 'flood-worker.test-helper', { workerData: options });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`The flood worker exited with ${code}`));
    });
  });
}

/** What a {@link ValidReviewStream}'s worker is told: stream reviews, or stop the current stream. */
export type ValidStreamCommand = { readonly run: { readonly perSecond: number; readonly prefix: string } } | { readonly stop: true };

/** Where a {@link ValidReviewStream} sends: `body` holds `__UID__` where each review's uid goes. */
export interface ValidStreamOptions {
  readonly port: number;
  readonly ca: string;
  readonly body: string;
  readonly path?: string;
}

/**
 * Valid reviews streamed from a worker thread of their own, through one apiserver-like pool of
 * connections kept from stream to stream: their times are then those of a client with its own
 * event loop, as the apiserver is, not of a test's thread busy with its API calls.
 */
export class ValidReviewStream {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  static start(options: ValidStreamOptions): ValidReviewStream {
    return new ValidReviewStream(spawnModuleWorker(import.meta.url, 'valid-stream-worker.test-helper', { workerData: options }));
  }

  /** Reviews at `perSecond` (uids `prefix-0`, `prefix-1`, …) until `stop` settles; each one's answer and time. */
  run(perSecond: number, prefix: string, stop: Promise<unknown>): Promise<SendResult[]> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`The valid-review worker exited with ${code}`));
      this.#worker.once('message', (results: SendResult[]) => {
        this.#worker.off('exit', onExit);
        resolve(results);
      });
      this.#worker.once('exit', onExit);
      this.#worker.postMessage({ run: { perSecond, prefix } } satisfies ValidStreamCommand);
      void stop.finally(() => this.#worker.postMessage({ stop: true } satisfies ValidStreamCommand));
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
    await this.#exited;
  }
}

/** The worker side of {@link ValidReviewStream}: serves its commands until terminated. */
export function serveValidReviewStream(port: MessagePortLike, options: ValidStreamOptions): void {
  const agent = apiserverLikeAgent(options.ca);
  let stop: (() => void) | undefined;
  port.on('message', (command: ValidStreamCommand) => {
    if ('stop' in command) {
      stop?.();
      return;
    }
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const { perSecond, prefix } = command.run;
    void streamValidReviews({ port: options.port, ca: options.ca, agent, perSecond, stop: stopped, body: (i) => options.body.replaceAll('__UID__', `${prefix}-${i}`), ...(options.path === undefined ? {} : { path: options.path }) }).then((r) => port.postMessage(r.results));
  });
}

/** The parts of a worker's `parentPort` {@link serveValidReviewStream} uses. */
export interface MessagePortLike {
  on(event: 'message', listener: (command: ValidStreamCommand) => void): unknown;
  postMessage(value: unknown): void;
}

/** Resident memory of a process in MiB, from /proc (Linux); NaN once it is gone. */
export function rssMiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(/(\d+)/.exec(line ?? '')?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) a process, or with `tid` one of its threads, has used, in ms, from /proc
 * (Linux); NaN once it is gone. A process's main thread has the process's id: the event loop.
 */
export function cpuMs(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
