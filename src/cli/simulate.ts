/**
 * `stowage simulate`: the main job. Runs the scenario (the embedded default unless told
 * otherwise) under every arm over several seeds and prints, per arm, what it costs and whether
 * uptime suffers; writes the HTML report and the charts as PNG.
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { ARMS, findArm, OPT_IN_ARMS } from '../sim/arms.js';
import type { ArmConfig } from '../sim/arms.js';
import { DEFAULT_SEEDS, runExperiment } from '../sim/runner.js';
import type { SimulationResult } from '../sim/result.js';
import { defaultScenario, loadScenarioFile, ScenarioError, withDuration } from '../sim/scenario.js';
import type { Scenario } from '../sim/scenario.js';
import type { ClusterSnapshot } from '../core/model.js';
import { readSnapshotFile, scenarioFromSnapshot, todayOf } from '../sim/from-snapshot.js';
import { parseVary, runSweep } from '../sim/sweep.js';
import type { SweepAxis } from '../sim/sweep.js';
import { CliError } from './errors.js';
import { parseDuration } from './flags.js';

interface SimulateOptions {
  readonly scenario: readonly string[];
  readonly from?: string;
  readonly seeds: number;
  readonly seed: number;
  readonly arms?: readonly ArmConfig[];
  readonly duration?: number;
  readonly output: 'table' | 'json';
  readonly reportDir: string;
  readonly report: boolean;
  readonly progress: boolean;
  readonly workers?: number;
  readonly vary: readonly SweepAxis[];
}

function _positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`Invalid ${flag} "${value}": expected a positive integer`);
    return n;
  };
}

function _int(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`Invalid ${flag} "${value}": expected an integer`);
    return n;
  };
}

function _arms(value: string): readonly ArmConfig[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new InvalidArgumentError(`Invalid --arms "${value}": name at least one of ${ARMS.map((a) => a.name).join(', ')}`);
  return names.map((name) => {
    const arm = findArm(name);
    if (arm === undefined) throw new InvalidArgumentError(`Invalid --arms "${value}": unknown arm "${name}"; use ${[...ARMS, ...OPT_IN_ARMS].map((a) => a.name).join(', ')}`);
    return arm;
  });
}

function _vary(value: string, previous: readonly SweepAxis[]): readonly SweepAxis[] {
  try {
    return [...previous, parseVary(value)];
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function _output(value: string): 'table' | 'json' {
  if (value === 'table' || value === 'json') return value;
  throw new InvalidArgumentError(`Invalid --output "${value}": use table or json`);
}

/** Registers `stowage simulate` on the program. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Simulate the cluster under each strategy (arm) and report cost and uptime, with 95% confidence intervals')
    .option('--scenario <file>', 'a Scenario YAML (apiVersion stowage.io/v1alpha1); fields left out come from the default scenario. Repeat it to run a set of scenarios as a sweep (one row per scenario and arm)', (v: string, previous: readonly string[]) => [...previous, v], [] as readonly string[])
    .option('--from <snapshot.yaml>', 'build the scenario from a cluster snapshot (`stowage snapshot -o yaml`)')
    .option('--seeds <n>', 'number of seeds per arm', _positiveInt('--seeds'), DEFAULT_SEEDS)
    .option('--seed <n>', 'first seed; runs seeds n, n+1, …', _int('--seed'), 1)
    .option('--arms <list>', `comma-separated arms (default: all of ${ARMS.map((a) => a.name).join(', ')}; also by name: ${OPT_IN_ARMS.map((a) => a.name).join(', ')}); the baseline B0 is always run`, _arms)
    .option('--duration <dur>', 'measured duration, e.g. 2d or 12h (default: the scenario\'s, 7d)', (v: string) => parseDuration(v, '--duration'))
    .option('-o, --output <format>', 'table or json', _output, 'table')
    .option('--report-dir <dir>', 'where the HTML report and PNG charts go', 'reports')
    .option('--no-report', 'write no HTML or PNG report')
    .option('--workers <n>', 'worker threads (default: the machine\'s cores, at most 4)', _positiveInt('--workers'))
    .option('--no-progress', 'no progress bar on stderr')
    .option('--vary <path=values>', 'run every combination of these values of a scenario field (repeatable), e.g. spec.services.generate.cpu.median=100m,250m,1; prints saving and Stowage-caused outages per arm and combination, and writes charts against each field', _vary, [])
    .action(async (opts: SimulateOptions) => {
      const { scenarios, snapshot } = await _scenarios(opts);
      const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.seed + i);
      const scenario = scenarios[0] as Scenario;
      if (opts.vary.length > 0 || scenarios.length > 1) {
        await _sweep(opts, scenarios, seeds, program.version() ?? '0.1.0');
        return;
      }
      const progress = opts.progress && process.stderr.isTTY ? new _ProgressBar(`${scenario.name}: ${(opts.arms ?? ARMS).length} arms × ${seeds.length} seeds`) : undefined;
      let result: SimulationResult;
      try {
        result = await runExperiment({
          scenario,
          ...(opts.arms !== undefined ? { arms: opts.arms } : {}),
          seeds,
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
          ...(progress !== undefined ? { onProgress: (f: number) => progress.update(f) } : {}),
          stowageVersion: program.version() ?? '0.1.0',
        });
      } finally {
        progress?.done();
      }
      // From a snapshot, the first row is the cluster as it runs now: today → B0 → each arm.
      if (snapshot !== undefined) result = { ...result, today: todayOf(snapshot, result.scenario.durationSeconds) };
      if (opts.output === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(await _table(result));
      if (opts.report) await _writeReports(result, opts.reportDir, opts.output === 'json' ? process.stderr : process.stdout);
    });
}

async function _sweep(opts: SimulateOptions, scenarios: readonly Scenario[], seeds: readonly number[], version: string): Promise<void> {
  const combinations = opts.vary.reduce((n, a) => n * a.labels.length, scenarios.length);
  const label = scenarios.map((s) => s.name).join(', ');
  const progress = opts.progress && process.stderr.isTTY ? new _ProgressBar(`${label}: ${combinations} combinations × ${(opts.arms ?? ARMS).length} arms × ${seeds.length} seeds`) : undefined;
  let result;
  try {
    result = await runSweep({
      scenario: scenarios.length === 1 ? (scenarios[0] as Scenario) : scenarios,
      axes: opts.vary,
      ...(opts.arms !== undefined ? { arms: opts.arms } : {}),
      seeds,
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(progress !== undefined ? { onProgress: (f: number) => progress.update(f) } : {}),
      stowageVersion: version,
    });
  } catch (error) {
    if (error instanceof ScenarioError) throw new CliError(error.message);
    throw error;
  } finally {
    progress?.done();
  }
  const { renderSweepTable, writeSweepReport } = await import('../report/sweep.js');
  if (opts.output === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(renderSweepTable(result));
  if (!opts.report) return;
  const out = opts.output === 'json' ? process.stderr : process.stdout;
  const written = await writeSweepReport(result, opts.reportDir);
  out.write(`Report: ${written.html}\n`);
  if (written.pngs.length > 0) out.write(`Charts: ${written.pngs.join(', ')}\n`);
  if (written.pngError !== undefined) process.stderr.write(`stowage: Cannot write PNG charts: ${written.pngError}\n`);
}

/** The scenarios to run, and the snapshot the scenario was built from when `--from` gave one. */
async function _scenarios(opts: SimulateOptions): Promise<{ readonly scenarios: readonly Scenario[]; readonly snapshot?: ClusterSnapshot }> {
  if (opts.scenario.length > 0 && opts.from !== undefined) throw new CliError('Cannot use --scenario and --from together: --from builds the scenario from the snapshot');
  let scenarios: readonly Scenario[];
  let snapshot: ClusterSnapshot | undefined;
  try {
    if (opts.from !== undefined) {
      snapshot = await readSnapshotFile(opts.from);
      scenarios = [scenarioFromSnapshot(snapshot, `snapshot:${opts.from}`)];
    }
    else if (opts.scenario.length > 0) scenarios = await Promise.all(opts.scenario.map((file) => loadScenarioFile(file)));
    else scenarios = [defaultScenario()];
  } catch (error) {
    if (error instanceof ScenarioError) throw new CliError(error.message);
    throw error;
  }
  const duration = opts.duration;
  const resolved = duration === undefined ? scenarios : scenarios.map((s) => withDuration(s, duration));
  return snapshot === undefined ? { scenarios: resolved } : { scenarios: resolved, snapshot };
}

