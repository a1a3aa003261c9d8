/**
 * The webhook server fuzzed on loopback: at least 10,000 generated requests (malformed,
 * truncated, oversized, deeply nested, wrong-typed and unicode-laden reviews, next to valid ones),
 * seeded and reproducible (`STOWAGE_FUZZ_SEED=<seed>` replays a run; the seed is printed), against
 * the real HTTPS server and the real admitter. Every request must get the answer its generator
 * promised (200 with its uid, or the 4xx of its defect, in one line); the server must keep
 * serving, and its heap must come back to its baseline after a GC.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import fc from 'fast-check';
import { DEFAULT_WEBHOOK_CONFIG } from '../../config/webhook-config.js';
import { heapAfterGc } from '../../runtime/heap.test-helper.js';
import { PlacementAdmitter } from './admitter.js';
import { postReview } from './flood.test-helper.js';
import { DEFAULT_JSON_LIMITS } from './json-limits.js';
import { ReservationLedger } from './ledger.js';
import { PlacementIndex } from './placement-index.js';
import type { WebhookServer } from './server.js';
import { startLoopbackServer } from './server.test-helper.js';

const COUNT = 10_400;
const MAX_BODY = 64 * 1024;
const SEED = process.env['STOWAGE_FUZZ_SEED'] === undefined ? Date.now() % 2 ** 31 : Number(process.env['STOWAGE_FUZZ_SEED']);

/** A generated request and the answer it must get. */
interface Case {
  readonly what: string;
  readonly body: Buffer;
  readonly contentType: string;
  /** Acceptable statuses; -1: the server closed the connection on a refused body. */
  readonly expect: readonly number[];
  /** For a 200: the uid the answer must carry. */
  readonly uid?: string;
}

const JSON_TYPE = 'application/json';

/** Strings a hostile client likes: control characters, lone surrogates, RTL marks, emoji, NUL. */
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', '\u0000', '\ud800', '\udfff\ud800', '\u202e\u2028\u2029', '🚀'.repeat(50), '"\\', '\n\r\t', '{"a":[', ']]]}}}'),
);

/** Any JSON value, with nasty strings, for wrong-typed fields and extra junk. */
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A pod object: realistic keys with nasty values, as a mutated pod would look. */
const podObject = fc.record({
  metadata: fc.record(
    {
      generateName: nastyString,
      namespace: nastyString,
      labels: fc.dictionary(nastyString, nastyString, { maxKeys: 3 }),
      annotations: fc.dictionary(nastyString, nastyString, { maxKeys: 3 }),
      ownerReferences: fc.array(fc.record({ apiVersion: fc.constant('apps/v1'), kind: fc.constantFrom('ReplicaSet', 'StatefulSet', 'Job', '\u0000'), name: nastyString, uid: nastyString, controller: fc.boolean() }), { maxLength: 2 }),
    },
    { requiredKeys: [] },
  ),
  spec: fc.oneof(anyJson, fc.record({ containers: fc.array(fc.record({ name: nastyString, resources: anyJson }), { maxLength: 2 }), tolerations: anyJson, affinity: anyJson }, { requiredKeys: [] })),
});

/** A valid review's request; uids are unique so each answer can be matched. */
function validRequest(uid: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    uid: fc.constant(uid),
    kind: fc.constantFrom({ group: '', version: 'v1', kind: 'Pod' }, { group: 'apps', version: 'v1', kind: 'Deployment' }),
    resource: fc.constant({ group: '', version: 'v1', resource: 'pods' }),
    namespace: nastyString,
    name: nastyString,
    operation: fc.constantFrom('CREATE', 'CREATE', 'CREATE', 'UPDATE'),
    object: podObject,
    dryRun: fc.boolean(),
    userInfo: anyJson,
  });
}

