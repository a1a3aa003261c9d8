/**
 * The sweep: one scenario run at every combination of the values of a few of its fields
 * (`stowage simulate --vary path=v1,v2 --vary …`), each combination an experiment of every arm
 * over the same seeds. It answers "where does descheduling pay": the saving of each arm against
 * the baseline, with its interval, and the outages Stowage caused, per combination.
 *
 * All runs of all combinations share one pool of worker threads, so a sweep keeps every core busy
 * to its last run. The result is deterministic for fixed seeds, as an experiment is.
 */
import { parse as parseYaml } from 'yaml';
import { ARMS } from './arms.js';
import type { ArmConfig } from './arms.js';
import type { SweepResult } from './result.js';
import { aggregate, runJobs, withBaseline } from './runner.js';
import type { RunJob } from './runner.js';
import { ScenarioError, withSettings } from './scenario.js';
import type { Scenario, ScenarioSetting } from './scenario.js';
import { estimate } from './stats.js';

/** One varied field and the values it takes, as written (`labels`) and as parsed (`values`). */
export interface SweepAxis {
  readonly path: string;
  readonly labels: readonly string[];
  readonly values: readonly unknown[];
}

/** Options of {@link runSweep}. */
export interface SweepOptions {
  readonly scenario: Scenario;
  readonly axes: readonly SweepAxis[];
  readonly arms?: readonly ArmConfig[];
  readonly seeds: readonly number[];
  readonly workers?: number;
  readonly onProgress?: (fraction: number) => void;
  readonly stowageVersion?: string;
}

/** The most combinations one sweep runs: each is a whole experiment. */
export const MAX_SWEEP_POINTS = 64;

/**
 * Parses one `--vary` value: `path=v1,v2,…`; each value is read as YAML (`0.5` a number, `250m`
 * a string, `true` a boolean). Throws {@link ScenarioError} with a one-line message.
 */
export function parseVary(text: string): SweepAxis {
  const eq = text.indexOf('=');
  const path = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq < 0 || path === '') throw new ScenarioError(`Invalid --vary ${JSON.stringify(text)}: expected path=v1,v2,… e.g. spec.services.generate.cpu.median=100m,250m,1`);
  if (!path.startsWith('spec.')) throw new ScenarioError(`Invalid --vary ${JSON.stringify(text)}: the path starts at spec., e.g. spec.services.generate.cpu.median`);
  const labels = text.slice(eq + 1).split(',').map((v) => v.trim());
  if (labels.length === 0 || labels.some((v) => v === '')) throw new ScenarioError(`Invalid --vary ${JSON.stringify(text)}: give one or more comma-separated values, none empty`);
  if (new Set(labels).size !== labels.length) throw new ScenarioError(`Invalid --vary ${JSON.stringify(text)}: a value is given twice`);
  const values = labels.map((label) => {
    try {
      return parseYaml(label) as unknown;
    } catch {
      return label;
    }
  });
  return { path, labels, values };
}

/** Every combination of the axes' values, the first axis varying slowest. */
export function sweepPoints(axes: readonly SweepAxis[]): readonly (readonly number[])[] {
  let points: number[][] = [[]];
  for (const axis of axes) points = points.flatMap((p) => axis.labels.map((_, i) => [...p, i]));
  return points;
}

/**
 * Runs the sweep. Each combination is validated first, so a bad value fails before any run, with
 * the field named.
 */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const { axes, seeds } = options;
  if (axes.length === 0) throw new ScenarioError('Cannot sweep without a --vary');
  if (seeds.length === 0) throw new RangeError('Cannot run a sweep without seeds');
  const paths = axes.map((a) => a.path);
  if (new Set(paths).size !== paths.length) throw new ScenarioError(`Invalid --vary: a path is varied twice (${paths.join(', ')})`);
  const points = sweepPoints(axes);
  if (points.length > MAX_SWEEP_POINTS) throw new ScenarioError(`Invalid --vary: ${points.length} combinations; at most ${MAX_SWEEP_POINTS} run in one sweep`);
  const arms = withBaseline(options.arms ?? ARMS);
  const scenarios = points.map((point) => withSettings(options.scenario, point.map((v, a): ScenarioSetting => ({ path: (axes[a] as SweepAxis).path, value: (axes[a] as SweepAxis).values[v] }))));
  const jobs: RunJob[] = [];
  // Seed-major within each point, as an experiment orders its runs.
  for (const scenario of scenarios) for (const seed of seeds) for (const arm of arms) jobs.push({ scenario, arm: arm.name, seed });
  const outputs = await runJobs(jobs, { workers: options.workers, onProgress: options.onProgress });
  const perPoint = seeds.length * arms.length;
  const version = options.stowageVersion ?? '0.1.0';
  const results = scenarios.map((scenario, i) => aggregate(scenario, arms, seeds, outputs.slice(i * perPoint, (i + 1) * perPoint), version));
  const zero = estimate(seeds.map(() => 0));
  return {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'SweepResult',
    scenario: { name: options.scenario.name, source: options.scenario.source, durationSeconds: options.scenario.durationMs / 1_000 },
    seeds: [...seeds],
    baseline: results[0]?.baseline ?? arms[0]?.name ?? '',
    axes: axes.map((a) => ({ path: a.path, values: [...a.labels] })),
    points: results.map((result, i) => ({
      settings: Object.fromEntries((points[i] as readonly number[]).map((v, a) => [(axes[a] as SweepAxis).path, (axes[a] as SweepAxis).labels[v] as string])),
      arms: result.arms.map((arm) => ({
        name: arm.name,
        description: arm.description,
        usdPerDay: arm.metrics.usdPerDay,
        ...(arm.verdict === undefined ? {} : { saving: arm.verdict.savingVsBaseline, uptimeNonInferior: arm.verdict.uptimeNonInferior }),
        outages: arm.metrics.outages,
        stowageOutages: arm.metrics.outagesByCause?.['stowage'] ?? zero,
        evictions: arm.metrics.evictions,
      })),
    })),
    wallSeconds: (performance.now() - started) / 1_000,
    stowageVersion: version,
  };
}
