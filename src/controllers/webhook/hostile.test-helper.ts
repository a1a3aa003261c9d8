/**
 * Hostile requests for the webhook's flood benchmark and e2e test: the shapes that once took it
 * down (3 MB of nested brackets, large bodies of many values) and the malformed reviews it must
 * refuse in one line. Each kind has one body, built once and shared, so a flood of a thousand
 * costs a few tens of MB to hold.
 */

/** One hostile request and the answers that are correct for it. */
export interface HostileRequest {
  readonly kind: string;
  readonly body: Buffer;
  readonly contentType: string;
  /** Statuses that are correct answers (503: large bodies past the server's limit, under the flood). */
  readonly expect: readonly number[];
}

const MB = 1024 * 1024;

function _review(request: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
}

const _POD = { uid: 'hostile', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'hostile', operation: 'CREATE' };

function _kinds(): readonly HostileRequest[] {
  const json = 'application/json';
  const big = [400, 503];
  return [
    // The shape from the issue: ~1.3 s of JSON.parse and "Maximum call stack size exceeded".
    { kind: 'brackets-3mb', body: Buffer.from('['.repeat(3 * MB - 16)), contentType: json, expect: [400, 503] },
    { kind: 'nested-in-object-3mb', body: Buffer.from(`{"a":${'['.repeat(3 * MB - 32)}`), contentType: json, expect: big },
    { kind: 'zeros-3mb', body: Buffer.from(`{"a":[${'0,'.repeat(1.5 * MB - 16)}0]}`), contentType: json, expect: big },
    // A valid envelope whose object holds just under the value limit: parsed, on the worker.
    { kind: 'empty-objects-under-limit', body: Buffer.from(_review({ ..._POD, object: { metadata: {}, junk: Array.from({ length: 120_000 }, () => ({})) } })), contentType: json, expect: [200, 503] },
    // Annotations over Kubernetes' 256 KiB: refused by the parse worker as too large.
    { kind: 'long-string-3mb', body: Buffer.from(_review({ ..._POD, object: { metadata: { annotations: { a: 'x'.repeat(3 * MB - 512) } } } })), contentType: json, expect: big },
    { kind: 'oversized-4mb', body: Buffer.from(`{"a":"${'y'.repeat(4 * MB)}"}`), contentType: json, expect: [413] },
    { kind: 'json-seq', body: Buffer.from(`\x1e${_review({ ..._POD, object: { metadata: {} } })}\n`), contentType: 'application/json-seq', expect: [415] },
    { kind: 'no-operation-no-object', body: Buffer.from(_review({ uid: 'hostile' })), contentType: json, expect: [400] },
    { kind: 'truncated', body: Buffer.from(_review({ ..._POD, object: { metadata: {} } }).slice(0, 50)), contentType: json, expect: [400] },
    { kind: 'wrong-types', body: Buffer.from(_review({ ..._POD, uid: 7, object: 'pod' })), contentType: json, expect: [400] },
    { kind: 'invalid-utf8', body: Buffer.concat([Buffer.from('{"apiVersion":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]), contentType: json, expect: [400] },
    { kind: 'unicode', body: Buffer.from(_review({ ..._POD, namespace: '\u202e\ud800\u0000名前空間🚀'.repeat(1_000), object: { metadata: { labels: { '\u2028': '\u2029' } } } })), contentType: json, expect: [200] },
  ];
}

let _cache: readonly HostileRequest[] | undefined;

/** The kinds of hostile request, each once. */
export function hostileKinds(): readonly HostileRequest[] {
  _cache ??= _kinds();
  return _cache;
}

/** The `i`-th request of a flood: the kinds in turn. */
export function hostileRequest(i: number): HostileRequest {
  const kinds = hostileKinds();
  return kinds[i % kinds.length] as HostileRequest;
}
