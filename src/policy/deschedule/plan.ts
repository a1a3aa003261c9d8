/**
 * `planDescheduling`: one pass of every enabled strategy over a snapshot, under shared
 * availability guards and budgets. Pure and deterministic: the live loop prints or carries out
 * the plan, the simulator applies it to its model; both call this function.
 */
import { z } from 'zod';
import { formatZodError } from '../../core/validation.js';
import type { ClusterSnapshot } from '../../core/model.js';
import { DEFAULT_EVICTION_OPTIONS } from './evictable.js';
import { DEFAULT_BACKOFF, DEFAULT_EVICTION_BUDGETS } from './guards.js';
import { PlanningSession } from './session.js';
import { balanceConfigSchema, consolidateConfigSchema, spotRescheduleConfigSchema, STRATEGIES } from './strategies/index.js';
import type { Strategy, StrategyConfigs, StrategyContext } from './strategies/index.js';
import { STRATEGY_NAMES } from './types.js';
import type { DeschedulingContext, Move, NodeDrain, Plan, SkippedNode, StrategyResult } from './types.js';

/** The `deschedule` section of the config file. Durations in seconds, as people write them. */
export const deschedulingConfigSchema = z.strictObject({
  eviction: z
    .strictObject({
      minPodAgeSeconds: z.number().int().min(0).default(DEFAULT_EVICTION_OPTIONS.minPodAgeMs / 1000),
      evictLocalStorage: z.boolean().default(DEFAULT_EVICTION_OPTIONS.evictLocalStorage),
    })
    .default({ minPodAgeSeconds: DEFAULT_EVICTION_OPTIONS.minPodAgeMs / 1000, evictLocalStorage: DEFAULT_EVICTION_OPTIONS.evictLocalStorage }),
  budgets: z
    .strictObject({
      maxEvictionsPerCycle: z.number().int().min(0).default(DEFAULT_EVICTION_BUDGETS.maxEvictionsPerCycle),
      maxEvictionsPerNode: z.number().int().min(0).default(DEFAULT_EVICTION_BUDGETS.maxEvictionsPerNode),
      maxEvictionsPerNamespace: z.number().int().min(0).default(DEFAULT_EVICTION_BUDGETS.maxEvictionsPerNamespace),
    })
    .default({ ...DEFAULT_EVICTION_BUDGETS }),
  backoff: z
    .strictObject({
      baseSeconds: z.number().int().min(1).default(DEFAULT_BACKOFF.baseMs / 1000),
      maxSeconds: z.number().int().min(1).default(DEFAULT_BACKOFF.maxMs / 1000),
    })
    .default({ baseSeconds: DEFAULT_BACKOFF.baseMs / 1000, maxSeconds: DEFAULT_BACKOFF.maxMs / 1000 }),
  strategies: z
    .strictObject({
      'spot-reschedule': spotRescheduleConfigSchema.default(spotRescheduleConfigSchema.parse({})),
      consolidate: consolidateConfigSchema.default(consolidateConfigSchema.parse({})),
      balance: balanceConfigSchema.default(balanceConfigSchema.parse({})),
    })
    .default({
      'spot-reschedule': spotRescheduleConfigSchema.parse({}),
      consolidate: consolidateConfigSchema.parse({}),
      balance: balanceConfigSchema.parse({}),
    }),
});

/** The parsed `deschedule` config. */
export type DeschedulingConfig = z.infer<typeof deschedulingConfigSchema>;

/** The config with every default: spot-reschedule and consolidate on, balance off. */
export const DEFAULT_DESCHEDULING_CONFIG: DeschedulingConfig = deschedulingConfigSchema.parse({});

/** Parses the `deschedule` section; the error is one line naming each bad field. */
export function parseDeschedulingConfig(input: unknown): { readonly ok: true; readonly config: DeschedulingConfig } | { readonly ok: false; readonly error: string } {
  const result = deschedulingConfigSchema.safeParse(input ?? {});
  return result.success ? { ok: true, config: result.data } : { ok: false, error: `Invalid deschedule config: ${formatZodError(result.error)}` };
}

/**
 * Plans one descheduling cycle: each enabled strategy in turn (spot-reschedule, consolidate,
 * balance), each seeing the moves of the ones before. Every node a strategy looked at is either
 * drained (all its movable pods have a destination and pass the guards) or skipped with a reason;
 * no node is left half-drained.
 *
 * @example
 * const plan = planDescheduling(snapshot, DEFAULT_DESCHEDULING_CONFIG, { now, prices, placement: { defaults } });
 * for (const move of plan.moves) console.log(move.wave, move.mode, move.pod.name, move.fromNode, '→', move.toNode, move.reason);
 */
export function planDescheduling(snapshot: ClusterSnapshot, config: DeschedulingConfig, ctx: DeschedulingContext): Plan {
  const session = new PlanningSession(
    snapshot,
    {
      eviction: { minPodAgeMs: config.eviction.minPodAgeSeconds * 1000, evictLocalStorage: config.eviction.evictLocalStorage },
      budgets: config.budgets,
      backoff: { baseMs: config.backoff.baseSeconds * 1000, maxMs: config.backoff.maxSeconds * 1000 },
    },
    ctx,
  );
  const moves: Move[] = [];
  const drains: NodeDrain[] = [];
  const skipped: SkippedNode[] = [];
  for (const name of STRATEGY_NAMES) {
    const result = _run(name, snapshot, config.strategies, { ...ctx, session });
    if (result === undefined) continue;
    moves.push(...result.moves);
    drains.push(...result.drains);
    skipped.push(...result.skipped);
  }
  const savingUsdPerHour = drains.reduce((sum, d) => sum + d.savingUsdPerHour, 0);
  return { moves, drains, skipped, savingUsdPerHour };
}

function _run<N extends keyof StrategyConfigs>(name: N, snapshot: ClusterSnapshot, configs: StrategyConfigs, ctx: StrategyContext): StrategyResult | undefined {
  const config = configs[name];
  if (!config.enabled) return undefined;
  const strategy: Strategy<StrategyConfigs[N]> = STRATEGIES[name];
  return strategy.plan(snapshot, config, ctx);
}
