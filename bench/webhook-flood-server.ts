/**
 * The webhook server alone in a process, for `npm run bench:webhook -- --flood`: Stowage's
 * admitter over the synthetic cluster (`stowage`), the same server admitting everything unchanged
 * (`no-op`: the HTTP server, pre-scan and parse worker without the decision), or a bare HTTPS
 * server that reads each body and answers "allowed" without parsing it (`bare`: what TLS, the
 * flood's bytes and this machine cost, nothing of the webhook's). Prints `{"port":…,"ca":…}` on
 * its first line and serves until SIGTERM; each SIGUSR2 prints one JSON line of {@link LoopStats}
 * since the previous one.
 * Run: `tsx bench/webhook-flood-server.ts stowage|no-op|bare`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_WEBHOOK_CONFIG } from '../src/config/webhook-config.js';
import { PlacementAdmitter } from '../src/controllers/webhook/admitter.js';
import { ReservationLedger } from '../src/controllers/webhook/ledger.js';
import { WebhookMetrics } from '../src/controllers/webhook/metrics.js';
import { startWebhookServer } from '../src/controllers/webhook/server.js';
import { createCertificateAuthority, issueCertificate } from '../src/pki/certs.js';
import { syntheticIndex, VALID_PATH } from './webhook-fixtures.js';

/** What the server's main thread went through since the last ask: event-loop delay, GC pauses by kind, heap; valid reviews timed inside it. */
export interface LoopStats {
  readonly valid: { readonly n: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly loop: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly gc: Readonly<Record<string, { readonly count: number; readonly ms: number; readonly maxMs: number }>>;
  readonly heapMiB: { readonly used: number; readonly total: number; readonly external: number };
}

/** A bare HTTPS server: reads the body, answers an allowed review; its port. */
async function _bare(tls: { cert: string; key: string }): Promise<{ port: number; server: Server; close: () => Promise<void> }> {
  const answer = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'bare', allowed: true } });
  const server = createServer({ ...tls, minVersion: 'TLSv1.2' }, (req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length }).end(answer));
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, server, close: () => new Promise((r) => server.close(() => r())) };
}

/** `stowage|no-op|bare`: the server alone in this process, for the flood benchmark. */
async function serve(variant: string): Promise<void> {
  const authority = await createCertificateAuthority('bench-ca');
  const serving = await issueCertificate(authority, { commonName: 'bench', ipAddresses: ['127.0.0.1'], usage: 'server' });
  let admit: Parameters<typeof startWebhookServer>[0]['admit'] = () => Promise.resolve({ outcome: 'unchanged', skipped: 'not-a-pod-create', detail: 'no-op' });
  let keep: unknown;
  if (variant === 'stowage') {
    const { index, pods } = syntheticIndex();
    keep = pods;
    const log = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
    const metrics = new WebhookMetrics(new Registry());
    const admitter = new PlacementAdmitter({ config: DEFAULT_WEBHOOK_CONFIG, index, ledger: new ReservationLedger(DEFAULT_WEBHOOK_CONFIG.reservationTtlMs), log, metrics });
    admit = (r, signal) => admitter.admit(r, signal);
  }
  const tls = { cert: serving.certPem, key: serving.keyPem };
  const server = variant === 'bare' ? await _bare(tls) : await startWebhookServer({ host: '127.0.0.1', port: 0, tls, admit });
  // Valid reviews from the request (headers read) to the response handed to the socket.
  let valid: number[] = [];
  server.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== VALID_PATH) return;
    const started = performance.now();
    res.once('finish', () => valid.push(performance.now() - started));
  });
  // How long the event loop was held: what every review waits behind, whatever it is.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // And how much of that was garbage collection, by kind: major (mark-compact) pauses scale with the heap.
  const gc = new Map<string, { count: number; ms: number; maxMs: number }>();
  const kinds: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak' };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as { detail?: { kind: number } }).detail?.kind ?? -1] ?? 'other';
      const seen = gc.get(kind) ?? { count: 0, ms: 0, maxMs: 0 };
      gc.set(kind, { count: seen.count + 1, ms: seen.ms + entry.duration, maxMs: Math.max(seen.maxMs, entry.duration) });
    }
  }).observe({ entryTypes: ['gc'] });
  process.stdout.write(`${JSON.stringify({ port: server.port, ca: authority.certPem })}\n`);
  // SIGUSR2 prints the event-loop delay and GC pauses since the previous one (or the start) and resets them.
  process.on('SIGUSR2', () => {
    const ms = (ns: number): number => Number((ns / 1e6).toFixed(1));
    const memory = process.memoryUsage();
    const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);
    const sorted = valid.sort((a, b) => a - b);
    const at = (p: number): number => Number((sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN).toFixed(1));
    const stats: LoopStats = {
      valid: { n: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: at(100) },
      loop: { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max) },
      gc: Object.fromEntries([...gc].map(([kind, g]) => [kind, { count: g.count, ms: Math.round(g.ms), maxMs: Math.round(g.maxMs) }])),
      heapMiB: { used: mib(memory.heapUsed), total: mib(memory.heapTotal), external: mib(memory.external) },
    };
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    delay.reset();
    gc.clear();
    valid = [];
  });
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await server.close(1_000);
  void keep;
}

await serve(process.argv[2] ?? 'no-op');
