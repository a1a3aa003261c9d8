/**
 * The arms of the experiment: named configurations of the same cluster, compared seed by seed.
 * Each arm adds one idea to the one before, so the table reads as "what each step buys":
 *
 * | arm   | scheduler score | capacity          | Stowage                                         |
 * |-------|-----------------|-------------------|-------------------------------------------------|
 * | B0    | LeastAllocated  | on-demand         | —  (the default cluster: kube-scheduler + CA)   |
 * | T1    | MostAllocated   | on-demand         | —                                               |
 * | T2    | MostAllocated   | on-demand         | T1 + descheduler consolidate                    |
 * | T2B   | MostAllocated   | on-demand         | T1 + descheduler balance on use                 |
 * | T2K   | MostAllocated   | on-demand         | T1 + descheduler karpenter-consolidate          |
 * | T3    | MostAllocated   | spot + on-demand  | T2 + placement webhook (on-demand floor)        |
 * | T4    | MostAllocated   | spot + on-demand  | T3 + descheduler spot-reschedule                |
 * | NAIVE | LeastAllocated  | on-demand         | every pod restarted after a fixed interval      |
 *
 * Run by name only (`--arms B0,CA`), not by default:
 *
 * | arm   | scheduler score | capacity          | Stowage                                         |
 * |-------|-----------------|-------------------|-------------------------------------------------|
 * | CA    | cost-aware      | spot + on-demand  | T4 with `stowage scheduler`'s cost-aware profile |
 */
import { COST_AWARE_PROFILE, DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE } from '../policy/fit/index.js';
import type { SchedulingProfile } from '../policy/fit/index.js';
import { DEFAULT_DESCHEDULING_CONFIG, withStrategies } from '../policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../policy/deschedule/plan.js';
import type { StrategyName } from '../policy/deschedule/strategies/index.js';
import { SCHEDULER_PROFILES } from '../policy/deschedule/landing.js';
import type { SchedulerProfileName } from '../policy/deschedule/landing.js';
import type { SimCapacityType } from './node-group.js';

/** One arm: everything that differs between arms; the scenario supplies the rest. */
export interface ArmConfig {
  readonly name: string;
  readonly description: string;
  readonly profile: SchedulingProfile;
  /** Capacity types the autoscaler's node groups offer. */
  readonly capacityTypes: readonly SimCapacityType[];
  /** Whether the placement webhook splits each workload between spot and on-demand. */
  readonly placement: boolean;
  /** Descheduler strategies enabled; empty runs no descheduler. */
  readonly deschedule: readonly StrategyName[];
  /** Whether every pod is restarted on the scenario's naive interval. */
  readonly naiveRestart: boolean;
}

const _ON_DEMAND: readonly SimCapacityType[] = ['on-demand'];
const _MIXED: readonly SimCapacityType[] = ['on-demand', 'spot'];

/** The baseline every other arm is compared with. */
export const BASELINE_ARM = 'B0';

