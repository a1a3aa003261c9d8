import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { Registry } from 'prom-client';
import type { AdmitResult } from './admitter.js';
import { WebhookMetrics } from './metrics.js';
import type { AdmissionRequest } from './review.js';
import { parseGoTimeout, SERVER_TIMEOUTS, type WebhookServer } from './server.js';
import { startLoopbackServer } from './server.test-helper.js';

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

const REVIEW = (request: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const POD_CREATE = { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'shop', operation: 'CREATE', object: { metadata: {} } };

describe('webhook HTTPS server on 127.0.0.1', () => {
  let server: WebhookServer;
  let ca: string;
  let agent: Agent;
  const registry = new Registry();
  const metrics = new WebhookMetrics(registry);
  let behaviour: (request: AdmissionRequest, signal: AbortSignal) => Promise<AdmitResult>;
  const patched: AdmitResult = {
    outcome: 'patched',
    patch: [{ op: 'add', path: '/metadata/annotations', value: { 'stowage.io/capacity-type': 'spot' } }],
    decision: { capacityType: 'spot', required: true, floor: 1, reason: 'test' },
    workload: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
    reinvoked: false,
  };

  before(async () => {
    ({ server, ca } = await startLoopbackServer({ admit: (r, s) => behaviour(r, s), metrics, maxBodyBytes: 64 * 1024 }));
    agent = new Agent({ keepAlive: true, maxSockets: 4, ca });
  });

  after(async () => {
    agent.destroy();
    await server.close(100);
  });

  function send(body: string | Buffer | undefined, options: { method?: string; path?: string; headers?: Record<string, string>; chunked?: boolean } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json', ...options.headers };
      if (body !== undefined && !options.chunked) headers['content-length'] = Buffer.byteLength(body);
      const req = request({ host: '127.0.0.1', port: server.port, method: options.method ?? 'POST', path: options.path ?? '/mutate', headers, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      });
      req.on('error', reject);
      if (body !== undefined && options.chunked) {
        // Write in pieces without a content-length, so the limit is enforced while reading.
        const buffer = Buffer.from(body);
        for (let i = 0; i < buffer.length; i += 16 * 1024) req.write(buffer.subarray(i, i + 16 * 1024));
      } else if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric as { values?: { labels: Record<string, string>; value: number }[] } | undefined)?.values ?? [];
    return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
  }

  test('a valid review is answered with the uid and the base64 JSON Patch', async () => {
    behaviour = async (r) => {
      assert.equal(r.uid, 'u-1');
      assert.equal(r.namespace, 'shop');
      return patched;
    };
    const reply = await send(REVIEW(POD_CREATE));
    assert.equal(reply.status, 200);
    const review = JSON.parse(reply.body) as { apiVersion: string; kind: string; response: { uid: string; allowed: boolean; patchType: string; patch: string } };
    assert.equal(review.apiVersion, 'admission.k8s.io/v1');
    assert.equal(review.kind, 'AdmissionReview');
    assert.equal(review.response.uid, 'u-1');
    assert.equal(review.response.allowed, true);
    assert.equal(review.response.patchType, 'JSONPatch');
    assert.deepEqual(JSON.parse(Buffer.from(review.response.patch, 'base64').toString('utf8')), patched.outcome === 'patched' ? patched.patch : []);
  });

  test('malformed requests get a 4xx with one line, and the server keeps serving', async () => {
    behaviour = async () => patched;
    const cases: readonly [string, Promise<Reply>, number, RegExp][] = [
      ['not JSON', send('{"apiVersion": '), 400, /^Invalid AdmissionReview: body is not JSON: /],
      ['not an object', send('[1,2]'), 400, /expected a JSON object/],
      ['wrong kind', send(JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: POD_CREATE })), 400, /expected apiVersion "admission\.k8s\.io\/v1" and kind "AdmissionReview", got apiVersion "admission\.k8s\.io\/v1beta1"/],
      ['no request', send(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })), 400, /request is missing/],
      ['missing uid', send(REVIEW({ ...POD_CREATE, uid: undefined })), 400, /request\.uid is missing/],
      ['CREATE without object', send(REVIEW({ ...POD_CREATE, object: undefined })), 400, /request\.object is missing for a CREATE/],
      ['wrong method', send(undefined, { method: 'GET' }), 405, /^Method GET not allowed on \/mutate: use POST\n$/],
      ['wrong path', send(REVIEW(POD_CREATE), { path: '/validate' }), 404, /^Not found: "\/validate"/],
      ['wrong content type', send(REVIEW(POD_CREATE), { headers: { 'content-type': 'text/plain' } }), 415, /^Unsupported content type "text\/plain"/],
    ];
    for (const [what, pending, status, message] of cases) {
      const reply = await pending;
      assert.equal(reply.status, status, what);
      assert.match(reply.body, message, what);
      assert.equal(reply.body.trimEnd().split('\n').length, 1, `${what}: one line`);
    }
    assert.ok((await counter('stowage_webhook_errors_total', { kind: 'bad-request' })) >= cases.length);
    assert.equal((await send(REVIEW(POD_CREATE))).status, 200, 'still serving');
  });

  test('an oversized body is refused with 413, declared or streamed', async () => {
    behaviour = async () => patched;
    const big = REVIEW({ ...POD_CREATE, object: { metadata: { annotations: { big: 'x'.repeat(100 * 1024) } } } });
    const declared = await send(big);
    assert.equal(declared.status, 413);
    assert.match(declared.body, /^Request body of \d+ bytes exceeds the limit of 65536 bytes/);
    const streamed = await send(big, { chunked: true }).catch((error: NodeJS.ErrnoException) => ({ status: -1, body: error.code ?? '', headers: {} }));
    // The server answers 413 and closes; the client may see the answer or a reset while still writing.
    assert.ok(streamed.status === 413 || streamed.body === 'ECONNRESET' || streamed.body === 'EPIPE', `got ${streamed.status} ${streamed.body}`);
    assert.equal((await send(REVIEW(POD_CREATE))).status, 200, 'still serving');
  });

  test('a client that goes away mid-body leaves nothing behind', async () => {
    behaviour = async () => patched;
    const before = await counter('stowage_webhook_reviews_total', { outcome: 'rejected' });
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json', 'content-length': 10_000 }, agent: new Agent({ ca }) });
      req.on('error', () => resolve());
      req.write('{"apiVersion":');
      // Only once TLS is up and the headers are out: on a loaded machine the handshake alone can
      // take longer than a fixed delay, and a connection dropped before it never is a review.
      req.on('socket', (socket) => socket.once('secureConnect', () => setTimeout(() => req.destroy(), 100)));
    });
    await waitForCondition(async () => (await counter('stowage_webhook_reviews_total', { outcome: 'rejected' })) === before + 1);
    assert.equal((await send(REVIEW(POD_CREATE))).status, 200, 'still serving');
  });

  async function waitForCondition(check: () => Promise<boolean>): Promise<void> {
    // 10 s: on a loaded 2-core CI machine the server's 'close' handling can lag by seconds.
    for (let i = 0; i < 500; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('condition not met within 10 s');
  }

  test('an internal error admits the pod unchanged (fail-open), counted', async () => {
    behaviour = async () => {
      throw new Error('boom');
    };
    const before = await counter('stowage_webhook_errors_total', { kind: 'internal' });
    const reply = await send(REVIEW(POD_CREATE));
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true } });
    assert.equal(await counter('stowage_webhook_errors_total', { kind: 'internal' }), before + 1);
  });

  test('a decision slower than the apiserver\'s timeout admits unchanged and aborts the decision', async () => {
    let aborted = false;
    behaviour = (_r, signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve(patched);
        });
      });
    const started = Date.now();
    const reply = await send(REVIEW(POD_CREATE), { path: '/mutate?timeout=250ms' });
    assert.equal(reply.status, 200);
    assert.deepEqual((JSON.parse(reply.body) as { response: unknown }).response, { uid: 'u-1', allowed: true });
    assert.ok(Date.now() - started < 2_000, 'answered at 80% of the timeout, not the default deadline');
    assert.equal(aborted, true);
  });

  test('latency is recorded by outcome; /healthz answers on the TLS port', async () => {
    behaviour = async () => patched;
    await send(REVIEW(POD_CREATE));
    const text = await registry.metrics();
    assert.match(text, /stowage_webhook_admission_duration_seconds_count\{outcome="patched"\} \d+/);
    assert.match(text, /stowage_webhook_admission_duration_seconds_count\{outcome="rejected"\} \d+/);
    assert.match(text, /stowage_webhook_admission_duration_seconds_count\{outcome="failed-open"\} \d+/);
    const health = await send(undefined, { method: 'GET', path: '/healthz' });
    assert.equal(health.status, 200);
  });

  test('connections are reused (keep-alive) with the timeouts chosen for the apiserver', async () => {
    behaviour = async () => patched;
    assert.equal(server.server.keepAliveTimeout, SERVER_TIMEOUTS.keepAliveTimeoutMs);
    assert.ok(server.server.keepAliveTimeout > 90_000, "longer than client-go's 90 s idle timeout");
    assert.ok(server.server.headersTimeout <= server.server.requestTimeout);
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const body = REVIEW(POD_CREATE);
        const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: new Agent({ keepAlive: false, ca }) }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
      const reply = await new Promise<unknown>((resolve, reject) => {
        const body = REVIEW(POD_CREATE);
        const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/mutate', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(reply, 200);
    }
    assert.equal(sockets.size, 1, 'one keep-alive connection served every sequential review');
  });

  test('a small body refused before it is read keeps its connection; a large one closes it unread', async () => {
    behaviour = async () => patched;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const post = (body: string, contentType: string): Promise<{ status: number; socket: unknown; connection: string | undefined }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/mutate', headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }, agent: keepAlive }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: res.socket, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const refused = await post(REVIEW(POD_CREATE), 'application/json-seq');
      const valid = await post(REVIEW(POD_CREATE), 'application/json');
      assert.equal(refused.status, 415);
      assert.notEqual(refused.connection, 'close');
      assert.equal(valid.status, 200);
      assert.equal(valid.socket, refused.socket, 'the review after a refused small body went on the same connection');
      // 100 KiB: past the small-body bound, so the server refuses it without reading it and closes
      // (the client may see the answer, or a reset while it still writes).
      const large = await post(REVIEW({ ...POD_CREATE, object: { metadata: { annotations: { a: 'x'.repeat(100 * 1024) } } } }), 'text/plain').catch((error: NodeJS.ErrnoException) => ({ status: -1, socket: undefined, connection: error.code }));
      if (large.status === -1) assert.ok(large.connection === 'ECONNRESET' || large.connection === 'EPIPE', `a reset, not ${large.connection}`);
      else {
        assert.equal(large.status, 415);
        assert.equal(large.connection, 'close');
        const socket = large.socket as { destroyed: boolean; once: (event: string, f: () => void) => void };
        if (!socket.destroyed) await new Promise<void>((resolve) => socket.once('close', resolve));
      }
      assert.equal((await post(REVIEW(POD_CREATE), 'application/json')).status, 200, 'still serving');
    } finally {
      keepAlive.destroy();
    }
  });
});

test('the apiserver\'s ?timeout= is read as a Go duration', () => {
  assert.equal(parseGoTimeout('timeout=3s'), 3_000);
  assert.equal(parseGoTimeout('a=1&timeout=250ms'), 250);
  assert.equal(parseGoTimeout('timeout=1.5s&b=2'), 1_500);
  assert.equal(parseGoTimeout('timeout=1m'), 60_000);
  assert.equal(parseGoTimeout('timeout=abc'), undefined);
  assert.equal(parseGoTimeout(''), undefined);
});
