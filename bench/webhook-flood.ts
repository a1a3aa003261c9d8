/**
 * One flood of the webhook server in its own process (bench/webhook-flood-server.ts), measured:
 * what `npm run bench:webhook -- --flood` prints for each server, and what the CI flood test
 * (test/e2e/webhook-flood.test.ts) asserts on — one measurement for both.
 */
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { apiserverLikeAgent, cpuMs, floodInWorker, rssMiB, streamValidReviews } from '../src/controllers/webhook/flood.test-helper.js';
import { spawnOwned, stopOwned } from '../src/devcluster/processes.js';
import { shippedNodeOptions } from '../src/devcluster/shipped-identity.js';
import type { LoopStats } from './webhook-flood-server.js';
import { DEPLOYMENTS, reviewBody, VALID_PATH } from './webhook-fixtures.js';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (v: number): string => `${v.toFixed(2)} ms`;
  return `p50 ${f(percentile(sorted, 50))}  p90 ${f(percentile(sorted, 90))}  p99 ${f(percentile(sorted, 99))}  max ${f(sorted[sorted.length - 1] ?? Number.NaN)}  (n=${sorted.length})`;
}

/** A flood server process, its port and CA, and its main thread's figures on request. */
export interface FloodServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly ca: string;
  /** The server's event-loop delay, GC pauses and heap since the last call (SIGUSR2). */
  readonly stats: () => Promise<LoopStats>;
}

/**
 * Starts bench/webhook-flood-server.ts under `root` (this checkout, or `--baseline DIR`: another
 * checkout's sources, into which this file's flood server is copied so both print the same figures).
 */
