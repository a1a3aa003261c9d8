/**
 * client-go's token bucket (flowcontrol.NewTokenBucketRateLimiter): `qps` tokens a second, at most
 * `burst` saved up; each request takes one, waiting for it when none is left. What the
 * `--kube-api-qps` and `--kube-api-burst` flags of kube components set, so Stowage's controllers
 * can be held to the same client budget as the component they stand beside.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** A token bucket; `qps` 0 or less means no limit. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;

  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    this.#qps = qps;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#now = now;
    this.#updatedAt = now();
  }

  /** Resolves when the caller may send one request (at once while tokens are left). */
  async take(signal?: AbortSignal): Promise<void> {
    if (this.#qps <= 0) return;
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) * this.#qps) / 1000);
    this.#updatedAt = now;
    // A reservation: the token is taken now, possibly below zero; the wait pays the debt back.
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    await sleep((-this.#tokens * 1000) / this.#qps, undefined, signal === undefined ? undefined : { signal });
  }
}
