/**
 * Retrying Kubernetes API calls that failed for a passing reason (429, 5xx, a dropped
 * connection) with capped exponential backoff and full jitter; everything else fails at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeApiError } from './errors.js';

export interface RetryOptions {
  readonly attempts?: number;
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** Called before each wait, for logs and metrics. */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  readonly random?: () => number;
  readonly signal?: AbortSignal;
}

/** The delay before retry `attempt` (1-based): full jitter over a capped exponential. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

export async function withRetry<T>(what: string, call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 10_000;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const info = describeApiError(error);
      if (!info.retryable || attempt >= attempts) {
        const status = info.status ? `HTTP ${info.status}${info.reason ? ` ${info.reason}` : ''}: ` : '';
        throw new Error(`Cannot ${what}: ${status}${info.message}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`, { cause: error });
      }
      const delay = Math.max(info.retryAfterMs ?? 0, backoffDelay(attempt, baseMs, maxMs, random));
      options.onRetry?.(attempt, delay, error);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
    }
  }
}
