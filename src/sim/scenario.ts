/**
 * Scenarios: what cluster, load and cloud a simulation runs, as a YAML document
 * (`apiVersion: stowage.io/v1alpha1, kind: Scenario`), validated with zod into one-line errors
 * that name the field, then resolved into plain numbers (milliseconds, millicores, bytes).
 *
 * A user file states only what differs from the embedded default: every field it leaves out is
 * taken from {@link DEFAULT_SCENARIO_DOCUMENT}, whose values carry their sources below.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatZodError } from '../core/validation.js';
import { parseDurationMs } from '../core/duration.js';
import { Quantity } from '../core/quantity.js';
import { RandomSource } from './random.js';
import type { RandomStream } from './random.js';

// ---------------------------------------------------------------------------------------------
// Errors

/** A scenario that cannot be read or is invalid; the message is one line naming the field. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

// ---------------------------------------------------------------------------------------------
// The document schema (what a YAML file holds)

/** `45s`, `1m30s`, `2h`, `7d`, or a number of seconds. */
const durationSchema = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value * 1_000;
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "45s", "1m30s" or "7d", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return ms;
});

/** A Kubernetes quantity (`250m`, `1.5`, `512Mi`) or a plain number, as its milli-value / 1000. */
function _quantitySchema(kind: 'cpu' | 'memory') {
  return z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
    try {
      const q = typeof value === 'number' ? Quantity.fromValue(value) : Quantity.parse(value);
      if (q.sign() < 0) throw new Error('must not be negative');
      // cpu in millicores, memory in bytes: the model's units.
      return kind === 'cpu' ? q.milliValue() : Math.ceil(q.milliValue() / 1_000);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  });
}
const cpuSchema = _quantitySchema('cpu');
const memorySchema = _quantitySchema('memory');

const share = z.number().min(0).max(1);

/** A Deployment strategy field: a count of pods or a percentage of the replicas (`25%`). */
const intOrPercentSchema = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,3}%$/, 'expected a count or a percentage like "25%"')]);

/** `spec.strategy.rollingUpdate` of a Deployment. */
const strategySchema = z.strictObject({ maxSurge: intOrPercentSchema.optional(), maxUnavailable: intOrPercentSchema.optional() });

/** A lognormal given by median and log-spread, clipped to [min, max]: how trace papers quote sizes. */
function _lognormalSchema<T extends z.ZodType<number, unknown>>(value: T) {
  return z.strictObject({ median: value, sigma: z.number().min(0).max(5), min: value.optional(), max: value.optional() });
}
function _rangeSchema<T extends z.ZodType<number, unknown>>(value: T) {
  return z.strictObject({ min: value, max: value });
}

const interruptionBandSchema = z.enum(['<5%', '5-10%', '10-15%', '15-20%', '>20%']);

const instanceTypeSchema = z.strictObject({
  name: z.string().min(1),
  /** vCPUs as the instance reports them (node capacity). */
  cpu: cpuSchema,
  memory: memorySchema,
  /** Max pods (the VPC CNI limit on EKS: ENIs × (IPs per ENI − 1) + 2). */
  pods: z.number().int().positive(),
  /** $/h; when absent, the price table's. */
  onDemand: z.number().positive().optional(),
  spot: z.number().positive().optional(),
  /** The Spot Instance Advisor's frequency-of-interruption band for this type. */
  interruption: interruptionBandSchema.optional(),
});

const pdbSchema = z.strictObject({
  minAvailable: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,3}%$/)]).optional(),
  maxUnavailable: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,3}%$/)]).optional(),
});

const hpaSchema = z.strictObject({
  /** Peak-to-mean swing of the daily cycle: replicas follow base × (1 + amplitude × cos(…)). */
  amplitude: z.number().min(0).max(0.95),
  /** Hour of day (UTC, 0–24) of the daily peak. */
  peakHour: z.number().min(0).max(24),
  /** Multiplier of the mean load on Saturdays and Sundays. */
  weekendFactor: z.number().min(0).max(2).optional(),
  /** Standard deviation of the slow multiplicative noise on the load (0.1 = ±10%). */
  noise: z.number().min(0).max(1).optional(),
  minReplicas: z.number().int().positive().optional(),
  maxReplicas: z.number().int().positive().optional(),
});

const serviceSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS-1123 label'),
  namespace: z.string().min(1).optional(),
  /** Replicas at the mean load (the HPA moves around it). */
  replicas: z.number().int().positive(),
  cpu: cpuSchema,
  memory: memorySchema,
  pdb: pdbSchema.optional(),
  hpa: hpaSchema.optional(),
  startup: durationSchema.optional(),
  shutdown: durationSchema.optional(),
  gracePeriod: durationSchema.optional(),
  /** `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`: the autoscaler and Stowage never evict it. */
  safeToEvict: z.boolean().optional(),
  /** Has an emptyDir volume: the autoscaler does not evict it unless safe-to-evict is true. */
  localStorage: z.boolean().optional(),
  /** The Deployment's annotations, such as the placement webhook's per-workload policy (`stowage.io/on-demand-base`). */
  annotations: z.record(z.string(), z.string()).optional(),
  /** Mean CPU used over CPU requested; drawn from `spec.usage.ratio` when absent. */
  usageRatio: z.number().positive().max(5).optional(),
  /** The Deployment's `strategy.rollingUpdate`; `spec.rollouts`' when absent. */
  strategy: strategySchema.optional(),
});

