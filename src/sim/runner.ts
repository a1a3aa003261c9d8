/**
 * The experiment: every arm over the same seeds, in parallel worker threads, aggregated into a
 * `SimulationResult` with 95% confidence intervals and a verdict per arm against the baseline.
 *
 * The verdict is paired by seed: arm and baseline of one seed face the same load curve, job
 * arrivals and spot reclaims (common random numbers), so differences are measured per seed and
 * their mean gets the interval. Uptime is **non-inferior** when the lower bound of the 95%
 * interval of (arm − baseline) is above −margin for both mean A1 and mean A2 across services.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../runtime/worker-thread.js';
import { ARMS, BASELINE_ARM, findArm } from './arms.js';
import type { ArmConfig } from './arms.js';
import type { RunMetrics } from './metrics.js';
import type { ArmChurn, ArmMetrics, ArmResult, ArmVerdict, Estimate, ServiceUptime, SimulationResult } from './result.js';
import type { Scenario } from './scenario.js';
import { runSimulation } from './simulation.js';
import type { RunOutput } from './simulation.js';
import { estimate } from './stats.js';

/**
 * The non-inferiority margin on mean uptime (A1 and A2), as a share of time: 0.0001 is one
 * hundredth of a percentage point, 8.6 seconds per service per day. Tight on purpose: the people
 * asking "does uptime suffer?" do not want to trade a nine for money.
 */
export const NON_INFERIORITY_MARGIN = 0.0001;

/** Seeds run when none is given: intervals about a third narrower than five seeds give, and the default run still fits in a minute on 2 cores. */
export const DEFAULT_SEEDS = 10;

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  readonly scenario: Scenario;
  /** Arms to run; the baseline is added first when missing, since every verdict needs it. */
  readonly arms?: readonly ArmConfig[];
  readonly seeds: readonly number[];
  /** Worker threads; 1 runs in this thread. Default: the machine's parallelism, at most 4. */
  readonly workers?: number;
  /** Called as runs progress, with the overall share done (0..1). */
  readonly onProgress?: (fraction: number) => void;
  readonly stowageVersion?: string;
}

/** One run's job, as sent to a worker. */
export interface RunJob {
  readonly scenario: Scenario;
  readonly arm: string;
  readonly seed: number;
}

/** A worker's messages. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly fraction: number }
  | { readonly type: 'done'; readonly output: RunOutput }
  | { readonly type: 'error'; readonly message: string };

/** Runs the experiment. */
export async function runExperiment(options: ExperimentOptions): Promise<SimulationResult> {
  const started = performance.now();
  const arms = withBaseline(options.arms ?? ARMS);
  const seeds = options.seeds;
  if (seeds.length === 0) throw new RangeError('Cannot run an experiment without seeds');
  const jobs: RunJob[] = [];
  // Seed-major order: the first results of every arm arrive early, and a run cut short is balanced.
  for (const seed of seeds) for (const arm of arms) jobs.push({ scenario: options.scenario, arm: arm.name, seed });
  const outputs = await runJobs(jobs, options);
  const result = aggregate(options.scenario, arms, seeds, outputs, options.stowageVersion ?? '0.1.0');
  return { ...result, wallSeconds: (performance.now() - started) / 1_000 };
}

/**
 * Runs simulations in worker threads (one in this thread when `workers` is 1) and returns their
 * outputs in the order of `jobs`. The experiment and the sweep both run their jobs through it.
 */
export async function runJobs(jobs: readonly RunJob[], options: { readonly workers?: number | undefined; readonly onProgress?: ((fraction: number) => void) | undefined } = {}): Promise<RunOutput[]> {
  const workers = Math.max(1, Math.min(options.workers ?? Math.min(4, availableParallelism()), jobs.length));
  return workers === 1 ? _runInline(jobs, options.onProgress) : await _runInWorkers(jobs, workers, options.onProgress);
}

/** The arms with the baseline first (added when missing): every verdict needs it. */
export function withBaseline(arms: readonly ArmConfig[]): readonly ArmConfig[] {
  if (arms.some((a) => a.name === BASELINE_ARM)) return [...arms].sort((a, b) => (a.name === BASELINE_ARM ? -1 : b.name === BASELINE_ARM ? 1 : 0));
  const baseline = findArm(BASELINE_ARM);
  if (baseline === undefined) throw new Error(`Cannot find the baseline arm "${BASELINE_ARM}"`);
  return [baseline, ...arms];
}

function _runInline(jobs: readonly RunJob[], onProgress: ((f: number) => void) | undefined): RunOutput[] {
  const outputs: RunOutput[] = [];
  jobs.forEach((job, i) => {
    const arm = findArm(job.arm);
    if (arm === undefined) throw new Error(`Cannot run unknown arm "${job.arm}"`);
    outputs.push(runSimulation({ scenario: job.scenario, arm, seed: job.seed }, { onProgress: (f) => onProgress?.((i + f) / jobs.length) }));
  });
  return outputs;
}

