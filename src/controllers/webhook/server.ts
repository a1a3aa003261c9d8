/**
 * The HTTPS endpoint the API server calls: `POST /mutate` with an AdmissionReview v1.
 *
 * - A malformed request (not JSON, not an AdmissionReview v1, no `request.uid`, `operation` or
 *   `object`, too large, too deep, wrong method, a content type other than `application/json`)
 *   gets a 4xx with a one-line message naming what is wrong. The server never throws out of a
 *   request, so one bad client cannot take it down.
 * - Hostile bodies cost bounded work: the JSON pre-scan (json-limits.ts) refuses a body that is
 *   not an object, too deep or holding too many values as it streams in, before it is buffered
 *   whole or parsed; bodies with many values are parsed on a worker thread (review-parser.ts).
 * - Overload is answered fast, never by making the apiserver wait out its `timeoutSeconds`: past
 *   `maxInFlight` reviews at once, or once a review has waited past its deadline, the pod is
 *   admitted unchanged at once; past `maxLargeInFlight` large bodies or `maxLargeBytesInFlight`
 *   bytes of them at once (a declared length counts on arrival), the request gets 503 before
 *   its body is read (with `failurePolicy: Ignore` the apiserver admits the pod unchanged at
 *   once). Both are counted (`outcome="shed"`, `kind="overload"`). A refused body is not read
 *   any further: the answer closes the connection (but a small one refused before it was read, a
 *   wrong path, method or content type, is read and dropped and the connection kept).
 * - Anything that goes wrong while deciding admits the pod unchanged (fail-open), logged and
 *   counted, so a Stowage bug never blocks a pod; so does a decision slower than the deadline,
 *   which counts from the request's first byte, as the apiserver's timeout does.
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
import { DEFAULT_JSON_LIMITS, JsonLimitScanner, type JsonLimits } from './json-limits.js';
import type { ReviewOutcome, WebhookMetrics } from './metrics.js';
import { oneLine, reviewResponse, type AdmissionRequest } from './review.js';
import { ReviewParser } from './review-parser.js';

/** Node's timeouts for the API server's connection reuse; see the module comment. */
export const SERVER_TIMEOUTS = { keepAliveTimeoutMs: 120_000, headersTimeoutMs: 10_000, requestTimeoutMs: 15_000 } as const;

/**
 * 3 MiB: the apiserver accepts request bodies up to 3 MiB and etcd stores objects up to 1.5 MiB,
 * so no real pod's review is larger; anything bigger is refused before it is buffered.
 */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Decide within this long, or admit unchanged; shortened to 80% of the apiserver's `?timeout=`. */
export const DEFAULT_DEADLINE_MS = 2_500;

/**
 * Reviews being read, parsed or decided at once before more are admitted unchanged at once. The
 * apiserver sends one review per pod creation; a burst of a few hundred ReplicaSet pods fits.
 */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/** A body above this many bytes is "large": real pods' reviews are a few KiB. */
export const LARGE_BODY_BYTES = 64 * 1024;

/**
 * Large bodies being read or parsed at once before more get 503. Each one being read costs the
 * event loop every review waits on (its bytes decrypted, scanned and copied, its buffers
 * collected), and real reviews this large are rare: two at once. With four, under a flood of
 * large hostile bodies valid reviews' p99 inside the server was about twice as long
 * (`bench:webhook --flood`, side by side at load 24–25: 119–138 ms against 47–58 ms).
 */
export const DEFAULT_MAX_LARGE_IN_FLIGHT = 2;

/**
 * Bytes of large bodies being read or parsed at once before more get 503: two bodies at the 3 MiB
 * limit (a bound for a server configured with more large bodies at once, as the count bounds it
 * below this by default). With small bodies bounded by {@link DEFAULT_MAX_IN_FLIGHT}
 * × {@link LARGE_BODY_BYTES}, the request bodies the webhook holds are bounded by 24 MiB.
 */
export const DEFAULT_MAX_LARGE_BYTES_IN_FLIGHT = 8 * 1024 * 1024;

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
  /** Depth and value-count limits of the JSON pre-scan. */
  readonly jsonLimits?: JsonLimits;
  /** See {@link DEFAULT_MAX_IN_FLIGHT}. */
  readonly maxInFlight?: number;
  /** See {@link DEFAULT_MAX_LARGE_IN_FLIGHT}. */
  readonly maxLargeInFlight?: number;
  /** See {@link DEFAULT_MAX_LARGE_BYTES_IN_FLIGHT}. */
  readonly maxLargeBytesInFlight?: number;
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
  /** The body was not read to its end: close the connection rather than drain it. */
  readonly close: boolean;
  constructor(status: number, message: string, close = false) {
    super(message);
    this.status = status;
    this.close = close;
  }
}

/** `application/json`, optionally with `charset=utf-8`: what the apiserver sends, and nothing else. */
const _JSON_CONTENT_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** The apiserver appends `?timeout=<Go duration>` (its `timeoutSeconds`) to the webhook URL. */
export function parseGoTimeout(query: string): number | undefined {
  const match = /(?:^|&)timeout=(\d+(?:\.\d+)?)(ms|s|m)(?:&|$)/.exec(query);
  if (match === null) return undefined;
  const unit = match[2] === 'ms' ? 1 : match[2] === 's' ? 1_000 : 60_000;
  return Number(match[1]) * unit;
}

