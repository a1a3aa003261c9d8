/**
 * `stowage deschedule`: move pods to cheaper capacity and empty nodes, never below a workload's
 * floor. Runs a cycle every `--interval` until SIGTERM or SIGINT, or one with `--once`;
 * `--dry-run` prints the plan a real cycle would carry out and writes nothing.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../core/capacity.js';
import type { ClusterSnapshot } from '../core/model.js';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_DESCHEDULER_CONFIG, parseDeschedulerConfig, placementContextOf, type DeschedulerConfig } from '../config/descheduler-config.js';
import { readLeftovers } from '../controllers/deschedule/drain-state.js';
import { PlanExecutor } from '../controllers/deschedule/executor.js';
import { runCycle, runLoop } from '../controllers/deschedule/loop.js';
import { DeschedulerMetrics } from '../controllers/deschedule/metrics.js';
import { planDocument, renderPlanTable } from '../controllers/deschedule/render.js';
import { loadKubeConfig } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { readClusterSnapshot, readNamespaceAnnotations } from '../kube/read-snapshot.js';
import { CACHE_KINDS, ClusterCache, SNAPSHOT_KINDS, type SnapshotFocus } from '../kube/cluster-cache.js';
import { readPodMetrics } from '../kube/pod-metrics.js';
import { KarpenterNodes } from '../kube/node-claims.js';
import type { PlacementContext } from '../policy/deschedule/types.js';
import { leaderIdentity, runAsLeader, startRuntime } from '../controllers/runtime/runtime.js';
import { createLogger, LOG_LEVELS, type Logger } from '../observability/log.js';
import { ConfigMapMoveHistoryStore } from '../kube/move-history-store.js';
import { antiFlapOf } from '../policy/deschedule/plan.js';
import { addLeaderElectionFlags, leaderElectionFromFlags, type LeaderElectionFlags } from './leader-election-flags.js';
import { addConnectionFlags, addOutputFlag, loadFile, printDocument, type ConnectionOptions } from './common.js';
import { CliError } from './errors.js';
import { parseDuration, type OutputFormat } from './flags.js';
import { loadPriceTable } from './snapshot.js';
import { parseListenAddress } from './webhook.js';

interface DeschedulerOptions extends ConnectionOptions, LeaderElectionFlags {
  readonly config?: string;
  readonly prices?: string;
  readonly interval: string;
  readonly once: boolean;
  readonly dryRun: boolean;
  readonly output: OutputFormat;
  readonly metricsListen?: string;
  readonly logLevel?: string;
}

/**
 * Reads `--config FILE`; the defaults when absent. The placement webhook's configuration comes
 * from the same file, or from the file it names, relative to it (see `descheduler-config.ts`).
 */
export function loadDeschedulerConfig(path: string | undefined): DeschedulerConfig {
  if (path === undefined) return DEFAULT_DESCHEDULER_CONFIG;
  return loadFile(path, 'descheduler configuration', (text, source) =>
    parseDeschedulerConfig(text, source, (file) => {
      const other = resolve(dirname(path), file);
      try {
        return { text: readFileSync(other, 'utf8'), source: `webhook configuration "${other}"` };
      } catch (error) {
        throw new Error(`Cannot read webhook configuration "${other}" (spec.placement.webhookConfigurationFile of ${source}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]}`);
      }
    }),
  );
}