function review(request: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request, ...extra });
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isRecord = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field mutations that make a review invalid for certain: a wrong type, or a required field gone. */
const mutations: readonly { readonly name: string; readonly apply: (r: Record<string, unknown>, junk: unknown) => unknown }[] = [
  { name: 'uid missing', apply: (r) => ({ ...r, uid: undefined }) },
  { name: 'uid wrong type', apply: (r, j) => ({ ...r, uid: isString(j) && j !== '' ? 42 : j ?? 42 }) },
  { name: 'operation missing', apply: (r) => ({ ...r, operation: undefined }) },
  { name: 'operation unknown', apply: (r, j) => ({ ...r, operation: isString(j) && !['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(j as string) && j !== '' ? j : 'PATCH' }) },
  { name: 'object missing', apply: (r) => ({ ...r, operation: 'CREATE', object: undefined }) },
  { name: 'object wrong type', apply: (r, j) => ({ ...r, object: isRecord(j) || j === null ? [j] : j }) },
  { name: 'kind wrong type', apply: (r, j) => ({ ...r, kind: isRecord(j) || j === null ? 'Pod' : j }) },
  { name: 'namespace wrong type', apply: (r, j) => ({ ...r, namespace: isString(j) || j === null ? 7 : j }) },
  { name: 'dryRun wrong type', apply: (r, j) => ({ ...r, dryRun: typeof j === 'boolean' || j === null ? 'yes' : j }) },
  { name: 'request wrong type', apply: (_r, j) => (isRecord(j) || j === null ? [j] : j) },
];

/** Stands for the uid in generated bodies; replaced by `fuzz-<i>` so that every answer can be matched. */
const UID = '__FUZZ_UID__';

function caseArbitrary(): fc.Arbitrary<Case> {
  const uid = UID;
  const json = (what: string, text: string, expect: readonly number[], okUid?: string): Case => ({ what, body: Buffer.from(text), contentType: JSON_TYPE, expect, ...(okUid === undefined ? {} : { uid: okUid }) });
  return fc.oneof(
    // Valid reviews, some with unknown extra fields: 200 with the uid.
    { weight: 4, arbitrary: fc.tuple(validRequest(uid), fc.dictionary(nastyString, anyJson, { maxKeys: 2 })).map(([r, extra]) => json('valid', review(r, Object.fromEntries(Object.entries(extra).filter(([k]) => !['apiVersion', 'kind', 'request'].includes(k)))), [200], uid)) },
    // One field wrong: 400.
    { weight: 4, arbitrary: fc.tuple(validRequest(uid), fc.constantFrom(...mutations), anyJson).map(([r, m, junk]) => json(`mutated: ${m.name}`, review(m.apply(r, junk)), [400])) },
    // Wrong apiVersion or kind: 400.
    { weight: 1, arbitrary: fc.tuple(validRequest(uid), anyJson).map(([r, junk]) => json('wrong apiVersion', JSON.stringify({ apiVersion: junk === 'admission.k8s.io/v1' ? 'v1' : junk, kind: 'AdmissionReview', request: r }), [400])) },
    // Truncated somewhere inside: 400 (never valid JSON, since the whole is one object).
    { weight: 3, arbitrary: fc.tuple(validRequest(uid), fc.double({ min: 0, max: 1, noNaN: true })).map(([r, at]) => { const text = review(r); return json('truncated', text.slice(0, Math.floor(at * (text.length - 1))), [400]); }) },
    // Any JSON value that is not an object: 400 at the first byte.
    { weight: 1, arbitrary: anyJson.filter((v) => !isRecord(v)).map((v) => json('not an object', JSON.stringify(v), [400])) },
    // Random bytes, invalid UTF-8 included: 400.
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 200 }).map((bytes) => ({ what: 'random bytes', body: Buffer.from(bytes), contentType: JSON_TYPE, expect: [400] })) },
    // Nested deeper than the limit, as arrays or objects, inside a valid-looking review: 400.
    { weight: 2, arbitrary: fc.tuple(fc.integer({ min: DEFAULT_JSON_LIMITS.maxDepth + 1, max: 20_000 }), fc.boolean(), fc.boolean()).map(([depth, arrays, closed]) => {
      const open = arrays ? '['.repeat(depth) : '{"a":'.repeat(depth);
      const close = closed ? (arrays ? ']'.repeat(depth) : '}'.repeat(depth)) : '';
      return json(`nested ${depth}`, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${uid}","operation":"CREATE","object":{"x":${open}1${close}}}}`.slice(0, MAX_BODY), [400, -1]);
    }) },
    // Over the body limit: 413 (or a reset while the client still writes).
    { weight: 1, arbitrary: fc.integer({ min: MAX_BODY + 1, max: MAX_BODY + 16 * 1024 }).map((size) => json('oversized', `{"a":"${'x'.repeat(size)}"}`, [413, -1])) },
    // Many values under the byte limit, in a valid review: parsed on the worker, then 200.
    { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 30_000 }).map((n) => json('many values', review({ uid, operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, object: { metadata: {}, x: new Array<number>(n).fill(0) } }), [200], uid)) },
    // A content type other than application/json: 415.
    { weight: 1, arbitrary: fc.tuple(validRequest(uid), fc.constantFrom('application/json-seq', 'text/plain', 'application/jsonx', 'application/json; charset=latin1', 'multipart/form-data', '')).map(([r, type]) => ({ what: `content type "${type}"`, body: Buffer.from(review(r)), contentType: type, expect: [415] })) },
  );
}

