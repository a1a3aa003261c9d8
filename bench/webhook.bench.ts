/**
 * The placement webhook's cost, in two parts. Prints figures; not a test.
 * Run: `npm run bench:webhook` (part 2 needs the control-plane binaries; `--no-cluster` skips it).
 *
 * 1. Admission latency on loopback: the real HTTPS server and admitter, over a synthetic
 *    cluster of 1,000 nodes and 20,000 pods, driven open-loop (requests sent on a fixed
 *    schedule, not when the previous one returns) at 250 and 1,000 reviews/s through a
 *    keep-alive agent of 25 sockets, like the apiserver's client. p50/p99 measured by the client.
 * 3. With `--flood` (instead of 1 and 2): the webhook server in its own process, over the same
 *    synthetic cluster; the same server admitting everything unchanged (no-op); and a bare HTTPS
 *    server that reads bodies and parses nothing (bare: TLS, the flood's bytes and this machine).
 *    Each in turn: the CPU time it spends per admission at 200 valid reviews/s (a figure this
 *    machine's noise disturbs less than wall time), then a flood of 1,000 hostile requests from 16
 *    concurrent clients (src/controllers/webhook/hostile.test-helper.ts) while valid reviews keep
 *    coming at 50/s: their p50/p99, how many were shed, the server's event-loop delay and GC
 *    pauses, its RSS during and after, and whether it survived; then all side by side. The goal:
 *    p99 < 100 ms, RSS < 256 MiB during and after, no crash. `--flood-rounds N` repeats the set,
 *    `--flood-write whole|both` has the flood's clients write each body at once (or both ways in turn;
 *    by default they stream it in 64 KiB pieces and stop once answered),
 *    `--flood-only stowage,no-op` picks servers by label;
 *    `--baseline DIR` adds the stowage and no-op servers of another checkout (e.g. `git archive
 *    main | tar -x -C DIR` with a node_modules link) before this checkout's, for a before/after in one run.
 * 2. Pod-creation throughput on the real control plane: a Deployment of 200 replicas created
 *    and timed until its ReplicaSet has created every pod and until every pod is Ready, without
 *    with Stowage's webhook registered (`stowage webhook` in its own process), and with a no-op
 *    webhook on the same HTTPS server code (what any webhook costs), in turn, five rounds each (`--rounds N`);
 *    medians and ranges are printed, as the spread between rounds is the noise floor.
 */
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, KubeConfig, type V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_WEBHOOK_CONFIG } from '../src/config/webhook-config.js';
import { PlacementAdmitter } from '../src/controllers/webhook/admitter.js';
import { ReservationLedger } from '../src/controllers/webhook/ledger.js';
import { WebhookMetrics } from '../src/controllers/webhook/metrics.js';
import { cpuMs } from '../src/controllers/webhook/flood.test-helper.js';
import { urlWebhookConfiguration } from '../src/controllers/webhook/registration.js';
import { parseAdmissionReview } from '../src/controllers/webhook/review.js';
import { startWebhookServer } from '../src/controllers/webhook/server.js';
import { startCluster, stopCluster } from '../src/devcluster/cluster.js';
import { httpGet } from '../src/devcluster/http.js';
import { freePorts, readyOrStopped, spawnOwned, stopOwned, waitFor } from '../src/devcluster/processes.js';
import { shippedNodeOptions } from '../src/devcluster/shipped-identity.js';
import { createCertificateAuthority, issueCertificate, type CertificateKeyPair } from '../src/pki/certs.js';
import { heapAfterGc } from '../src/runtime/heap.test-helper.js';
import { spawnModuleWorker } from '../src/runtime/worker-thread.js';
import { DEPLOYMENTS, NODES, NS, REPLICAS, reviewBody, syntheticIndex } from './webhook-fixtures.js';
import { floodOneServer, summary, type FloodRun } from './webhook-flood.js';

const RATES = [
  { perSecond: 250, count: 2_500 },
  { perSecond: 1_000, count: 5_000 },
] as const;
const CLUSTER_PODS = 200;
/** Rounds per variant (`--rounds N`): the spread between rounds of one variant is the noise floor. */
const ROUNDS = _roundsArg(process.argv) ?? 5;
const BIN = fileURLToPath(new URL('../bin/stowage.js', import.meta.url));

