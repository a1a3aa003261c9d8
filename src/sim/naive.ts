/**
 * The naive idea the question started from: restart every pod on a fixed interval, so the
 * scheduler places it afresh. Each service pod is deleted once it has been Ready for the
 * interval (±10%, so pods started together do not all restart in the same second), with no
 * regard for PDBs: a crash does not ask the Eviction API. Its controller replaces it at once.
 */
import type { SimPod } from './cluster.js';
import type { Engine } from './engine.js';
import { DeletionCause } from './pods.js';
import type { PodLifecycle } from './pods.js';
import type { RandomStream } from './random.js';

/** Restarts service pods after a fixed time Ready. */
export class NaiveRestarter {
  readonly #engine: Engine;
  readonly #lifecycle: PodLifecycle;
  readonly #random: RandomStream;
  readonly #intervalMs: number;

  constructor(engine: Engine, lifecycle: PodLifecycle, random: RandomStream, intervalMs: number) {
    this.#engine = engine;
    this.#lifecycle = lifecycle;
    this.#random = random;
    this.#intervalMs = intervalMs;
  }

  /** A service pod became Ready: schedule its restart. */
  onPodReady(pod: SimPod): void {
    const delay = this.#intervalMs * this.#random.uniform(0.9, 1.1);
    this.#engine.after(delay, () => {
      if (!pod.terminating && pod.phase === 'Running') this.#lifecycle.delete(pod, DeletionCause.NaiveRestart);
    });
  }
}