const generateSchema = z.strictObject({
  count: z.number().int().nonnegative(),
  /** The catalogue is drawn from this seed, not the run seed: every run sees the same services. */
  seed: z.number().int(),
  namespaces: z.number().int().positive(),
  replicas: _lognormalSchema(z.number().positive()),
  singleReplicaShare: share,
  cpu: _lognormalSchema(cpuSchema),
  /** Memory requested per core of cpu requested. */
  memoryPerCpu: _lognormalSchema(memorySchema),
  pdbShare: share,
  /** The PDB of services that get one (multi-replica services only). */
  pdb: pdbSchema,
  hpaShare: share,
  hpa: z.strictObject({
    amplitude: _rangeSchema(z.number().min(0).max(0.95)),
    peakHour: _rangeSchema(z.number().min(0).max(24)),
    weekendFactor: z.number().min(0).max(2),
    noise: z.number().min(0).max(1),
  }),
  startup: _lognormalSchema(durationSchema),
  shutdown: _lognormalSchema(durationSchema),
  gracePeriod: durationSchema,
  safeToEvictFalseShare: share,
  localStorageShare: share,
});

const jobsSchema = z.strictObject({
  /** Mean job arrivals per hour (Poisson), modulated by the same daily cycle as services. */
  arrivalsPerHour: z.number().nonnegative(),
  dailyAmplitude: z.number().min(0).max(0.95),
  peakHour: z.number().min(0).max(24),
  parallelism: _rangeSchema(z.number().int().positive()),
  duration: _lognormalSchema(durationSchema),
  cpu: _lognormalSchema(cpuSchema),
  memoryPerCpu: _lognormalSchema(memorySchema),
  startup: _lognormalSchema(durationSchema),
  safeToEvictFalseShare: share,
});

const usageSchema = z.strictObject({
  /** The per-service ratios are drawn from this seed (their own stream): the same on every run. */
  seed: z.number().int(),
  /** Each service's mean CPU used over CPU requested, at its mean load. */
  ratio: _lognormalSchema(z.number().positive().max(5)),
  /** A running batch pod's CPU used over requested. */
  jobRatio: z.number().positive().max(5),
  /** The DaemonSet pods' CPU used over requested. */
  daemonSetRatio: z.number().positive().max(5),
  /** A pod uses at most this multiple of its request (a CPU limit), however few replicas share the load. */
  burstLimit: z.number().min(1).max(100),
});

const rolloutsSchema = z.strictObject({
  /** Mean rollouts (new pod template, new ReplicaSet) of each service per weekday; 0 turns them off. */
  perServicePerDay: z.number().min(0).max(100),
  /** The hours of the day (UTC) rollouts happen in: deploys follow the working day. */
  hours: _rangeSchema(z.number().min(0).max(24)),
  /** The rate on Saturdays and Sundays against a weekday's. */
  weekendFactor: z.number().min(0).max(1),
  /** Every Deployment's `strategy.rollingUpdate` unless a listed service states its own. */
  maxSurge: intOrPercentSchema,
  maxUnavailable: intOrPercentSchema,
});

const specSchema = z.strictObject({
  /** Measured time; the warm-up before it is simulated but not measured. */
  duration: durationSchema,
  warmUp: durationSchema,
  /** Wall-clock instant of the start of the measured period (RFC 3339); sets the hour and weekday of the load cycle. */
  start: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'expected an RFC 3339 timestamp'),
  /** Step of the time series in the report. */
  sampleEvery: durationSchema,
  cloud: z.strictObject({
    zones: z.array(z.string().min(1)).min(1),
    instanceTypes: z.array(instanceTypeSchema).min(1),
    /** From launch request to node Ready (uniform). */
    provisioning: _rangeSchema(durationSchema),
    /** From launch request to the instance's `running` state, where billing starts (uniform). */
    billingStartsAfter: _rangeSchema(durationSchema),
    /** Kubernetes-side time from the node's removal decision to instance termination (billing stops). */
    terminationDelay: durationSchema,
    spot: z.strictObject({
      notice: durationSchema,
      /** Share of a pool's nodes one reclaim event takes (each node independently). */
      reclaimShare: z.number().gt(0).max(1),
      /** The reclaimed nodes get their notices spread uniformly over this window. */
      reclaimSpread: durationSchema,
      /** After a reclaim the pool has no spare capacity for an exponential time of this mean. */
      capacityGap: durationSchema,
      /**
       * Which pools that gap hits: the reclaimed pool alone (`pool`: one instance type in one
       * zone), every zone of its instance type (`instance-type`), or every spot pool (`region`: a
       * regional shortage, when the autoscaler finds no spot capacity to fall back on).
       */
      capacityGapScope: z.enum(['pool', 'instance-type', 'region']).default('pool'),
      /** Time until a launch into a pool without capacity is reported failed. */
      launchFailureAfter: durationSchema,
      /** Monthly interruption probability for each Spot Instance Advisor band (used for the band's types). */
      bandMonthlyRate: z.strictObject({ '<5%': share, '5-10%': share, '10-15%': share, '15-20%': share, '>20%': share }),
    }),
  }),
  nodeGroups: z.strictObject({
    /** One group per instance type × zone × capacity type; each scales between these sizes. */
    minSize: z.number().int().nonnegative(),
    maxSize: z.number().int().positive(),
    maxNodesTotal: z.number().int().positive(),
  }),
  autoscaler: z.strictObject({
    scanInterval: durationSchema,
    scaleDownUtilizationThreshold: share,
    scaleDownUnneededTime: durationSchema,
    scaleDownDelayAfterAdd: durationSchema,
    scaleDownDelayAfterFailure: durationSchema,
    maxEmptyBulkDelete: z.number().int().positive(),
    scaleDownNonEmptyCandidatesCount: z.number().int().positive(),
    maxNodeProvisionTime: durationSchema,
    maxPodEvictionTime: durationSchema,
    maxGracefulTermination: durationSchema,
    initialBackoff: durationSchema,
    maxBackoff: durationSchema,
    expander: z.enum(['least-waste', 'random', 'price']),
  }),
  scheduler: z.strictObject({
    /** How often the scheduling queue is drained; pods created in between wait for the next cycle. */
    cycle: durationSchema,
    podInitialBackoff: durationSchema,
    podMaxBackoff: durationSchema,
    /** 0 = kube-scheduler's adaptive default (50% − nodes/125, at least 5%, at least 100 nodes). */
    percentageOfNodesToScore: z.number().min(0).max(100),
  }),
  /** The DaemonSet pods every node runs, as one pod with their summed requests. */
  daemonSet: z.strictObject({ cpu: cpuSchema, memory: memorySchema }),
  services: z.strictObject({
    generate: generateSchema,
    /** Services stated one by one, added to the generated ones. */
    list: z.array(serviceSchema),
  }),
  jobs: jobsSchema,
  /** Deployment rollouts: when services change their pod template, and how their pods are replaced. */
  rollouts: rolloutsSchema,
  /** Actual CPU use against requests: what `kubectl top` would show. It never changes placement or cost. */
  usage: usageSchema,
  hpa: z.strictObject({ syncPeriod: durationSchema, tolerance: share, downscaleStabilization: durationSchema, noiseInterval: durationSchema }),
  /** Spot-notice handling (aws-node-termination-handler): cordon and drain on the notice. */
  interruptionHandler: z.strictObject({ enabled: z.boolean(), evictionRetry: durationSchema }),
  stowage: z.strictObject({
    placement: z.strictObject({ base: z.number().int().nonnegative(), percent: z.number().int().min(0).max(100) }),
    descheduler: z.strictObject({
      interval: durationSchema,
      /** How long a surge-first replacement may take to become Ready before the move is abandoned. */
      surgeTimeout: durationSchema,
    }),
    naive: z.strictObject({ interval: durationSchema }),
  }),
});

