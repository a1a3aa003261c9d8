/**
 * kube-scheduler and `stowage scheduler` on the same workloads, on the real control plane, in
 * one run. Prints figures; not a test. Run: `npm run bench:scheduler` (needs the control-plane
 * binaries). Flags: `--qps N --burst N` (both schedulers' client budget, default 1000/2000, the
 * dev cluster's), `--workloads 1000x100,5000x500` (pods x nodes), `--backlog` (see below).
 *
 * For each workload a fresh cluster of KWOK nodes (4 cpu, 16 GiB, 110 pods each) is started; the
 * pods (100m cpu, 128 MiB, no owner) are created 50 at a time, first for kube-scheduler, then,
 * once those are gone, the same pods for `stowage scheduler` (schedulerName `stowage`, the
 * `default` profile) running as its own process. Times come from the apiserver's audit log (the
 * pod's create and its `pods/binding` create, completed; millisecond resolution): pods/s from the
 * first pod created to the last bound, and each pod's time from created to bound (p50, p99). No
 * client watch is involved. Each scheduler's CPU time over its run is read from /proc, a figure
 * the shared machine's load disturbs less than wall time.
 *
 * Pods are created at 20-50/s on a loaded machine, slower than either scheduler binds them: from
 * creation to bound, both measure the creation rate. With `--backlog` the scheduler process is
 * stopped (SIGSTOP) while its pods are created and continued (SIGCONT) once all exist: pods/s and
 * the times to bind then count from that moment, and measure the scheduler working through a
 * queue of all of them (as kube-scheduler's scheduler_perf does).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startCluster, stopCluster, type ClusterState } from '../src/devcluster/cluster.js';
import { httpGet } from '../src/devcluster/http.js';
import { LogTail } from '../src/devcluster/log-tail.js';
import { freePorts, isAlive, readyOrStopped, spawnOwned, stopProcess, waitFor } from '../src/devcluster/processes.js';

const NS = 'bench';
const BIN = fileURLToPath(new URL('../bin/stowage.js', import.meta.url));
const CREATE_CONCURRENCY = 50;
/** Pods per deletion request between the two schedulers' runs. */
const DELETE_BATCH = 250;
const QPS = _flag('--qps') ?? 1000;
const BURST = _flag('--burst') ?? 2000;
const BACKLOG = process.argv.includes('--backlog');
const WORKLOADS = _workloads(process.argv) ?? [
  { pods: 1_000, nodes: 100 },
  { pods: 5_000, nodes: 500 },
];

const AUDIT_POLICY = [
  'apiVersion: audit.k8s.io/v1',
  'kind: Policy',
  'omitStages: [RequestReceived]',
  'rules:',
  '- level: Metadata',
  '  verbs: [create]',
  `  namespaces: ["${NS}"]`,
  '  resources: [{ group: "", resources: ["pods", "pods/binding"] }]',
  '- level: None',
  '',
].join('\n');

interface RunResult {
  readonly scheduler: string;
  readonly bound: number;
  readonly pods: number;
  readonly seconds: number;
  readonly podsPerSecond: number;
  /** How fast the pods were created (first to last create): the ceiling on pods/s from creation to bound. */
  readonly createdPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuSeconds: number;
}