/** Sends `count` reviews at `perSecond`, open-loop, and returns each one's latency in ms. */
async function drive(port: number, ca: string, perSecond: number, count: number, offset: number): Promise<{ latencies: number[]; seconds: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 25, ca });
  const latencies: number[] = [];
  let errors = 0;
  const bodies = Array.from({ length: count }, (_, i) => reviewBody(`review-${offset + i}`, (offset + i) % DEPLOYMENTS));
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const body = bodies[i] ?? '';
    const sent = performance.now();
    pending.push(
      new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/mutate?timeout=3s', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - sent);
            else errors++;
            resolve();
          });
        });
        req.on('error', () => {
          errors++;
          resolve();
        });
        req.end(body);
      }),
    );
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, seconds, errors };
}

interface DriveJob {
  readonly port: number;
  readonly ca: string;
  readonly perSecond: number;
  readonly count: number;
  readonly offset: number;
}

/**
 * Runs {@link drive} in a worker thread: the load generator gets its own event loop (and core),
 * as the apiserver is its own process, so its JSON and TLS work doesn't queue behind the server's.
 */
function driveInWorker(job: DriveJob): Promise<{ latencies: number[]; seconds: number; errors: number }> {
  return _inWorker(job);
}

function _inWorker<T>(job: DriveJob): Promise<T> {
  return new Promise((resolve, reject) => {
    // This file again, in the worker (with tsx registered there: workers don't inherit its loader).
    const worker = spawnModuleWorker(import.meta.url, 'webhook.bench', { workerData: job });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`The load generator exited with ${code}`));
    });
  });
}