type _SpecInput = z.input<typeof specSchema>;

type _DeepPartial<T> = T extends readonly (infer U)[] ? readonly U[] : T extends object ? { readonly [K in keyof T]?: _DeepPartial<T[K]> } : T;

/** A scenario file as written: every field of `spec` optional, filled from the default. */
export interface ScenarioDocument {
  readonly apiVersion: 'stowage.io/v1alpha1';
  readonly kind: 'Scenario';
  readonly metadata?: { readonly name?: string; readonly description?: string };
  readonly spec?: _DeepPartial<_SpecInput>;
}

const documentHeaderSchema = z.strictObject({
  apiVersion: z.literal('stowage.io/v1alpha1'),
  kind: z.literal('Scenario'),
  metadata: z.strictObject({ name: z.string().min(1).optional(), description: z.string().optional() }).optional(),
  spec: z.record(z.string(), z.unknown()).optional(),
});

// ---------------------------------------------------------------------------------------------
// The embedded default, with sources

/**
 * The default scenario: a mid-size SaaS cluster on AWS (EKS-style) in us-east-1, one week.
 *
 * Sources, and where a value is an assumption rather than a measurement:
 * - **Prices**: taken from the price table (`src/core/pricing.ts`, AWS us-east-1 Linux on-demand and
 *   typical spot); spot for m5 has sat around 35–45% of on-demand (AWS Spot price history).
 * - **Interruptions**: AWS Spot Instance Advisor (aws.amazon.com/ec2/spot/instance-advisor/) puts
 *   each type × region in a monthly "frequency of interruption" band: <5%, 5–10%, 10–15%, 15–20%,
 *   >20%. We use each band's midpoint (25% for ">20%") as the monthly probability that an instance
 *   is reclaimed, and m5.xlarge/m5.2xlarge in the "<5%"/"5–10%" bands they have mostly shown.
 *   Reclaims are correlated per pool (type × zone): AWS reclaims capacity of a pool, so one event
 *   takes several of its instances within minutes (AWS, "Best practices for EC2 Spot": diversify
 *   across pools for this reason). The 50% share, 5-minute spread and 30-minute capacity gap are
 *   assumptions.
 * - **Billing**: per second from the `running` state to termination with a 60-second minimum
 *   (Linux); `pending` and `shutting-down` are not billed (EC2 User Guide, "Instance lifecycle");
 *   a Spot Instance interrupted by EC2 in its first hour is not charged (EC2 User Guide, "Billing
 *   for interrupted Spot Instances").
 * - **Provisioning**: 45–90 s from launch to node Ready (EKS managed node groups typically join
 *   in about a minute); billing starts 5–15 s after launch when the instance is `running`.
 * - **Autoscaler**: Cluster Autoscaler's defaults (FAQ, "What are the parameters to CA?"): scan 10 s,
 *   utilisation threshold 0.5, unneeded time 10 min, delay after add 10 min, after failure 3 min,
 *   max empty bulk delete 10, 30 non-empty candidates, max node provision time 15 min, max pod
 *   eviction time 2 min, max graceful termination 10 min, backoff 5 → 30 min. The expander is
 *   `least-waste` (the default `random` is rarely kept in production; it is selectable).
 * - **Scheduler**: kube-scheduler's defaults: pod backoff 1 s → 10 s, adaptive
 *   percentageOfNodesToScore, LeastAllocated scoring (NodeResourcesFit default).
 * - **HPA**: sync period 15 s, tolerance 0.1, scale-down stabilisation 5 min (Kubernetes docs).
 * - **Load cycle**: both the Alibaba cluster-trace-v2018 (Jiang et al., IEEE TCC 2020: "the workload
 *   on the production cluster poses a daily cyclical fluctuation") and Google's Borg traces show a
 *   diurnal cycle; its amplitude (±30–60% around the mean), the afternoon peak and the weekend dip
 *   to 70% are assumptions in that range.
 * - **Request sizes**: per-pod cpu requests lognormal around 250m with a heavy tail up to 2 cores,
 *   and 1–4 GiB per core — typical of web services; trace papers (Borg 2019, Tirmazi et al.,
 *   EuroSys 2020) report heavy-tailed request sizes. Medians here are assumptions.
 * - **Shares**: 20% single-replica services, 60% of multi-replica services with a PDB
 *   (`maxUnavailable: 1`), 70% scaled by an HPA, 5% annotated safe-to-evict "false", 10% with
 *   emptyDir: assumptions, stated so they can be changed.
 * - **DaemonSets**: kube-proxy (100m), aws-node (25m) plus a log and a metrics agent: 200m and 400Mi
 *   per node, an assumption in line with EKS defaults plus two common agents.
 * - **Pod lifecycle**: start-up (image pull, container start, readiness probe) lognormal median 20 s;
 *   graceful shutdown lognormal median 5 s, cut at the 30 s default terminationGracePeriodSeconds.
 * - **Usage**: each service uses a lognormal share of the CPU it requests, median 0.3, sigma 0.5
 *   (58% of services under a third, a fifth under 0.2, one in twelve above 0.6): Datadog's
 *   container report (2020) found nearly half of containers using less than a third of their
 *   requested CPU and memory; CAST AI's 2024 report (4,000 clusters) found 13% of provisioned CPU
 *   in use, which counts unrequested capacity too. Load follows the service's daily cycle and is shared by its Ready
 *   replicas, each capped at twice its request (a common CPU limit). Batch pods use 80% of their
 *   request, node agents 30%: assumptions. Usage is measured, not acted on: cost and placement
 *   never read it.
 * - **Rollouts**: off by default (`perServicePerDay: 0`), so the other scenarios' answers are
 *   about placement alone; `scenarios/rollouts.yaml` turns them on. When on, each service rolls
 *   out at the stated mean rate per weekday, in working hours (9–17 UTC) with a tenth of that on
 *   weekends, with Kubernetes' default strategy (maxSurge 25%, maxUnavailable 25%). For scale:
 *   DORA's State of DevOps reports (2019–2023) put elite teams at several deploys a day ("on
 *   demand") and medium ones between once a week and once a month; each deploy of a service is
 *   one rollout of its Deployment. The working-hours window and the weekend share are assumptions.
 * - **Naive arm**: restarts every pod after it has run 1 hour: the seed question's "crash all pods
 *   on a fixed interval", with an interval short enough to matter for packing.
 * - **Stowage descheduler**: a cycle every 5 minutes (the upstream descheduler's deployment-mode
 *   examples use `--descheduling-interval 5m`); a surge replacement not Ready within 10 minutes
 *   abandons the move. The on-demand floor is one replica per service (`base: 1`), the placement
 *   webhook's default.
 */
