/**
 * `stowage dev cluster up|down|status`: the local control plane for development and tests.
 * `stowage dev webhook up|down`: the placement webhook run locally and registered against it.
 * `stowage dev scheduler up|down`: the scheduler run locally against it.
 */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEV_AUTOSCALERS, readClusterState, startCluster, stopCluster, type DevAutoscaler } from '../devcluster/cluster.js';
import { parseNodeFixture } from '../devcluster/nodes.js';
import { cacheDir } from '../devcluster/paths.js';
import { isAlive } from '../devcluster/processes.js';
import { parseWebhookConfig } from '../config/webhook-config.js';
import { startLocalWebhook, stopLocalWebhook } from '../controllers/webhook/local.js';
import { startLocalScheduler, stopLocalScheduler } from '../controllers/scheduler/local.js';
import { loadFile } from './common.js';
import { parseDuration } from './flags.js';
import { CliError } from './errors.js';
import { loadTenantClasses } from './tenants.js';
import { loadSchedulerConfig } from './scheduler.js';

function clusterDir(name: string): string {
  if (!/^[a-z0-9][-a-z0-9]*$/.test(name)) throw new CliError(`Invalid cluster name "${name}": use lowercase letters, digits and dashes`);
  return join(cacheDir(), 'clusters', name);
}

function _port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new CliError(`Invalid ${flag} "${value}": expected a port from 1 to 65535`);
  return port;
}

function _registerWebhook(dev: Command): void {
  const webhook = dev.command('webhook').description('The placement webhook run locally and registered against a local cluster');
  webhook
    .command('up')
    .description('Start `stowage webhook` on 127.0.0.1 with a fresh certificate and register it with the cluster (a url clientConfig)')
    .option('--name <name>', 'the cluster (from `stowage dev cluster up --name`)', 'stowage-dev')
    .option('--config <file>', 'a file with a WebhookConfiguration, as `stowage webhook --config` reads it (default: the built-in defaults)')
    .option('--port <port>', 'HTTPS port on 127.0.0.1 (default: a free port)')
    .option('--metrics-port <port>', 'port on 127.0.0.1 for /metrics, /healthz and /readyz (default: a free port)')
    .option('--dry-run', 'decide and log every placement, but admit pods unchanged', false)
    .action(async (opts: { name: string; config?: string; port?: string; metricsPort?: string; dryRun: boolean }) => {
      // A bad file is reported here, in one line, rather than in the webhook's log.
      if (opts.config !== undefined) loadFile(opts.config, 'webhook configuration', parseWebhookConfig);
      const port = _port(opts.port, '--port');
      const metricsPort = _port(opts.metricsPort, '--metrics-port');
      const dir = _runningCluster(opts.name);
      try {
        const started = await startLocalWebhook({
          clusterDir: dir,
          ...(opts.config === undefined ? {} : { configFile: opts.config }),
          ...(port === undefined ? {} : { port }),
          ...(metricsPort === undefined ? {} : { metricsPort }),
          dryRun: opts.dryRun,
          log: (m) => process.stderr.write(`${m}\n`),
        });
        process.stderr.write(
          `the apiserver calls the webhook (${(started.calledAfterMs / 1000).toFixed(1)}s after registering): pods created in cluster "${opts.name}" are placed now\n` +
            `metrics ${started.metricsUrl}, logs ${started.logPath}; stop with \`stowage dev webhook down --name ${opts.name}\`\n`,
        );
        process.stdout.write(`${started.url}\n`);
      } catch (error) {
        throw new CliError(`Cannot start the webhook for cluster "${opts.name}": ${(error as Error).message}`);
      }
    });
  webhook
    .command('down')
    .description('Remove the registration and stop the local webhook')
    .option('--name <name>', 'the cluster', 'stowage-dev')
    .action(async (opts: { name: string }) => {
      const done = await stopLocalWebhook(clusterDir(opts.name));
      const said = [
        ...(done.unregistered === undefined ? [] : [`deleted MutatingWebhookConfiguration "${done.unregistered}"`]),
        ...(done.stopped === undefined ? [] : [`stopped the webhook (pid ${done.stopped})`]),
      ];
      process.stderr.write(said.length > 0 ? `${said.join(', ')}\n` : `no local webhook in cluster "${opts.name}"\n`);
    });
}

/** The cluster's directory, after checking that its apiserver runs. */
function _runningCluster(name: string): string {
  const dir = clusterDir(name);
  const apiserver = readClusterState(dir)?.processes.find((p) => p.name === 'kube-apiserver');
  if (apiserver === undefined || !isAlive(apiserver.pid)) throw new CliError(`Cluster "${name}" is not running: start it with \`stowage dev cluster up --name ${name}\``, 3);
  return dir;
}