interface _Body {
  readonly bytes: Buffer;
  /** Values counted by the JSON pre-scan. */
  readonly values: number;
}

interface _BodyLimits {
  readonly maxBytes: number;
  readonly json: JsonLimits;
  /**
   * Called when the body turns out to be large, then as it grows: may the request hold `bytes`
   * bytes (in all) of the large lane? False refuses it with 503.
   */
  readonly holdLarge: (bytes: number) => boolean;
}

/**
 * Reads the body, scanning it as it streams in; refuses it as soon as it breaks a limit, and stops
 * reading there. A body of declared length (the apiserver always declares it) is copied chunk by
 * chunk into one buffer of that size, which the parse worker then takes over without a copy. That
 * buffer is allocated only once the first {@link LARGE_BODY_BYTES} have passed the scan: a hostile
 * body is mostly refused in its first bytes, and a buffer of its declared megabytes allocated for
 * nothing would still count towards V8's external memory, whose growth starts full collections of
 * the heap every review waits on (in `bench:webhook --flood`, dozens of them).
 */
function _readBody(req: IncomingMessage, limits: _BodyLimits): Promise<_Body> {
  const header = req.headers['content-length'];
  const declared = header === undefined ? Number.NaN : Number(header);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    return Promise.reject(new _HttpError(413, `Request body of ${declared} bytes exceeds the limit of ${limits.maxBytes} bytes`, true));
  }
  const known = Number.isSafeInteger(declared) && declared >= 0;
  let large = known && declared > LARGE_BODY_BYTES;
  if (large && !limits.holdLarge(declared)) return Promise.reject(_tooManyLarge());
  const scanner = new JsonLimitScanner(limits.json);
  return new Promise((resolve, reject) => {
    // Declared length: one buffer, filled as chunks arrive, from the first LARGE_BODY_BYTES
    // scanned on. Until then, and for a chunked body, the chunks.
    let body: Buffer | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (error: Error): void => {
      done = true;
      chunks.length = 0;
      // Nothing more of this body is wanted: stop reading it (the answer closes the connection).
      req.pause();
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limits.maxBytes) return fail(new _HttpError(413, `Request body exceeds the limit of ${limits.maxBytes} bytes`, true));
      if (known && size > declared) return fail(new _HttpError(400, `Request body is longer than its content-length of ${declared} bytes`, true));
      if (!known && size > LARGE_BODY_BYTES) {
        large = true;
        if (!limits.holdLarge(size)) return fail(_tooManyLarge());
      }
      const violation = scanner.feed(chunk);
      if (violation !== undefined) return fail(new _HttpError(400, `Invalid AdmissionReview: ${violation.message}`, true));
      if (body !== undefined) chunk.copy(body, size - chunk.length);
      else if (known && size > LARGE_BODY_BYTES) {
        body = Buffer.allocUnsafeSlow(declared);
        let at = 0;
        for (const held of chunks) at += held.copy(body, at);
        chunk.copy(body, at);
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (body !== undefined && size !== declared) {
        reject(new _HttpError(400, `Request body of ${size} bytes is shorter than its content-length of ${declared} bytes`, true));
        return;
      }
      resolve({ bytes: body ?? Buffer.concat(chunks), values: scanner.values });
    });
    req.on('error', (error) => {
      if (done) return;
      fail(error);
    });
    // A client that goes away mid-body may emit neither 'end' nor 'error': never wait forever.
    req.on('close', () => {
      if (done) return;
      fail(new _HttpError(400, 'The client closed the connection before the body was complete'));
    });
  });
}

/**
 * A body of declared length no larger than {@link LARGE_BODY_BYTES} (or none): cheap to read and
 * drop, so a request refused before its body is read can keep its connection. A chunked body (no
 * length) or a larger one is not read: its answer closes the connection.
 */
function _smallDeclaredBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const header = req.headers['content-length'];
  if (header === undefined) return true;
  const declared = Number(header);
  return Number.isSafeInteger(declared) && declared >= 0 && declared <= LARGE_BODY_BYTES;
}

function _tooManyLarge(): _HttpError {
  return new _HttpError(503, 'Too many large reviews in flight: try again', true);
}

