/**
 * Parses AdmissionReview bodies: small ones on the event loop (a pod's review parses in well under
 * a millisecond), large ones on one worker thread with a bounded heap, so that neither a flood of
 * hostile bodies nor one real but huge pod holds up the other reviews.
 *
 * "Large" is decided mostly by the JSON pre-scan's count of values, not by bytes: `JSON.parse`
 * time follows the objects it allocates (100,000 empty objects in 300 KB cost more than 3 MB of
 * one string); past 256 KiB a body goes to the worker whatever it holds.
 */
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../../runtime/worker-thread.js';
import { AdmissionReviewError, parseAdmissionReview, type AdmissionRequest } from './review.js';

/** A body for the worker; its bytes are transferred, not copied. */
export interface ParseTask {
  readonly id: number;
  readonly body: Uint8Array;
}

/** The request, or what is wrong with the body (an {@link AdmissionReviewError}'s detail). */
export type ParseReply = { readonly id: number; readonly request: AdmissionRequest } | { readonly id: number; readonly error: string };

/**
 * Bodies with more values than this go to the worker. A pod's review holds a few hundred
 * (managedFields included); 2,000 parse in about a millisecond on a busy core.
 */
export const INLINE_MAX_VALUES = 2_000;

/** Bodies larger than this go to the worker too: decoding megabytes of UTF-8 takes milliseconds. */
export const INLINE_MAX_BYTES = 256 * 1024;

/**
 * The worker is stopped after this long without a body, which gives its whole heap back: what a
 * flood of large bodies made it grow to would otherwise stay resident. Starting it again takes tens
 * of ms (compiled), paid only by the next large body, which no real pod's review is.
 */
export const WORKER_IDLE_MS = 1_000;

/** The worker's heap: a body within the limits of json-limits.ts parses in far less. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } as const;

interface _Pending {
  readonly resolve: (request: AdmissionRequest) => void;
  readonly reject: (error: Error) => void;
}

export class ReviewParser {
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, _Pending>();
  #closed = false;
  #idle: NodeJS.Timeout | undefined;

  /** Bodies sent to the worker and not yet answered. */
  get queued(): number {
    return this.#pending.size;
  }

  /**
   * The review in `body`, which the JSON pre-scan found to hold `values` values.
   *
   * @throws {AdmissionReviewError} with a one-line message when the body is not a review
   */
  async parse(body: Buffer, values: number): Promise<AdmissionRequest> {
    if ((values <= INLINE_MAX_VALUES && body.length <= INLINE_MAX_BYTES) || this.#closed) return parseAdmissionReview(body.toString('utf8'));
    clearTimeout(this.#idle);
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise<AdmissionRequest>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Transferred, not copied, when the Buffer owns its memory (a large Buffer.concat does);
      // copied when it shares Node's pool with other Buffers.
      const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      const bytes = owned ? body : new Uint8Array(body);
      worker.postMessage({ id, body: bytes } satisfies ParseTask, [bytes.buffer as ArrayBuffer]);
    });
  }

  /**
   * Starts the worker and resolves once it has loaded, so the first large body does not wait for
   * it (from the TypeScript sources that takes a second or more).
   */
  async start(): Promise<void> {
    this.#ensureWorker();
    await this.#ready;
  }

  /** Stops the worker; bodies still queued are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll('the webhook is shutting down');
    await worker?.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = spawnModuleWorker(import.meta.url, 'parse-worker', { resourceLimits: WORKER_LIMITS });
    let loaded: (() => void) | undefined;
    let failed: ((error: Error) => void) | undefined;
    this.#ready = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      failed = reject;
    });
    // Nobody may await a restarted worker's readiness.
    this.#ready.catch(() => undefined);
    worker.on('message', (reply: ParseReply | { readonly ready: true }) => {
      if ('ready' in reply) {
        // Held the event loop only while loading, so start() can be awaited on its own.
        worker.unref();
        return loaded?.();
      }
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#stopWhenIdle(worker);
      if ('error' in reply) pending.reject(new AdmissionReviewError(reply.error));
      else pending.resolve(reply.request);
    });
    // Out of heap (ERR_WORKER_OUT_OF_MEMORY) or any other death: refuse what it held, start
    // afresh on the next large body.
    const gone = (reason: string): void => {
      failed?.(new Error(`Cannot start the webhook's parse worker: ${reason}`));
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#failAll(reason);
    };
    worker.on('error', (error) => gone(`the body could not be parsed within the parser's memory: ${error.message}`));
    worker.on('exit', (code) => gone(`the parse worker exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #stopWhenIdle(worker: Worker): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (this.#worker !== worker || this.#pending.size > 0) return;
      this.#worker = undefined;
      void worker.terminate();
    }, WORKER_IDLE_MS);
    this.#idle.unref();
  }

  #failAll(reason: string): void {
    for (const pending of this.#pending.values()) pending.reject(new AdmissionReviewError(reason));
    this.#pending.clear();
  }
}
