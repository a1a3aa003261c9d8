/**
 * The descheduler's move history (anti-flap) kept in a ConfigMap beside its Lease, so it outlives
 * the process: a restarted or newly elected descheduler, or one run as `--once` from a CronJob,
 * does not move again a workload moved minutes ago, and the hourly budget counts the moves the
 * last run made. A store that cannot be read or written (no namespace, no permission) is logged
 * once and the history then lives in memory only, as before: it never stops a cycle.
 */
import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from '../observability/log.js';
import { EMPTY_MOVE_HISTORY } from '../policy/deschedule/anti-flap.js';
import type { AntiFlapOptions, MoveHistory } from '../policy/deschedule/anti-flap.js';
import { describeApiError } from './errors.js';
import { withRetry } from './retry.js';

/** The ConfigMap's name (RBAC grants get and update of this one name). */
export const MOVE_HISTORY_CONFIGMAP = 'stowage-descheduler-moves';

/** The ConfigMap key holding the history (JSON). */
export const MOVE_HISTORY_KEY = 'moves.json';

const _HOUR_MS = 3_600_000;
/** The stored form of a history (JSON): ISO times, so `kubectl get configmap -o yaml` reads as it means. */
interface _StoredHistory {
  readonly lastMovedAt: Readonly<Record<string, string>>;
  readonly times: readonly string[];
}

/**
 * `history` as JSON text to keep between runs, holding only what can still matter at `now`: each
 * workload's last move while it rests (`minMoveIntervalMs`), the move times of the last hour.
 * Bounded by the moves of one hour and the workloads resting, whatever the cluster's size.
 */
export function encodeMoveHistory(history: MoveHistory, now: number, options: AntiFlapOptions): string {
  const lastMovedAt: Record<string, string> = {};
  for (const [key, at] of [...history.lastMovedAt].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (at + options.minMoveIntervalMs > now) lastMovedAt[key] = new Date(at).toISOString();
  }
  const times = history.times.filter((t) => t > now - _HOUR_MS).map((t) => new Date(t).toISOString());
  return JSON.stringify({ lastMovedAt, times } satisfies _StoredHistory);
}

/**
 * A history read back from `encodeMoveHistory`'s text. Entries that are not a workload key with
 * a valid time are dropped, and text that is not such a document gives the empty history with
 * a reason (an edited or foreign value must not stop the descheduler; it only forgets).
 */
