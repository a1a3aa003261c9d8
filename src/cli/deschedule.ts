/**
 * `stowage deschedule`: move pods to cheaper capacity and empty nodes, never below a workload's
 * floor. Runs a cycle every `--interval` until SIGTERM or SIGINT, or one with `--once`;
 * `--dry-run` prints the plan a real cycle would carry out and writes nothing.
 */
import type { Server } from 'node:http';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../core/capacity.js';
import { parseYamlDocument } from '../config/yaml.js';
import { DEFAULT_DESCHEDULER_CONFIG, deschedulerConfigFromDocument, type DeschedulerConfig } from '../config/descheduler-config.js';
import { PlanExecutor } from '../controllers/deschedule/executor.js';
import { runCycle, runLoop } from '../controllers/deschedule/loop.js';
import { DeschedulerMetrics } from '../controllers/deschedule/metrics.js';
import { planDocument, renderPlanTable } from '../controllers/deschedule/render.js';
import { loadKubeConfig } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { readClusterSnapshot } from '../kube/read-snapshot.js';
import { createLogger, LOG_LEVELS } from '../observability/log.js';
import { createRegistry, serveMetrics } from '../observability/metrics.js';
import { addConnectionFlags, addOutputFlag, loadFile, printDocument, type ConnectionOptions } from './common.js';
import { CliError } from './errors.js';
import { parseDuration, type OutputFormat } from './flags.js';
import { loadPriceTable } from './snapshot.js';
import { parseListenAddress } from './webhook.js';

interface DeschedulerOptions extends ConnectionOptions {
  readonly config?: string;
  readonly prices?: string;
  readonly interval: string;
  readonly once: boolean;
  readonly dryRun: boolean;
  readonly output: OutputFormat;
  readonly metricsListen?: string;
  readonly logLevel?: string;
}

/** Reads `--config FILE`; the defaults when absent. */
export function loadDeschedulerConfig(path: string | undefined): DeschedulerConfig {
  if (path === undefined) return DEFAULT_DESCHEDULER_CONFIG;
  return loadFile(path, 'descheduler configuration', (text, source) => deschedulerConfigFromDocument(parseYamlDocument(text, source), source));
}

/** Adds `stowage deschedule` to the program. */
export function registerDeschedulerCommand(program: Command): void {
  const command = program
    .command('deschedule')
    .description('Move pods onto cheaper capacity and empty nodes (spot-reschedule, consolidate, balance) without going below any availability floor')
    .option('--config <file>', 'a DeschedulerConfiguration YAML (strategies, budgets, eviction, backoff)')
    .option('--prices <file>', 'a PriceTable YAML overriding the default prices')
    .option('--interval <duration>', 'time between cycles', '5m')
    .option('--once', 'run one cycle and exit', false)
    .option('--dry-run', 'print the plan a real cycle would carry out, and change nothing', false)
    .option('--metrics-listen <host:port>', 'plain-HTTP address for /metrics, /healthz and /readyz (off when absent)')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (default: $STOWAGE_LOG_LEVEL or info)`);
  addConnectionFlags(command);
  addOutputFlag(command);
  command.action(async (opts: DeschedulerOptions) => {
    const intervalMs = parseDuration(opts.interval, '--interval');
    if (intervalMs <= 0) throw new CliError(`Invalid --interval "${opts.interval}": must be more than 0`);
    const config = loadDeschedulerConfig(opts.config);
    const prices = loadPriceTable(opts.prices);
    const metricsListen = opts.metricsListen === undefined ? undefined : parseListenAddress(opts.metricsListen, '--metrics-listen');
    const kc = loadKubeConfig(opts);
    let log;
    try {
      log = createLogger('descheduler', opts.logLevel === undefined ? {} : { level: opts.logLevel });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    const readSnapshot = () => readClusterSnapshot(kc, { capacityRules: DEFAULT_CAPACITY_TYPE_RULES });

    if (opts.dryRun) {
      // Plans exactly as a real cycle does, from the same snapshot reader and config, with no executor.
      const { planId, plan } = await runCycle({ readSnapshot, config: config.deschedule, prices, log });
      if (opts.output === 'table') process.stdout.write(renderPlanTable(plan));
      else printDocument(planDocument(plan, { planId, context: kc.getCurrentContext(), dryRun: true }), opts.output);
      return;
    }

    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const registry = createRegistry();
    const metrics = new DeschedulerMetrics(registry);
    const events = new EventRecorder(core, 'stowage-descheduler', { log });
    const controller = new AbortController();
    const stop = (signal: string): void => {
      log.info({ signal }, `Received ${signal}: rolling back the current drain and stopping`);
      controller.abort();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    let server: Server | undefined;
    let ready = false;
    if (metricsListen !== undefined) server = await serveMetrics({ registry, host: metricsListen.host, port: metricsListen.port, ready: () => ready });
    try {
      const executor = new PlanExecutor({
        core,
        apps,
        readSnapshot,
        log,
        metrics,
        events,
        replacementTimeoutMs: config.replacementTimeoutMs,
        backoff: { baseMs: config.deschedule.backoff.baseSeconds * 1000, maxMs: config.deschedule.backoff.maxSeconds * 1000 },
        signal: controller.signal,
      });
      // A drain left by a crashed run is rolled back first; the next plan resumes it if it still pays.
      const rolled = await executor.recover();
      if (rolled.length > 0) log.warn({ nodes: rolled }, 'Rolled back drains left by an earlier run');
      ready = true;
      const cycle = { readSnapshot, config: config.deschedule, prices, log, executor, metrics, events };
      if (opts.once) {
        const { planId, plan, report } = await runCycle(cycle);
        if (opts.output === 'table') {
          process.stdout.write(renderPlanTable(plan));
          for (const d of report?.drains ?? []) process.stdout.write(`${d.outcome}: node "${d.node}" (${d.strategy}), ${d.moved.length} pod(s) moved: ${d.reason.message}\n`);
        } else {
          printDocument({ ...planDocument(plan, { planId, context: kc.getCurrentContext(), dryRun: false }), report }, opts.output);
        }
        if (report?.drains.some((d) => d.outcome === 'failed')) process.exitCode = 2;
      } else {
        await runLoop({ ...cycle, intervalMs, signal: controller.signal });
      }
    } finally {
      server?.close();
      log.flush();
    }
  });
}
