/**
 * A linear pre-scan of a JSON body as it streams in, so the webhook never hands `JSON.parse` a
 * body whose parse or whose error message costs more than a real pod's review.
 *
 * Why: a 3 MB body of nested brackets once cost ~1.3 s of blocking work and answered 400
 * "Maximum call stack size exceeded"; a 3 MB array of a million zeros costs hundreds of ms of
 * `JSON.parse` on a busy core. An AdmissionReview is a JSON object of modest depth (a pod's deepest
 * path, through `managedFields`, is about 20 levels) and modest element count, so the scan refuses
 * anything else before it is buffered whole or parsed:
 * - the first non-blank byte must be `{` (this also refuses `application/json-seq`'s RS byte);
 * - with `firstKeys`, the object's first key must be one of them: an AdmissionReview's encoder
 *   writes its type fields (`kind`, `apiVersion`) or `request` first, so a body opening with any
 *   other key (`{"a":[0,0,…`) is refused from its first bytes instead of being read in full;
 * - containers may nest at most `maxDepth` levels;
 * - the body may hold at most `maxValues` containers and separators (`{`, `[`, `,`), which bounds
 *   the objects `JSON.parse` allocates, whatever their size in bytes.
 *
 * The scan only tracks strings (to skip the brackets inside them) and brackets; it does not
 * validate the JSON, which `JSON.parse` still does. It costs a few ms per MB, mostly inside
 * `indexOf` for long strings.
 */

export interface JsonLimits {
  /** Deepest nesting of objects and arrays. */
  readonly maxDepth: number;
  /** Most objects, arrays and separators (`,`) in one body: a bound on the values it holds. */
  readonly maxValues: number;
  /**
   * Keys the top-level object may start with; any other first key is refused. A key written with
   * escapes is not checked (JSON.parse and the review's validation still see it).
   */
  readonly firstKeys?: readonly string[];
}

/**
 * 64 levels is three times the deepest path in a real pod's review. 250,000 values is far above a
 * pod with thousands of environment variables (a few values each, doubled by managedFields) and
 * bounds what one body makes `JSON.parse` allocate to some tens of MB, on the parse worker. The
 * first key: the apiserver sends `{"kind":"AdmissionReview","apiVersion":…,"request":…}` (its Go
 * struct's field order); clients that write `apiVersion` first, or `request`, pass too.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxValues: 250_000, firstKeys: ['kind', 'apiVersion', 'request'] };

export type JsonLimitCode = 'not-an-object' | 'unexpected-first-key' | 'too-deep' | 'too-many-values';

/** Why a body was refused before parsing. */
export interface JsonLimitViolation {
  readonly code: JsonLimitCode;
  readonly message: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

function _isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Scans a body chunk by chunk; {@link feed} returns the first violation, after which the caller
 * stops reading.
 *
 * @example
 * const scan = new JsonLimitScanner(DEFAULT_JSON_LIMITS);
 * req.on('data', (chunk) => { const v = scan.feed(chunk); if (v) refuse(400, v.message); });
 */
export class JsonLimitScanner {
  readonly #limits: JsonLimits;
  /** The longest of `firstKeys`, in bytes: a first key that grows past it is none of them. */
  readonly #longestKey: number;
  #started = false;
  /**
   * Checking the first key: `expect` right after the top-level `{`, `read` inside the key (its
   * bytes so far in `#key`), `done` once checked or when there is nothing to check.
   */
  #firstKey: 'expect' | 'read' | 'done';
  #key = '';
  #depth = 0;
  #values = 0;
  #inString = false;
  /** The previous chunk ended on a backslash inside a string: the next byte is escaped. */
  #escaped = false;
  #violation: JsonLimitViolation | undefined;

  constructor(limits: JsonLimits = DEFAULT_JSON_LIMITS) {
    this.#limits = limits;
    this.#longestKey = Math.max(0, ...(limits.firstKeys ?? []).map((k) => Buffer.byteLength(k)));
    this.#firstKey = limits.firstKeys === undefined ? 'done' : 'expect';
  }

  /** Objects, arrays and separators seen so far: about the number of values. */
  get values(): number {
    return this.#values;
  }