export function decodeMoveHistory(text: string | undefined): { readonly history: MoveHistory; readonly problem?: string } {
  if (text === undefined || text.trim() === '') return { history: EMPTY_MOVE_HISTORY };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { history: EMPTY_MOVE_HISTORY, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { history: EMPTY_MOVE_HISTORY, problem: 'not a JSON object' };
  const stored = parsed as { lastMovedAt?: unknown; times?: unknown };
  const lastMovedAt = new Map<string, number>();
  if (stored.lastMovedAt !== null && typeof stored.lastMovedAt === 'object' && !Array.isArray(stored.lastMovedAt)) {
    for (const [key, value] of Object.entries(stored.lastMovedAt as Record<string, unknown>)) {
      const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (!Number.isNaN(at)) lastMovedAt.set(key, at);
    }
  }
  const times = Array.isArray(stored.times)
    ? stored.times
        .map((value) => (typeof value === 'string' ? Date.parse(value) : Number.NaN))
        .filter((t) => !Number.isNaN(t))
        .sort((a, b) => a - b)
    : [];
  return { history: { lastMovedAt, times } };
}

/** Writes that meet a 409 (the object changed since it was read) before the store gives up. */
const _CONFLICT_ATTEMPTS = 3;

/** Where a history is kept between runs. */
export interface MoveHistoryStore {
  load(): Promise<MoveHistory>;
  save(history: MoveHistory): Promise<void>;
}

/** See the module comment. */
export class ConfigMapMoveHistoryStore implements MoveHistoryStore {
  readonly #core: CoreV1Api;
  readonly #namespace: string;
  readonly #log: Logger;
  readonly #options: AntiFlapOptions;
  readonly #now: () => number;
  /** Set once the store has failed: one warning, then memory only. */
  #broken = false;
  /** The text last written or read, so an unchanged history costs no write. */
  #last: string | undefined;

  constructor(core: CoreV1Api, namespace: string, options: AntiFlapOptions, log: Logger, now: () => number = Date.now) {
    this.#core = core;
    this.#namespace = namespace;
    this.#options = options;
    this.#log = log;
    this.#now = now;
  }

  get #where(): string {
    return `ConfigMap ${this.#namespace}/${MOVE_HISTORY_CONFIGMAP}`;
  }

  async load(): Promise<MoveHistory> {
    let configMap: V1ConfigMap | undefined;
    try {
      configMap = await withRetry(`read ${this.#where}`, async () => {
        try {
          return await this.#core.readNamespacedConfigMap({ name: MOVE_HISTORY_CONFIGMAP, namespace: this.#namespace });
        } catch (error) {
          if (describeApiError(error).status === 404) return undefined;
          throw error;
        }
      });
    } catch (error) {
      this.#fail('read', error);
      return EMPTY_MOVE_HISTORY;
    }
    const text = configMap?.data?.[MOVE_HISTORY_KEY];
    const { history, problem } = decodeMoveHistory(text);
    if (problem !== undefined) this.#log.warn({ configMap: this.#where, problem }, 'Forgot the stored move history: it is not one');
    this.#last = text;
    this.#log.info({ configMap: this.#where, workloadsResting: history.lastMovedAt.size, movesLastHour: history.times.length }, 'Loaded the move history');
    return history;
  }

  async save(history: MoveHistory): Promise<void> {
    if (this.#broken) return;
    const text = encodeMoveHistory(history, this.#now(), this.#options);
    if (text === this.#last) return;
    const body = (resourceVersion?: string): V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: MOVE_HISTORY_CONFIGMAP,
        namespace: this.#namespace,
        labels: { 'app.kubernetes.io/name': 'stowage-descheduler', 'app.kubernetes.io/part-of': 'stowage' },
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
      },
      data: { [MOVE_HISTORY_KEY]: text },
    });
    // Read-then-replace with the read's resourceVersion; a 409 (another writer between the two)
    // reads again. 429s, 5xx and dropped connections are retried with backoff by `withRetry`.
    const write = async (): Promise<'written' | 'conflict'> => {
      let resourceVersion: string | undefined;
      try {
        resourceVersion = (await this.#core.readNamespacedConfigMap({ name: MOVE_HISTORY_CONFIGMAP, namespace: this.#namespace })).metadata?.resourceVersion;
      } catch (error) {
        if (describeApiError(error).status !== 404) throw error;
      }
      try {
        if (resourceVersion === undefined) await this.#core.createNamespacedConfigMap({ namespace: this.#namespace, body: body() });
        else await this.#core.replaceNamespacedConfigMap({ name: MOVE_HISTORY_CONFIGMAP, namespace: this.#namespace, body: body(resourceVersion) });
        return 'written';
      } catch (error) {
        if (describeApiError(error).status === 409) return 'conflict';
        throw error;
      }
    };
    try {
      for (let attempt = 1; ; attempt++) {
        if ((await withRetry(`write ${this.#where}`, write)) === 'written') break;
        if (attempt >= _CONFLICT_ATTEMPTS) throw new Error(`${this.#where} kept changing while being written (${attempt} conflicts)`);
      }
      this.#last = text;
    } catch (error) {
      this.#fail('write', error);
    }
  }

  #fail(what: 'read' | 'write', error: unknown): void {
    this.#broken = true;
    this.#log.warn({ configMap: this.#where, error: error instanceof Error ? error.message : String(error) }, `Cannot ${what} the move history: anti-flap holds only while this process runs`);
  }
}