function _registerScheduler(dev: Command): void {
  const scheduler = dev.command('scheduler').description('The Stowage scheduler run locally against a local cluster');
  scheduler
    .command('up')
    .description('Start `stowage scheduler` as its shipped ServiceAccount, with the shipped profiles (stowage, stowage-cost-aware), and wait until it schedules')
    .option('--name <name>', 'the cluster (from `stowage dev cluster up --name`)', 'stowage-dev')
    .option('--config <file>', 'a SchedulerConfiguration, as `stowage scheduler --config` reads it (default: the one in deploy/scheduler/config.yaml)')
    .option('--metrics-port <port>', 'port on 127.0.0.1 for /metrics, /healthz and /readyz (default: a free port)')
    .action(async (opts: { name: string; config?: string; metricsPort?: string }) => {
      // A bad file is reported here, in one line, rather than in the scheduler's log.
      if (opts.config !== undefined) loadSchedulerConfig(opts.config);
      const metricsPort = _port(opts.metricsPort, '--metrics-port');
      const dir = _runningCluster(opts.name);
      try {
        const started = await startLocalScheduler({
          clusterDir: dir,
          ...(opts.config === undefined ? {} : { configFile: opts.config }),
          ...(metricsPort === undefined ? {} : { metricsPort }),
          log: (m) => process.stderr.write(`${m}\n`),
        });
        process.stderr.write(
          `the scheduler is ready: pods of cluster "${opts.name}" whose spec.schedulerName is one of its profiles are scheduled now\n` +
            `metrics ${started.metricsUrl}, logs ${started.logPath}; stop with \`stowage dev scheduler down --name ${opts.name}\`\n`,
        );
      } catch (error) {
        throw new CliError(`Cannot start the scheduler for cluster "${opts.name}": ${(error as Error).message}`);
      }
    });
  scheduler
    .command('down')
    .description('Stop the local scheduler')
    .option('--name <name>', 'the cluster', 'stowage-dev')
    .action(async (opts: { name: string }) => {
      const stopped = await stopLocalScheduler(clusterDir(opts.name));
      process.stderr.write(stopped === undefined ? `no local scheduler in cluster "${opts.name}"\n` : `stopped the scheduler (pid ${stopped})\n`);
    });
}

export function registerDevCommand(program: Command): void {
  const dev = program.command('dev').description('Tools for developing and testing Stowage');
  const cluster = dev.command('cluster').description('A local Kubernetes control plane with KWOK fake nodes, on 127.0.0.1');

  cluster
    .command('up')
    .description('Start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, and create fake nodes')
    .option('--name <name>', 'cluster name (state lives in the Stowage cache)', 'stowage-dev')
    .option('--nodes <file>', 'node fixture YAML (default: dev/nodes.yaml)')
    .option('--pod-startup-delay <duration>', 'least time from binding to Ready for each pod', '1s')
    .option('--pod-startup-jitter <duration>', 'random extra start-up time per pod, up to this (default: half the delay)')
    .option('--pod-termination-delay <duration>', 'time a deleted pod stays Terminating', '500ms')
    .addOption(new Option('--autoscaler <name>', 'also start an autoscaler for the tenant node groups: Karpenter\'s KWOK provider, or Cluster Autoscaler\'s kwok provider (binary from STOWAGE_CLUSTER_AUTOSCALER_BINARY)').choices(DEV_AUTOSCALERS))
    .option('--classes <file>', 'TenantClasses whose node groups the autoscaler gets (default: the built-in premium and standard)')
    .action(async (opts: { name: string; nodes?: string; podStartupDelay: string; podStartupJitter?: string; podTerminationDelay: string; autoscaler?: DevAutoscaler; classes?: string }) => {
      const dir = clusterDir(opts.name);
      const started = Date.now();
      const nodes = opts.nodes === undefined ? undefined : loadFile(opts.nodes, 'node fixture', parseNodeFixture);
      const tenantClasses = opts.classes === undefined ? undefined : loadTenantClasses(opts.classes);
      const state = await startCluster({
        dir,
        ...(nodes ? { nodes } : {}),
        ...(opts.autoscaler ? { autoscaler: opts.autoscaler } : {}),
        ...(tenantClasses ? { tenantClasses } : {}),
        podStartupMs: parseDuration(opts.podStartupDelay, '--pod-startup-delay'),
        ...(opts.podStartupJitter === undefined ? {} : { podStartupJitterMs: parseDuration(opts.podStartupJitter, '--pod-startup-jitter') }),
        podTerminationMs: parseDuration(opts.podTerminationDelay, '--pod-termination-delay'),
        log: (m) => process.stderr.write(`${m}\n`),
      });
      process.stderr.write(`cluster "${opts.name}" is ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
      process.stdout.write(`export KUBECONFIG=${state.kubeconfigPath}\n`);
    });

  cluster
    .command('down')
    .description('Stop the cluster and remove its data')
    .option('--name <name>', 'cluster name', 'stowage-dev')
    .option('--keep-data', 'keep certificates, logs and etcd data', false)
    .action(async (opts: { name: string; keepData: boolean }) => {
      const stopped = await stopCluster(clusterDir(opts.name), { purge: !opts.keepData });
      process.stderr.write(stopped.length > 0 ? `stopped ${stopped.join(', ')}\n` : `cluster "${opts.name}" was not running\n`);
    });

  cluster
    .command('status')
    .description('Show whether the cluster is running')
    .option('--name <name>', 'cluster name', 'stowage-dev')
    .action((opts: { name: string }) => {
      const state = readClusterState(clusterDir(opts.name));
      if (!state) throw new CliError(`Cluster "${opts.name}" is not running`, 3);
      for (const p of state.processes) process.stdout.write(`${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${isAlive(p.pid) ? 'running' : 'exited'}\n`);
      process.stdout.write(`kubeconfig ${state.kubeconfigPath}\n`);
    });

  _registerWebhook(dev);
  _registerScheduler(dev);
}
