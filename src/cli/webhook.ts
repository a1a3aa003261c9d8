/**
 * `stowage webhook`: the placement admission webhook. Splits each Deployment's and StatefulSet's
 * pods between spot and on-demand capacity as they are created, keeping the on-demand floor, and
 * runs until SIGTERM or SIGINT.
 */
import type { Command } from 'commander';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfig, type WebhookConfig } from '../config/webhook-config.js';
import { runWebhook, type HostPort, type RunningWebhook } from '../controllers/webhook/run.js';
import { startRuntime } from '../controllers/runtime/runtime.js';
import { loadKubeConfig } from '../kube/client.js';
import { LOG_LEVELS } from '../observability/log.js';
import { addConnectionFlags, loadFile, type ConnectionOptions } from './common.js';
import { CliError } from './errors.js';
import { parseDuration } from './flags.js';

interface WebhookOptions extends ConnectionOptions {
  readonly config?: string;
  readonly tlsCertFile: string;
  readonly tlsPrivateKeyFile: string;
  readonly listen: string;
  readonly metricsListen: string;
  readonly dryRun: boolean;
  readonly shutdownDelay: string;
  readonly logLevel?: string;
}

/**
 * Parses `host:port` as Go servers take it: `:8443` is every interface, `[::1]:8443` an IPv6
 * host, port 0 a free port.
 */
export function parseListenAddress(value: string, flag: string): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65_535) {
    throw new CliError(`Invalid ${flag} "${value}": expected host:port, like "127.0.0.1:8443" or ":8443"`);
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function _loadConfig(path: string | undefined): WebhookConfig {
  if (path === undefined) return DEFAULT_WEBHOOK_CONFIG;
  return loadFile(path, 'webhook configuration', parseWebhookConfig);
}

/** Registers `stowage webhook` on the program. */
export function registerWebhookCommand(program: Command): void {
  const command = program
    .command('webhook')
    .description('Run the placement admission webhook: split each workload between spot and on-demand with an on-demand floor')
    .option('--config <file>', 'a WebhookConfiguration YAML (default policy, capacity label, spot taint, opt-out namespaces)')
    .requiredOption('--tls-cert-file <file>', 'serving certificate (PEM), e.g. tls.crt from `stowage certs`')
    .requiredOption('--tls-private-key-file <file>', 'serving private key (PEM), e.g. tls.key from `stowage certs`')
    // Loopback by default: a webhook started by hand on a laptop must not serve the network.
    // In a cluster the Deployment (deploy/webhook) passes --listen=0.0.0.0:8443 for its Service.
    .option('--listen <host:port>', 'HTTPS address for AdmissionReviews (POST /mutate); ":8443" listens on every interface', '127.0.0.1:8443')
    .option('--metrics-listen <host:port>', 'plain-HTTP address for /metrics, /healthz and /readyz; ":8080" listens on every interface', '127.0.0.1:8080')
    .option('--dry-run', 'decide and log every placement, but admit pods unchanged', false)
    .option('--shutdown-delay <duration>', 'keep answering this long after SIGTERM, while the Service drops the endpoint', '0s')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (default: $STOWAGE_LOG_LEVEL or info)`);
  addConnectionFlags(command);
  command.action(async (opts: WebhookOptions) => {
    const listen = parseListenAddress(opts.listen, '--listen');
    const metricsListen = parseListenAddress(opts.metricsListen, '--metrics-listen');
    const shutdownDelayMs = parseDuration(opts.shutdownDelay, '--shutdown-delay');
    const config = _loadConfig(opts.config);
    const kc = loadKubeConfig(opts);
    let webhook: RunningWebhook | undefined;
    let runtime;
    try {
      // The runtime serves /metrics and the probes first; /readyz says ready once reviews are served.
      runtime = await startRuntime({ component: 'webhook', ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }), metricsListen, ready: () => webhook !== undefined });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    const { log, signal } = runtime;
    try {
      webhook = await runWebhook({
        kc,
        config,
        listen,
        registry: runtime.registry,
        tlsCertFile: opts.tlsCertFile,
        tlsKeyFile: opts.tlsPrivateKeyFile,
        dryRun: opts.dryRun,
        log,
      });
      // The webhook needs no leader: every replica answers reviews.
      await new Promise((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, { once: true })));
      log.info({ shutdownDelayMs }, 'Shutting down');
      if (shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, shutdownDelayMs));
      await webhook.stop();
      log.info('Stopped');
    } finally {
      await runtime.close();
    }
  });
}
