/**
 * Kubernetes resource quantities (`500m`, `1.5Gi`, `2e3`), exact, as
 * k8s.io/apimachinery/pkg/api/resource parses and prints them.
 *
 * A quantity is held as a bigint count of nano-units: upstream keeps no precision below 1n
 * (finer values round up to it), so nanos are exact for every value it can represent, and plain
 * bigint arithmetic replaces its int64/inf.Dec pair.
 */

/** How a quantity prints: `12M` (DecimalSI), `12Mi` (BinarySI) or `12e6` (DecimalExponent). */
export const QuantityFormat = {
  DecimalSI: 'DecimalSI',
  BinarySI: 'BinarySI',
  DecimalExponent: 'DecimalExponent',
} as const;
export type QuantityFormat = (typeof QuantityFormat)[keyof typeof QuantityFormat];

/** A string that is not a quantity. `input` is the string as given; `reason` says what is wrong. */
export class QuantityError extends Error {
  override readonly name = 'QuantityError';
  readonly input: string;
  readonly reason: string;

  /** @param context - words placed after the quoted input, e.g. `for resource "cpu"` */
  constructor(input: string, reason: string, context?: string) {
    super(`Invalid quantity ${_quote(input)}${context === undefined ? '' : ` ${context}`}: ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}

const NANOS_PER_UNIT = 1_000_000_000n;
const NANOS_PER_MILLI = 1_000_000n;
/** Upstream silently caps parsed BinarySI values at the int64 maximum ("8Ei" parses as 2^63-1). */
const MAX_BINARY_NANOS = (2n ** 63n - 1n) * NANOS_PER_UNIT;
/**
 * Upstream accepts any decimal magnitude (inf.Dec scales lazily). Here `1e2000000000` would be a
 * gigabyte-sized bigint, so values with more than this many integer digits are rejected instead:
 * no resource amount comes anywhere near 10^100.
 */
const MAX_INTEGER_DIGITS = 100;

const DECIMAL_SUFFIXES: ReadonlyMap<string, number> = new Map([['n', -9], ['u', -6], ['m', -3], ['', 0], ['k', 3], ['M', 6], ['G', 9], ['T', 12], ['P', 15], ['E', 18]]);
const BINARY_SUFFIXES: ReadonlyMap<string, number> = new Map([['Ki', 10], ['Mi', 20], ['Gi', 30], ['Ti', 40], ['Pi', 50], ['Ei', 60]]);
const DECIMAL_SUFFIX_BY_EXPONENT: ReadonlyMap<number, string> = new Map([...DECIMAL_SUFFIXES].map(([s, e]) => [e, s]));
const BINARY_SUFFIX_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
const SUFFIX_CHARS = 'eEinumkKMGTP';

/**
 * An immutable, exact Kubernetes resource quantity.
 *
 * @example
 * ```ts
 * Quantity.parse('1.5Gi').toString(); // "1536Mi"
 * Quantity.parse('250m').milliValue(); // 250
 * Quantity.parse('0.5').add(Quantity.parse('500m')).toString(); // "1"
 * ```
 */
export class Quantity {
  /** The value 0 in DecimalSI. */
  static readonly ZERO: Quantity = new Quantity(0n, QuantityFormat.DecimalSI);

  readonly #nanos: bigint;
  readonly #format: QuantityFormat;
  /** Canonical string, computed on first use: printing costs more than parsing. */
  #text: string | undefined;

  private constructor(nanos: bigint, format: QuantityFormat) {
    this.#nanos = nanos;
    this.#format = format;
  }

  /**
   * Parses a quantity as upstream `resource.ParseQuantity` does, including its leniencies: a
   * sign or dot alone (`"-"`, `"."`) and a bare suffix (`"Mi"`) are zero, `"1."` is 1, values
   * finer than 1n round away from zero to 1n, and BinarySI values are capped at 2^63-1.
   * Whitespace is never accepted.
   *
   * Deviations, each where upstream misbehaves: an exponent outside int32 is rejected (upstream
   * silently wraps it, so `1e4294967296` is 1 there), and so is a value of more than 100 integer
   * digits (see {@link MAX_INTEGER_DIGITS}).
   *
   * @throws {QuantityError} when `text` is not a quantity
   */
  static parse(text: string): Quantity {
    if (text.length === 0) throw new QuantityError(text, 'empty string');
    if (text.trim() !== text) throw new QuantityError(text, 'leading or trailing whitespace');
    const scanned = _scan(text);
    if (typeof scanned === 'string') throw new QuantityError(text, scanned);
    const { negative, sawDigit, digits, fractionDigits, suffix } = scanned;

    let format: QuantityFormat;
    let nanos: bigint;
    const decimalExponent = DECIMAL_SUFFIXES.get(suffix);
    const binaryPower = BINARY_SUFFIXES.get(suffix);
    if (decimalExponent !== undefined || (binaryPower === undefined && (suffix[0] === 'e' || suffix[0] === 'E'))) {
      let exponent: number;
      if (decimalExponent !== undefined) {
        format = QuantityFormat.DecimalSI;
        exponent = decimalExponent;
      } else {
        format = QuantityFormat.DecimalExponent;
        const parsed = _parseExponent(suffix.slice(1));
        if (parsed === undefined) throw new QuantityError(text, `unknown suffix ${_quote(suffix)}`);
        if (typeof parsed === 'string') throw new QuantityError(text, parsed);
        exponent = parsed;
      }
      // Upstream reads a number without digits as 0 on its int64 fast path, but its inf.Dec path
      // (taken below nano scale) rejects it: "e-9" is 0 while "e-10" is an error.
      if (!sawDigit && exponent < -9) throw new QuantityError(text, 'no digits');
      const magnitude = _decimalToNanos(digits + fractionDigits, exponent - fractionDigits.length);
      if (magnitude === undefined) throw new QuantityError(text, `out of range: more than ${MAX_INTEGER_DIGITS} integer digits`);
      nanos = magnitude;
    } else if (binaryPower !== undefined) {
      format = QuantityFormat.BinarySI;
      // Same fast/slow split as above: upstream's int64 path only handles Ki..Ti without digits.
      if (!sawDigit && binaryPower >= 50) throw new QuantityError(text, 'no digits');
      const coefficient = BigInt((digits || '0') + fractionDigits) << BigInt(binaryPower);
      let magnitude = _roundUpDivide(coefficient * NANOS_PER_UNIT, 10n ** BigInt(fractionDigits.length));
      if (magnitude > MAX_BINARY_NANOS) magnitude = MAX_BINARY_NANOS;
      // Below 1 there is no binary suffix to print, so upstream switches such values to DecimalSI.
      if (magnitude > 0n && magnitude < NANOS_PER_UNIT) format = QuantityFormat.DecimalSI;
      nanos = magnitude;
    } else {
      throw new QuantityError(text, `unknown suffix ${_quote(suffix)}`);
    }
    return new Quantity(negative ? -nanos : nanos, format);
  }

  /**
   * Builds `milli / 1000`, as upstream `NewMilliQuantity`.
   * @throws {RangeError} when `milli` is not a safe integer
   */
  static fromMilli(milli: number, format: QuantityFormat = QuantityFormat.DecimalSI): Quantity {
    return new Quantity(_safeBigInt(milli, 'milli value') * NANOS_PER_MILLI, format);
  }

  /**
   * Builds `value` units, as upstream `NewQuantity`.
   * @throws {RangeError} when `value` is not a safe integer
   */
  static fromValue(value: number, format: QuantityFormat = QuantityFormat.DecimalSI): Quantity {
    return new Quantity(_safeBigInt(value, 'value') * NANOS_PER_UNIT, format);
  }

  /** Builds `nanos / 10^9` exactly. */
  static fromNanos(nanos: bigint, format: QuantityFormat = QuantityFormat.DecimalSI): Quantity {
    return new Quantity(nanos, format);
  }

  /** The exact value in units of 10^-9. */
  get nanos(): bigint {
    return this.#nanos;
  }

  get format(): QuantityFormat {
    return this.#format;
  }

  /**
   * The value in thousandths, rounded away from zero (`1n` → 1), as upstream `MilliValue()`
   * (which rounds negative inf.Dec values toward +∞ instead; negative requests are invalid anyway).
   * Exact up to `Number.MAX_SAFE_INTEGER`, the nearest double beyond.
   */
  milliValue(): number {
    return Number(_roundUpDivide(this.#nanos, NANOS_PER_MILLI));
  }

  /** The value in units, rounded away from zero (`1m` → 1), as upstream `Value()`. See {@link milliValue}. */
  value(): number {
    return Number(_roundUpDivide(this.#nanos, NANOS_PER_UNIT));
  }

  isZero(): boolean {
    return this.#nanos === 0n;
  }

  /** -1, 0 or 1. */
  sign(): -1 | 0 | 1 {
    return this.#nanos < 0n ? -1 : this.#nanos > 0n ? 1 : 0;
  }

  /** The sum. Keeps this format, or takes `other`'s when this is zero, as upstream `Add`. */
  add(other: Quantity): Quantity {
    return new Quantity(this.#nanos + other.#nanos, this.#nanos === 0n ? other.#format : this.#format);
  }

  /** The difference. Keeps this format, or takes `other`'s when this is zero, as upstream `Sub`. */
  sub(other: Quantity): Quantity {
    return new Quantity(this.#nanos - other.#nanos, this.#nanos === 0n ? other.#format : this.#format);
  }

  neg(): Quantity {
    return new Quantity(-this.#nanos, this.#format);
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`; formats are ignored. */
  cmp(other: Quantity): -1 | 0 | 1 {
    return this.#nanos < other.#nanos ? -1 : this.#nanos > other.#nanos ? 1 : 0;
  }

  /** Same value; formats are ignored, as upstream `Equal`. */
  equals(other: Quantity): boolean {
    return this.#nanos === other.#nanos;
  }

  /**
   * The canonical form, as upstream `String()`: the largest suffix that loses no precision and
   * leaves no fraction (`1.5` → `1500m`, `1.5Gi` → `1536Mi`, `1024Ki` → `1Mi`). A BinarySI value
   * below 1024 in magnitude or with a fraction prints as DecimalSI (`0.5Ki` → `512`); DecimalSI
   * beyond `E` falls back to an exponent (`1000E` → `1e21`).
   *
   * Two deviations: a freshly parsed upstream quantity echoes its input when the input passes a
   * quick canonical check (`"5.444T"`, `"+1"`, `"1E3"`, `"1."`), where this prints the true
   * canonical form (`5444G`, `1`, `1e3`, `1`), as upstream itself does after any arithmetic; and a
   * BinarySI value of 1024Ei or more, which upstream prints without a suffix (a wrong value),
   * prints here with `Ei`.
   */
  toString(): string {
    this.#text ??= _format(this.#nanos, this.#format);
    return this.#text;
  }

  toJSON(): string {
    return this.toString();
  }
}

interface _Scanned {
  readonly negative: boolean;
  /** Any digit at all, leading zeros included: upstream's slow path rejects a number without one. */
  readonly sawDigit: boolean;
  /** Integer digits without leading zeros; empty when there are none. */
  readonly digits: string;
  readonly fractionDigits: string;
  readonly suffix: string;
}

/**
 * Splits a quantity string as upstream `parseQuantityString` does: sign, digits, optional
 * fraction, then a suffix of letters from `eEinumkKMGTP` with an optional signed integer.
 * Returns the reason when the string does not fit that shape.
 */
function _scan(text: string): _Scanned | string {
  const end = text.length;
  let pos = 0;
  let negative = false;
  if (text[0] === '-') {
    negative = true;
    pos++;
  } else if (text[0] === '+') {
    pos++;
  }
  const signEnd = pos;
  while (pos < end && text[pos] === '0') pos++;
  const sawZero = pos > signEnd;
  let start = pos;
  while (pos < end && _isDigit(text.charCodeAt(pos))) pos++;
  const digits = text.slice(start, pos);
  let fractionDigits = '';
  if (pos < end && text[pos] === '.') {
    start = ++pos;
    while (pos < end && _isDigit(text.charCodeAt(pos))) pos++;
    fractionDigits = text.slice(start, pos);
  }
  const sawDigit = sawZero || digits !== '' || fractionDigits !== '';
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(text[pos] ?? '')) pos++;
  if (pos < end && (text[pos] === '-' || text[pos] === '+')) pos++;
  while (pos < end && _isDigit(text.charCodeAt(pos))) pos++;
  if (pos < end) {
    const suffix = text.slice(suffixStart);
    return /^[A-Za-z]/.test(suffix) ? `unknown suffix ${_quote(suffix)}` : `unexpected ${_quote(text[pos] ?? '')} at index ${pos}`;
  }
  return { negative, sawDigit, digits, fractionDigits, suffix: text.slice(suffixStart) };
}

/** Go `strconv.ParseInt(s, 10, 64)` narrowed to int32; undefined when not an integer at all. */
function _parseExponent(text: string): number | string | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  if (value > 2_147_483_647n || value < -2_147_483_648n) return `exponent ${_quote(text)} out of range`;
  return Number(value);
}

