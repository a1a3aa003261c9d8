/**
 * The shape of a descheduling strategy, after the upstream descheduler's plugins: a name, a
 * config schema with its defaults, and a planning function. The registry in `./index.ts` lists
 * them; the config schema, the name list and the simulator's arms are built from it.
 */
import type { z } from 'zod';
import type { ClusterSnapshot, NodeView } from '../../../core/model.js';
import { reason } from '../reasons.js';
import type { Reason } from '../reasons.js';
import type { DrainAttempt, PlanningSession } from '../session.js';
import type { DeschedulingContext, Move, NodeDrain, NodeLaunch, SkippedNode, StrategyResult } from '../types.js';

/** What a strategy's `plan` gets besides the snapshot and its config: the shared planning session. */
export interface StrategyContext extends DeschedulingContext {
  readonly session: PlanningSession;
}

/** What every strategy's config section has: whether the strategy runs. */
export interface StrategyConfigBase {
  readonly enabled: boolean;
}

/**
 * A descheduling strategy. `plan` records its moves in `ctx.session`, so later strategies plan
 * around them.
 *
 * @example
 * ```ts
 * export const drainIdle: Strategy<'drain-idle', DrainIdleConfig> = { name: 'drain-idle', configSchema, plan: planDrainIdle };
 * // then one line in ./index.ts: STRATEGIES = [..., drainIdle]
 * ```
 */
export interface Strategy<N extends string = string, C extends StrategyConfigBase = StrategyConfigBase> {
  /** The key of its section under `strategies:` in the config, and the `strategy` of its moves. */
  readonly name: N;
  /** Its config section; parsing `{}` gives every default, `enabled` included. */
  readonly configSchema: z.ZodType<C>;
  // A method, so a strategy with a narrower config is still a `Strategy` in a registry.
  plan(snapshot: ClusterSnapshot, config: C, ctx: StrategyContext): StrategyResult;
  /** Whether, so configured, it reads the snapshot's `podUsage` (the caller then measures pods); false when absent. */
  needsPodUsage?(config: C): boolean;
}

/** A list of strategies, in the order a plan runs them; names are unique. */
export type StrategyRegistry = readonly Strategy[];

/** The names of a registry's strategies, in its order. */
export function strategyNames<const R extends StrategyRegistry>(registry: R): readonly R[number]['name'][] {
  return registry.map((s) => s.name);
}

/** Cpu then memory requested, as fractions of allocatable. */
export function requestedFractions(requested: Readonly<Record<string, number>>, allocatable: Readonly<Record<string, number>>): { readonly cpu: number; readonly memory: number } {
  const frac = (name: string): number => {
    const total = allocatable[name] ?? 0;
    return total > 0 ? (requested[name] ?? 0) / total : 0;
  };
  return { cpu: frac('cpu'), memory: frac('memory') };
}

/** Node names by a key, ties by name: the deterministic order every strategy iterates in. */
export function sortNodes(names: readonly string[], key: (name: string) => readonly number[]): string[] {
  const keys = new Map(names.map((n) => [n, key(n)] as const));
  return [...names].sort((a, b) => {
    const ka = keys.get(a) ?? [];
    const kb = keys.get(b) ?? [];
    for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
      const d = (ka[i] ?? 0) - (kb[i] ?? 0);
      if (d !== 0) return d;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/**
 * Why a node is left alone to settle: it was created, or last received a pod, less than
 * `settleSeconds` ago (consolidation waits for the scheduler and autoscaler to finish with it).
 */
export function settlingReason(node: NodeView, settleSeconds: number, now: number, pods: readonly { readonly createdAt: number }[]): Reason | undefined {
  let lastChange = node.createdAt;
  for (const p of pods) if (p.createdAt > lastChange) lastChange = p.createdAt;
  if (now - lastChange >= settleSeconds * 1000) return undefined;
  return reason('settling', `Node "${node.name}" changed ${Math.floor((now - lastChange) / 1000)}s ago, within the settle time of ${settleSeconds}s`);
}

/** A strategy's result as it grows: a drain attempt goes into the drains and moves, or the skipped nodes. */
export class StrategyResultBuilder {
  readonly moves: Move[] = [];
  readonly drains: NodeDrain[] = [];
  readonly skipped: SkippedNode[] = [];
  readonly launches: NodeLaunch[] = [];
  readonly #strategy: string;

  constructor(strategy: string) {
    this.#strategy = strategy;
  }

  /** Records that `node` was left alone, and why. */
  skip(node: string, why: Reason): void {
    this.skipped.push({ node, strategy: this.#strategy, reason: why });
  }

  /** Records a drain attempt of `node`: its drain and moves, or why it was refused. */
  add(node: string, attempt: DrainAttempt): void {
    if (attempt.ok) {
      this.drains.push(attempt.drain);
      this.moves.push(...attempt.moves);
    } else {
      this.skip(node, attempt.reason);
    }
  }

  /** Records a node to launch before the drains that move pods onto it. */
  launch(launch: NodeLaunch): void {
    this.launches.push(launch);
  }

  result(): StrategyResult {
    return { moves: this.moves, drains: this.drains, skipped: this.skipped, ...(this.launches.length > 0 ? { launches: this.launches } : {}) };
  }
}
