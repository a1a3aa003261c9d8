/**
 * The webhook server alone in a process, for `npm run bench:webhook -- --flood`: Stowage's
 * admitter over the synthetic cluster (`stowage`) or one that admits everything unchanged
 * (`no-op`). Prints `{"port":…,"ca":…}` on its first line and serves until SIGTERM.
 * Run: `tsx bench/webhook-flood-server.ts stowage|no-op`.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_WEBHOOK_CONFIG } from '../src/config/webhook-config.js';
import { PlacementAdmitter } from '../src/controllers/webhook/admitter.js';
import { ReservationLedger } from '../src/controllers/webhook/ledger.js';
import { WebhookMetrics } from '../src/controllers/webhook/metrics.js';
import { startWebhookServer } from '../src/controllers/webhook/server.js';
import { createCertificateAuthority, issueCertificate } from '../src/pki/certs.js';
import { syntheticIndex } from './webhook-fixtures.js';

/** `--serve stowage|no-op`: the webhook server alone in this process, for the flood benchmark. */
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
  const server = await startWebhookServer({ host: '127.0.0.1', port: 0, tls: { cert: serving.certPem, key: serving.keyPem }, admit });
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
  // SIGUSR2 prints the event-loop delay since the previous one (or the start) and resets it.
  process.on('SIGUSR2', () => {
    const ms = (ns: number): string => (ns / 1e6).toFixed(1);
    const pauses = [...gc].map(([kind, g]) => `${kind} ${g.count}× ${g.ms.toFixed(0)} ms (max ${g.maxMs.toFixed(0)})`).join(', ');
    const memory = process.memoryUsage();
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
    process.stderr.write(`     ${variant} event-loop delay: p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms; GC ${pauses || 'none'}; main heap ${mib(memory.heapUsed)}/${mib(memory.heapTotal)} MiB, external ${mib(memory.external)} MiB\n`);
    delay.reset();
    gc.clear();
  });
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await server.close(1_000);
  void keep;
}

await serve(process.argv[2] ?? 'no-op');