  /** Scans the next chunk; returns the violation once one is found (and for every later chunk). */
  feed(chunk: Uint8Array): JsonLimitViolation | undefined {
    if (this.#violation !== undefined) return this.#violation;
    const n = chunk.length;
    let i = 0;
    // Next quote and backslash at or after i, found with native indexOf and cached, so a long
    // string (or a string of many backslashes) is crossed in linear time.
    let nextQuote = -2;
    let nextBackslash = -2;
    while (i < n) {
      if (this.#inString) {
        if (this.#escaped) {
          this.#escaped = false;
          i += 1;
          continue;
        }
        if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
        if (this.#firstKey === 'read') {
          const violation = this.#readFirstKey(chunk, i, nextQuote, nextBackslash);
          if (violation !== undefined) return violation;
        }
        if (nextBackslash !== -1 && (nextQuote === -1 || nextBackslash < nextQuote)) {
          // Skip the escaped byte; a \uXXXX escape's hex digits are plain bytes.
          if (nextBackslash + 1 >= n) {
            this.#escaped = true;
            return undefined;
          }
          i = nextBackslash + 2;
          continue;
        }
        if (nextQuote === -1) return undefined;
        this.#inString = false;
        i = nextQuote + 1;
        continue;
      }
      const byte = chunk[i] as number;
      i += 1;
      if (!this.#started) {
        if (_isBlank(byte)) continue;
        this.#started = true;
        if (byte !== OPEN_BRACE) {
          return this.#refuse('not-an-object', `expected a JSON object, got a body starting with ${_describeByte(byte)}`);
        }
      }
      if (this.#firstKey === 'expect' && this.#depth === 1 && !_isBlank(byte)) this.#firstKey = byte === QUOTE ? 'read' : 'done';
      if (byte === QUOTE) {
        this.#inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.#depth += 1;
        this.#values += 1;
        if (this.#depth > this.#limits.maxDepth) return this.#refuse('too-deep', `JSON nested deeper than ${this.#limits.maxDepth} levels`);
        if (this.#values > this.#limits.maxValues) return this.#tooMany();
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.#depth -= 1;
      } else if (byte === COMMA) {
        this.#values += 1;
        if (this.#values > this.#limits.maxValues) return this.#tooMany();
      }
    }
    return undefined;
  }

  /**
   * Adds the first key's bytes from `from` to its end (or the chunk's) and checks it once whole.
   * `quote` and `backslash` are the next ones at or after `from` (-1: none in this chunk).
   */
  #readFirstKey(chunk: Uint8Array, from: number, quote: number, backslash: number): JsonLimitViolation | undefined {
    const escape = backslash !== -1 && (quote === -1 || backslash < quote);
    const end = escape ? backslash : quote === -1 ? chunk.length : quote;
    // Only as many bytes as the longest allowed key and one more: enough to tell it is none of them.
    this.#key += Buffer.from(chunk.buffer, chunk.byteOffset + from, Math.min(end - from, this.#longestKey + 1 - this.#key.length)).toString('latin1');
    const tooLong = this.#key.length > this.#longestKey;
    if (!tooLong && escape) {
      // An escaped key: rare, and left to JSON.parse and the review's own validation.
      this.#firstKey = 'done';
      return undefined;
    }
    if (!tooLong && quote === -1) return undefined;
    this.#firstKey = 'done';
    const key = Buffer.from(this.#key, 'latin1').toString('utf8');
    if (!tooLong && (this.#limits.firstKeys ?? []).includes(key)) return undefined;
    const shown = tooLong ? `${JSON.stringify(key).slice(0, -1)}…"` : JSON.stringify(key);
    return this.#refuse('unexpected-first-key', `expected an AdmissionReview, got an object whose first key is ${shown}`);
  }

  #tooMany(): JsonLimitViolation {
    return this.#refuse('too-many-values', `more than ${this.#limits.maxValues} JSON values`);
  }

  #refuse(code: JsonLimitCode, message: string): JsonLimitViolation {
    this.#violation = { code, message };
    return this.#violation;
  }
}

function _describeByte(byte: number): string {
  if (byte >= 0x21 && byte <= 0x7e) return `"${String.fromCharCode(byte)}"`;
  return `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Scans a whole body at once.
 *
 * @example
 * checkJsonLimits(Buffer.from('[[[]]]'))?.message; // 'expected a JSON object, got a body starting with "["'
 */
export function checkJsonLimits(body: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonLimitViolation | undefined {
  return new JsonLimitScanner(limits).feed(body);
}