async function main(): Promise<void> {
  const stowageAvailable = _hasSchedulerCommand();
  process.stdout.write(`Scheduler throughput on the real control plane; both schedulers with client QPS ${QPS}, burst ${BURST}${BACKLOG ? '; each stopped while its pods are created (--backlog): pods/s and times to bind from when it continues' : '; pods/s and times to bind from each pod\'s creation'}\n`);
  if (!stowageAvailable) {
    process.stdout.write('`stowage scheduler` is not in this build (`stowage scheduler --help` fails): only kube-scheduler is measured; the ratio needs `stowage scheduler`\n');
  }
  for (const workload of WORKLOADS) {
    const results = await _workload(workload.pods, workload.nodes, stowageAvailable);
    const [kube, stowage] = results;
    if (kube !== undefined && stowage !== undefined) {
      process.stdout.write(`  ratio (stowage / kube-scheduler), pods/s: ${(stowage.podsPerSecond / kube.podsPerSecond).toFixed(2)}x; CPU per pod: ${((stowage.cpuSeconds / stowage.bound) / (kube.cpuSeconds / kube.bound)).toFixed(2)}x\n`);
    }
  }
  process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores shared; wall-time figures include that contention)\n`);
}

async function _workload(pods: number, nodes: number, withStowage: boolean): Promise<RunResult[]> {
  process.stdout.write(`\n${pods} pods on ${nodes} KWOK nodes (load average at start ${loadavg()[0]?.toFixed(1)})\n`);
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-scheduler-'));
  const auditLog = join(dir, 'audit.log');
  const policyPath = join(dir, 'audit-policy.yaml');
  writeFileSync(policyPath, AUDIT_POLICY);
  const results: RunResult[] = [];
  let stowage: ChildProcess | undefined;
  try {
    const state = await startCluster({
      dir: join(dir, 'cluster'),
      podStartupMs: 500,
      nodes: {
        apiVersion: 'stowage.io/v1alpha1',
        kind: 'NodeFixture',
        nodes: [{ name: 'n', count: nodes, instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity: { cpu: '4', memory: '16Gi', pods: '110' } }],
      },
      apiserverArgs: [`--audit-policy-file=${policyPath}`, `--audit-log-path=${auditLog}`, '--audit-log-maxsize=0'],
      schedulerArgs: [`--kube-api-qps=${QPS}`, `--kube-api-burst=${BURST}`],
      timeoutMs: 600_000,
    });
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await waitFor('the default service account', async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: NS });
      return true;
    }, { timeoutMs: 60_000 });
    const audit = new AuditReader(auditLog);

    const kubePid = _pidOf(state, 'kube-scheduler');
    results.push(await _run(core, audit, 'kube-scheduler', 'default-scheduler', pods, kubePid));
    _print(results[0] as RunResult);

    if (withStowage) {
      await _deleteAll(core, pods);
      const started = await _startStowage(state.kubeconfigPath, dir);
      stowage = started.process;
      results.push(await _run(core, audit, 'stowage scheduler', 'stowage', pods, started.process.pid as number));
      _print(results[1] as RunResult);
    }
  } finally {
    if (stowage?.pid !== undefined && isAlive(stowage.pid)) {
      // A minute: it finishes its binds and Events, and writes its CPU profile when asked to.
      const stopping = Date.now();
      await stopProcess(stowage.pid, 60_000);
      process.stdout.write(`  stowage scheduler stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s\n`);
    }
    await stopCluster(join(dir, 'cluster'), { purge: true });
  }
  return results;
}

/** Creates `count` pods for `schedulerName`, waits until the audit log shows each bound, and measures. */
async function _run(core: CoreV1Api, audit: AuditReader, label: string, schedulerName: string, count: number, pid: number): Promise<RunResult> {
  const prefix = schedulerName === 'stowage' ? 's' : 'k';
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const cpuBefore = _cpuSeconds(pid);
  if (BACKLOG) process.kill(pid, 'SIGSTOP');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const index = next++;
      await _withRetry(() => core.createNamespacedPod({ namespace: NS, body: _pod(names[index] as string, index, schedulerName) }));
    }
  };
  try {
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, () => worker()));
  } finally {
    if (BACKLOG) process.kill(pid, 'SIGCONT');
  }
  // The apiserver's audit clock is this machine's clock.
  const resumedAt = BACKLOG ? Date.now() : Number.NEGATIVE_INFINITY;
  const wanted = new Set(names);
  const deadline = Date.now() + Math.max(300_000, count * 200);
  for (;;) {
    audit.read();
    let bound = 0;
    for (const name of wanted) if (audit.boundAt(name) !== undefined) bound++;
    if (bound === count || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const cpuSeconds = _cpuSeconds(pid) - cpuBefore;
  const created: number[] = [];
  const toBind: number[] = [];
  let lastBound = Number.NEGATIVE_INFINITY;
  for (const name of names) {
    const c = audit.createdAt(name);
    const b = audit.boundAt(name);
    if (c !== undefined) created.push(c);
    if (c !== undefined && b !== undefined) {
      toBind.push(b - Math.max(c, resumedAt));
      lastBound = Math.max(lastBound, b);
    }
  }
  const lastCreated = Math.max(...created);
  const first = BACKLOG ? resumedAt : Math.min(...created);
  const seconds = (lastBound - first) / 1000;
  toBind.sort((a, b) => a - b);
  return {
    scheduler: label,
    bound: toBind.length,
    pods: count,
    seconds,
    podsPerSecond: toBind.length / seconds,
    createdPerSecond: created.length / ((lastCreated - Math.min(...created)) / 1000),
    p50Ms: _percentile(toBind, 50),
    p99Ms: _percentile(toBind, 99),
    cpuSeconds,
  };
}

function _print(r: RunResult): void {
  const missing = r.bound < r.pods ? ` (only ${r.bound}/${r.pods} bound before the deadline)` : '';
  process.stdout.write(
    `  ${r.scheduler.padEnd(18)} ${r.podsPerSecond.toFixed(1).padStart(7)} pods/s (${r.bound} pods, ${BACKLOG ? 'continued' : 'first created'} to last bound ${r.seconds.toFixed(1)} s; created at ${r.createdPerSecond.toFixed(1)}/s)` +
      `  time to bind p50 ${(r.p50Ms / 1000).toFixed(2)} s  p99 ${(r.p99Ms / 1000).toFixed(2)} s  CPU ${r.cpuSeconds.toFixed(1)} s (${((r.cpuSeconds * 1000) / Math.max(1, r.bound)).toFixed(2)} ms/pod)${missing}\n`,
  );
}

function _pod(name: string, index: number, schedulerName: string): V1Pod {
  return {
    metadata: { name, labels: { app: 'bench', batch: String(Math.floor(index / DELETE_BATCH)) } },
    spec: {
      schedulerName,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'registry.example/bench:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
    },
  };
}

/**
 * Deletes every pod of the namespace, a batch label at a time (one DELETE of 5,000 pods outlasts
 * the connection on a loaded machine), and waits until none is left.
 */
async function _deleteAll(core: CoreV1Api, count: number): Promise<void> {
  for (let batch = 0; batch * DELETE_BATCH < count; batch++) {
    await _withRetry(() => core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: `batch=${batch}`, gracePeriodSeconds: 0 }));
  }
  await waitFor('the pods to be gone', async () => (await core.listNamespacedPod({ namespace: NS, limit: 1 })).items.length === 0, { timeoutMs: 300_000, intervalMs: 1_000 });
}

async function _startStowage(kubeconfigPath: string, dir: string): Promise<{ process: ChildProcess }> {
  const [metricsPort] = (await freePorts(1)) as [number];
  const logFd = openSync(join(dir, 'stowage-scheduler.log'), 'a');
  // STOWAGE_BENCH_PROFILE=DIR writes the scheduler process's CPU profile there (as bench:webhook).
  const profile = process.env['STOWAGE_BENCH_PROFILE'];
  const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const child = spawnOwned(
    'stowage scheduler',
    process.execPath,
    [...nodeArgs, BIN, 'scheduler', `--kubeconfig=${kubeconfigPath}`, `--kube-api-qps=${QPS}`, `--kube-api-burst=${BURST}`, `--metrics-listen=127.0.0.1:${metricsPort}`, '--log-level=warn'],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  await readyOrStopped(child, 'stowage scheduler to be ready', async () => (await httpGet(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200, {
    timeoutMs: 120_000,
    abortIf: () => (child.exitCode === null ? undefined : `stowage scheduler exited with ${child.exitCode}; see ${join(dir, 'stowage-scheduler.log')}`),
  });
  return { process: child };
}

function _hasSchedulerCommand(): boolean {
  const result = spawnSync(process.execPath, [BIN, 'scheduler', '--help'], { encoding: 'utf8' });
  return result.status === 0;
}

/**
 * The audit log's pod creates and successful binds in the bench namespace, by pod name: the
 * completion time of each (`stageTimestamp`, the apiserver's clock, to the millisecond).
 */
class AuditReader {
  readonly #tail: LogTail;
  readonly #created = new Map<string, number>();
  readonly #bound = new Map<string, number>();

  constructor(path: string) {
    this.#tail = new LogTail(path, { fromStart: true });
  }

  createdAt(name: string): number | undefined {
    return this.#created.get(name);
  }

  boundAt(name: string): number | undefined {
    return this.#bound.get(name);
  }

  read(): void {
    for (const line of this.#tail.readLines()) this.#parse(line);
  }

  #parse(line: string): void {
    if (line.trim() === '') return;
    const e = JSON.parse(line) as { stage?: string; objectRef?: { name?: string; subresource?: string }; responseStatus?: { code?: number }; stageTimestamp?: string };
    if (e.stage !== 'ResponseComplete' || e.responseStatus?.code !== 201 || e.objectRef?.name === undefined || e.stageTimestamp === undefined) return;
    const at = Date.parse(e.stageTimestamp);
    if (e.objectRef.subresource === 'binding') this.#bound.set(e.objectRef.name, at);
    else if (e.objectRef.subresource === undefined) this.#created.set(e.objectRef.name, at);
  }
}

function _pidOf(state: ClusterState, name: string): number {
  const p = state.processes.find((x) => x.name === name);
  if (p === undefined) throw new Error(`The cluster has no ${name} process`);
  return p.pid;
}

/** User plus system CPU seconds of a process, from /proc (clock ticks of 10 ms). */
function _cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function _percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function _withRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (attempt >= 5 || (code !== 429 && code !== undefined && code < 500)) throw error;
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

function _flag(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  if (i === -1) return undefined;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`Invalid ${name} "${process.argv[i + 1] ?? ''}": expected a positive number`);
  return value;
}

function _workloads(argv: readonly string[]): { pods: number; nodes: number }[] | undefined {
  const i = argv.indexOf('--workloads');
  if (i === -1) return undefined;
  return (argv[i + 1] ?? '').split(',').map((w) => {
    const match = /^(\d+)x(\d+)$/.exec(w.trim());
    if (match === null) throw new Error(`Invalid --workloads "${argv[i + 1] ?? ''}": expected pods x nodes, as 1000x100,5000x500`);
    return { pods: Number(match[1]), nodes: Number(match[2]) };
  });
}

await main();