/**
 * Starts the HTTPS server; resolves once it listens.
 *
 * @example
 * const server = await startWebhookServer({ host: '127.0.0.1', port: 8443, tls, admit: (r, s) => admitter.admit(r, s), log, metrics });
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const log = options.log;
  const metrics = options.metrics;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const maxLargeInFlight = options.maxLargeInFlight ?? DEFAULT_MAX_LARGE_IN_FLIGHT;
  const maxLargeBytesInFlight = options.maxLargeBytesInFlight ?? DEFAULT_MAX_LARGE_BYTES_IN_FLIGHT;
  const inFlight = new Set<Promise<void>>();
  const parser = new ReviewParser();
  await parser.start();
  let reviewsInFlight = 0;
  let largeInFlight = 0;
  let largeBytesInFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const elapsedMs = (): number => Number(process.hrtime.bigint() - started) / 1e6;
    let outcome: ReviewOutcome = 'rejected';
    let counted = false;
    let large = false;
    let largeBytes = 0;
    const answer = (status: number, body: string, contentType: string, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers }).end(body);
    };
    const allowUnchanged = (uid: string): void => answer(200, JSON.stringify(reviewResponse(uid)), 'application/json');
    try {
      const [path = '', query = ''] = (req.url ?? '/').split('?', 2);
      if (path === '/healthz' && req.method === 'GET') {
        answer(200, 'ok', 'text/plain');
        return;
      }
      // Refused before the body is read: a small body of declared length is read and dropped, so
      // the connection serves the client's next request (a new one would cost a TLS handshake);
      // any other is not read at all, and the answer closes the connection.
      const unread = !_smallDeclaredBody(req);
      if (path !== '/mutate') throw new _HttpError(404, `Not found: "${path}"; AdmissionReviews go to POST /mutate`, unread);
      if (req.method !== 'POST') throw new _HttpError(405, `Method ${req.method ?? ''} not allowed on /mutate: use POST`, unread);
      const type = req.headers['content-type'];
      if (type === undefined) throw new _HttpError(415, 'Missing content type: expected application/json', unread);
      if (!_JSON_CONTENT_TYPE.test(type)) throw new _HttpError(415, `Unsupported content type "${oneLine(type, 80)}": expected application/json`, unread);
      reviewsInFlight += 1;
      counted = true;
      // Counted on arrival, so a burst beyond the limit is shed whatever order the bodies complete in.
      const overloaded = reviewsInFlight > maxInFlight;
      const body = await _readBody(req, {
        maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        json: options.jsonLimits ?? DEFAULT_JSON_LIMITS,
        holdLarge: (bytes) => {
          if (overloaded || (!large && largeInFlight >= maxLargeInFlight) || largeBytesInFlight - largeBytes + bytes > maxLargeBytesInFlight) return false;
          if (!large) largeInFlight += 1;
          large = true;
          largeBytesInFlight += bytes - largeBytes;
          largeBytes = bytes;
          return true;
        },
      });
      const request = await parser.parse(body.bytes, body.values);

      const apiserverTimeout = parseGoTimeout(query);
      // From the request's first byte, as the apiserver counts its timeout: time spent queued
      // behind other work is already gone.
      const deadlineMs = Math.min(options.deadlineMs ?? DEFAULT_DEADLINE_MS, apiserverTimeout === undefined ? Infinity : apiserverTimeout * 0.8) - elapsedMs();
      if (overloaded || deadlineMs <= 0) {
        outcome = 'shed';
        metrics?.errors.inc({ kind: 'overload' });
        log?.warn({ uid: request.uid, namespace: request.namespace, reviewsInFlight, waitedMs: Math.round(elapsedMs()) }, overloaded ? `Admitting unchanged: more than ${maxInFlight} reviews in flight` : 'Admitting unchanged: the deadline passed before the review was decided');
        allowUnchanged(request.uid);
        return;
      }
      const controller = new AbortController();
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
        allowUnchanged(request.uid);
        return;
      } finally {
        clearTimeout(timer);
      }
      if (result === 'deadline') {
        controller.abort();
        outcome = 'failed-open';
        metrics?.errors.inc({ kind: 'deadline' });
        log?.warn({ uid: request.uid, namespace: request.namespace, deadlineMs: Math.round(deadlineMs) }, `Admitting unchanged: no decision within ${Math.round(deadlineMs)} ms`);
        allowUnchanged(request.uid);
        return;
      }
      outcome = result.outcome;
      answer(200, JSON.stringify(reviewResponse(request.uid, result.outcome === 'patched' ? result.patch : [])), 'application/json');
    } catch (error) {
      // Anything else thrown before a review was parsed (a reset while reading) is the client's doing too.
      const status = error instanceof _HttpError ? error.status : 400;
      const message = oneLine(error instanceof Error ? error.message : String(error), 300);
      outcome = status === 503 ? 'shed' : 'rejected';
      metrics?.errors.inc({ kind: status === 503 ? 'overload' : 'bad-request' });
      log?.warn({ status, remote: req.socket.remoteAddress }, `Rejected a request: ${message}`);
      const close = error instanceof _HttpError && error.close;
      const headers: Record<string, string> = { ...(close ? { connection: 'close' } : {}), ...(status === 405 ? { allow: 'POST' } : {}), ...(status === 503 ? { 'retry-after': '1' } : {}) };
      answer(status, `${message}\n`, 'text/plain; charset=utf-8', headers);
      // A body not read to its end: close the connection rather than read the rest. Otherwise
      // what is left of a small body is read and dropped (Node does that once the answer is sent).
      if (close) res.on('finish', () => req.destroy());
      else req.resume();
    } finally {
      if (counted) reviewsInFlight -= 1;
      if (large) largeInFlight -= 1;
      largeBytesInFlight -= largeBytes;
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
      await parser.close();
    },
  };
}