function _logger(level: string | undefined): Logger {
  try {
    return createLogger('descheduler', level === undefined ? {} : { level });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** Adds `stowage deschedule` to the program. */
export function registerDeschedulerCommand(program: Command): void {
  const command = program
    .command('deschedule')
    .description('Move pods onto cheaper capacity and empty nodes (spot-reschedule, consolidate, balance) without going below any availability floor')
    .option('--config <file>', 'a DeschedulerConfiguration YAML (strategies, budgets, eviction, backoff); the placement webhook\'s WebhookConfiguration in the same file, the file spec.placement.webhookConfigurationFile names, or the policy given inline as spec.placement, gives the on-demand floor')
    .option('--prices <file>', 'a PriceTable YAML overriding the default prices')
    .option('--interval <duration>', 'time between cycles', '5m')
    .option('--once', 'run one cycle and exit', false)
    .option('--dry-run', 'print the plan a real cycle would carry out, and change nothing', false)
    .option('--metrics-listen <host:port>', 'plain-HTTP address for /metrics, /healthz and /readyz (off when absent)')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (default: $STOWAGE_LOG_LEVEL or info)`);
  addLeaderElectionFlags(command, 'stowage-descheduler');
  addConnectionFlags(command);
  addOutputFlag(command);
  command.action(async (opts: DeschedulerOptions) => {
    const intervalMs = parseDuration(opts.interval, '--interval');
    if (intervalMs <= 0) throw new CliError(`Invalid --interval "${opts.interval}": must be more than 0`);
    const config = loadDeschedulerConfig(opts.config);
    const prices = loadPriceTable(opts.prices);
    const metricsListen = opts.metricsListen === undefined ? undefined : parseListenAddress(opts.metricsListen, '--metrics-listen');
    const kc = loadKubeConfig(opts);
    const election = leaderElectionFromFlags(opts);
    // The webhook's policy, when the file holds it: spot-reschedule then keeps each workload's floor.
    // Nodes are classified as the webhook classifies them, so both count the same pods as on-demand.
    const placement = config.placement === undefined ? undefined : placementContextOf(config.placement);
    const capacityRules = config.placement?.capacityTypeRules ?? DEFAULT_CAPACITY_TYPE_RULES;
    const logPlacement = (log: Logger): void => {
      if (placement === undefined) log.info('No placement webhook configuration: planning as if no webhook places pods (no on-demand floor is kept)');
      else log.info({ base: placement.defaults.base, percent: placement.defaults.percent, capacityLabel: placement.capacityLabel?.key }, 'Keeping the placement webhook\'s on-demand floor');
    };

    if (opts.dryRun) {
      // Plans exactly as a real cycle does, from the same conversion and config, with no executor;
      // a one-shot read needs no watch, so it LISTs.
      const log = _logger(opts.logLevel);
      logPlacement(log);
      let seen: ClusterSnapshot | undefined;
      const readSnapshot = async () => (seen = await readClusterSnapshot(kc, { capacityRules }));
      const readPlacement = placement === undefined ? undefined : async (): Promise<PlacementContext> => ({ ...placement, namespaceAnnotations: await readNamespaceAnnotations(kc) });
      // The moves earlier runs made, read only: the dry run rests the workloads a real cycle would.
      const history = await new ConfigMapMoveHistoryStore(kc.makeApiClient(CoreV1Api), opts.leaderElectResourceNamespace, antiFlapOf(config.deschedule), log).load();
      const karpenter = new KarpenterNodes(kc, prices);
      const readOffers = (snapshot: ClusterSnapshot) => karpenter.offers(snapshot.nodes);
      const { planId, plan } = await runCycle({ readSnapshot, ...(readPlacement === undefined ? {} : { readPlacement }), readPodUsage: () => readPodMetrics(kc), readOffers, config: config.deschedule, prices, log, history });
      // What a crashed run left, from the same snapshot: the next real start rolls it back first.
      const leftovers = seen === undefined ? undefined : await readLeftovers(seen, Date.now(), () => karpenter.launchedClaims(), (error) => log.warn({ error }, 'Cannot list NodeClaims: replacements a crashed run left are not reported'));
      if (opts.output === 'table') process.stdout.write(renderPlanTable(plan, leftovers));
      else printDocument(planDocument(plan, { planId, context: kc.getCurrentContext(), dryRun: true, ...(leftovers === undefined ? {} : { leftovers }) }), opts.output);
      log.flush();
      return;
    }

    const identity = leaderIdentity();
    let ready = false;
    let runtime;
    try {
      runtime = await startRuntime({
        component: 'descheduler',
        ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }),
        ...(metricsListen === undefined ? {} : { metricsListen }),
        // A standby is ready: it is doing what it should. The leader once its cache is synced.
        ready: () => ready,
        stopMessage: 'rolling back the current drain and stopping',
      });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    const { log, registry } = runtime;
    logPlacement(log);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const metrics = new DeschedulerMetrics(registry);
    const events = new EventRecorder(core, 'stowage-descheduler', { log, ...(election === undefined ? {} : { instance: identity }) });
    if (election !== undefined) ready = true;

    /** The work of one leadership term (or of the whole run without election). */
    const act = async (signal: AbortSignal): Promise<void> => {
      // Namespaces only for the placement policy's per-namespace annotations.
      const cache = new ClusterCache(kc, { capacityRules, kinds: placement === undefined ? SNAPSHOT_KINDS : CACHE_KINDS, log, registry });
      try {
        await Promise.race([cache.start(), new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
        if (signal.aborted) return;
        const readSnapshot = (focus?: SnapshotFocus) => (focus === undefined ? Promise.resolve(cache.snapshot()) : cache.snapshotWith(focus));
        const karpenter = new KarpenterNodes(kc, prices);
        const executor = new PlanExecutor({
          core,
          apps,
          readSnapshot,
          log,
          metrics,
          events,
          replacementTimeoutMs: config.replacementTimeoutMs,
          signal,
          nodes: karpenter,
          launcher: karpenter,
          // Beside the Lease: a restart, a new leader or the next `--once` run knows what moved.
          historyStore: new ConfigMapMoveHistoryStore(core, opts.leaderElectResourceNamespace, antiFlapOf(config.deschedule), log),
        });
        // A drain left by a crashed run (or a leader that died) is rolled back first; the next
        // plan resumes it if it still pays.
        await executor.recover();
        ready = true;
        const readPlacement =
          placement === undefined
            ? undefined
            : (): Promise<PlacementContext> => Promise.resolve({ ...placement, namespaceAnnotations: new Map(cache.list('namespaces').map((ns) => [ns.metadata?.name ?? '', ns.metadata?.annotations ?? {}] as const)) });
        const readOffers = (snapshot: ClusterSnapshot) => karpenter.offers(snapshot.nodes);
        const cycle = { readSnapshot, ...(readPlacement === undefined ? {} : { readPlacement }), readPodUsage: () => readPodMetrics(kc), readOffers, config: config.deschedule, prices, log, executor, metrics, events };
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
          await runLoop({ ...cycle, intervalMs, signal });
        }
      } finally {
        await cache.stop();
      }
    };
    try {
      await runAsLeader(runtime, kc, election === undefined ? undefined : { ...election, identity }, act, { events });
    } finally {
      await runtime.close();
    }
  });
}