async function admissionLatency(): Promise<void> {
  process.stdout.write(`\n1. Admission latency on loopback: ${NODES} nodes, ${DEPLOYMENTS * REPLICAS} pods in the index\n`);
  const heapBefore = heapAfterGc();
  const built = performance.now();
  const { index, pods } = syntheticIndex();
  const seconds = (performance.now() - built) / 1000;
  const perPod = (heapAfterGc() - heapBefore) / pods.size;
  process.stdout.write(`   index built in ${seconds.toFixed(2)} s; with the informer's identity cache it holds ${(perPod / 1024).toFixed(2)} KiB of heap per pod (nodes and workloads included)\n`);
  const ledger = new ReservationLedger(DEFAULT_WEBHOOK_CONFIG.reservationTtlMs);
  const registry = new Registry();
  const metrics = new WebhookMetrics(registry);
  // Every decision is logged at info, as in production, to a sink that writes nowhere.
  const log = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const admitter = new PlacementAdmitter({ config: DEFAULT_WEBHOOK_CONFIG, index, ledger, log, metrics });

  const decisions: number[] = [];
  for (let i = 0; i < 5_000; i++) {
    const request = parseAdmissionReview(reviewBody(`direct-${i}`, i % DEPLOYMENTS));
    const t = performance.now();
    await admitter.admit(request);
    decisions.push(performance.now() - t);
  }
  process.stdout.write(`   decision alone (admitter, no HTTP):    ${summary(decisions.slice(500))}\n`);

  const authority = await createCertificateAuthority('bench-ca');
  const serving = await issueCertificate(authority, { commonName: 'bench', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const server = await startWebhookServer({ host: '127.0.0.1', port: 0, tls: { cert: serving.certPem, key: serving.keyPem }, admit: (r, s) => admitter.admit(r, s), log, metrics });
  // Server side: from the request's headers parsed to the response written, without the client's queueing.
  let serverSide: number[] = [];
  server.server.on('request', (_req, res) => {
    const t = performance.now();
    res.on('finish', () => serverSide.push(performance.now() - t));
  });
  try {
    await driveInWorker({ port: server.port, ca: authority.certPem, perSecond: 200, count: 400, offset: 0 }); // warm-up: JIT
    let offset = 1_000;
    for (const { perSecond, count } of RATES) {
      serverSide = [];
      const run = await driveInWorker({ port: server.port, ca: authority.certPem, perSecond, count, offset });
      offset += count;
      process.stdout.write(`   HTTPS at ${String(perSecond).padStart(5)} reviews/s (achieved ${(run.latencies.length / run.seconds).toFixed(0)}/s, ${run.errors} errors)\n`);
      process.stdout.write(`     client (round trip): ${summary(run.latencies)}\n`);
      process.stdout.write(`     server (in handler): ${summary(serverSide)}\n`);
    }
  } finally {
    await server.close(1_000);
  }
}

type _Variant = 'none' | 'stowage' | 'no-op';

/** `stowage webhook` as its own process, as in a cluster, so this process's polling never delays it. */
async function startWebhookProcess(kubeconfig: string, dir: string, tls: CertificateKeyPair): Promise<{ port: number; metricsPort: number; pid: number; stop: () => Promise<void> }> {
  writeFileSync(join(dir, 'tls.crt'), tls.certPem);
  writeFileSync(join(dir, 'tls.key'), tls.keyPem, { mode: 0o600 });
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const fd = openSync(join(dir, 'webhook.log'), 'a');
  // STOWAGE_BENCH_PROFILE=DIR writes the webhook process's CPU profile there.
  const profile = process.env['STOWAGE_BENCH_PROFILE'];
  const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const child = spawnOwned('the webhook', process.execPath, [...shippedNodeOptions('webhook'), ...nodeArgs, BIN, 'webhook', '--kubeconfig', kubeconfig, '--tls-cert-file', join(dir, 'tls.crt'), '--tls-private-key-file', join(dir, 'tls.key'), '--listen', `127.0.0.1:${port}`, '--metrics-listen', `127.0.0.1:${metricsPort}`], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  await readyOrStopped(child, 'the webhook to be ready', async () => (await httpGet(`http://127.0.0.1:${metricsPort}/readyz`, { timeoutMs: 5_000 })).status === 200, {
    timeoutMs: 120_000,
    abortIf: () => (child.exitCode === null ? undefined : `the webhook exited; see ${join(dir, 'webhook.log')}`),
  });
  return {
    port,
    metricsPort,
    pid: child.pid ?? 0,
    stop: async () => {
      await stopOwned(child, 30_000);
    },
  };
}

function _metricSum(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function podCreation(): Promise<void> {
  process.stdout.write(`\n2. Pod-creation throughput on the real control plane: a Deployment of ${CLUSTER_PODS} replicas; no webhook, Stowage's, a no-op one, in turn, ${ROUNDS} rounds each\n`);
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-webhook-'));
  const big = { cpu: '64', memory: '256Gi', pods: '250' };
  const state = await startCluster({
    dir,
    podStartupMs: 200,
    nodes: {
      apiVersion: 'stowage.io/v1alpha1',
      kind: 'NodeFixture',
      nodes: [
        { name: 'on-demand', count: 2, capacityType: 'on-demand', labels: {}, annotations: {}, taints: [], capacity: big },
        { name: 'spot', count: 2, capacityType: 'spot', labels: {}, annotations: {}, taints: [], capacity: big },
      ],
    },
  });
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const authority = await createCertificateAuthority('bench-ca');
  const serving = await issueCertificate(authority, { commonName: 'bench', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const webhookDir = mkdtempSync(join(tmpdir(), 'stowage-bench-webhook-process-'));
  const webhook = await startWebhookProcess(state.kubeconfigPath, webhookDir, serving);
  const metric = async (name: string): Promise<number> => _metricSum((await httpGet(`http://127.0.0.1:${webhook.metricsPort}/metrics`, { timeoutMs: 5_000 })).body, name);
  const reviews = (): Promise<number> => metric('stowage_webhook_reviews_total');
  const probe = async (): Promise<void> => {
    await core.createNamespacedPod({
      namespace: NS,
      dryRun: 'All',
      body: { metadata: { generateName: 'probe-', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'probe', uid: '11111111-2222-3333-4444-555555555555', controller: true }] }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    });
  };
  const registration = urlWebhookConfiguration(`https://127.0.0.1:${webhook.port}/mutate`, authority.certPem) as unknown as V1MutatingWebhookConfiguration;
  // A webhook that admits everything unchanged, served by the same HTTPS server code: what any
  // webhook costs (the apiserver's call, TLS, JSON), apart from Stowage's decisions and informers.
  const noop = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    tls: { cert: serving.certPem, key: serving.keyPem },
    admit: () => Promise.resolve({ outcome: 'unchanged', skipped: 'not-a-pod-create', detail: 'no-op' }),
  });
  let noopCalls = 0;
  noop.server.on('request', () => noopCalls++);
  const registrations: Record<_Variant, V1MutatingWebhookConfiguration | undefined> = {
    none: undefined,
    stowage: registration,
    'no-op': urlWebhookConfiguration(`https://127.0.0.1:${noop.port}/mutate`, authority.certPem, 'stowage-bench-noop') as unknown as V1MutatingWebhookConfiguration,
  };
  const calls = async (variant: _Variant): Promise<number> => (variant === 'stowage' ? reviews() : noopCalls);
  const results: { variant: _Variant; createdMs: number; readyMs: number }[] = [];
  let registered: _Variant = 'none';
  try {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await waitFor('the default service account', async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: NS });
      return true;
    }, { timeoutMs: 60_000 });
    const order: readonly _Variant[] = ['none', 'stowage', 'no-op'];
    for (let round = 0; round < ROUNDS * order.length; round++) {
      const variant = order[round % order.length] as _Variant;
      if (registered !== 'none') {
        const previous = registered;
        await admission.deleteMutatingWebhookConfiguration({ name: registrations[previous]?.metadata?.name ?? '' });
        await waitFor('the apiserver to stop calling the webhook', async () => {
          const before = await calls(previous);
          await probe();
          await new Promise((r) => setTimeout(r, 200));
          return (await calls(previous)) === before;
        }, { timeoutMs: 60_000, intervalMs: 200 });
        registered = 'none';
      }
      const body = registrations[variant];
      if (body !== undefined) {
        await admission.createMutatingWebhookConfiguration({ body });
        registered = variant;
        await waitFor('the apiserver to call the webhook', async () => {
          const before = await calls(variant);
          await probe();
          return (await calls(variant)) > before;
        }, { timeoutMs: 60_000, intervalMs: 200 });
      }
      const name = `burst-${round}`;
      const reviewsBefore = await reviews();
      const connectionsBefore = await metric('stowage_webhook_tls_connections_total');
      const apiserverPid = state.processes.find((p) => p.name === 'kube-apiserver')?.pid ?? 0;
      const cpuBefore = { webhook: cpuMs(webhook.pid), apiserver: cpuMs(apiserverPid) };
      const started = performance.now();
      await apps.createNamespacedDeployment({
        namespace: NS,
        body: {
          metadata: { name },
          spec: {
            replicas: CLUSTER_PODS,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } },
          },
        },
      });
      // Small status objects, not pod lists: polling must not load the machine it measures.
      let createdMs = 0;
      let readyMs = 0;
      await waitFor(`${CLUSTER_PODS} pods of ${name} Ready`, async () => {
        if (createdMs === 0) {
          const rs = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: `app=${name}` })).items[0];
          if ((rs?.status?.replicas ?? 0) >= CLUSTER_PODS) createdMs = performance.now() - started;
        }
        const d = await apps.readNamespacedDeployment({ name, namespace: NS });
        if ((d.status?.readyReplicas ?? 0) >= CLUSTER_PODS) readyMs = performance.now() - started;
        return readyMs > 0;
      }, { timeoutMs: 300_000, intervalMs: 25 });
      if (createdMs === 0) createdMs = readyMs;
      results.push({ variant, createdMs, readyMs });
      const cpu = `CPU: apiserver ${cpuMs(apiserverPid) - cpuBefore.apiserver} ms, stowage webhook process ${cpuMs(webhook.pid) - cpuBefore.webhook} ms`;
      const extra = variant === 'stowage' ? `, ${(await reviews()) - reviewsBefore} reviews over ${(await metric('stowage_webhook_tls_connections_total')) - connectionsBefore} new TLS connections` : '';
      process.stdout.write(`   round ${String(round + 1).padStart(2)} ${`${variant} webhook`.padEnd(15)}: ${CLUSTER_PODS} created in ${(createdMs / 1000).toFixed(2)} s (${((CLUSTER_PODS * 1000) / createdMs).toFixed(0)} pods/s), all Ready in ${(readyMs / 1000).toFixed(2)} s; ${cpu}${extra}\n`);
      await apps.deleteNamespacedDeployment({ name, namespace: NS, propagationPolicy: 'Foreground' });
      await waitFor(`the pods of ${name} to be gone`, async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${name}`, limit: 1 })).items.length === 0, { timeoutMs: 300_000, intervalMs: 250 });
    }
    // Medians, with each variant's range: one slow round (a cold cache, a GC) moves a mean a lot.
    const times = (variant: _Variant, key: 'createdMs' | 'readyMs'): number[] =>
      results.filter((r) => r.variant === variant).map((r) => r[key]).sort((a, b) => a - b);
    const median = (sorted: readonly number[]): number => {
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    };
    const range = (sorted: readonly number[]): string => `${((sorted[0] ?? NaN) / 1000).toFixed(2)}–${((sorted[sorted.length - 1] ?? NaN) / 1000).toFixed(2)}`;
    for (const key of ['createdMs', 'readyMs'] as const) {
      const noneTimes = times('none', key);
      const base = median(noneTimes);
      const vs = (variant: _Variant): string => {
        const sorted = times(variant, key);
        const t = median(sorted);
        return `${variant} ${(t / 1000).toFixed(2)} s (${t >= base ? '+' : ''}${(((t - base) / base) * 100).toFixed(1)}%; ${range(sorted)})`;
      };
      process.stdout.write(`   median time to ${key === 'createdMs' ? 'all created' : 'all Ready  '}: none ${(base / 1000).toFixed(2)} s (${range(noneTimes)}), ${vs('stowage')}, ${vs('no-op')}\n`);
    }
    const text = (await httpGet(`http://127.0.0.1:${webhook.metricsPort}/metrics`, { timeoutMs: 5_000 })).body;
    const seconds = _metricSum(text, 'stowage_webhook_admission_duration_seconds_sum');
    const count = _metricSum(text, 'stowage_webhook_admission_duration_seconds_count');
    const lookups = (source: string): number => _metricSum(text.split('\n').filter((l) => l.includes(`source="${source}"`)).join('\n'), 'stowage_webhook_lookups_total');
    process.stdout.write(`   Stowage webhook: mean ${((seconds / count) * 1000).toFixed(2)} ms in its handler over ${count} reviews; lookups from cache ${lookups('cache')}, from the API ${lookups('api')}\n`);
  } finally {
    await noop.close(1_000);
    await webhook.stop();
    await stopCluster(dir, { purge: true });
    rmSync(webhookDir, { recursive: true, force: true });
  }
}

