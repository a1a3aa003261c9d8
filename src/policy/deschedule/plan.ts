/**
 * `planDescheduling`: one pass of every enabled strategy over a snapshot, under shared
 * availability guards and budgets. Pure and deterministic: the live loop prints or carries out
 * the plan, the simulator applies it to its model; both call this function.
 */
import { z } from 'zod';
import { formatZodError } from '../../core/validation.js';
import type { ClusterSnapshot } from '../../core/model.js';
import { DEFAULT_ANTI_FLAP } from './anti-flap.js';
import type { AntiFlapOptions } from './anti-flap.js';
import { DEFAULT_AUTOSCALER_AWARENESS, protectionReleases } from './autoscaler.js';
import { DEFAULT_EVICTION_OPTIONS } from './evictable.js';
import { DEFAULT_BACKOFF, DEFAULT_EVICTION_BUDGETS } from './guards.js';
import { SCHEDULER_PROFILES } from './landing.js';
import type { SchedulerProfileName } from './landing.js';
import { PlanningSession } from './session.js';
import { STRATEGIES } from './strategies/index.js';
import type { StrategyConfigBase, StrategyConfigs, StrategyName, StrategyRegistry } from './strategies/index.js';
import type { DeschedulingContext, Move, NodeDrain, NodeLaunch, Plan, SkippedNode } from './types.js';

/**
 * The `deschedule` section of the config file for the strategies of `registry`: one section per
 * strategy under `strategies:`, each its own schema with its own defaults. Durations in seconds,
 * as people write them. Throws when two strategies share a name.
 */
export function deschedulingConfigSchemaOf<const R extends StrategyRegistry>(registry: R) {
  const sections: Record<string, z.ZodType> = {};
  for (const strategy of registry) {
    if (sections[strategy.name] !== undefined) throw new Error(`Cannot build the deschedule config: two strategies are named "${strategy.name}"`);
    // prefault: an absent section is parsed from `{}`, so it gets the strategy's own defaults.
    sections[strategy.name] = strategy.configSchema.prefault({});
  }
  // The object is built at run time from the registry; its parsed type is the registry's configs.
  const strategies = z.strictObject(sections).prefault({}) as unknown as z.ZodType<StrategyConfigs<R>>;
  return z.strictObject({
    eviction: z
      .strictObject({
        minPodAgeSeconds: z.number().int().min(0).default(DEFAULT_EVICTION_OPTIONS.minPodAgeMs / 1000),
        evictLocalStorage: z.boolean().default(DEFAULT_EVICTION_OPTIONS.evictLocalStorage),
        evictJobPods: z.boolean().default(DEFAULT_EVICTION_OPTIONS.evictJobPods),
      })
      .prefault({}),
    /** The cluster's autoscaler, as far as planning must not work against it. */
    autoscaler: z
      .strictObject({
        /** Cluster Autoscaler's `--scale-down-utilization-threshold`: nodes below it are removal candidates. */
        scaleDownUtilizationThreshold: z.number().min(0).max(1).default(DEFAULT_AUTOSCALER_AWARENESS.scaleDownUtilizationThreshold),
      })
      .prefault({}),
    /**
     * The cluster's scheduler, as far as planning predicts where a surged pod lands: the profile
     * its pods are scheduled with and kube-scheduler's `percentageOfNodesToScore` (0: adaptive).
     */
    scheduler: z
      .strictObject({
        profile: z.enum(Object.keys(SCHEDULER_PROFILES) as [SchedulerProfileName, ...SchedulerProfileName[]]).default('default'),
        percentageOfNodesToScore: z.number().int().min(0).max(100).default(0),
      })
      .prefault({}),
    budgets: z
      .strictObject({
        maxEvictionsPerCycle: z.number().int().min(0).default(DEFAULT_EVICTION_BUDGETS.maxEvictionsPerCycle),
        maxEvictionsPerNode: z.number().int().min(0).default(DEFAULT_EVICTION_BUDGETS.maxEvictionsPerNode),
        maxEvictionsPerNamespace: z.number().int().min(0).default(DEFAULT_EVICTION_BUDGETS.maxEvictionsPerNamespace),
      })
      .prefault({}),
    backoff: z
      .strictObject({
        baseSeconds: z.number().int().min(1).default(DEFAULT_BACKOFF.baseMs / 1000),
        maxSeconds: z.number().int().min(1).default(DEFAULT_BACKOFF.maxMs / 1000),
      })
      .prefault({}),
    /** A workload just moved is not moved again for a while; the moves of any hour are capped. */
    antiFlap: z
      .strictObject({
        minMoveIntervalSeconds: z.number().int().min(0).default(DEFAULT_ANTI_FLAP.minMoveIntervalMs / 1000),
        maxMovesPerHour: z.number().int().min(0).default(DEFAULT_ANTI_FLAP.maxMovesPerHour),
      })
      .prefault({}),
    strategies,
  });
}

/** The `deschedule` section of the config file, for the built-in strategies. */
export const deschedulingConfigSchema = deschedulingConfigSchemaOf(STRATEGIES);

/** The parsed `deschedule` config for the strategies of `R`. */
export type DeschedulingConfigOf<R extends StrategyRegistry> = z.infer<ReturnType<typeof deschedulingConfigSchemaOf<R>>>;

