/**
 * The webhook as a running component: informers into the index, the ledger, the admitter, the
 * HTTPS server and the metrics/health listener, started in the order that makes "ready" true:
 * metrics first (so probes answer), caches synced, then the HTTPS port opens. Until it does,
 * the apiserver's calls fail to connect and `failurePolicy: Ignore` admits pods unchanged,
 * which beats deciding on an empty cache (every pod would look like the first of its workload).
 */
import { readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WebhookConfig } from '../../config/webhook-config.js';
import { createRegistry, serveMetrics } from '../../observability/metrics.js';
import { onDemandFloor } from '../../policy/placement/floor.js';
import { resolvePlacementPolicy } from '../../policy/placement/policy.js';
import { PlacementAdmitter } from './admitter.js';
import { ReservationLedger } from './ledger.js';
import { ApiLookup } from './lookup.js';
import { WebhookMetrics, type WorkloadSplitSample } from './metrics.js';
import { PlacementIndex } from './placement-index.js';
import { startWebhookServer, type WebhookServer } from './server.js';
import { watchCluster } from './watch.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface RunWebhookOptions {
  readonly kc: KubeConfig;
  readonly config: WebhookConfig;
  readonly listen: HostPort;
  /** The plain-HTTP /metrics, /healthz and /readyz listener; none when undefined. */
  readonly metricsListen?: HostPort;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly dryRun?: boolean;
  readonly log: Logger;
  readonly registry?: Registry;
  /** How often to check the certificate files for a rotation. Default 30 s. */
  readonly certCheckMs?: number;
}

export interface RunningWebhook {
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly index: PlacementIndex;
  readonly ledger: ReservationLedger;
  /** Closes the HTTPS port (in-flight reviews finish), then the informers and the metrics listener. */
  stop(graceMs?: number): Promise<void>;
}

function _readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`Cannot read the TLS ${what} "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'private key') };
}

function _mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** The per-workload gauges: each placed workload's floor against its pods. */
function _splits(index: PlacementIndex, config: WebhookConfig): () => Iterable<WorkloadSplitSample> {
  const optOut = new Set(config.optOutNamespaces);
  return function* () {
    for (const { workload, live } of index.workloadSplits()) {
      const { namespace, name, kind } = workload.ref;
      if (optOut.has(namespace)) continue;
      const resolved = resolvePlacementPolicy(workload.annotations, index.namespaceAnnotations(namespace), config.placement);
      if (resolved.optOut) continue;
      yield { namespace, kind, name, desiredOnDemand: onDemandFloor(workload.replicas ?? 1, resolved.policy), onDemand: live.onDemand, spot: live.spot };
    }
  };
}

/**
 * Starts the webhook and resolves once it serves reviews.
 *
 * @example
 * const webhook = await runWebhook({ kc, config, listen: { host: '127.0.0.1', port: 8443 }, tlsCertFile, tlsKeyFile, log });
 * process.once('SIGTERM', () => void webhook.stop());
 */
export async function runWebhook(options: RunWebhookOptions): Promise<RunningWebhook> {
  const { config, log } = options;
  const tls = _readTls(options.tlsCertFile, options.tlsKeyFile);
  const registry = options.registry ?? createRegistry();
  const ledger = new ReservationLedger(config.reservationTtlMs);
  const index = new PlacementIndex({
    capacityTypeRules: config.capacityTypeRules,
    capacityLabel: config.capacityLabel,
    onReservationSeen: (id) => ledger.release(id),
  });
  const metrics = new WebhookMetrics(registry, {
    splits: _splits(index, config),
    reservationsInFlight: () => ledger.size,
    reservationsExpired: () => ledger.expiredTotal,
  });
  const watch = watchCluster(options.kc, index, { log, metrics });
  let metricsServer: Server | undefined;
  let server: WebhookServer | undefined;
  let certTimer: NodeJS.Timeout | undefined;
  const stop = async (graceMs = 5_000): Promise<void> => {
    clearInterval(certTimer);
    await server?.close(graceMs);
    await watch.stop();
    if (metricsServer !== undefined) {
      const closed = new Promise<void>((resolve) => metricsServer?.close(() => resolve()));
      metricsServer.closeAllConnections();
      await closed;
    }
  };
  try {
    if (options.metricsListen !== undefined) {
      // /readyz stays 503 until the HTTPS port serves, so a Service only routes to a ready replica.
      metricsServer = await serveMetrics({ registry, host: options.metricsListen.host, port: options.metricsListen.port, ready: () => watch.synced && server !== undefined });
      log.info({ address: `${options.metricsListen.host}:${(metricsServer.address() as AddressInfo).port}` }, 'Serving /metrics, /healthz and /readyz');
    }
    await watch.start();
    const types = index.nodeTypes();
    if (types.spot === 0 || types['on-demand'] === 0) {
      log.warn({ nodes: types }, `No ${types.spot === 0 ? 'spot' : 'on-demand'} node found by the capacity-type rules (label "${config.capacityLabel.key}" first): pods will fall back or stay Pending`);
    }
    const admitter = new PlacementAdmitter({ config, index, ledger, lookup: new ApiLookup(options.kc), log, metrics, dryRun: options.dryRun ?? false });
    server = await startWebhookServer({ host: options.listen.host, port: options.listen.port, tls, admit: (request, signal) => admitter.admit(request, signal), log, metrics });
    log.info({ address: `${options.listen.host}:${server.port}`, dryRun: options.dryRun ?? false, defaults: config.placement }, 'Serving AdmissionReviews on POST /mutate');

    // cert-manager and `kubectl create secret` rotations replace the files in place.
    let stamp = `${_mtime(options.tlsCertFile)}/${_mtime(options.tlsKeyFile)}`;
    const running = server;
    certTimer = setInterval(() => {
      const next = `${_mtime(options.tlsCertFile)}/${_mtime(options.tlsKeyFile)}`;
      if (next === stamp) return;
      try {
        running.setCertificate(_readTls(options.tlsCertFile, options.tlsKeyFile));
        stamp = next;
        log.info('Reloaded the serving certificate');
      } catch (error) {
        // A half-written pair: keep serving the old one and try again next tick.
        log.warn({ err: error }, `Keeping the old serving certificate: ${(error as Error).message}`);
      }
    }, options.certCheckMs ?? 30_000);
    certTimer.unref();
  } catch (error) {
    await stop(0).catch(() => undefined);
    throw error;
  }
  return {
    port: server.port,
    metricsPort: metricsServer === undefined ? undefined : (metricsServer.address() as AddressInfo).port,
    index,
    ledger,
    stop,
  };
}
