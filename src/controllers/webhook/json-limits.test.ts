import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkJsonLimits, JsonLimitScanner, type JsonLimits } from './json-limits.js';

/** The reference: depth and value count computed on the parsed value. */
function _measure(value: unknown, depth = 0): { depth: number; values: number } {
  if (typeof value !== 'object' || value === null) return { depth, values: 0 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let deepest = depth + 1;
  let values = 1 + Math.max(0, children.length - 1);
  for (const child of children) {
    const m = _measure(child, depth + 1);
    deepest = Math.max(deepest, m.depth);
    values += m.values;
  }
  return { depth: deepest, values };
}

function _scanInChunks(text: string, cuts: readonly number[], limits: JsonLimits): string | undefined {
  const bytes = Buffer.from(text, 'utf8');
  const scanner = new JsonLimitScanner(limits);
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b).concat(bytes.length)) {
    const verdict = scanner.feed(bytes.subarray(from, cut));
    from = cut;
    if (verdict) return verdict.code;
  }
  return undefined;
}

test('the streaming scan agrees with the parsed depth and value count, however the body is cut', () => {
  const objectJson = fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 8 }), { maxKeys: 6 });
  fc.assert(
    fc.property(objectJson, fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 60 }), (value, cuts, maxDepth, maxValues) => {
      // Strings full of quotes, backslashes, brackets and non-ASCII: JSON.stringify escapes them as a real body would.
      const text = JSON.stringify(value);
      const m = _measure(value);
      const verdict = _scanInChunks(text, cuts, { maxDepth, maxValues });
      const expected = m.depth > maxDepth || m.values > maxValues;
      assert.equal(verdict !== undefined, expected, `${text}: depth ${m.depth}/${maxDepth}, values ${m.values}/${maxValues}, verdict ${verdict}`);
      if (m.depth > maxDepth && m.values <= maxValues) assert.equal(verdict, 'too-deep');
      if (m.values > maxValues && m.depth <= maxDepth) assert.equal(verdict, 'too-many-values');
    }),
    { numRuns: 2_000 },
  );
});

test('a body that is not an object is refused at its first byte, naming it', () => {
  assert.equal(checkJsonLimits(Buffer.from('   [[[['))?.message, 'expected a JSON object, got a body starting with "["');
  assert.equal(checkJsonLimits(Buffer.from('\x1e{"a":1}'))?.message, 'expected a JSON object, got a body starting with byte 0x1e');
  assert.equal(checkJsonLimits(Buffer.from('"x"'))?.code, 'not-an-object');
  assert.equal(checkJsonLimits(Buffer.from('')), undefined, 'an empty body is left to JSON.parse');
});

test('brackets inside strings, escaped quotes and a backslash at a chunk boundary do not count', () => {
  const limits = { maxDepth: 2, maxValues: 100 };
  assert.equal(checkJsonLimits(Buffer.from('{"a":"[[[[{{{{\\"[[[[","b":["\\\\"]}'), limits), undefined);
  const scanner = new JsonLimitScanner(limits);
  assert.equal(scanner.feed(Buffer.from('{"a":"x\\')), undefined);
  assert.equal(scanner.feed(Buffer.from('"[[[[[[","b":[1]}')), undefined, 'the escaped quote keeps the string open');
  assert.equal(checkJsonLimits(Buffer.from('{"a":[[1]]}'), limits)?.message, 'JSON nested deeper than 2 levels');
});

test('a 3 MB body of nested brackets or of a million values is refused in a linear scan', () => {
  const deep = Buffer.from(`{"request":${'['.repeat(3_000_000)}`);
  const wide = Buffer.from(`{"request":[${'0,'.repeat(1_500_000)}0]}`);
  const started = performance.now();
  assert.equal(checkJsonLimits(deep)?.code, 'too-deep');
  assert.equal(checkJsonLimits(wide)?.code, 'too-many-values');
  const longString = Buffer.from(`{"request":"${'\\\\'.repeat(1_500_000)}"}`);
  assert.equal(checkJsonLimits(longString), undefined);
  // Generous for a busy 2-core machine: a quadratic scan would take minutes.
  assert.ok(performance.now() - started < 2_000, `took ${(performance.now() - started).toFixed(0)} ms`);
});

test('with firstKeys, an object opening with any other key is refused from its first bytes, naming the key', () => {
  const limits: JsonLimits = { maxDepth: 64, maxValues: 1_000, firstKeys: ['kind', 'apiVersion', 'request'] };
  for (const ok of ['{"kind":"AdmissionReview"}', ' { "apiVersion" : "v1"}', '{"request":{}}', '{}', '{ }', '{"kind"']) assert.equal(checkJsonLimits(Buffer.from(ok), limits), undefined, ok);
  assert.equal(checkJsonLimits(Buffer.from(`{"a":[${'0,'.repeat(100_000)}`), limits)?.message, 'expected an AdmissionReview, got an object whose first key is "a"');
  assert.equal(checkJsonLimits(Buffer.from('{"kinds":1}'), limits)?.code, 'unexpected-first-key');
  assert.equal(checkJsonLimits(Buffer.from('{"":1}'), limits)?.message, 'expected an AdmissionReview, got an object whose first key is ""');
  // Past the longest allowed key without its closing quote, it is none of them: no need to read the rest.
  assert.equal(checkJsonLimits(Buffer.from(`{"${'x'.repeat(100_000)}`), limits)?.message, 'expected an AdmissionReview, got an object whose first key is "xxxxxxxxxxx…"');
  assert.equal(checkJsonLimits(Buffer.from(String.raw`{"\n\u0000x":1}`), limits), undefined, 'an escaped key is left to JSON.parse and validation');
  assert.equal(checkJsonLimits(Buffer.from('{"kind":1,"a":2}'), limits), undefined, 'only the first key is checked');
  assert.equal(checkJsonLimits(Buffer.from('{"a":1}'))?.code, 'unexpected-first-key', 'the defaults check it');
});

test('the first key is checked however the body is cut', () => {
  const keys = ['kind', 'apiVersion', 'request'];
  const limits: JsonLimits = { maxDepth: 64, maxValues: 1_000, firstKeys: keys };
  fc.assert(
    fc.property(fc.oneof(fc.constantFrom(...keys, 'kin', 'kindx', 'requests', 'apiversion'), fc.string({ unit: 'grapheme', maxLength: 14 })), fc.jsonValue({ maxDepth: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (key, value, cuts) => {
      const text = `{${JSON.stringify(key)}:${JSON.stringify(value)}}`;
      const verdict = _scanInChunks(text, cuts, limits);
      // A key JSON.stringify escapes is not checked, unless what comes before its first escape is
      // already longer than any allowed key.
      const raw = JSON.stringify(key).slice(1, -1);
      const escaped = raw.includes('\\') && Buffer.byteLength(raw.slice(0, raw.indexOf('\\'))) <= Math.max(...keys.map((k) => k.length));
      assert.equal(verdict, keys.includes(key) || escaped ? undefined : 'unexpected-first-key', text);
    }),
    { numRuns: 2_000 },
  );
});
