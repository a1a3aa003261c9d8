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
  /** One scenario, or several: then they are the first axis (`scenario`, by name). */
  readonly scenario: Scenario | readonly Scenario[];
  readonly axes: readonly SweepAxis[];
  readonly arms?: readonly ArmConfig[];
  readonly seeds: readonly number[];
  readonly workers?: number;
  readonly onProgress?: (fraction: number) => void;
  readonly stowageVersion?: string;
}

/** The axis of a sweep over several scenarios: its values are the scenarios' names. */
export const SCENARIO_AXIS = 'scenario';

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
  const bases: readonly Scenario[] = Array.isArray(options.scenario) ? options.scenario : [options.scenario as Scenario];
  const first = bases[0];
  if (first === undefined) throw new ScenarioError('Cannot sweep without a scenario');
  if (axes.length === 0 && bases.length < 2) throw new ScenarioError('Cannot sweep without a --vary or a second --scenario');
  const names = bases.map((b) => b.name);
  if (new Set(names).size !== names.length) throw new ScenarioError(`Invalid --scenario: two scenarios have the same name (${names.join(', ')}); set metadata.name`);
  if (seeds.length === 0) throw new RangeError('Cannot run a sweep without seeds');
  const paths = axes.map((a) => a.path);
  if (new Set(paths).size !== paths.length) throw new ScenarioError(`Invalid --vary: a path is varied twice (${paths.join(', ')})`);
  const combos = sweepPoints(axes);
  if (combos.length * bases.length > MAX_SWEEP_POINTS) throw new ScenarioError(`Invalid --vary: ${combos.length * bases.length} combinations; at most ${MAX_SWEEP_POINTS} run in one sweep`);
  const arms = withBaseline(options.arms ?? ARMS);
  const multi = bases.length > 1;
  const points: { readonly base: Scenario; readonly combo: readonly number[] }[] = bases.flatMap((base) => combos.map((combo) => ({ base, combo })));
  const scenarios = points.map(({ base, combo }) => (combo.length === 0 ? base : withSettings(base, combo.map((v, a): ScenarioSetting => ({ path: (axes[a] as SweepAxis).path, value: (axes[a] as SweepAxis).values[v] })))));
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
    scenario: multi ? { name: names.join(', '), source: bases.map((b) => b.source).join(', '), durationSeconds: Math.max(...bases.map((b) => b.durationMs / 1_000)) } : { name: first.name, source: first.source, durationSeconds: first.durationMs / 1_000 },
    seeds: [...seeds],
    baseline: results[0]?.baseline ?? arms[0]?.name ?? '',
    axes: [...(multi ? [{ path: SCENARIO_AXIS, values: names }] : []), ...axes.map((a) => ({ path: a.path, values: [...a.labels] }))],
    points: results.map((result, i) => ({
      settings: {
        ...(multi ? { [SCENARIO_AXIS]: (points[i] as (typeof points)[number]).base.name } : {}),
        ...Object.fromEntries((points[i] as (typeof points)[number]).combo.map((v, a) => [(axes[a] as SweepAxis).path, (axes[a] as SweepAxis).labels[v] as string])),
      },
      arms: result.arms.map((arm) => ({
        name: arm.name,
        description: arm.description,
        usdPerDay: arm.metrics.usdPerDay,
        ...(arm.verdict === undefined ? {} : { saving: arm.verdict.savingVsBaseline, uptimeNonInferior: arm.verdict.uptimeNonInferior }),
        outages: arm.metrics.outages,
        stowageOutages: arm.metrics.outagesByCause?.['stowage'] ?? zero,
        evictions: arm.metrics.evictions,
        ...(arm.metrics.nodeLaunches === undefined ? {} : { nodeLaunches: arm.metrics.nodeLaunches }),
        ...(arm.verdict?.churn === undefined ? {} : { churn: arm.verdict.churn }),
        ...(arm.metrics.aboveBound === undefined ? {} : { aboveBound: arm.metrics.aboveBound }),
      })),
    })),
    wallSeconds: (performance.now() - started) / 1_000,
    stowageVersion: version,
  };
}