export const DEFAULT_SCENARIO_DOCUMENT = {
  apiVersion: 'stowage.io/v1alpha1',
  kind: 'Scenario',
  metadata: {
    name: 'default',
    description: 'A mid-size SaaS cluster on AWS us-east-1: 60 services with a daily load cycle and batch jobs, one week',
  },
  spec: {
    duration: '7d',
    warmUp: '2h',
    start: '2024-01-01T00:00:00Z', // a Monday: the measured week runs Monday to Sunday
    sampleEvery: '10m',
    cloud: {
      zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      instanceTypes: [
        { name: 'm5.xlarge', cpu: 4, memory: '16Gi', pods: 58, interruption: '<5%' },
        { name: 'm5.2xlarge', cpu: 8, memory: '32Gi', pods: 58, interruption: '5-10%' },
      ],
      provisioning: { min: '45s', max: '90s' },
      billingStartsAfter: { min: '5s', max: '15s' },
      terminationDelay: '10s',
      spot: {
        notice: '2m',
        reclaimShare: 0.5,
        reclaimSpread: '5m',
        capacityGap: '30m',
        capacityGapScope: 'pool',
        launchFailureAfter: '2m',
        bandMonthlyRate: { '<5%': 0.025, '5-10%': 0.075, '10-15%': 0.125, '15-20%': 0.175, '>20%': 0.25 },
      },
    },
    nodeGroups: { minSize: 0, maxSize: 100, maxNodesTotal: 300 },
    autoscaler: {
      scanInterval: '10s',
      scaleDownUtilizationThreshold: 0.5,
      scaleDownUnneededTime: '10m',
      scaleDownDelayAfterAdd: '10m',
      scaleDownDelayAfterFailure: '3m',
      maxEmptyBulkDelete: 10,
      scaleDownNonEmptyCandidatesCount: 30,
      maxNodeProvisionTime: '15m',
      maxPodEvictionTime: '2m',
      maxGracefulTermination: '10m',
      initialBackoff: '5m',
      maxBackoff: '30m',
      expander: 'least-waste',
    },
    scheduler: { cycle: '1s', podInitialBackoff: '1s', podMaxBackoff: '10s', percentageOfNodesToScore: 0 },
    daemonSet: { cpu: '200m', memory: '400Mi' },
    services: {
      generate: {
        count: 60,
        seed: 1,
        namespaces: 6,
        replicas: { median: 3, sigma: 0.7, min: 2, max: 30 },
        singleReplicaShare: 0.2,
        cpu: { median: '250m', sigma: 0.8, min: '50m', max: '2' },
        memoryPerCpu: { median: '2Gi', sigma: 0.5, min: '512Mi', max: '8Gi' },
        pdbShare: 0.6,
        pdb: { maxUnavailable: 1 },
        hpaShare: 0.7,
        hpa: { amplitude: { min: 0.3, max: 0.6 }, peakHour: { min: 13, max: 17 }, weekendFactor: 0.7, noise: 0.1 },
        startup: { median: '20s', sigma: 0.5, min: '5s', max: '3m' },
        shutdown: { median: '5s', sigma: 0.8, min: '1s', max: '30s' },
        gracePeriod: '30s',
        safeToEvictFalseShare: 0.05,
        localStorageShare: 0.1,
      },
      list: [],
    },
    jobs: {
      arrivalsPerHour: 6,
      dailyAmplitude: 0.5,
      peakHour: 2, // nightly batch: reports and ETL run while interactive load is low
      parallelism: { min: 1, max: 4 },
      duration: { median: '15m', sigma: 0.8, min: '1m', max: '3h' },
      cpu: { median: '500m', sigma: 0.5, min: '100m', max: '2' },
      memoryPerCpu: { median: '2Gi', sigma: 0.4, min: '512Mi', max: '8Gi' },
      startup: { median: '10s', sigma: 0.5, min: '2s', max: '2m' },
      safeToEvictFalseShare: 0.5,
    },
    rollouts: { perServicePerDay: 0, hours: { min: 9, max: 17 }, weekendFactor: 0.1, maxSurge: '25%', maxUnavailable: '25%' },
    usage: { seed: 2, ratio: { median: 0.3, sigma: 0.5, min: 0.05, max: 1.5 }, jobRatio: 0.8, daemonSetRatio: 0.3, burstLimit: 2 },
    hpa: { syncPeriod: '15s', tolerance: 0.1, downscaleStabilization: '5m', noiseInterval: '5m' },
    interruptionHandler: { enabled: true, evictionRetry: '5s' },
    stowage: {
      placement: { base: 1, percent: 0 },
      descheduler: { interval: '5m', surgeTimeout: '10m' },
      naive: { interval: '1h' },
    },
  },
} as const satisfies ScenarioDocument & { spec: _SpecInput };