async function _table(result: SimulationResult): Promise<string> {
  const { renderTable } = await import('../report/index.js');
  const color = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
  const width = process.stdout.isTTY === true ? process.stdout.columns : undefined;
  return renderTable(result, { color, ...(width !== undefined ? { width } : {}) });
}

async function _writeReports(result: SimulationResult, dir: string, out: NodeJS.WriteStream): Promise<void> {
  const { writeHtmlReport, writePngCharts } = await import('../report/index.js');
  const html = await writeHtmlReport(result, dir);
  out.write(`Report: ${html}\n`);
  try {
    const pngs = await writePngCharts(result, dir);
    out.write(`Charts: ${pngs.join(', ')}\n`);
  } catch (error) {
    // The HTML report holds the same charts as SVG; a missing font only costs the PNG copies.
    process.stderr.write(`stowage: Cannot write PNG charts: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
class _ProgressBar {
  readonly #label: string;
  readonly #started = performance.now();
  #last = 0;

  constructor(label: string) {
    this.#label = label;
    this.update(0);
  }

  update(fraction: number): void {
    const now = performance.now();
    if (fraction < 1 && now - this.#last < 100) return;
    this.#last = now;
    const width = 30;
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    const elapsed = (now - this.#started) / 1_000;
    const eta = fraction > 0.02 ? ` eta ${Math.max(0, elapsed / fraction - elapsed).toFixed(0)}s` : '';
    process.stderr.write(`\r${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${elapsed.toFixed(0)}s${eta}   `);
  }

  done(): void {
    process.stderr.write('\r\x1b[2K');
  }
}