/** The parsed `deschedule` config. */
export type DeschedulingConfig = DeschedulingConfigOf<typeof STRATEGIES>;

/** The config with every default: spot-reschedule and consolidate on, balance off. */
export const DEFAULT_DESCHEDULING_CONFIG: DeschedulingConfig = deschedulingConfigSchema.parse({});

/** Parses the `deschedule` section; the error is one line naming each bad field. */
export function parseDeschedulingConfig(input: unknown): { readonly ok: true; readonly config: DeschedulingConfig } | { readonly ok: false; readonly error: string } {
  const result = deschedulingConfigSchema.safeParse(input ?? {});
  return result.success ? { ok: true, config: result.data } : { ok: false, error: `Invalid deschedule config: ${formatZodError(result.error)}` };
}

/**
 * `config` with exactly the strategies named in `enabled` turned on, each section otherwise as it
 * was: how the simulator's arms and the tests pick strategies.
 */
export function withStrategies(config: DeschedulingConfig, enabled: Iterable<StrategyName>): DeschedulingConfig {
  const on = new Set<string>(enabled);
  const sections: Record<string, StrategyConfigBase> = {};
  for (const [name, section] of Object.entries(config.strategies)) sections[name] = { ...section, enabled: on.has(name) };
  return { ...config, strategies: sections as DeschedulingConfig['strategies'] };
}

/**
 * Whether a plan under `config` reads the pods' measured use (`ClusterSnapshot.podUsage`): the
 * live loop then reads metrics.k8s.io, the simulator its usage model. Asked of the registry, so a
 * strategy that balances use says so in its own file.
 */
export function needsPodUsage<R extends StrategyRegistry = typeof STRATEGIES>(config: DeschedulingConfigOf<R>, registry: R = STRATEGIES as unknown as R): boolean {
  const sections = config.strategies as Readonly<Record<string, StrategyConfigBase | undefined>>;
  return registry.some((strategy) => {
    const section = sections[strategy.name];
    return section !== undefined && section.enabled && strategy.needsPodUsage?.(section) === true;
  });
}

/** The anti-flap settings of a configuration, in milliseconds (what the planner and the history store use). */
export function antiFlapOf(config: Pick<DeschedulingConfig, 'antiFlap'>): AntiFlapOptions {
  return { minMoveIntervalMs: config.antiFlap.minMoveIntervalSeconds * 1000, maxMovesPerHour: config.antiFlap.maxMovesPerHour };
}

/**
 * Plans one descheduling cycle: each enabled strategy of `registry` in turn (by default
 * spot-reschedule, consolidate, balance), each seeing the moves of the ones before. Every node a strategy looked at is either
 * drained (all its movable pods have a destination and pass the guards) or skipped with a reason;
 * no node is left half-drained.
 *
 * @example
 * const plan = planDescheduling(snapshot, DEFAULT_DESCHEDULING_CONFIG, { now, prices, placement: { defaults } });
 * for (const move of plan.moves) console.log(move.wave, move.mode, move.pod.name, move.fromNode, '→', move.toNode, move.reason);
 */
export function planDescheduling<R extends StrategyRegistry = typeof STRATEGIES>(
  snapshot: ClusterSnapshot,
  config: DeschedulingConfigOf<R>,
  ctx: DeschedulingContext,
  registry: R = STRATEGIES as unknown as R,
): Plan {
  const session = new PlanningSession(
    snapshot,
    {
      eviction: { minPodAgeMs: config.eviction.minPodAgeSeconds * 1000, evictLocalStorage: config.eviction.evictLocalStorage, evictJobPods: config.eviction.evictJobPods },
      autoscaler: config.autoscaler,
      scheduler: config.scheduler,
      budgets: config.budgets,
      backoff: { baseMs: config.backoff.baseSeconds * 1000, maxMs: config.backoff.maxSeconds * 1000 },
      antiFlap: antiFlapOf(config),
    },
    ctx,
  );
  const moves: Move[] = [];
  const drains: NodeDrain[] = [];
  const skipped: SkippedNode[] = [];
  const launches: NodeLaunch[] = [];
  const sections = config.strategies as Readonly<Record<string, StrategyConfigBase | undefined>>;
  for (const strategy of registry) {
    const section = sections[strategy.name];
    if (section === undefined || !section.enabled) continue;
    const result = strategy.plan(snapshot, section, { ...ctx, session });
    moves.push(...result.moves);
    drains.push(...result.drains);
    skipped.push(...result.skipped);
    launches.push(...(result.launches ?? []));
  }
  // A drain's saving is already net of its share of any replacement.
  const savingUsdPerHour = drains.reduce((sum, d) => sum + d.savingUsdPerHour, 0);
  // A protected replacement the plan drains is deleted at the end; any other that no longer needs it is released.
  const releases = protectionReleases(snapshot, config.autoscaler.scaleDownUtilizationThreshold, new Set(drains.map((d) => d.node)));
  return { moves, drains, skipped, ...(launches.length > 0 ? { launches } : {}), ...(releases.length > 0 ? { releases } : {}), savingUsdPerHour };
}
