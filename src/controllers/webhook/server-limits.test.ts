/**
 * The webhook server under hostile input and overload: strict content type, the JSON pre-scan,
 * large bodies parsed on the worker, and fast answers past the concurrency limits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { Registry } from 'prom-client';
import type { AdmitResult } from './admitter.js';
import { WebhookMetrics } from './metrics.js';
import type { AdmissionRequest } from './review.js';
import type { WebhookServer } from './server.js';
import { startLoopbackServer } from './server.test-helper.js';

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

const REVIEW = (request: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const POD_CREATE = { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop', operation: 'CREATE', object: { metadata: {} } };
const PATCHED: AdmitResult = {
  outcome: 'patched',
  patch: [{ op: 'add', path: '/metadata/annotations', value: { 'stowage.io/capacity-type': 'spot' } }],
  decision: { capacityType: 'spot', required: true, floor: 1, reason: 'test' },
  workload: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
  reinvoked: false,
};

describe('webhook server limits', () => {
  let server: WebhookServer;
  let ca: string;
  const registry = new Registry();
  const metrics = new WebhookMetrics(registry);
  let behaviour: (request: AdmissionRequest, signal: AbortSignal) => Promise<AdmitResult> = async () => PATCHED;

  before(async () => {
    ({ server, ca } = await startLoopbackServer({ admit: (r, s) => behaviour(r, s), metrics, maxInFlight: 3, maxLargeInFlight: 1, deadlineMs: 1_000 }));
  });

  after(async () => {
    await server.close(100);
  });

  /** One request on its own connection; `pauseMs` holds the body back after the headers. */
  function send(body: string | Buffer, options: { headers?: Record<string, string>; pauseMs?: number; port?: number; ca?: string } = {}): Promise<Reply> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...options.headers };
      const req = request({ host: '127.0.0.1', port: options.port ?? server.port, method: 'POST', path: '/mutate', headers, agent: new Agent({ ca: options.ca ?? ca }) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ms: Date.now() - started }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server may answer and close before the client has written a refused body.
        if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve({ status: -1, body: error.code, ms: Date.now() - started });
        else reject(error);
      });
      if (options.pauseMs) {
        req.flushHeaders();
        setTimeout(() => req.end(body), options.pauseMs);
      } else req.end(body);
    });
  }

  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric as { values?: { labels: Record<string, string>; value: number }[] } | undefined)?.values ?? [];
    return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
  }

  function assertOneLine(reply: Reply, status: number, message: RegExp, what: string): void {
    assert.equal(reply.status, status, `${what}: ${reply.body}`);
    assert.match(reply.body, message, what);
    assert.equal(reply.body.trimEnd().split('\n').length, 1, `${what}: one line`);
    assert.doesNotMatch(reply.body, /call stack/i, what);
  }

  test('only application/json is accepted: json-seq, a missing type and others get 415', async () => {
    behaviour = async () => PATCHED;
    assertOneLine(await send(REVIEW(POD_CREATE), { headers: { 'content-type': 'application/json-seq' } }), 415, /^Unsupported content type "application\/json-seq": expected application\/json$/m, 'json-seq');
    assertOneLine(await send(REVIEW(POD_CREATE), { headers: { 'content-type': 'application/jsonx' } }), 415, /expected application\/json/, 'jsonx');
    assertOneLine(await send(REVIEW(POD_CREATE), { headers: { 'content-type': '' } }), 415, /expected application\/json/, 'empty');
    assert.equal((await send(REVIEW(POD_CREATE), { headers: { 'content-type': 'application/json; charset=utf-8' } })).status, 200);
    assert.equal((await send(REVIEW(POD_CREATE), { headers: { 'content-type': 'Application/JSON' } })).status, 200);
  });

  test('deep, non-object and wide bodies are refused by the pre-scan with a one-line reason', async () => {
    behaviour = async () => PATCHED;
    const deep = `{"kind":"AdmissionReview","request":${'['.repeat(1_400_000)}${']'.repeat(1_400_000)}}`;
    assertOneLine(await send(deep), 400, /^Invalid AdmissionReview: JSON nested deeper than 64 levels$/m, 'deep');
    assertOneLine(await send('['.repeat(3_000_000)), 400, /^Invalid AdmissionReview: expected a JSON object, got a body starting with "\["$/m, 'brackets');
    assertOneLine(await send(`{"apiVersion":"admission.k8s.io/v1","request":{"object":[${'0,'.repeat(1_000_000)}0]}}`), 400, /more than 250000 JSON values/, 'wide');
    assertOneLine(await send(`{"a":[${'0,'.repeat(1_000_000)}0]}`), 400, /^Invalid AdmissionReview: expected an AdmissionReview, got an object whose first key is "a"$/m, 'not a review');
    assertOneLine(await send('\x1e{"apiVersion":"admission.k8s.io/v1"}'), 400, /byte 0x1e/, 'record separator');
    assert.equal((await send(REVIEW(POD_CREATE))).status, 200, 'still serving');
  });

  test('a review without request, operation or object is a 400 naming the field', async () => {
    behaviour = async () => PATCHED;
    const { operation: _o, object: _b, ...bare } = POD_CREATE;
    assertOneLine(await send(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })), 400, /request is missing/, 'no request');
    assertOneLine(await send(REVIEW(bare)), 400, /request\.operation is missing/, 'no operation nor object');
    assertOneLine(await send(REVIEW({ ...POD_CREATE, object: undefined })), 400, /request\.object is missing for a CREATE/, 'no object');
    assertOneLine(await send(REVIEW({ ...POD_CREATE, operation: 'PATCH' })), 400, /request\.operation "PATCH" is not one of CREATE, UPDATE, DELETE, CONNECT/, 'bad operation');
    assertOneLine(await send(REVIEW({ ...POD_CREATE, uid: [[[1]]] })), 400, /request\.uid is not a string: an array/, 'array uid');
    assertOneLine(await send(REVIEW({ ...POD_CREATE, kind: 'Pod' })), 400, /request\.kind is not an object: "Pod"/, 'string kind');
    assertOneLine(await send(REVIEW({ ...POD_CREATE, namespace: 'a\nb' .repeat(100) })), 200, /"uid":"u-1"/, 'a newline in a string is data, not a line break in an answer');
  });

  test('a large review is parsed off the event loop and decided like a small one', async () => {
    let seen: AdmissionRequest | undefined;
    behaviour = async (r) => {
      seen = r;
      return PATCHED;
    };
    const env = Array.from({ length: 5_000 }, (_, i) => ({ name: `VAR_${i}`, value: String(i) }));
    const reply = await send(REVIEW({ ...POD_CREATE, uid: 'big', object: { metadata: {}, spec: { containers: [{ name: 'c', env }] } } }));
    assert.equal(reply.status, 200, reply.body);
    assert.equal((JSON.parse(reply.body) as { response: { uid: string } }).response.uid, 'big');
    // The worker sends back only the pod fields placement reads: the container's name, not its 5,000 variables.
    assert.deepEqual(seen?.object, { metadata: {}, spec: { containers: [{ name: 'c' }] } }, 'the pod fields reached the admitter');
    const junk = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"j","operation":"CREATE","object":[${'{},'.repeat(10_000)}{}]}}`;
    assertOneLine(await send(junk), 400, /^Invalid AdmissionReview: request\.object is not an object: an array$/m, 'junk from the worker');
    const tooLarge = REVIEW({ ...POD_CREATE, object: { metadata: {}, spec: { tolerations: Array.from({ length: 30_000 }, () => ({})) } } });
    assertOneLine(await send(tooLarge), 400, /^Invalid AdmissionReview: request\.object\.spec\.tolerations is too large: the pod fields the webhook reads hold more than 20000 values$/m, 'too large, refused in the worker');
  });

  test('past maxInFlight reviews the pod is admitted unchanged at once, counted as shed', async () => {
    const release: (() => void)[] = [];
    behaviour = () => new Promise((resolve) => release.push(() => resolve(PATCHED)));
    const before = await counter('stowage_webhook_reviews_total', { outcome: 'shed' });
    const held = [1, 2, 3].map((i) => send(REVIEW({ ...POD_CREATE, uid: `held-${i}` })));
    for (let i = 0; i < 100 && release.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(release.length, 3, 'three reviews are being decided');
    const shed = await send(REVIEW({ ...POD_CREATE, uid: 'extra' }));
    assert.equal(shed.status, 200);
    assert.deepEqual((JSON.parse(shed.body) as { response: unknown }).response, { uid: 'extra', allowed: true });
    assert.ok(shed.ms < 500, `answered at once (${shed.ms} ms), not after the deadline`);
    for (const r of release) r();
    for (const reply of await Promise.all(held)) assert.match(reply.body, /"patch"/, 'the held reviews are still decided');
    assert.equal(await counter('stowage_webhook_reviews_total', { outcome: 'shed' }), before + 1);
    assert.equal(await counter('stowage_webhook_errors_total', { kind: 'overload' }) >= 1, true);
  });

  test('a second large body while one is being read gets 503 before its body is read', async () => {
    behaviour = async () => PATCHED;
    const big = REVIEW({ ...POD_CREATE, object: { metadata: { annotations: { a: 'x'.repeat(200 * 1024) } } } });
    const first = send(big, { pauseMs: 400 });
    await new Promise((r) => setTimeout(r, 100));
    const second = await send(big);
    assert.ok(second.status === 503 || second.status === -1, `refused: ${second.status} ${second.body}`);
    if (second.status === 503) assert.match(second.body, /^Too many large reviews in flight: try again$/m);
    assert.equal((await first).status, 200, 'the first large review is decided');
  });

  test('large bodies are bounded in bytes too: one that would take the lane past its bytes gets 503 before it is read, a smaller one fits', async () => {
    const { server: lane, ca: laneCa } = await startLoopbackServer({ admit: async () => PATCHED, maxLargeInFlight: 4, maxLargeBytesInFlight: 300 * 1024 });
    try {
      const sized = (kib: number): string => REVIEW({ ...POD_CREATE, object: { metadata: { annotations: { a: 'x'.repeat(kib * 1024) } } } });
      const held = send(sized(200), { pauseMs: 400, port: lane.port, ca: laneCa });
      await new Promise((r) => setTimeout(r, 100));
      const over = await send(sized(200), { port: lane.port, ca: laneCa });
      assert.ok(over.status === 503 || over.status === -1, `refused: ${over.status} ${over.body}`);
      if (over.status === 503) assert.match(over.body, /^Too many large reviews in flight: try again$/m);
      assert.equal((await send(sized(70), { port: lane.port, ca: laneCa })).status, 200, 'a body that fits beside the held one is decided');
      assert.equal((await held).status, 200, 'the held body is decided');
      assert.equal((await send(sized(200), { port: lane.port, ca: laneCa })).status, 200, 'its bytes were given back');
    } finally {
      await lane.close(100);
    }
  });

  test('the deadline counts from the first byte: a review that waited too long is admitted unchanged without deciding', async () => {
    let called = false;
    behaviour = async () => {
      called = true;
      return PATCHED;
    };
    const reply = await send(REVIEW({ ...POD_CREATE, uid: 'late' }), { pauseMs: 1_200 });
    assert.equal(reply.status, 200);
    assert.deepEqual((JSON.parse(reply.body) as { response: unknown }).response, { uid: 'late', allowed: true });
    assert.equal(called, false);
  });
});