// ---------------------------------------------------------------------------------------------
// The resolved scenario (what the models read)

/** A lognormal in model units, clipped. */
export interface Lognormal {
  readonly median: number;
  readonly sigma: number;
  readonly min: number;
  readonly max: number;
}

/** A Spot Instance Advisor frequency-of-interruption band. */
export type InterruptionBand = z.infer<typeof interruptionBandSchema>;

/** An instance type of the scenario; cpu in millicores, memory in bytes. */
export interface InstanceTypeSpec {
  readonly name: string;
  /** Capacity: millicores, bytes, pods. */
  readonly cpu: number;
  readonly memory: number;
  readonly pods: number;
  /** $/h, or undefined to take the price table's. */
  readonly onDemand?: number;
  readonly spot?: number;
  readonly interruption: InterruptionBand;
}

/** A PodDisruptionBudget: exactly one of the two fields, an integer or a percentage string. */
export interface PdbSpec {
  readonly minAvailable?: number | string;
  readonly maxUnavailable?: number | string;
}

/** A service's HPA: the daily load cycle it follows and its replica bounds. */
export interface HpaSpec {
  readonly amplitude: number;
  readonly peakHour: number;
  readonly weekendFactor: number;
  readonly noise: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/** One long-running service (a Deployment). Durations in ms, cpu in millicores, memory in bytes. */
export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly cpu: number;
  readonly memory: number;
  readonly pdb?: PdbSpec;
  readonly hpa?: HpaSpec;
  readonly startupMs: number;
  readonly shutdownMs: number;
  readonly gracePeriodMs: number;
  readonly safeToEvict: boolean | undefined;
  readonly localStorage: boolean;
  /** The Deployment's own annotations (its pods' come from `safeToEvict`). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Mean CPU used over CPU requested at mean load; absent in a service not from a scenario file (then `UsageSpec.defaultRatio`). */
  readonly usageRatio?: number;
  /** The Deployment's own `strategy.rollingUpdate` fields; the scenario's `rollouts` fill the rest. */
  readonly strategy?: { readonly maxSurge?: number | string; readonly maxUnavailable?: number | string };
}

/** When services roll out, and the strategy they roll out with unless their own says otherwise. */
export interface RolloutsSpec {
  readonly perServicePerDay: number;
  /** Hours of the day (UTC), `min` ≤ hour < `max`. */
  readonly hours: { readonly min: number; readonly max: number };
  readonly weekendFactor: number;
  readonly maxSurge: number | string;
  readonly maxUnavailable: number | string;
}

/** Actual CPU use against requests, see `spec.usage`. */
export interface UsageSpec {
  /** For a service without its own ratio: the median of the scenario's distribution. */
  readonly defaultRatio: number;
  readonly jobRatio: number;
  readonly daemonSetRatio: number;
  readonly burstLimit: number;
}

/** Batch job arrivals and sizes, in model units. */
export interface JobsSpec {
  readonly arrivalsPerHour: number;
  readonly dailyAmplitude: number;
  readonly peakHour: number;
  readonly parallelism: { readonly min: number; readonly max: number };
  readonly durationMs: Lognormal;
  readonly cpu: Lognormal;
  readonly memoryPerCpu: Lognormal;
  readonly startupMs: Lognormal;
  readonly safeToEvictFalseShare: number;
}

type _Spec = z.output<typeof specSchema>;

/** A scenario ready to run: every value resolved to model units. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** `embedded:default`, a file path, or `snapshot:<path>`. */
  readonly source: string;
  readonly durationMs: number;
  readonly warmUpMs: number;
  /** Epoch milliseconds of the start of the measured period. */
  readonly startEpochMs: number;
  readonly sampleEveryMs: number;
  readonly cloud: Omit<_Spec['cloud'], 'instanceTypes'> & { readonly instanceTypes: readonly InstanceTypeSpec[] };
  readonly nodeGroups: _Spec['nodeGroups'];
  readonly autoscaler: _Spec['autoscaler'];
  readonly scheduler: _Spec['scheduler'];
  readonly daemonSet: _Spec['daemonSet'];
  readonly services: readonly ServiceSpec[];
  readonly jobs: JobsSpec;
  readonly rollouts: RolloutsSpec;
  readonly usage: UsageSpec;
  readonly hpa: _Spec['hpa'];
  readonly interruptionHandler: _Spec['interruptionHandler'];
  readonly stowage: _Spec['stowage'];
  /** The merged document the scenario was resolved from, for the result's record. */
  readonly document: ScenarioDocument;
}

