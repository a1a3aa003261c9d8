/**
 * A bounded flood of hostile requests against a webhook on loopback, and a steady stream of
 * valid reviews beside it, for the flood benchmark and the e2e flood test.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { Worker } from 'node:worker_threads';
import { hostileRequest, type HostileRequest } from './hostile.test-helper.js';

/** What one request got: an HTTP status, or -1 when the server closed the connection first. */
export interface SendResult {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

/**
 * POSTs one body to `/mutate`. A server may answer a refused body (413, 400 from the pre-scan,
 * 503) and close before the client has written it all: the client then sees the answer or a reset.
 */
export function postReview(options: { port: number; agent: Agent; body: Buffer | string; contentType?: string; path?: string; timeoutMs?: number }): Promise<SendResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        method: 'POST',
        path: options.path ?? '/mutate?timeout=3s',
        agent: options.agent,
        headers: { 'content-type': options.contentType ?? 'application/json', 'content-length': Buffer.byteLength(options.body) },
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
        res.on('error', () => resolve({ status: -1, body: 'response error', ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: -1, body: error.code ?? error.message, ms: performance.now() - started }));
    req.end(options.body);
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
      const result = await postReview({ port: options.port, agent, body: hostile.body, contentType: hostile.contentType, ...(options.path === undefined ? {} : { path: options.path }) });
      const byStatus = (statuses[hostile.kind] ??= {});
      byStatus[String(result.status)] = (byStatus[String(result.status)] ?? 0) + 1;
      // A refused body may be answered by a reset while the client still writes it.
      const refusedMidBody = result.status === -1 && (result.body === 'ECONNRESET' || result.body === 'EPIPE') && !hostile.expect.includes(200);
      if (!hostile.expect.includes(result.status) && !refusedMidBody) unexpected.push(`${hostile.kind}: ${result.status} ${result.body.slice(0, 120)}`);
      if (result.status !== -1 && result.status !== 200 && result.body.split('\n').filter((l) => l !== '').length !== 1) unexpected.push(`${hostile.kind}: not one line: ${result.body.slice(0, 120)}`);
      if (/call stack/i.test(result.body)) unexpected.push(`${hostile.kind}: ${result.body.slice(0, 120)}`);
    }
  };
  await Promise.all(Array.from({ length: options.clients }, () => client()));
  agent.destroy();
  return { statuses, unexpected, seconds: (performance.now() - started) / 1000 };
}

/**
 * Sends valid reviews open-loop at `perSecond` (on a schedule, not when the previous one returns)
 * until `stop()` resolves, through one keep-alive agent of 25 sockets like the apiserver's.
 */
export async function streamValidReviews(options: { port: number; ca: string; perSecond: number; body: (i: number) => string; stop: Promise<unknown>; path?: string }): Promise<{ results: SendResult[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 25, ca: options.ca });
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
  agent.destroy();
  return { results };
}

/**
 * Runs {@link floodWebhook} in a worker thread: the flood's TLS work gets its own event loop, so
 * it does not delay the caller's own timers (an RSS sampler, valid reviews, API calls).
 */
export function floodInWorker(options: FloodOptions): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    // Workers don't inherit tsx's loader: register it in the worker, then load the entry there.
    const entry = new URL('./flood-worker.test-helper.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: options });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`The flood worker exited with ${code}`));
    });
  });
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
