/**
 * What every long-running Stowage controller needs around its own work, in one place: JSON logs
 * (pino), SIGTERM/SIGINT turned into an AbortSignal (the work stops gracefully: the descheduler
 * rolls its drain back), the plain-HTTP /metrics, /healthz and /readyz listener, and, when asked,
 * leader election on a Lease so that of several replicas only one acts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoordinationV1Api } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { EventRecorder } from '../../kube/events.js';
import { createLogger, type Logger } from '../../observability/log.js';
import { createRegistry, serveMetrics } from '../../observability/metrics.js';
import { LeaderElector, type LeaderElectionConfig } from './leader-election.js';

export { leaderElectionConfigError, LeaderElector, type LeaderElectionConfig } from './leader-election.js';

/** An address to listen on. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The signals a controller stops on, gracefully. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface RuntimeOptions {
  /** The `component` field of every log line: "descheduler", "webhook". */
  readonly component: string;
  /** A pino level; default `$STOWAGE_LOG_LEVEL` or info. */
  readonly logLevel?: string;
  /** Serve /metrics, /healthz and /readyz here; nothing is served when absent. */
  readonly metricsListen?: ListenAddress;
  readonly registry?: Registry;
  /** What /readyz reports; default always ready. */
  readonly ready?: () => boolean;
  /** What to say when a stop signal arrives (the work's own graceful step). */
  readonly stopMessage?: string;
  /** The process the signals come from; tests pass an EventEmitter. */
  readonly signals?: Pick<NodeJS.Process, 'once' | 'off'>;
}

/** A started runtime: its logger, registry, stop signal, and the metrics port it listens on. */
export interface ControllerRuntime {
  readonly log: Logger;
  readonly registry: Registry;
  /** Aborts on the first SIGTERM or SIGINT; its reason is the signal's name. */
  readonly signal: AbortSignal;
  readonly metricsPort: number | undefined;
  /** Closes the metrics listener, stops listening for signals and flushes the log. */
  close(): Promise<void>;
}

/**
 * Sets up logging, signals and the metrics listener. Throws (before anything is started) on an
 * invalid log level.
 *
 * @example
 * const runtime = await startRuntime({ component: 'descheduler', metricsListen: { host: '127.0.0.1', port: 8080 } });
 * try { await runLoop({ ...cycle, signal: runtime.signal }); } finally { await runtime.close(); }
 */
export async function startRuntime(options: RuntimeOptions): Promise<ControllerRuntime> {
  const log = createLogger(options.component, options.logLevel === undefined ? {} : { level: options.logLevel });
  const registry = options.registry ?? createRegistry();
  const controller = new AbortController();
  const signals = options.signals ?? process;
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = (): void => {
      log.info({ signal: name }, `Received ${name}${options.stopMessage === undefined ? ': stopping' : `: ${options.stopMessage}`}`);
      controller.abort(name);
    };
    signals.once(name, handler);
    return [name, handler] as const;
  });
  let server: Server | undefined;
  try {
    if (options.metricsListen !== undefined) {
      server = await serveMetrics({ registry, host: options.metricsListen.host, port: options.metricsListen.port, ...(options.ready === undefined ? {} : { ready: options.ready }) });
      log.info({ address: `${options.metricsListen.host}:${(server.address() as AddressInfo).port}` }, 'Serving /metrics, /healthz and /readyz');
    }
  } catch (error) {
    for (const [name, handler] of handlers) signals.off(name, handler);
    throw new Error(`Cannot listen on ${options.metricsListen?.host}:${options.metricsListen?.port} for metrics: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return {
    log,
    registry,
    signal: controller.signal,
    metricsPort: server === undefined ? undefined : (server.address() as AddressInfo).port,
    async close() {
      for (const [name, handler] of handlers) signals.off(name, handler);
      if (server !== undefined) {
        const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      log.flush();
    },
  };
}

/** The Lease and timings; the identity is filled in by {@link runAsLeader} when absent. */
export type LeaderElectionSettings = Omit<LeaderElectionConfig, 'identity'> & { readonly identity?: string };

/** A replica's identity in the Lease, as client-go builds it: the hostname, then a random part. */
export function leaderIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/**
 * Runs `work` under the runtime's stop signal: at once without election, or only while this
 * replica holds the Lease (the signal `work` gets then also aborts when the lease is lost).
 */
export async function runAsLeader(
  runtime: ControllerRuntime,
  kc: KubeConfig,
  election: LeaderElectionSettings | undefined,
  work: (signal: AbortSignal) => Promise<void>,
  options: { readonly events?: EventRecorder } = {},
): Promise<void> {
  if (election === undefined) {
    await work(runtime.signal);
    return;
  }
  const config: LeaderElectionConfig = { ...election, identity: election.identity ?? leaderIdentity() };
  const elector = new LeaderElector(kc.makeApiClient(CoordinationV1Api), config, { log: runtime.log, registry: runtime.registry, ...(options.events === undefined ? {} : { events: options.events }) });
  await elector.run(work, runtime.signal);
}