// ---------------------------------------------------------------------------------------------
// Parsing and resolution

/**
 * Validates a parsed YAML document and resolves it over the default.
 * Throws {@link ScenarioError} with one line naming each bad field.
 */
export function resolveScenario(input: unknown, source: string): Scenario {
  const header = documentHeaderSchema.safeParse(input);
  if (!header.success) throw new ScenarioError(`Invalid scenario ${JSON.stringify(source)}: ${formatZodError(header.error)}`);
  const merged = _deepMerge(DEFAULT_SCENARIO_DOCUMENT.spec, header.data.spec ?? {});
  const parsed = specSchema.safeParse(merged);
  if (!parsed.success) {
    // Paths in the message start at the document root, as the user wrote it.
    const error = new z.ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: ['spec', ...issue.path] })));
    throw new ScenarioError(`Invalid scenario ${JSON.stringify(source)}: ${formatZodError(error)}`);
  }
  const spec = parsed.data;
  const problems = _crossFieldProblems(spec);
  if (problems.length > 0) throw new ScenarioError(`Invalid scenario ${JSON.stringify(source)}: ${problems.join('; ')}`);
  const name = header.data.metadata?.name ?? (source.startsWith('embedded:') ? source.slice('embedded:'.length) : source);
  const document: ScenarioDocument = {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'Scenario',
    metadata: { name, description: header.data.metadata?.description ?? DEFAULT_SCENARIO_DOCUMENT.metadata.description },
    spec: merged as _DeepPartial<_SpecInput>,
  };
  return {
    name,
    description: document.metadata?.description ?? '',
    source,
    durationMs: spec.duration,
    warmUpMs: spec.warmUp,
    startEpochMs: Date.parse(spec.start),
    sampleEveryMs: spec.sampleEvery,
    cloud: {
      ...spec.cloud,
      instanceTypes: spec.cloud.instanceTypes.map((t) => ({ ...t, interruption: t.interruption ?? '<5%' })),
    },
    nodeGroups: spec.nodeGroups,
    autoscaler: spec.autoscaler,
    scheduler: spec.scheduler,
    daemonSet: spec.daemonSet,
    services: _withUsage([..._generateServices(spec.services.generate), ...spec.services.list.map((s) => _explicitService(s, spec.services.generate))], spec.usage),
    jobs: {
      ...spec.jobs,
      durationMs: _lognormal(spec.jobs.duration),
      cpu: _lognormal(spec.jobs.cpu),
      memoryPerCpu: _lognormal(spec.jobs.memoryPerCpu),
      startupMs: _lognormal(spec.jobs.startup),
    },
    rollouts: spec.rollouts,
    usage: { defaultRatio: spec.usage.ratio.median, jobRatio: spec.usage.jobRatio, daemonSetRatio: spec.usage.daemonSetRatio, burstLimit: spec.usage.burstLimit },
    hpa: spec.hpa,
    interruptionHandler: spec.interruptionHandler,
    stowage: spec.stowage,
    document,
  };
}

/** The embedded default scenario, resolved. */
export function defaultScenario(): Scenario {
  return resolveScenario(DEFAULT_SCENARIO_DOCUMENT, 'embedded:default');
}

/** Parses scenario YAML text. */
export function parseScenario(text: string, source: string): Scenario {
  let input: unknown;
  try {
    input = parseYaml(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ScenarioError(`Cannot parse scenario ${JSON.stringify(source)}: ${detail}`);
  }
  return resolveScenario(input, source);
}

/** Reads and parses a scenario file. */
export async function loadScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError(`Cannot read scenario ${JSON.stringify(path)}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)}`);
  }
  return parseScenario(text, path);
}

/** The same scenario measured for another duration (the `--duration` flag). */
export function withDuration(scenario: Scenario, durationMs: number): Scenario {
  return { ...scenario, durationMs, document: { ...scenario.document, spec: { ...scenario.document.spec, duration: `${durationMs / 1000}s` } } };
}

/** One field of a scenario document set to a value, as `--vary` sets it: `spec.services.generate.cpu.median` = `250m`. */
export interface ScenarioSetting {
  /** Dotted path from the document root; it starts at `spec.`; array items by index (`spec.cloud.instanceTypes.0.cpu`). */
  readonly path: string;
  readonly value: unknown;
}

/**
 * The scenario with these fields of its document set, resolved and validated again (a bad path
 * or value fails as a bad scenario file would, naming the field). Setting one key of
 * minAvailable/maxUnavailable drops the other, as merging a user's file does.
 */
export function withSettings(scenario: Scenario, settings: readonly ScenarioSetting[]): Scenario {
  let document: unknown = scenario.document;
  for (const setting of settings) document = _setPath(document, setting);
  const label = settings.map((s) => `${s.path}=${typeof s.value === 'string' ? s.value : JSON.stringify(s.value)}`).join(', ');
  const resolved = resolveScenario(document, `${scenario.source} with ${label}`);
  // The name stays the scenario's; the source says what was set.
  return { ...resolved, name: scenario.name, description: scenario.description };
}

