/**
 * What a simulation produces: the contract between the simulator (src/sim) and the reports
 * (src/report). Plain JSON-serialisable data; `stowage simulate -o json` prints it as is.
 */

/** A mean over seeds with its 95% confidence interval (Student t), and the per-seed values. */
export interface Estimate {
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  readonly samples: readonly number[];
}

export interface ServiceUptime {
  readonly service: string;
  /** Share of time with at least one Ready replica. */
  readonly a1: Estimate;
  /** Share of time with at least (desired − allowed disruptions) Ready replicas. */
  readonly a2: Estimate;
  readonly outages: Estimate;
  readonly outageSeconds: Estimate;
}

export interface ArmMetrics {
  readonly totalUsd: Estimate;
  readonly usdPerDay: Estimate;
  readonly nodeHoursOnDemand: Estimate;
  readonly nodeHoursSpot: Estimate;
  /** Mean over time of requested / allocatable (cpu and memory averaged), 0..1. */
  readonly meanRequestedUtilisation: Estimate;
  /** Mean over services of A1 and A2, and the worst service's. */
  readonly uptimeA1: Estimate;
  readonly uptimeA2: Estimate;
  readonly worstServiceA1: Estimate;
  readonly worstServiceA2: Estimate;
  readonly outages: Estimate;
  readonly outageSeconds: Estimate;
  readonly evictions: Estimate;
  readonly spotInterruptions: Estimate;
  /** Nodes launched (joined Ready) per run; absent in results from before it was counted. */
  readonly nodeLaunches?: Estimate;
  /**
   * The perfect-packing lower bound of the cost, $/day (LP relaxation: the cheapest fractional set
   * of the arm's node types holding the requested pods, averaged over samples).
   */
  readonly boundUsdPerDay?: Estimate;
  /** First-fit decreasing of the requested pods on the cheapest single node type, $/day: a packing that exists (recomputed hourly). */
  readonly ffdUsdPerDay?: Estimate;
  /** How far the arm's cost is above the bound: usdPerDay / boundUsdPerDay − 1, per seed (0.2 = 20% above). */
  readonly aboveBound?: Estimate;
  readonly pendingP50Seconds: Estimate;
  readonly pendingP99Seconds: Estimate;
  readonly perService: readonly ServiceUptime[];
  /** CPU in use over allocatable CPU of the Ready nodes (actual usage, not requests). */
  readonly meanUsageUtilisation?: Estimate;
  /** Evenness of load: the standard deviation of the nodes' CPU usage shares, averaged over time (0 = even). */
  readonly nodeUsageSpread?: Estimate;
  /** Share of node time with more than 80% of allocatable CPU in use. */
  readonly hotNodeShare?: Estimate;
  /** Evictions by cause (autoscaler-drain, descheduler, spot-drain, naive-restart), and scale-downs and rollout deletions for context. */
  readonly evictionsByCause?: Readonly<Record<string, Estimate>>;
  /**
   * Outages by cause (spot-reclaim, autoscaler-drain, stowage, naive-restart, scale-down, rollout,
   * no-capacity): what took the replicas down. `stowage` counts Stowage's evictions and surges and
   * the pods it moved that the autoscaler took down soon after; it is meant to stay at zero.
   */
  readonly outagesByCause?: Readonly<Record<string, Estimate>>;
  /** A2 dips (intervals below the availability floor) by the same causes. */
  readonly a2DipsByCause?: Readonly<Record<string, Estimate>>;
}

export interface ArmVerdict {
  /** Saving against the baseline arm, as a share of its cost (0.3 = 30% cheaper), with CI. */
  readonly savingVsBaseline: Estimate;
  /** Uptime non-inferior to the baseline at the stated margin (paired by seed). */
  readonly uptimeNonInferior: boolean;
  readonly nonInferiorityMargin: number;
  /** One sentence a person can act on. */
  readonly summary: string;
  /** Arm minus baseline, paired by seed, of mean A1 and mean A2 (the non-inferiority test's inputs). */
  readonly deltaA1?: Estimate;
  readonly deltaA2?: Estimate;
  /** What the saving costs in disruption, against the baseline. */
  readonly churn?: ArmChurn;
}

/**
 * Churn against the baseline, paired by seed: the evictions and node launches an arm adds per run
 * (negative: fewer), and per dollar it saves over the run. A saving bought with many evictions
 * restarts many pods; one bought with node launches pays their boot time and image pulls.
 */