/** The built-in arms, in table order. */
export const ARMS: readonly ArmConfig[] = [
  {
    name: 'B0',
    description: 'Default scheduler (LeastAllocated) and Cluster Autoscaler, all on-demand',
    profile: DEFAULT_PROFILE,
    capacityTypes: _ON_DEMAND,
    placement: false,
    deschedule: [],
    naiveRestart: false,
  },
  {
    name: 'T1',
    description: 'B0 with the MostAllocated score (bin-packing)',
    profile: MOST_ALLOCATED_PROFILE,
    capacityTypes: _ON_DEMAND,
    placement: false,
    deschedule: [],
    naiveRestart: false,
  },
  {
    name: 'T2',
    description: 'T1 with consolidate: half-empty nodes drained so the autoscaler removes them',
    profile: MOST_ALLOCATED_PROFILE,
    capacityTypes: _ON_DEMAND,
    placement: false,
    deschedule: ['consolidate'],
    naiveRestart: false,
  },
  {
    name: 'T2B',
    description: 'T1 with balance on use: pods moved off nodes whose CPU in use is far above the mean (reported as evenness, not cost)',
    profile: MOST_ALLOCATED_PROFILE,
    capacityTypes: _ON_DEMAND,
    placement: false,
    deschedule: ['balance'],
    naiveRestart: false,
  },
  {
    name: 'T2K',
    description: 'T1 with Karpenter-style consolidation: any node whose pods fit elsewhere drained, by savings per disruption, and deleted at once',
    profile: MOST_ALLOCATED_PROFILE,
    capacityTypes: _ON_DEMAND,
    placement: false,
    deschedule: ['karpenter-consolidate'],
    naiveRestart: false,
  },
  {
    name: 'T3',
    description: 'T2 with spot node groups and the placement webhook (one replica per service on on-demand)',
    profile: MOST_ALLOCATED_PROFILE,
    capacityTypes: _MIXED,
    placement: true,
    deschedule: ['consolidate'],
    naiveRestart: false,
  },
  {
    name: 'T4',
    description: 'T3 with spot rescheduling: on-demand nodes drained onto spot when their pods fit',
    profile: MOST_ALLOCATED_PROFILE,
    capacityTypes: _MIXED,
    placement: true,
    deschedule: ['spot-reschedule', 'consolidate'],
    naiveRestart: false,
  },
  {
    name: 'NAIVE',
    description: 'B0 with every pod restarted after a fixed interval (the idea the question started from)',
    profile: DEFAULT_PROFILE,
    capacityTypes: _ON_DEMAND,
    placement: false,
    deschedule: [],
    naiveRestart: true,
  },
];

/**
 * Arms run only when named: the cost-aware arm schedules with the very profile `stowage scheduler`
 * runs as `cost-aware` (CostAware on the scenario's prices, MostAllocated, AutoscalerRemoval).
 */
export const OPT_IN_ARMS: readonly ArmConfig[] = [
  {
    name: 'CA',
    description: "T4 with stowage scheduler's cost-aware profile (the pod's share of the node's price, bin-packing, nodes the autoscaler removes avoided)",
    profile: COST_AWARE_PROFILE,
    capacityTypes: _MIXED,
    placement: true,
    deschedule: ['spot-reschedule', 'consolidate'],
    naiveRestart: false,
  },
];

/** The arm named `name` (case-insensitive), built-in or opt-in, or undefined. */
export function findArm(name: string): ArmConfig | undefined {
  const wanted = name.trim().toUpperCase();
  return ARMS.find((a) => a.name === wanted) ?? OPT_IN_ARMS.find((a) => a.name === wanted);
}

/**
 * The descheduler config of an arm: the shared defaults with exactly the arm's strategies enabled,
 * told what a live config states about the cluster: its scheduler's profile (balance follows how
 * it scores resources; surged pods are planned where it will put them) and its autoscaler's
 * removal threshold.
 */
export function deschedulingConfigOf(
  arm: ArmConfig,
  autoscaler?: { readonly scaleDownUtilizationThreshold: number },
  scheduler?: { readonly percentageOfNodesToScore: number },
): DeschedulingConfig {
  const config = withStrategies(DEFAULT_DESCHEDULING_CONFIG, arm.deschedule);
  const profile = (Object.keys(SCHEDULER_PROFILES) as SchedulerProfileName[]).find((name) => SCHEDULER_PROFILES[name].name === arm.profile.name);
  if (profile === undefined) throw new Error(`Cannot configure the descheduler of arm "${arm.name}": its scheduling profile "${arm.profile.name}" is not one a config can name`);
  return {
    ...config,
    scheduler: { profile, percentageOfNodesToScore: scheduler?.percentageOfNodesToScore ?? config.scheduler.percentageOfNodesToScore },
    ...(autoscaler === undefined ? {} : { autoscaler: { scaleDownUtilizationThreshold: autoscaler.scaleDownUtilizationThreshold } }),
    // Balance follows the scheduler profile above (packs or spreads). The simulator models what pods use, so balance evens that (the seed's "uneven load" is use, not requests),
    // moving pods off nodes 20 points above the mean: at 10 (default scenario, 3 seeds × 2 days) it evicted 470 pods
    // against 20's 76 for the same spread (0.08 → 0.07).
    strategies: { ...config.strategies, balance: { ...config.strategies.balance, basis: 'usage', deviation: { ...config.strategies.balance.deviation, cpu: 20 } } },
  };
}
