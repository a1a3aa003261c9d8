/**
 * Seeded randomness with independent named streams.
 *
 * Each model draws from its own stream (`"workloads"`, `"spot:m5.xlarge/us-east-1a"`, …) whose
 * state is derived by hashing (run seed, stream name). So adding a stream, or one model drawing
 * more often in one arm than in another, never shifts the numbers any other model sees: two
 * arms run with one seed face the same load curve and the same spot reclaims (common random
 * numbers), which is what makes their paired comparison sharp.
 *
 * The generator is xoroshiro128+ from `pure-rand` (fast, 2^128 period, used by fast-check).
 */
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

const _TWO_POW_32 = 0x1_0000_0000;
const _TWO_POW_53 = 2 ** 53;

/** One independent sequence of random numbers, with the distributions the models use. */
export class RandomStream {
  readonly name: string;
  readonly #rng: RandomGenerator;
  #spareNormal: number | undefined;

  constructor(name: string, rng: RandomGenerator) {
    this.name = name;
    this.#rng = rng;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const high = (this.#rng.next() >>> 0) >>> 5; // 27 bits
    const low = (this.#rng.next() >>> 0) >>> 6; // 26 bits
    return (high * 67_108_864 + low) / _TWO_POW_53;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** `true` with probability `p`. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Exponential with the given mean (the gap between events of a Poisson process of rate 1/mean). */
  exponential(mean: number): number {
    // 1 - next() is in (0, 1], so the log is finite.
    return -mean * Math.log(1 - this.next());
  }

  /** Normal, by the Box–Muller transform (the second value is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    const spare = this.#spareNormal;
    if (spare !== undefined) {
      this.#spareNormal = undefined;
      return mean + sd * spare;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Lognormal given by its median and the standard deviation of its log. Trace statistics are
   * usually quoted as a median and a spread, so this is the natural parameterisation.
   */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /**
   * Poisson with mean `lambda`: Knuth's product method for small means, Hörmann's PTRS
   * (transformed rejection with squeeze) for large ones, where Knuth's loop would take
   * `lambda` iterations and underflow.
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    const slam = Math.sqrt(lambda);
    const logLam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
      if (lhs <= -lambda + k * logLam - _logFactorial(k)) return k;
    }
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError(`Cannot pick from an empty list in random stream "${this.name}"`);
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** An index drawn with probability proportional to `weights[i]` (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] as number;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}

function _logFactorial(k: number): number {
  if (k < 2) return 0;
  // Stirling series: exact to double precision well before k = 30, where PTRS starts.
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5);
}

/**
 * The source of every random number in one run: named streams, each seeded from
 * (run seed, stream name).
 *
 * @example
 * const random = new RandomSource(7);
 * random.stream('spot').exponential(3600); // the same number for seed 7, whatever else is drawn
 */
export class RandomSource {
  readonly seed: number;
  readonly #streams = new Map<string, RandomStream>();

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Invalid seed ${seed}: expected a safe integer`);
    this.seed = seed;
  }

  /** The stream with this name; the same object on every call. */
  stream(name: string): RandomStream {
    let stream = this.#streams.get(name);
    if (stream === undefined) {
      stream = new RandomStream(name, xoroshiro128plusFromState(streamState(this.seed, name)));
      this.#streams.set(name, stream);
    }
    return stream;
  }
}

/**
 * The 128-bit generator state of stream `name` under `seed`: the seed's two 32-bit halves and
 * the name's UTF-16 code units are mixed by four differently-seeded murmur3-style hashes, then
 * finalised, so nearby seeds and similar names give unrelated states.
 */
export function streamState(seed: number, name: string): readonly [number, number, number, number] {
  const low = seed >>> 0;
  const high = Math.floor(seed / _TWO_POW_32) >>> 0;
  const words: number[] = [];
  for (const lane of [0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f]) {
    let h = lane ^ name.length;
    h = _mix(h, low);
    h = _mix(h, high);
    for (let i = 0; i < name.length; i++) h = _mix(h, name.charCodeAt(i));
    words.push(_finalise(h ^ lane));
  }
  // xoroshiro must not start from the all-zero state; the chance is 2^-128, but be exact.
  if (words.every((w): boolean => w === 0)) words[0] = 1;
  return [words[0] as number, words[1] as number, words[2] as number, words[3] as number];
}

function _mix(h: number, value: number): number {
  let k = Math.imul(value, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function _finalise(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