export interface ArmChurn {
  /** Arm minus baseline evictions per run. */
  readonly evictions: Estimate;
  /** Arm minus baseline node launches per run. */
  readonly nodeLaunches: Estimate;
  /** Baseline minus arm cost per run, $. */
  readonly savedUsd: Estimate;
  /** Extra evictions per dollar saved (mean over mean); absent when the arm saves nothing. */
  readonly evictionsPerUsdSaved?: number;
  /** Extra node launches per dollar saved (mean over mean); absent when the arm saves nothing. */
  readonly nodeLaunchesPerUsdSaved?: number;
}

/** A time series sampled at a fixed step, for charts (first seed only, to stay small). */
export interface ArmSeries {
  readonly stepSeconds: number;
  readonly usdPerHour: readonly number[];
  readonly cumulativeUsd: readonly number[];
  readonly nodesOnDemand: readonly number[];
  readonly nodesSpot: readonly number[];
  readonly readyShare: readonly number[];
  readonly pendingPods: readonly number[];
}

export interface ArmResult {
  readonly name: string;
  readonly description: string;
  readonly metrics: ArmMetrics;
  readonly verdict?: ArmVerdict;
  readonly series: ArmSeries;
  /** How the model behaved per seed (events, nodes, pods, autoscaler and descheduler counters). */
  readonly diagnostics?: readonly Readonly<Record<string, unknown>>[];
}

/**
 * The cluster as it runs now, for a run from a snapshot (`simulate --from`): its nodes at their
 * prices, kept as they are for the whole duration (no autoscaler, no Stowage), so the table reads
 * today → the baseline → each arm.
 */
export interface TodayResult {
  readonly description: string;
  /** When the snapshot was taken (ISO 8601). */
  readonly takenAt: string;
  readonly usdPerDay: number;
  readonly nodes: { readonly onDemand: number; readonly spot: number; readonly unknown: number };
  /** Node-hours over the simulated duration: the nodes, kept. */
  readonly nodeHoursOnDemand: number;
  /** Spot node-hours; nodes of unknown capacity type count as on-demand, as they are priced. */
  readonly nodeHoursSpot: number;
  /** requested / allocatable of the whole cluster (cpu and memory averaged), 0..1. */
  readonly requestedUtilisation: number;
}

export interface SimulationResult {
  readonly apiVersion: 'stowage.io/v1alpha1';
  readonly kind: 'SimulationResult';
  /** `document` is the whole scenario as resolved over the default, so a run can be repeated from the result. */
  readonly scenario: { readonly name: string; readonly source: string; readonly durationSeconds: number; readonly document?: unknown };
  readonly seeds: readonly number[];
  readonly baseline: string;
  readonly arms: readonly ArmResult[];
  /** The cluster as it runs now, when the scenario was built from a snapshot. */
  readonly today?: TodayResult;
  readonly wallSeconds: number;
  readonly stowageVersion: string;
}

/** One arm at one combination of a sweep. */
export interface SweepArm {
  readonly name: string;
  readonly description: string;
  readonly usdPerDay: Estimate;
  /** Against the baseline, paired by seed; absent for the baseline itself. */
  readonly saving?: Estimate;
  readonly uptimeNonInferior?: boolean;
  readonly outages: Estimate;
  /** Outages whose cause is a Stowage eviction or surge (meant to stay at zero). */
  readonly stowageOutages: Estimate;
  readonly evictions: Estimate;
  /** Node launches per run, when counted. */
  readonly nodeLaunches?: Estimate;
  /** Churn against the baseline (see `ArmChurn`); absent for the baseline itself. */
  readonly churn?: ArmChurn;
  /** How far the arm's cost is above the perfect-packing bound (0.2 = 20% above), when measured. */
  readonly aboveBound?: Estimate;
}

/** One combination of the varied values, by path (values as written on the command line; `scenario` for the scenario's name). */
export interface SweepPoint {
  readonly settings: Readonly<Record<string, string>>;
  readonly arms: readonly SweepArm[];
}

/** What `stowage simulate --vary` produces; `-o json` prints it as is. */
export interface SweepResult {
  readonly apiVersion: 'stowage.io/v1alpha1';
  readonly kind: 'SweepResult';
  readonly scenario: { readonly name: string; readonly source: string; readonly durationSeconds: number };
  readonly seeds: readonly number[];
  readonly baseline: string;
  readonly axes: readonly { readonly path: string; readonly values: readonly string[] }[];
  /** Every combination, the first axis varying slowest. */
  readonly points: readonly SweepPoint[];
  readonly wallSeconds: number;
  readonly stowageVersion: string;
}
