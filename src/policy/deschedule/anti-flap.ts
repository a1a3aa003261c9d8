/**
 * Anti-flap: a workload just moved is not moved again for a while, and the whole descheduler moves
 * at most so many pods an hour. Without it, a replacement that lands back where it came from (or
 * on another node of the same kind) is planned again next cycle, and one pod bounces for ever.
 * The history is plain data the executor keeps between cycles, the same way in the live loop and
 * the simulator.
 */

/** When each workload was last moved, and the times of the moves of the last hour. */
export interface MoveHistory {
  /** Workload key (`workloadKey`) → ms since the epoch of its last move. */
  readonly lastMovedAt: ReadonlyMap<string, number>;
  /** Ms since the epoch of each move, oldest first. */
  readonly times: readonly number[];
}

/** The anti-flap settings, from the config file. */
export interface AntiFlapOptions {
  /** A workload is not moved again for this long after a move. */
  readonly minMoveIntervalMs: number;
  /** Moves allowed in any hour, over all workloads. */
  readonly maxMovesPerHour: number;
}

/** One hour between moves of a workload; 120 moves an hour in all. */
export const DEFAULT_ANTI_FLAP: AntiFlapOptions = { minMoveIntervalMs: 3_600_000, maxMovesPerHour: 120 };

/** No move yet. */
export const EMPTY_MOVE_HISTORY: MoveHistory = { lastMovedAt: new Map(), times: [] };

const _HOUR_MS = 3_600_000;

/** `history` with a move of workload `key` at `now`; moves older than an hour are dropped from `times`. */
export function recordMove(history: MoveHistory, key: string, now: number): MoveHistory {
  const lastMovedAt = new Map(history.lastMovedAt);
  lastMovedAt.set(key, now);
  return { lastMovedAt, times: [...history.times.filter((t) => t > now - _HOUR_MS), now] };
}

/** Moves in the hour before `now`. */
export function movesInLastHour(history: MoveHistory, now: number): number {
  let n = 0;
  for (const t of history.times) if (t > now - _HOUR_MS && t <= now) n++;
  return n;
}

/** When workload `key` may move again, or undefined when it may now. */
export function restingUntil(history: MoveHistory | undefined, key: string, now: number, options: AntiFlapOptions): number | undefined {
  const last = history?.lastMovedAt.get(key);
  if (last === undefined) return undefined;
  const until = last + options.minMoveIntervalMs;
  return until > now ? until : undefined;
}

