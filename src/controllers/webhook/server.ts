/**
 * The HTTPS endpoint the API server calls: `POST /mutate` with an AdmissionReview v1.
 *
 * - A malformed request (not JSON, not an AdmissionReview v1, no `request.uid`, too large, wrong
 *   method or content type) gets a 4xx with a one-line message. The server never throws out of
 *   a request, so one bad client cannot take it down.
 * - Anything that goes wrong while deciding admits the pod unchanged (fail-open), logged and
 *   counted, so a Stowage bug never blocks a pod; so does a decision slower than the deadline.
 *
 * Connection handling follows the API server's webhook client: HTTP/1.1 over TLS (admission
 * webhooks stopped using HTTP/2 in Kubernetes 1.17 so that replicas behind a Service share the
 * load), keep-alive, at most 25 idle connections per host, each closed after 90 s idle
 * (client-go's transport defaults):
 * - `keepAliveTimeout` 120 s, longer than the client's 90 s, so the client always closes an idle
 *   connection first. If the server closed it first, a review sent at that very moment would fail
 *   on a dead socket, and with `failurePolicy: Ignore` its pod would be admitted unplaced.
 * - `headersTimeout` 10 s and `requestTimeout` 15 s count from the first byte of a request, not
 *   from idle time (Node >= 18), so they don't cut reused idle connections; they bound a client
 *   that trickles a request, far above the apiserver's own `timeoutSeconds` (<= 5 s here).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AdmitResult } from './admitter.js';
import type { ReviewOutcome, WebhookMetrics } from './metrics.js';
import { parseAdmissionReview, reviewResponse, type AdmissionRequest } from './review.js';

/** Node's timeouts for the API server's connection reuse; see the module comment. */
export const SERVER_TIMEOUTS = { keepAliveTimeoutMs: 120_000, headersTimeoutMs: 10_000, requestTimeoutMs: 15_000 } as const;

/**
 * 3 MiB: the apiserver accepts request bodies up to 3 MiB and etcd stores objects up to 1.5 MiB,
 * so no real pod's review is larger; anything bigger is refused before it is buffered.
 */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Decide within this long, or admit unchanged; shortened to 80% of the apiserver's `?timeout=`. */
export const DEFAULT_DEADLINE_MS = 2_500;

export interface WebhookServerOptions {
  readonly host: string;
  /** 0 picks a free port; read it back from {@link WebhookServer.port}. */
  readonly port: number;
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly admit: (request: AdmissionRequest, signal: AbortSignal) => Promise<AdmitResult>;
  readonly log?: Logger;
  readonly metrics?: WebhookMetrics;
  readonly maxBodyBytes?: number;
  readonly deadlineMs?: number;
}

export interface WebhookServer {
  readonly port: number;
  readonly server: Server;
  /** Swaps the serving certificate for new connections (a rotated Secret). */
  setCertificate(tls: { readonly cert: string | Buffer; readonly key: string | Buffer }): void;
  /** Stops accepting, lets in-flight reviews finish for up to `graceMs`, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

class _HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The apiserver appends `?timeout=<Go duration>` (its `timeoutSeconds`) to the webhook URL. */
export function parseGoTimeout(query: string): number | undefined {
  const match = /(?:^|&)timeout=(\d+(?:\.\d+)?)(ms|s|m)(?:&|$)/.exec(query);
  if (match === null) return undefined;
  const unit = match[2] === 'ms' ? 1 : match[2] === 's' ? 1_000 : 60_000;
  return Number(match[1]) * unit;
}

function _readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new _HttpError(413, `Request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new _HttpError(413, `Request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error) => {
      if (done) return;
      done = true;
      reject(error);
    });
    // A client that goes away mid-body may emit neither 'end' nor 'error': never wait forever.
    req.on('close', () => {
      if (done) return;
      done = true;
      reject(new _HttpError(400, 'The client closed the connection before the body was complete'));
    });
  });
}

