/**
 * The descheduling strategies, in the order a plan runs them. This list is the single source:
 * the config schema (`strategies:` in `../plan.ts`), `STRATEGY_NAMES` and the simulator's arms are
 * built from it, so a strategy is added with its own file and one line here.
 */
import type { z } from 'zod';
import { balance } from './balance.js';
import { consolidate } from './consolidate.js';
import { karpenterConsolidate } from './karpenter-consolidate.js';
import { spotReschedule } from './spot-reschedule.js';
import { strategyNames } from './strategy.js';
import type { StrategyRegistry } from './strategy.js';

/** Every strategy, in plan order: each sees the moves of the ones before. */
export const STRATEGIES = [spotReschedule, consolidate, karpenterConsolidate, balance] as const satisfies StrategyRegistry;

/** The name of a built-in strategy. */
export type StrategyName = (typeof STRATEGIES)[number]['name'];

/** The built-in strategies' names, in plan order. */
export const STRATEGY_NAMES: readonly StrategyName[] = strategyNames(STRATEGIES);

/** Each strategy's parsed config section, by name, for the strategies of `R`. */
export type StrategyConfigs<R extends StrategyRegistry = typeof STRATEGIES> = {
  readonly [S in R[number] as S['name']]: z.output<S['configSchema']>;
};

export type { Strategy, StrategyConfigBase, StrategyContext, StrategyRegistry } from './strategy.js';
export { strategyNames } from './strategy.js';
export { balanceConfigSchema, planBalance } from './balance.js';
export { consolidateConfigSchema, planConsolidate } from './consolidate.js';
export { karpenterConsolidateConfigSchema, planKarpenterConsolidate } from './karpenter-consolidate.js';
export { planSpotReschedule, spotRescheduleConfigSchema } from './spot-reschedule.js';