async function _runInWorkers(jobs: readonly RunJob[], count: number, onProgress: ((f: number) => void) | undefined): Promise<RunOutput[]> {

  const outputs: (RunOutput | undefined)[] = jobs.map(() => undefined);
  const partial: number[] = jobs.map(() => 0);
  let next = 0;
  const report = (): void => onProgress?.(partial.reduce((a, b) => a + b, 0) / jobs.length);
  const runOn = (worker: Worker): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const take = (): void => {
        if (next >= jobs.length) {
          resolve();
          return;
        }
        const index = next++;
        const onMessage = (message: WorkerMessage): void => {
          if (message.type === 'progress') {
            partial[index] = message.fraction;
            report();
            return;
          }
          worker.off('message', onMessage);
          if (message.type === 'error') {
            reject(new Error(message.message));
            return;
          }
          outputs[index] = message.output;
          partial[index] = 1;
          report();
          take();
        };
        worker.on('message', onMessage);
        worker.postMessage(jobs[index]);
      };
      worker.once('error', reject);
      take();
    });
  const pool = Array.from({ length: count }, () => _spawnWorker());
  try {
    await Promise.all(pool.map(runOn));
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return outputs.map((o, i) => {
    if (o === undefined) throw new Error(`Run ${i} (${jobs[i]?.arm} seed ${jobs[i]?.seed}) produced no result`);
    return o;
  });
}

/** A worker on `worker.ts` (or `worker.js` when compiled). */
function _spawnWorker(): Worker {
  return spawnModuleWorker(import.meta.url, 'worker');
}

type _ScalarKey = Exclude<keyof RunMetrics, 'perService' | 'series' | 'evictionsByCause' | 'outagesByCause' | 'a2DipsByCause'>;

const _SCALARS: readonly _ScalarKey[] = [
  'totalUsd',
  'usdPerDay',
  'nodeHoursOnDemand',
  'nodeHoursSpot',
  'meanRequestedUtilisation',
  'uptimeA1',
  'uptimeA2',
  'worstServiceA1',
  'worstServiceA2',
  'outages',
  'outageSeconds',
  'evictions',
  'spotInterruptions',
  'nodeLaunches',
  'boundUsdPerDay',
  'ffdUsdPerDay',
  'pendingP50Seconds',
  'pendingP99Seconds',
  'meanUsageUtilisation',
  'nodeUsageSpread',
  'hotNodeShare',
];

/** Builds the result from per-run outputs (in any order). Pure: the same outputs give the same result. */
export function aggregate(scenario: Scenario, arms: readonly ArmConfig[], seeds: readonly number[], outputs: readonly RunOutput[], stowageVersion: string): SimulationResult {
  const runs = new Map<string, RunOutput>();
  for (const o of outputs) runs.set(`${o.arm}|${o.seed}`, o);
  const of = (arm: string): RunOutput[] =>
    seeds.map((seed) => {
      const run = runs.get(`${arm}|${seed}`);
      if (run === undefined) throw new Error(`Missing run of arm "${arm}" with seed ${seed}`);
      return run;
    });
  const baseline = of(BASELINE_ARM);
  const armResults: ArmResult[] = arms.map((arm) => {
    const armRuns = of(arm.name);
    const metrics = _armMetrics(armRuns);
    const first = armRuns[0] as RunOutput;
    const base = {
      name: arm.name,
      description: arm.description,
      metrics,
      series: first.metrics.series,
      diagnostics: armRuns.map((r) => ({ seed: r.seed, ...r.diagnostics })),
    };
    return arm.name === BASELINE_ARM ? base : { ...base, verdict: _verdict(arm.name, armRuns, baseline) };
  });
  return {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'SimulationResult',
    scenario: { name: scenario.name, source: scenario.source, durationSeconds: scenario.durationMs / 1_000, document: scenario.document },
    seeds: [...seeds],
    baseline: BASELINE_ARM,
    arms: armResults,
    wallSeconds: 0,
    stowageVersion,
  };
}