function _setPath(document: unknown, setting: ScenarioSetting): unknown {
  const segments = setting.path.split('.');
  if (segments[0] !== 'spec' || segments.length < 2 || segments.some((s) => s === '')) throw new ScenarioError(`Invalid setting ${JSON.stringify(setting.path)}: a path starts at spec., e.g. spec.services.generate.cpu.median`);
  const set = (node: unknown, at: number): unknown => {
    const key = segments[at] as string;
    const last = at === segments.length - 1;
    const where = segments.slice(0, at).join('.');
    if (Array.isArray(node)) {
      const index = Number(key);
      if (!Number.isSafeInteger(index) || index < 0 || index >= node.length) throw new ScenarioError(`Invalid setting ${JSON.stringify(setting.path)}: ${where} is a list of ${node.length}; use an index from 0 to ${node.length - 1}`);
      const copy: unknown[] = [...(node as unknown[])];
      copy[index] = last ? setting.value : set(node[index], at + 1);
      return copy;
    }
    if (node !== undefined && !_isPlainObject(node)) throw new ScenarioError(`Invalid setting ${JSON.stringify(setting.path)}: ${where} is ${JSON.stringify(node)}, not an object`);
    const copy: Record<string, unknown> = { ...(node ?? {}) };
    if (last) for (const group of _EXCLUSIVE_KEYS) if (group.includes(key)) for (const other of group) delete copy[other];
    copy[key] = last ? setting.value : set(copy[key], at + 1);
    return copy;
  };
  return set(document, 0);
}

function _crossFieldProblems(spec: _Spec): string[] {
  const problems: string[] = [];
  const range = (path: string, r: { min: number; max: number }): void => {
    if (r.min > r.max) problems.push(`${path}: min ${r.min} is greater than max ${r.max}`);
  };
  range('spec.cloud.provisioning', spec.cloud.provisioning);
  range('spec.cloud.billingStartsAfter', spec.cloud.billingStartsAfter);
  if (spec.cloud.billingStartsAfter.max > spec.cloud.provisioning.min) {
    problems.push('spec.cloud.billingStartsAfter.max: must not exceed spec.cloud.provisioning.min (an instance is running before its node is Ready)');
  }
  range('spec.services.generate.hpa.amplitude', spec.services.generate.hpa.amplitude);
  range('spec.services.generate.hpa.peakHour', spec.services.generate.hpa.peakHour);
  range('spec.jobs.parallelism', spec.jobs.parallelism);
  range('spec.rollouts.hours', spec.rollouts.hours);
  if (spec.rollouts.perServicePerDay > 0 && spec.rollouts.hours.min === spec.rollouts.hours.max) problems.push('spec.rollouts.hours: min and max are equal, so no hour is left for rollouts');
  const bothZero = (s: { maxSurge?: number | string | undefined; maxUnavailable?: number | string | undefined }): boolean => _isZero(s.maxSurge ?? spec.rollouts.maxSurge) && _isZero(s.maxUnavailable ?? spec.rollouts.maxUnavailable);
  // The apiserver's own rule for a Deployment: a rollout that may neither add nor remove a pod cannot progress.
  if (bothZero({})) problems.push('spec.rollouts.maxUnavailable: may not be 0 when maxSurge is 0');
  if (spec.nodeGroups.minSize > spec.nodeGroups.maxSize) problems.push(`spec.nodeGroups.minSize: ${spec.nodeGroups.minSize} is greater than maxSize ${spec.nodeGroups.maxSize}`);
  if (spec.duration <= 0) problems.push('spec.duration: must be positive');
  if (spec.sampleEvery <= 0) problems.push('spec.sampleEvery: must be positive');
  for (const [key, value] of [['spec.autoscaler.scanInterval', spec.autoscaler.scanInterval], ['spec.scheduler.cycle', spec.scheduler.cycle], ['spec.hpa.syncPeriod', spec.hpa.syncPeriod], ['spec.stowage.descheduler.interval', spec.stowage.descheduler.interval], ['spec.stowage.naive.interval', spec.stowage.naive.interval]] as const) {
    if (value <= 0) problems.push(`${key}: must be positive`);
  }
  const names = new Set<string>();
  spec.cloud.instanceTypes.forEach((t, i) => {
    if (names.has(t.name)) problems.push(`spec.cloud.instanceTypes[${i}].name: duplicate instance type ${JSON.stringify(t.name)}`);
    names.add(t.name);
  });
  const services = new Set<string>();
  spec.services.list.forEach((s, i) => {
    const key = `${s.namespace ?? 'default'}/${s.name}`;
    if (services.has(key)) problems.push(`spec.services.list[${i}].name: duplicate service ${JSON.stringify(key)}`);
    services.add(key);
    if (s.strategy !== undefined && bothZero(s.strategy)) problems.push(`spec.services.list[${i}].strategy.maxUnavailable: may not be 0 when maxSurge is 0`);
    if (s.pdb && (s.pdb.minAvailable === undefined) === (s.pdb.maxUnavailable === undefined)) {
      problems.push(`spec.services.list[${i}].pdb: set exactly one of minAvailable and maxUnavailable`);
    }
  });
  const pdb = spec.services.generate.pdb;
  if ((pdb.minAvailable === undefined) === (pdb.maxUnavailable === undefined)) problems.push('spec.services.generate.pdb: set exactly one of minAvailable and maxUnavailable');
  return problems;
}

function _isZero(value: number | string): boolean {
  return value === 0 || (typeof value === 'string' && Number(value.replace(/%$/, '')) === 0);
}

function _lognormal(spec: { median: number; sigma: number; min?: number | undefined; max?: number | undefined }): Lognormal {
  return { median: spec.median, sigma: spec.sigma, min: spec.min ?? 0, max: spec.max ?? Number.POSITIVE_INFINITY };
}

/** Draws from a clipped lognormal. */
export function drawLognormal(stream: RandomStream, spec: Lognormal): number {
  return Math.min(spec.max, Math.max(spec.min, stream.lognormal(spec.median, spec.sigma)));
}

type _Generate = _Spec['services']['generate'];