export async function spawnFloodServer(variant: string, root: string): Promise<FloodServer> {
  // Its own small entry point: this file's imports (the Kubernetes client, the cluster launcher) would weigh on its RSS.
  // STOWAGE_BENCH_PROFILE=DIR writes each server's CPU profile there.
  const profile = process.env['STOWAGE_BENCH_PROFILE'];
  // STOWAGE_BENCH_NODE_ARGS adds node flags to each server (e.g. --trace-gc: its lines are passed through to stderr).
  const extra = (process.env['STOWAGE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  // The webhook's servers run with the Node options its Deployment ships (that checkout's: a
  // baseline without them runs without); the bare server is no webhook.
  const shipped = variant === 'bare' ? [] : shippedNodeOptions('webhook', root);
  const nodeArgs = [...shipped, ...extra, ...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`])];
  const child = spawnOwned(`the ${variant} server`, process.execPath, [...nodeArgs, '--import', 'tsx', join(root, 'bench', 'webhook-flood-server.ts'), variant], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n')) {
      const line = text.slice(0, at);
      text = text.slice(at + 1);
      if (!line.startsWith('{')) {
        process.stderr.write(`     [${variant}] ${line}\n`);
        continue;
      }
      const next = waiting.shift();
      if (next === undefined) lines.push(line);
      else next(line);
    }
  });
  const nextLine = (): Promise<string> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`The ${variant} server exited with ${code}`)));
    });
  };
  try {
    const { port, ca } = JSON.parse(await nextLine()) as { port: number; ca: string };
    return { child, port, ca, stats: async () => {
      child.kill('SIGUSR2');
      return JSON.parse(await nextLine()) as LoopStats;
    } };
  } catch (error) {
    await stopOwned(child, 2_000);
    throw error;
  }
}

/** One server's figures: calm, then under the flood. */
export interface FloodRun {
  readonly label: string;
  readonly cpuPerAdmissionMs: number;
  readonly calm: { readonly p50: number; readonly p99: number; readonly n: number; readonly loop: LoopStats };
  readonly flood?: {
    readonly seconds: number;
    /** The 1-minute load average when the flood began. */
    readonly load: number;
    readonly p50: number;
    readonly p99: number;
    readonly n: number;
    readonly notOk: number;
    /** Valid reviews that went on a new connection (handshakes included in their time). */
    readonly newConnections: number;
    readonly shed: number;
    readonly unexpected: number;
    readonly loop: LoopStats;
    readonly clientLoopP99Ms: number;
    readonly mainMsPerHostile: number;
    readonly rss: { readonly before: number; readonly peak: number; readonly after: number };
    readonly alive: boolean;
  };
}

function _gcSummary(stats: LoopStats): string {
  const all = Object.values(stats.gc);
  const count = all.reduce((n, g) => n + g.count, 0);
  const ms = all.reduce((n, g) => n + g.ms, 0);
  const max = Math.max(0, ...all.map((g) => g.maxMs));
  return `${count}× ${ms} ms (max ${max}; ${Object.entries(stats.gc).map(([kind, g]) => `${kind} ${g.count}×${g.ms}`).join(', ') || 'none'})`;
}

/**
 * Starts `variant`'s server from `root`, measures it at 200 valid reviews/s (warm-up 2 s, then
 * 10 s: CPU per admission), and, if `flooded`, floods it with 1,000 hostile requests from 16
 * clients while valid reviews go on at 50/s through the same pool of connections; prints the
 * figures and returns them. `pieceBytes` as in `postReview` (0: the flood writes bodies whole).
 */
export async function floodOneServer(label: string, variant: string, root: string, flooded: boolean, pieceBytes?: number): Promise<FloodRun> {
  const server = await spawnFloodServer(variant, root);
  const { child, port, ca } = server;
  const pid = child.pid ?? 0;
  // One pool of connections from warm-up to flood, as the apiserver keeps its idle ones.
  const agent = apiserverLikeAgent(ca);
  try {
    let offset = 0;
    const valid = (perSecond: number, stop: Promise<unknown>) =>
      streamValidReviews({ port, ca, perSecond, stop, agent, path: VALID_PATH, body: (i) => reviewBody(`valid-${offset + i}`, (offset + i) % DEPLOYMENTS) }).then((r) => {
        offset += r.results.length;
        return r.results;
      });
    await valid(200, new Promise((r) => setTimeout(r, 2_000))); // warm-up: JIT
    await server.stats();
    const cpuBefore = cpuMs(pid);
    const calm = await valid(200, new Promise((r) => setTimeout(r, 10_000)));
    const cpu = cpuMs(pid) - cpuBefore;
    const calmLoop = await server.stats();
    const calmMs = calm.filter((r) => r.status === 200).map((r) => r.ms).sort((a, b) => a - b);
    const run = { label, cpuPerAdmissionMs: cpu / calm.length, calm: { p50: percentile(calmMs, 50), p99: percentile(calmMs, 99), n: calm.length, loop: calmLoop } };
    process.stdout.write(`   ${label.padEnd(18)} at 200 valid reviews/s: ${calm.length} reviews, ${calm.length - calmMs.length} errors; ${summary(calmMs)}; CPU ${cpu} ms = ${run.cpuPerAdmissionMs.toFixed(3)} ms per admission; event loop p99 ${calmLoop.loop.p99Ms} ms; RSS ${rssMiB(pid).toFixed(0)} MiB\n`);
    if (!flooded) return run;

    const rssBefore = rssMiB(pid);
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
    // This process's own event loop sends the valid reviews and times them: its delay is in their figures too.
    const clientLoop = monitorEventLoopDelay({ resolution: 10 });
    clientLoop.enable();
    const load = loadavg()[0] ?? 0;
    const mainFloodBefore = cpuMs(pid, pid);
    const flood = floodInWorker({ port, ca, count: 1_000, clients: 16, ...(pieceBytes === undefined ? {} : { pieceBytes }) });
    const during = valid(50, flood);
    const result = await flood;
    const reviews = await during;
    clientLoop.disable();
    const peakDuring = peak;
    // The main thread (its id is the process's) runs the event loop every review waits on.
    const floodMainCpu = cpuMs(pid, pid) - mainFloodBefore;
    const loop = await server.stats();
    // After: the process settles (its GC returns memory lazily); sample for 5 s.
    await new Promise((r) => setTimeout(r, 5_000));
    clearInterval(sampler);
    const after = rssMiB(pid);
    const answered = reviews.filter((r) => r.status === 200);
    const patched = answered.filter((r) => r.body.includes('"patch"'));
    const ms = answered.map((r) => r.ms).sort((a, b) => a - b);
    const mainMsPerHostile = (floodMainCpu - reviews.length * run.cpuPerAdmissionMs) / 1_000;
    process.stdout.write(`   ${label}: flood of 1,000 hostile requests from 16 clients in ${result.seconds.toFixed(1)} s (load ${load.toFixed(1)}), with ${reviews.length} valid reviews at 50/s beside them\n`);
    for (const [kind, byStatus] of Object.entries(result.statuses)) process.stdout.write(`     ${kind.padEnd(26)} ${Object.entries(byStatus).map(([st, n]) => `${st === '-1' ? 'closed' : st}×${n}`).join(' ')}\n`);
    if (variant === 'bare') process.stdout.write('     unexpected answers: not checked (the bare server answers every body 200 without reading it as JSON)\n');
    else process.stdout.write(`     unexpected answers: ${result.unexpected.length}${result.unexpected.length > 0 ? ` (${result.unexpected.slice(0, 3).join('; ')})` : ''}\n`);
    process.stdout.write(`     valid reviews: ${answered.length}/${reviews.length} answered 200, ${variant === 'stowage' ? `${patched.length} placed, ${answered.length - patched.length} admitted unchanged (shed); ` : ''}${summary(ms)}\n`);
    const fresh = answered.filter((r) => r.newConnection === true).map((r) => r.ms).sort((a, b) => a - b);
    const kept = answered.filter((r) => r.newConnection !== true).map((r) => r.ms).sort((a, b) => a - b);
    process.stdout.write(`     of them on a kept-alive connection: ${summary(kept)}; on a new one (TCP and TLS handshakes included): ${fresh.length === 0 ? 'none' : summary(fresh)}\n`);
    process.stdout.write(`     the same valid reviews timed inside the server (request to response sent): p50 ${loop.valid.p50Ms} ms, p99 ${loop.valid.p99Ms} ms, max ${loop.valid.maxMs} ms (n=${loop.valid.n}); the rest of the client's time is waiting outside the handler (sockets, event loops, the CPU)\n`);
    process.stdout.write(`     server event loop: p50 ${loop.loop.p50Ms} ms, p99 ${loop.loop.p99Ms} ms, max ${loop.loop.maxMs} ms; GC ${_gcSummary(loop)}; heap ${loop.heapMiB.used}/${loop.heapMiB.total} MiB, external ${loop.heapMiB.external} MiB; this process's event loop p99 ${(clientLoop.percentile(99) / 1e6).toFixed(1)} ms\n`);
    process.stdout.write(`     server main thread CPU during the flood: ${floodMainCpu} ms (${mainMsPerHostile.toFixed(2)} ms per hostile request beyond the valid reviews' share)\n`);
    process.stdout.write(`     server process: ${child.exitCode === null ? 'alive' : `EXITED with ${child.exitCode}`}; RSS ${rssBefore.toFixed(0)} MiB before, peak during ${peakDuring.toFixed(0)} MiB, after 5 s ${after.toFixed(0)} MiB (goal < 256 MiB)\n`);
    return {
      ...run,
      flood: {
        seconds: result.seconds,
        load,
        p50: percentile(ms, 50),
        p99: percentile(ms, 99),
        n: reviews.length,
        notOk: reviews.length - answered.length,
        newConnections: fresh.length,
        shed: variant === 'stowage' ? answered.length - patched.length : 0,
        unexpected: variant === 'bare' ? 0 : result.unexpected.length,
        loop,
        clientLoopP99Ms: clientLoop.percentile(99) / 1e6,
        mainMsPerHostile,
        rss: { before: rssBefore, peak: peakDuring, after },
        alive: child.exitCode === null,
      },
    };
  } finally {
    agent.destroy();
    await stopOwned(child, 30_000);
  }
}