/**
 * Starts the HTTPS server; resolves once it listens.
 *
 * @example
 * const server = await startWebhookServer({ host: '127.0.0.1', port: 8443, tls, admit: (r, s) => admitter.admit(r, s), log, metrics });
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log;
  const metrics = options.metrics;
  const inFlight = new Set<Promise<void>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let outcome: ReviewOutcome = 'rejected';
    const answer = (status: number, body: string, contentType: string, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers }).end(body);
    };
    try {
      const [path = '', query = ''] = (req.url ?? '/').split('?', 2);
      if (path === '/healthz' && req.method === 'GET') {
        answer(200, 'ok', 'text/plain');
        return;
      }
      if (path !== '/mutate') throw new _HttpError(404, `Not found: "${path}"; AdmissionReviews go to POST /mutate`);
      if (req.method !== 'POST') throw new _HttpError(405, `Method ${req.method ?? ''} not allowed on /mutate: use POST`);
      const type = req.headers['content-type'];
      if (type !== undefined && !/^application\/json\b/i.test(type)) throw new _HttpError(415, `Unsupported content type "${type}": expected application/json`);
      const request = parseAdmissionReview(await _readBody(req, limit));

      const controller = new AbortController();
      const apiserverTimeout = parseGoTimeout(query);
      const deadlineMs = Math.min(options.deadlineMs ?? DEFAULT_DEADLINE_MS, apiserverTimeout === undefined ? Infinity : apiserverTimeout * 0.8);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), deadlineMs);
      });
      let result: AdmitResult | 'deadline';
      try {
        result = await Promise.race([options.admit(request, controller.signal), deadline]);
      } catch (error) {
        outcome = 'failed-open';
        metrics?.errors.inc({ kind: 'internal' });
        log?.error({ uid: request.uid, namespace: request.namespace, err: error }, `Admitting unchanged after an internal error: ${(error as Error)?.message ?? String(error)}`);
        answer(200, JSON.stringify(reviewResponse(request.uid)), 'application/json');
        return;
      } finally {
        clearTimeout(timer);
      }
      if (result === 'deadline') {
        controller.abort();
        outcome = 'failed-open';
        metrics?.errors.inc({ kind: 'deadline' });
        log?.warn({ uid: request.uid, namespace: request.namespace, deadlineMs }, `Admitting unchanged: no decision within ${deadlineMs} ms`);
        answer(200, JSON.stringify(reviewResponse(request.uid)), 'application/json');
        return;
      }
      outcome = result.outcome;
      answer(200, JSON.stringify(reviewResponse(request.uid, result.outcome === 'patched' ? result.patch : [])), 'application/json');
    } catch (error) {
      outcome = 'rejected';
      // Anything else thrown before a review was parsed (a reset while reading) is the client's doing too.
      const status = error instanceof _HttpError ? error.status : 400;
      const message = error instanceof Error ? error.message : String(error);
      metrics?.errors.inc({ kind: 'bad-request' });
      log?.warn({ status, remote: req.socket.remoteAddress }, `Rejected a request: ${message}`);
      // An oversized body is not read to its end: close the connection rather than drain it.
      const headers: Record<string, string> = status === 413 ? { connection: 'close' } : status === 405 ? { allow: 'POST' } : {};
      answer(status, `${message}\n`, 'text/plain; charset=utf-8', headers);
      if (status === 413) res.on('finish', () => req.destroy());
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.admissionDuration.observe({ outcome }, seconds);
      metrics?.reviews.inc({ outcome });
    }
  };

  const server = createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    const task = handle(req, res).catch((error: unknown) => {
      // handle() catches everything it can answer; this is the last line of defence.
      log?.error({ err: error }, 'Unexpected error while answering a request');
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
    });
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  });
  server.keepAliveTimeout = SERVER_TIMEOUTS.keepAliveTimeoutMs;
  server.headersTimeout = SERVER_TIMEOUTS.headersTimeoutMs;
  server.requestTimeout = SERVER_TIMEOUTS.requestTimeoutMs;
  server.on('tlsClientError', (error) => log?.debug({ err: error }, 'TLS handshake failed'));
  server.on('secureConnection', () => metrics?.connections.inc());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log?.error({ err: error }, `Webhook server error: ${error.message}`));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    server,
    setCertificate(tls) {
      server.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
    },
    async close(graceMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}