/** The generated catalogue: drawn from its own seed so every run and arm sees the same services. */
function _generateServices(g: _Generate): ServiceSpec[] {
  const stream = new RandomSource(g.seed).stream('catalogue');
  const replicas = _lognormal(g.replicas);
  const cpu = _lognormal(g.cpu);
  const memoryPerCpu = _lognormal(g.memoryPerCpu);
  const startup = _lognormal(g.startup);
  const shutdown = _lognormal(g.shutdown);
  const services: ServiceSpec[] = [];
  const width = String(g.count).length;
  for (let i = 0; i < g.count; i++) {
    const single = stream.bernoulli(g.singleReplicaShare);
    const count = single ? 1 : Math.max(2, Math.round(drawLognormal(stream, replicas)));
    const cpuMilli = Math.max(1, Math.round(drawLognormal(stream, cpu) / 10) * 10);
    const memory = Math.round(((cpuMilli / 1000) * drawLognormal(stream, memoryPerCpu)) / (16 * 2 ** 20)) * 16 * 2 ** 20;
    const hasPdb = !single && stream.bernoulli(g.pdbShare);
    const hasHpa = stream.bernoulli(g.hpaShare);
    const amplitude = stream.uniform(g.hpa.amplitude.min, g.hpa.amplitude.max);
    const peakHour = stream.uniform(g.hpa.peakHour.min, g.hpa.peakHour.max);
    const safeToEvictFalse = stream.bernoulli(g.safeToEvictFalseShare);
    const localStorage = stream.bernoulli(g.localStorageShare);
    const startupMs = Math.round(drawLognormal(stream, startup));
    const shutdownMs = Math.round(drawLognormal(stream, shutdown));
    const spec: ServiceSpec = {
      name: `svc-${String(i + 1).padStart(width, '0')}`,
      namespace: `team-${(i % g.namespaces) + 1}`,
      replicas: count,
      cpu: cpuMilli,
      memory: Math.max(64 * 2 ** 20, memory),
      ...(hasPdb ? { pdb: _pdb(g.pdb) } : {}),
      // A single-replica service is not scaled: an HPA with minReplicas 1 would still leave it at 1
      // most of the time, and keeping it fixed makes its availability easy to read.
      ...(hasHpa && !single
        ? { hpa: { amplitude, peakHour, weekendFactor: g.hpa.weekendFactor, noise: g.hpa.noise, minReplicas: Math.max(2, Math.floor(count * (1 - amplitude) * 0.8)), maxReplicas: Math.ceil(count * (1 + amplitude) * 1.5) } }
        : {}),
      startupMs,
      shutdownMs,
      gracePeriodMs: g.gracePeriod,
      safeToEvict: safeToEvictFalse ? false : undefined,
      localStorage,
    };
    services.push(spec);
  }
  return services;
}

/**
 * Each service's usage ratio: its own when stated, else drawn. One draw per service in order from
 * a stream of its own, so adding the usage model changed no other draw of the catalogue.
 */
function _withUsage(services: readonly ServiceSpec[], usage: _Spec['usage']): ServiceSpec[] {
  const stream = new RandomSource(usage.seed).stream('usage');
  const ratio = _lognormal(usage.ratio);
  return services.map((s) => {
    const drawn = drawLognormal(stream, ratio);
    return { ...s, usageRatio: s.usageRatio ?? Math.round(drawn * 1000) / 1000 };
  });
}

function _pdb(p: { minAvailable?: number | string | undefined; maxUnavailable?: number | string | undefined }): PdbSpec {
  return p.minAvailable !== undefined ? { minAvailable: p.minAvailable } : { maxUnavailable: p.maxUnavailable ?? 1 };
}

function _explicitService(s: z.output<typeof serviceSchema>, g: _Generate): ServiceSpec {
  return {
    name: s.name,
    namespace: s.namespace ?? 'default',
    replicas: s.replicas,
    cpu: s.cpu,
    memory: s.memory,
    ...(s.pdb ? { pdb: _pdb(s.pdb) } : {}),
    ...(s.hpa
      ? {
          hpa: {
            amplitude: s.hpa.amplitude,
            peakHour: s.hpa.peakHour,
            weekendFactor: s.hpa.weekendFactor ?? 1,
            noise: s.hpa.noise ?? 0,
            minReplicas: s.hpa.minReplicas ?? 1,
            maxReplicas: s.hpa.maxReplicas ?? Math.max(s.replicas, Math.ceil(s.replicas * (1 + s.hpa.amplitude) * 1.5)),
          },
        }
      : {}),
    startupMs: s.startup ?? g.startup.median,
    shutdownMs: s.shutdown ?? g.shutdown.median,
    gracePeriodMs: s.gracePeriod ?? g.gracePeriod,
    safeToEvict: s.safeToEvict,
    localStorage: s.localStorage ?? false,
    ...(s.annotations === undefined ? {} : { annotations: s.annotations }),
    ...(s.usageRatio === undefined ? {} : { usageRatio: s.usageRatio }),
    ...(s.strategy === undefined ? {} : { strategy: { ...(s.strategy.maxSurge === undefined ? {} : { maxSurge: s.strategy.maxSurge }), ...(s.strategy.maxUnavailable === undefined ? {} : { maxUnavailable: s.strategy.maxUnavailable }) } }),
  };
}

function _isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keys of which an object holds at most one: a PodDisruptionBudget sets minAvailable or
 * maxUnavailable, never both. Stating one of them replaces the base's other, as a user writing
 * `pdb: { minAvailable: 2 }` over the default's `maxUnavailable: 1` means.
 */
const _EXCLUSIVE_KEYS: readonly (readonly string[])[] = [['minAvailable', 'maxUnavailable']];

/**
 * Objects merge key by key; arrays and scalars in `override` replace the base's; a key of an
 * exclusive group in `override` drops the base's other keys of that group.
 */
function _deepMerge(base: unknown, override: unknown): unknown {
  if (!_isPlainObject(base) || !_isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const group of _EXCLUSIVE_KEYS) {
    if (!group.some((key) => override[key] !== undefined)) continue;
    for (const key of group) if (override[key] === undefined) delete out[key];
  }
  for (const [key, value] of Object.entries(override)) out[key] = _deepMerge(base[key], value);
  return out;
}
