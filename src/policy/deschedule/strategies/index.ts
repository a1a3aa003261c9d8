/**
 * The descheduling strategies by name: the config enables and tunes each by its name, and a plan
 * runs them in the order of `STRATEGY_NAMES`.
 */
import type { BalanceConfig } from './balance.js';
import { balance } from './balance.js';
import type { ConsolidateConfig } from './consolidate.js';
import { consolidate } from './consolidate.js';
import type { SpotRescheduleConfig } from './spot-reschedule.js';
import { spotReschedule } from './spot-reschedule.js';
import type { Strategy } from './strategy.js';

/** Each strategy's config type, by name. */
export interface StrategyConfigs {
  readonly 'spot-reschedule': SpotRescheduleConfig;
  readonly consolidate: ConsolidateConfig;
  readonly balance: BalanceConfig;
}

/** Name → strategy. */
export const STRATEGIES: { readonly [N in keyof StrategyConfigs]: Strategy<StrategyConfigs[N]> } = {
  'spot-reschedule': spotReschedule,
  consolidate,
  balance,
};

export type { Strategy, StrategyContext } from './strategy.js';
export { balanceConfigSchema, planBalance } from './balance.js';
export { consolidateConfigSchema, planConsolidate } from './consolidate.js';
export { planSpotReschedule, spotRescheduleConfigSchema } from './spot-reschedule.js';