// --- 3. the flood --------------------------------------------------------------------------------

/** `--flood-rounds N` (1): each variant flooded N times, in turn, so a change of load hits every variant. */
function _floodRounds(argv: readonly string[]): number {
  const i = argv.indexOf('--flood-rounds');
  if (i < 0) return 1;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--flood-rounds takes a whole number of at least 1, not "${argv[i + 1] ?? ''}"`);
  return n;
}

async function flood(): Promise<void> {
  const baselineAt = process.argv.indexOf('--baseline');
  const baseline = baselineAt < 0 ? undefined : process.argv[baselineAt + 1];
  const here = fileURLToPath(new URL('..', import.meta.url));
  if (baseline !== undefined) {
    if (!existsSync(join(baseline, 'src', 'controllers', 'webhook', 'server.ts'))) throw new Error(`--baseline takes a checkout of Stowage with its node_modules, not "${baseline}"`);
    // The baseline's own server code, measured by this checkout's flood server (the same figures).
    for (const file of ['webhook-flood-server.ts', 'webhook-fixtures.ts']) copyFileSync(join(here, 'bench', file), join(baseline, 'bench', file));
  }
  // The no-op server's small heap is like a webhook over a small cluster's (the e2e's): there,
  // the flood's garbage weighs more on the pauses than beside 20,000 indexed pods.
  const variants = [
    ...(baseline === undefined ? [] : [{ label: 'stowage (baseline)', variant: 'stowage', root: baseline }]),
    { label: 'stowage', variant: 'stowage', root: here },
    ...(baseline === undefined ? [] : [{ label: 'no-op (baseline)', variant: 'no-op', root: baseline }]),
    { label: 'no-op', variant: 'no-op', root: here },
    { label: 'bare', variant: 'bare', root: here },
  ];
  // `--flood-only a,b`: only the servers of those labels (e.g. `stowage` with STOWAGE_BENCH_PROFILE).
  const onlyAt = process.argv.indexOf('--flood-only');
  const only = onlyAt < 0 ? undefined : new Set((process.argv[onlyAt + 1] ?? '').split(','));
  if (only !== undefined) variants.splice(0, variants.length, ...variants.filter((v) => only.has(v.label)));
  const rounds = _floodRounds(process.argv);
  // `--flood-write whole`: the flood's clients write each body at once (as before the clients
  // streamed them), `both`: each server flooded both ways in turn, for a side-by-side.
  const writeAt = process.argv.indexOf('--flood-write');
  const write = writeAt < 0 ? 'pieces' : process.argv[writeAt + 1];
  if (write !== 'pieces' && write !== 'whole' && write !== 'both') throw new Error(`--flood-write takes pieces, whole or both, not "${write ?? ''}"`);
  const ways = write === 'both' ? [{ suffix: ' whole', pieceBytes: 0 }, { suffix: '', pieceBytes: undefined }] : write === 'whole' ? [{ suffix: ' whole', pieceBytes: 0 }] : [{ suffix: '', pieceBytes: undefined }];
  process.stdout.write(`\n3. The webhook server in its own process over ${NODES} nodes and ${DEPLOYMENTS * REPLICAS} pods, the same server admitting everything unchanged (no-op), and a bare HTTPS server that parses nothing (bare: the machine and TLS), each flooded in turn, ${rounds} round(s)\n`);
  const runs: FloodRun[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) for (const way of ways) runs.push(await floodOneServer(`${v.label}${way.suffix}`, v.variant, v.root, true, way.pieceBytes));
  }
  const f = (v: number): string => v.toFixed(0);
  process.stdout.write('\n   side by side (valid reviews at 50/s during the flood; wall times, so read them against the bare server\'s in the same round):\n');
  process.stdout.write(`   ${'server'.padEnd(18)} ${'load'.padStart(5)}  ${'valid p50/p99 ms'.padStart(17)}  ${'loop p99/max ms'.padStart(16)}  ${'GC'.padEnd(34)}  ${'RSS MiB before/peak/after'.padEnd(26)}  ${'main ms/hostile'.padStart(15)}  ${'CPU ms/admission'.padStart(16)}  client loop p99\n`);
  for (const r of runs) {
    const fl = r.flood;
    if (fl === undefined) continue;
    const gcAll = Object.values(fl.loop.gc);
    const gc = `${gcAll.reduce((n, g) => n + g.count, 0)}× ${gcAll.reduce((n, g) => n + g.ms, 0)} ms, max ${Math.max(0, ...gcAll.map((g) => g.maxMs))}`;
    process.stdout.write(`   ${r.label.padEnd(18)} ${fl.load.toFixed(1).padStart(5)}  ${`${f(fl.p50)}/${f(fl.p99)}`.padStart(17)}  ${`${fl.loop.loop.p99Ms}/${fl.loop.loop.maxMs}`.padStart(16)}  ${gc.padEnd(34)}  ${`${f(fl.rss.before)}/${f(fl.rss.peak)}/${f(fl.rss.after)}`.padEnd(26)}  ${fl.mainMsPerHostile.toFixed(2).padStart(15)}  ${r.cpuPerAdmissionMs.toFixed(3).padStart(16)}  ${fl.clientLoopP99Ms.toFixed(0)} ms\n`);
  }
  const stowage = runs.filter((r) => r.label === 'stowage');
  const noop = runs.filter((r) => r.label === 'no-op');
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ratio = mean(stowage.map((r) => r.cpuPerAdmissionMs)) / mean(noop.map((r) => r.cpuPerAdmissionMs));
  process.stdout.write(`   CPU per admission: Stowage ${mean(stowage.map((r) => r.cpuPerAdmissionMs)).toFixed(3)} ms, no-op ${mean(noop.map((r) => r.cpuPerAdmissionMs)).toFixed(3)} ms, ratio ${ratio.toFixed(2)}\n`);
}

if (isMainThread) {
  if (process.argv.includes('--flood')) await flood();
  else {
    await admissionLatency();
    if (!process.argv.includes('--no-cluster')) await podCreation();
  }
} else {
  const job = workerData as DriveJob;
  parentPort?.postMessage(await drive(job.port, job.ca, job.perSecond, job.count, job.offset));
}

function _roundsArg(argv: readonly string[]): number | undefined {
  const i = argv.indexOf('--rounds');
  if (i < 0) return undefined;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds takes a whole number of at least 1, not "${argv[i + 1] ?? ''}"`);
  return n;
}