/** `digits × 10^scale` in nanos, rounded away from zero; undefined when too large. */
function _decimalToNanos(digits: string, scale: number): bigint | undefined {
  const significant = digits.replace(/^0+/, '');
  if (significant === '') return 0n;
  if (significant.length + scale > MAX_INTEGER_DIGITS) return undefined;
  const shift = scale + 9;
  if (shift >= 0) return BigInt(significant) * 10n ** BigInt(shift);
  // Anything below 1n rounds up to 1n without building a huge power of ten.
  if (-shift > significant.length) return 1n;
  return _roundUpDivide(BigInt(significant), 10n ** BigInt(-shift));
}

/** `n / d` rounded away from zero, for d > 0. */
function _roundUpDivide(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

function _format(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  if (format === QuantityFormat.BinarySI) {
    const magnitude = nanos < 0n ? -nanos : nanos;
    if (magnitude >= 1024n * NANOS_PER_UNIT && nanos % NANOS_PER_UNIT === 0n) {
      let mantissa = nanos / NANOS_PER_UNIT;
      let power = 0;
      while (power < BINARY_SUFFIX_BY_POWER.length - 1 && mantissa % 1024n === 0n) {
        mantissa /= 1024n;
        power++;
      }
      return `${mantissa}${BINARY_SUFFIX_BY_POWER[power]}`;
    }
    format = QuantityFormat.DecimalSI;
  }
  let mantissa = nanos;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  // Largest multiple of three not above the exponent: SI suffixes step by 10^3.
  while (exponent % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  if (format === QuantityFormat.DecimalSI) {
    const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exponent);
    if (suffix !== undefined) return `${mantissa}${suffix}`;
  }
  return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
}

function _isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function _safeBigInt(n: number, what: string): bigint {
  if (!Number.isSafeInteger(n)) throw new RangeError(`Cannot build a quantity from ${what} ${String(n)}: expected a safe integer`);
  return BigInt(n);
}

/** Quotes a value for an error message, cut short so a huge input cannot flood a log line. */
function _quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
