/**
 * `stowage scheduler`: a second scheduler beside kube-scheduler. Schedules the pods whose
 * `spec.schedulerName` names one of its profiles (`stowage` by default), with kube-scheduler's
 * plugins or Stowage's cost-aware ones, until SIGTERM or SIGINT.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../core/capacity.js';
import { parseYamlDocument } from '../config/yaml.js';
import { DEFAULT_SCHEDULER_CONFIG, schedulerConfigFromDocument, type SchedulerConfig } from '../config/scheduler-config.js';
import { leaderIdentity, runAsLeader, startRuntime } from '../controllers/runtime/runtime.js';
import { SchedulerMetrics } from '../controllers/scheduler/metrics.js';
import { runScheduler, SCHEDULER_CACHE_KINDS } from '../controllers/scheduler/run.js';
import { loadKubeConfig } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { withLeanWrites } from '../kube/lean-writes.js';
import { LOG_LEVELS } from '../observability/log.js';
import { addLeaderElectionFlags, leaderElectionFromFlags, type LeaderElectionFlags } from './leader-election-flags.js';
import { addConnectionFlags, loadFile, type ConnectionOptions } from './common.js';
import { CliError } from './errors.js';
import { loadPriceTable } from './snapshot.js';
import { parseListenAddress } from './webhook.js';

interface SchedulerOptions extends ConnectionOptions, LeaderElectionFlags {
  readonly config?: string;
  readonly prices?: string;
  readonly metricsListen?: string;
  readonly logLevel?: string;
  readonly kubeApiQps: string;
  readonly kubeApiBurst: string;
}

/** Reads `--config FILE`; the defaults when absent. */
export function loadSchedulerConfig(path: string | undefined): SchedulerConfig {
  if (path === undefined) return DEFAULT_SCHEDULER_CONFIG;
  return loadFile(path, 'scheduler configuration', (text, source) => schedulerConfigFromDocument(parseYamlDocument(text, source), source));
}

function _number(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min) throw new CliError(`Invalid ${flag} "${value}": expected a number of at least ${min}`);
  return n;
}

/** Adds `stowage scheduler` to the program. */
export function registerSchedulerCommand(program: Command): void {
  const command = program
    .command('scheduler')
    .description('Schedule the pods whose spec.schedulerName names a profile (default "stowage"), beside kube-scheduler')
    .option('--config <file>', 'a SchedulerConfiguration YAML (profiles by schedulerName, backoff, bind concurrency)')
    .option('--prices <file>', 'a PriceTable YAML overriding the default prices (the cost-aware profile)')
    .option('--kube-api-qps <n>', 'requests per second to the apiserver (binds, deletes, status); events have as many again; 0 is unlimited', '50')
    .option('--kube-api-burst <n>', 'requests the client may send at once above the QPS', '100')
    .option('--metrics-listen <host:port>', 'plain-HTTP address for /metrics, /healthz and /readyz (off when absent)')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (default: $STOWAGE_LOG_LEVEL or info)`);
  addLeaderElectionFlags(command, 'stowage-scheduler');
  addConnectionFlags(command);
  command.action(async (opts: SchedulerOptions) => {
    const config = loadSchedulerConfig(opts.config);
    const prices = loadPriceTable(opts.prices);
    const qps = _number(opts.kubeApiQps, '--kube-api-qps', 0);
    const burst = _number(opts.kubeApiBurst, '--kube-api-burst', 1);
    const metricsListen = opts.metricsListen === undefined ? undefined : parseListenAddress(opts.metricsListen, '--metrics-listen');
    const kc = loadKubeConfig(opts);
    const election = leaderElectionFromFlags(opts);
    const identity = leaderIdentity();
    let ready = election !== undefined;
    let runtime;
    try {
      runtime = await startRuntime({
        component: 'scheduler',
        ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }),
        ...(metricsListen === undefined ? {} : { metricsListen }),
        // A standby is ready: it is doing what it should. The leader once its cache is synced.
        ready: () => ready,
        stopMessage: 'finishing the binds in flight and stopping',
      });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    // A bind and a Scheduled Event per pod: those two are sent as plain JSON (see lean-writes).
    const core = withLeanWrites(kc.makeApiClient(CoreV1Api), kc);
    const metrics = new SchedulerMetrics(runtime.registry);
    const recorders = new Map<string, EventRecorder>();
    const events = (schedulerName: string): EventRecorder => {
      let recorder = recorders.get(schedulerName);
      if (recorder === undefined) {
        recorder = new EventRecorder(core, schedulerName, { log: runtime.log, ...(election === undefined ? {} : { instance: identity }) });
        recorders.set(schedulerName, recorder);
      }
      return recorder;
    };
    runtime.log.info({ profiles: config.profiles.map((p) => `${p.schedulerName}=${p.preset}`), qps, burst, cacheKinds: SCHEDULER_CACHE_KINDS }, 'Starting the scheduler');
    try {
      await runAsLeader(
        runtime,
        kc,
        election === undefined ? undefined : { ...election, identity },
        (signal) =>
          runScheduler({
            kc,
            core,
            config,
            prices,
            capacityRules: DEFAULT_CAPACITY_TYPE_RULES,
            log: runtime.log,
            metrics,
            registry: runtime.registry,
            events,
            qps,
            burst,
            signal,
            onSynced: () => (ready = true),
          }),
        { events: events(config.profiles[0]?.schedulerName ?? 'stowage') },
      );
    } finally {
      await runtime.close();
    }
  });
}