let server: WebhookServer;
let ca: string;

before(async () => {
  const index = new PlacementIndex({ capacityTypeRules: DEFAULT_WEBHOOK_CONFIG.capacityTypeRules, capacityLabel: DEFAULT_WEBHOOK_CONFIG.capacityLabel });
  const admitter = new PlacementAdmitter({ config: DEFAULT_WEBHOOK_CONFIG, index, ledger: new ReservationLedger(DEFAULT_WEBHOOK_CONFIG.reservationTtlMs) });
  // A generous deadline: on a busy CI machine a valid review must not be shed into a different answer.
  ({ server, ca } = await startLoopbackServer({ admit: (r, s) => admitter.admit(r, s), maxBodyBytes: MAX_BODY, deadlineMs: 20_000 }));
});

after(async () => {
  await server.close(1_000);
});

function check(c: Case, status: number, body: string): string | undefined {
  if (!c.expect.includes(status)) return `expected ${c.expect.join(' or ')}, got ${status}: ${body.slice(0, 160)}`;
  if (status === 200) {
    const answer = JSON.parse(body) as { apiVersion?: string; kind?: string; response?: { uid?: string; allowed?: boolean } };
    if (answer.apiVersion !== 'admission.k8s.io/v1' || answer.kind !== 'AdmissionReview' || answer.response?.allowed !== true) return `not an allowed AdmissionReview: ${body.slice(0, 160)}`;
    if (answer.response.uid !== c.uid) return `answered uid ${answer.response.uid}, expected ${c.uid}`;
  } else if (status !== -1) {
    if (body.trimEnd().split('\n').length !== 1 || body.trim() === '') return `not one line: ${JSON.stringify(body.slice(0, 160))}`;
    if (/call stack|\[object Object\]/i.test(body)) return `unhelpful message: ${body.slice(0, 160)}`;
  }
  return undefined;
}

test(`fuzz: ${COUNT} generated requests each get the answer promised, the server survives, its heap returns to baseline`, { timeout: 10 * 60_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (replay with STOWAGE_FUZZ_SEED=${SEED})`);
  const cases = fc.sample(caseArbitrary(), { seed: SEED, numRuns: COUNT }).map((c, i): Case => {
    if (c.uid === undefined || !c.body.includes(UID)) return c;
    return { ...c, body: Buffer.from(c.body.toString('utf8').replaceAll(UID, `fuzz-${i}`)), uid: `fuzz-${i}` };
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca });
  const failures: string[] = [];
  const byWhat = new Map<string, number>();
  let baseline = 0;
  let next = 0;
  const run = async (until: number): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= until) return;
      const c = cases[i] as Case;
      const reply = await postReview({ port: server.port, agent, body: c.body, contentType: c.contentType, path: '/mutate' });
      // A reset is only an answer for bodies the server refuses mid-read.
      const status = reply.status === -1 && !['ECONNRESET', 'EPIPE'].includes(reply.body) ? -2 : reply.status;
      const problem = check(c, status, reply.body);
      if (problem !== undefined && failures.length < 20) failures.push(`#${i} ${c.what}: ${problem}`);
      const kind = c.what.replace(/\d+/g, 'N');
      byWhat.set(kind, (byWhat.get(kind) ?? 0) + 1);
    }
  };
  const warmUp = 500;
  await Promise.all(Array.from({ length: 8 }, () => run(warmUp)));
  baseline = heapAfterGc();
  await Promise.all(Array.from({ length: 8 }, () => run(COUNT)));
  agent.destroy();
  // Idle sockets closed, in-flight work done: what is left on the heap is what the server kept.
  await new Promise((r) => setTimeout(r, 200));
  const afterHeap = heapAfterGc();
  t.diagnostic(`${COUNT} requests: ${[...byWhat].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w} ${n}`).join(', ')}`);
  t.diagnostic(`heap after GC: ${(baseline / 2 ** 20).toFixed(1)} MiB after the warm-up, ${(afterHeap / 2 ** 20).toFixed(1)} MiB after the run`);
  assert.deepEqual(failures, [], `seed ${SEED}`);
  const valid = await postReview({ port: server.port, agent: new Agent({ ca }), body: review({ uid: 'last', operation: 'CREATE', object: { metadata: {} } }), path: '/mutate' });
  assert.equal(valid.status, 200, 'still serving');
  // The index, ledger and metrics keep nothing per rejected request; a leak of even 1 KiB per request would show as ~10 MiB.
  assert.ok(afterHeap - baseline < 4 * 2 ** 20, `heap grew by ${((afterHeap - baseline) / 2 ** 20).toFixed(1)} MiB (seed ${SEED})`);
});