function _armMetrics(runs: readonly RunOutput[]): ArmMetrics {
  const scalar = (key: _ScalarKey): Estimate => estimate(runs.map((r) => r.metrics[key]));
  const services = (runs[0]?.metrics.perService ?? []).map((s) => s.service);
  const perService: ServiceUptime[] = services.map((name) => {
    const pick = (key: 'a1' | 'a2' | 'outages' | 'outageSeconds'): Estimate => estimate(runs.map((r) => r.metrics.perService.find((s) => s.service === name)?.[key] ?? Number.NaN));
    return { service: name, a1: pick('a1'), a2: pick('a2'), outages: pick('outages'), outageSeconds: pick('outageSeconds') };
  });
  const byCause = (key: 'evictionsByCause' | 'outagesByCause' | 'a2DipsByCause'): Record<string, Estimate> => {
    const causes = new Set<string>();
    for (const r of runs) for (const c of Object.keys(r.metrics[key])) causes.add(c);
    const out: Record<string, Estimate> = {};
    for (const c of [...causes].sort()) out[c] = estimate(runs.map((r) => r.metrics[key][c] ?? 0));
    return out;
  };
  return {
    totalUsd: scalar('totalUsd'),
    usdPerDay: scalar('usdPerDay'),
    nodeHoursOnDemand: scalar('nodeHoursOnDemand'),
    nodeHoursSpot: scalar('nodeHoursSpot'),
    meanRequestedUtilisation: scalar('meanRequestedUtilisation'),
    uptimeA1: scalar('uptimeA1'),
    uptimeA2: scalar('uptimeA2'),
    worstServiceA1: scalar('worstServiceA1'),
    worstServiceA2: scalar('worstServiceA2'),
    outages: scalar('outages'),
    outageSeconds: scalar('outageSeconds'),
    evictions: scalar('evictions'),
    spotInterruptions: scalar('spotInterruptions'),
    nodeLaunches: scalar('nodeLaunches'),
    boundUsdPerDay: scalar('boundUsdPerDay'),
    ffdUsdPerDay: scalar('ffdUsdPerDay'),
    aboveBound: estimate(runs.map((r) => r.metrics.usdPerDay / r.metrics.boundUsdPerDay - 1)),
    pendingP50Seconds: scalar('pendingP50Seconds'),
    pendingP99Seconds: scalar('pendingP99Seconds'),
    meanUsageUtilisation: scalar('meanUsageUtilisation'),
    nodeUsageSpread: scalar('nodeUsageSpread'),
    hotNodeShare: scalar('hotNodeShare'),
    perService,
    evictionsByCause: byCause('evictionsByCause'),
    outagesByCause: byCause('outagesByCause'),
    a2DipsByCause: byCause('a2DipsByCause'),
  };
}

function _pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

function _points(x: number): string {
  return `${(x * 100).toFixed(3)} points`;
}

/** Saving and paired non-inferiority of one arm against the baseline. */
function _verdict(name: string, runs: readonly RunOutput[], baseline: readonly RunOutput[]): ArmVerdict {
  const saving = estimate(runs.map((r, i) => 1 - r.metrics.totalUsd / ((baseline[i] as RunOutput).metrics.totalUsd || Number.NaN)));
  const deltaA1 = estimate(runs.map((r, i) => r.metrics.uptimeA1 - (baseline[i] as RunOutput).metrics.uptimeA1));
  const deltaA2 = estimate(runs.map((r, i) => r.metrics.uptimeA2 - (baseline[i] as RunOutput).metrics.uptimeA2));
  const margin = NON_INFERIORITY_MARGIN;
  const enough = runs.length >= 2;
  const nonInferior = enough && deltaA1.low >= -margin && deltaA2.low >= -margin;
  const cost =
    saving.mean >= 0
      ? `${name} costs ${_pct(saving.mean)} less than ${BASELINE_ARM} (95% CI ${_pct(saving.low)} to ${_pct(saving.high)})`
      : `${name} costs ${_pct(-saving.mean)} more than ${BASELINE_ARM} (95% CI ${_pct(-saving.high)} to ${_pct(-saving.low)})`;
  let uptime: string;
  if (!enough) uptime = 'uptime not compared: one seed gives no interval';
  else if (nonInferior) uptime = `uptime is non-inferior at a ${_points(margin)} margin (A1 ${_signed(deltaA1.mean)}, A2 ${_signed(deltaA2.mean)})`;
  else {
    const worse = deltaA1.low < -margin ? `A1 ${_signed(deltaA1.mean)} (CI low ${_signed(deltaA1.low)})` : `A2 ${_signed(deltaA2.mean)} (CI low ${_signed(deltaA2.low)})`;
    uptime = `uptime is not shown non-inferior at a ${_points(margin)} margin: ${worse}`;
  }
  return { savingVsBaseline: saving, uptimeNonInferior: nonInferior, nonInferiorityMargin: margin, summary: `${cost}; ${uptime}`, deltaA1, deltaA2, churn: _churn(runs, baseline) };
}

/** Extra evictions and node launches against the baseline, paired by seed, and per dollar saved. */
function _churn(runs: readonly RunOutput[], baseline: readonly RunOutput[]): ArmChurn {
  const paired = (f: (r: RunOutput, b: RunOutput) => number): Estimate => estimate(runs.map((r, i) => f(r, baseline[i] as RunOutput)));
  const evictions = paired((r, b) => r.metrics.evictions - b.metrics.evictions);
  const nodeLaunches = paired((r, b) => r.metrics.nodeLaunches - b.metrics.nodeLaunches);
  const savedUsd = paired((r, b) => b.metrics.totalUsd - r.metrics.totalUsd);
  // A ratio of means: per-seed ratios blow up on a seed that saves a few cents.
  const perUsd = savedUsd.mean > 0 ? { evictionsPerUsdSaved: evictions.mean / savedUsd.mean, nodeLaunchesPerUsdSaved: nodeLaunches.mean / savedUsd.mean } : {};
  return { evictions, nodeLaunches, savedUsd, ...perUsd };
}

function _signed(share: number): string {
  const points = share * 100;
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(4)} points`;
}
