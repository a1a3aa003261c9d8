/**
 * `stowage deschedule` end to end on a real control plane (the ReplicaSet, Deployment and
 * disruption controllers and kube-scheduler are real; kwok plays the kubelets). Each test puts
 * pods on the on-demand node while the spot nodes are cordoned, uncordons them, runs the CLI as
 * a user does, and watches the pods itself through the API (never Stowage's counters): where
 * they end up, the fewest Ready replicas seen at any event, and the node's taints afterwards.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Watch, type V1DeploymentStrategy, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { freePorts, spawnOwned, waitFor } from '../../src/devcluster/processes.js';
import { DRAIN_ANNOTATION, DRAINING_TAINT } from '../../src/controllers/deschedule/drain-state.js';
import { MOVE_HISTORY_CONFIGMAP } from '../../src/kube/move-history-store.js';
import { createNamespace, E2E_POD_STARTUP, useCluster, type TestCluster } from './support/cluster.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { runCli } from './support/exec.js';
import { capacityNodes } from './support/nodes.js';
import { servesTraffic as serves } from './support/ready-watch.js';
import { deployOnNode, podsOf } from './support/workloads.js';

// Pods take 2-3 s from bind to Ready: a make-before-break bug would show as a window without a
// Ready pod.
const cluster = useCluster({ ...E2E_POD_STARTUP, nodes: capacityNodes(1, 2) });
const ON_DEMAND = 'on-demand';
const SPOT = ['spot-1', 'spot-2'];
const BIN = fileURLToPath(new URL('../../bin/stowage.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'stowage-deschedule-e2e-'));
const CONFIG = writeDeschedulerConfig(dir, 'descheduler');

/**
 * Watches the pods of one label selector and checks the Ready count after every event: the
 * fewest Ready replicas ever seen once the workload first reached `settled` Ready pods.
 */
class ReadyWatcher {
  readonly #pods = new Map<string, V1Pod>();
  #abort: AbortController | undefined;
  #armed = false;
  minReady = Number.POSITIVE_INFINITY;
  events = 0;
  readonly nodesSeen = new Set<string>();

  readonly c: TestCluster;
  readonly ns: string;
  readonly selector: string;
  readonly settled: number;

  constructor(c: TestCluster, ns: string, selector: string, settled: number) {
    this.c = c;
    this.ns = ns;
    this.selector = selector;
    this.settled = settled;
  }

  async start(): Promise<void> {
    const list = await this.c.core.listNamespacedPod({ namespace: this.ns, labelSelector: this.selector });
    for (const p of list.items) this.#pods.set(p.metadata?.uid ?? '', p);
    this.#observe();
    const watch = new Watch(this.c.kc);
    this.#abort = await watch.watch(
      `/api/v1/namespaces/${this.ns}/pods`,
      { labelSelector: this.selector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
      (type: string, pod: V1Pod) => {
        const uid = pod.metadata?.uid ?? '';
        if (type === 'DELETED') this.#pods.delete(uid);
        else this.#pods.set(uid, pod);
        this.events++;
        this.#observe();
      },
      () => undefined,
    );
  }

  #observe(): void {
    const ready = [...this.#pods.values()].filter(serves);
    for (const p of ready) this.nodesSeen.add(p.spec?.nodeName ?? '');
    if (ready.length >= this.settled) this.#armed = true;
    if (this.#armed) this.minReady = Math.min(this.minReady, ready.length);
  }

  stop(): void {
    this.#abort?.abort();
  }
}

async function deployOnOnDemand(c: TestCluster, ns: string, name: string, replicas: number, strategy?: V1DeploymentStrategy): Promise<void> {
  await deployOnNode(c, ns, name, replicas, { node: ON_DEMAND, cordon: SPOT }, strategy);
}

async function nodeState(c: TestCluster, name: string): Promise<{ readonly tainted: boolean; readonly annotated: boolean; readonly unschedulable: boolean; readonly taints: readonly string[] }> {
  const node: V1Node = await c.core.readNode({ name });
  const taints = (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
  return {
    tainted: taints.includes(`${DRAINING_TAINT.key}:${DRAINING_TAINT.effect}`),
    annotated: node.metadata?.annotations?.[DRAIN_ANNOTATION] !== undefined,
    unschedulable: node.spec?.unschedulable === true,
    taints,
  };
}

async function cleanup(c: TestCluster, ns: string, names: readonly string[]): Promise<void> {
  for (const name of names) await c.apps.deleteNamespacedDeployment({ name, namespace: ns }).catch(() => undefined);
  await waitFor(`pods of ${names.join(', ')} gone`, async () => {
    for (const name of names) if ((await podsOf(c, ns, name)).length > 0) return false;
    return true;
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

interface RunReport {
  readonly report?: { readonly drains: readonly { readonly node: string; readonly outcome: string; readonly moved: readonly string[]; readonly reason: { readonly code: string; readonly message: string } }[] };
  readonly status: { readonly skipped: readonly { readonly node: string; readonly reason: { readonly code: string; readonly message: string } }[]; readonly moves: readonly { readonly mode: string }[] };
}

async function deschedule(c: TestCluster, extra: readonly string[] = []): Promise<RunReport> {
  const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--once', '-o', 'json', ...extra], { STOWAGE_LOG_LEVEL: 'warn' });
  assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as RunReport;
}

describe('stowage deschedule', () => {
  const log: string[] = [];
  after(() => {
    // The observations for the issue's closing note.
    process.stdout.write(`# deschedule e2e observations:\n${log.map((l) => `#   ${l}\n`).join('')}`);
  });

  test('(a) pods on an on-demand node move to spot in one cycle by eviction under their PDB; the node ends empty and schedulable', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'spot-a';
    await createNamespace(c.core, ns);
    // Later tests need the on-demand node to themselves, whatever happens here.
    t.after(() => cleanup(c, ns, ['web']));
    await deployOnOnDemand(c, ns, 'web', 3);
    // A PDB allowing one disruption: the pods are evicted, one per wave.
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } } });
    await waitFor('the PDB allows 1', async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    const watcher = new ReadyWatcher(c, ns, 'app=web', 3);
    await watcher.start();
    t.after(() => watcher.stop());

    const dry = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--dry-run', '-o', 'json']);
    assert.equal(dry.code, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout) as RunReport;
    assert.deepEqual(planned.status.moves.map((m) => m.mode), ['evict', 'evict', 'evict'], 'the dry run plans the three moves');
    assert.equal((await nodeState(c, ON_DEMAND)).tainted, false, 'a dry run writes nothing');

    const run = await deschedule(c);
    const drain = run.report?.drains.find((d) => d.node === ON_DEMAND);
    assert.equal(drain?.outcome, 'done', JSON.stringify(run.report));
    await waitFor('3 Ready web pods on spot', async () => {
      const pods = await podsOf(c, ns, 'web');
      return pods.length === 3 && pods.every((p) => serves(p) && SPOT.includes(p.spec?.nodeName ?? ''));
    }, { timeoutMs: 60_000, intervalMs: 200 });
    watcher.stop();

    const onDemandPods = (await c.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${ON_DEMAND}` })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
    assert.deepEqual(onDemandPods.map((p) => p.metadata?.name), [], 'the on-demand node is empty');
    const node = await nodeState(c, ON_DEMAND);
    assert.deepEqual(node, { tainted: false, annotated: false, unschedulable: false, taints: [] }, 'the on-demand node is schedulable, without taint or record');
    assert.ok(watcher.minReady >= 2, `one pod at a time: at least 2 of 3 Ready at every event (saw ${watcher.minReady})`);
    const events = (await c.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === 'Descheduled');
    assert.equal(events.length, 3, 'an Event on each moved pod');
    log.push(`(a) moves ${drain?.moved.length ?? 0}; min Ready ${watcher.minReady}/3 over ${watcher.events} watch events; on-demand taints after: [${node.taints.join(', ')}]`);
  });

  test('(f) without a PDB, three replicas move surge-first: never fewer than three Ready', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'nopdb-f';
    await createNamespace(c.core, ns);
    // Later tests need the on-demand node to themselves, whatever happens here.
    t.after(() => cleanup(c, ns, ['api']));
    await deployOnOnDemand(c, ns, 'api', 3);
    const before = (await c.apps.readNamespacedDeployment({ name: 'api', namespace: ns })).spec?.strategy;
    const watcher = new ReadyWatcher(c, ns, 'app=api', 3);
    await watcher.start();
    t.after(() => watcher.stop());

    const run = await deschedule(c);
    // A rollout keeps 3 - floor(25% of 3) = 3 Ready, so no eviction is allowed: the Deployment surges.
    assert.ok(run.status.moves.length > 0 && run.status.moves.every((m) => m.mode === 'surge-first'), JSON.stringify(run.status.moves));
    assert.equal(run.report?.drains.find((d) => d.node === ON_DEMAND)?.outcome, 'done', JSON.stringify(run.report));
    await waitFor('3 Ready api pods on spot', async () => {
      const pods = await podsOf(c, ns, 'api');
      return pods.length === 3 && pods.every((p) => serves(p) && SPOT.includes(p.spec?.nodeName ?? ''));
    }, { timeoutMs: 60_000, intervalMs: 200 });
    watcher.stop();
    assert.equal(watcher.minReady, 3, `make before break: 3 of 3 Ready at every event (saw ${watcher.minReady})`);
    const d = await c.apps.readNamespacedDeployment({ name: 'api', namespace: ns });
    assert.deepEqual(d.spec?.strategy, before, 'the strategy is as it was');
    assert.equal(d.metadata?.annotations?.['stowage.io/surge'], undefined, 'the saved strategy record is cleared');
    const node = await nodeState(c, ON_DEMAND);
    assert.deepEqual(node, { tainted: false, annotated: false, unschedulable: false, taints: [] });
    log.push(`(f) moves ${run.status.moves.length} (surge-first, no PDB); min Ready ${watcher.minReady}/3 over ${watcher.events} watch events`);
  });

  test('(b) a single-replica Deployment, even with strategy Recreate and a minAvailable 1 PDB, moves with a Ready replica at every instant', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'surge-b';
    await createNamespace(c.core, ns);
    // Later tests need the on-demand node to themselves, whatever happens here.
    t.after(() => cleanup(c, ns, ['solo']));
    // Recreate is the hard case: a plain rollout would delete the pod before starting the new one.
    await deployOnOnDemand(c, ns, 'solo', 1, { type: 'Recreate' });
    // The common PDB for one replica: it allows no eviction, and surge-first needs none.
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'solo' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'solo' } } } } });
    await waitFor('the PDB status', async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: 'solo', namespace: ns })).status?.observedGeneration === 1, { timeoutMs: 30_000 });
    const before = (await podsOf(c, ns, 'solo'))[0]?.metadata?.uid;
    const watcher = new ReadyWatcher(c, ns, 'app=solo', 1);
    await watcher.start();
    t.after(() => watcher.stop());

    const run = await deschedule(c);
    assert.deepEqual(run.status.moves.map((m) => m.mode), ['surge-first']);
    assert.equal(run.report?.drains.find((d) => d.node === ON_DEMAND)?.outcome, 'done', JSON.stringify(run.report));
    await waitFor('the solo pod Ready on spot', async () => {
      const pods = (await podsOf(c, ns, 'solo')).filter((p) => p.metadata?.deletionTimestamp === undefined);
      return pods.length === 1 && serves(pods[0] as V1Pod) && SPOT.includes(pods[0]?.spec?.nodeName ?? '');
    }, { timeoutMs: 60_000, intervalMs: 200 });
    watcher.stop();

    const after = await podsOf(c, ns, 'solo');
    assert.notEqual(after[0]?.metadata?.uid, before, 'the pod was replaced');
    assert.equal(watcher.minReady, 1, `never without a Ready replica (saw ${watcher.minReady})`);
    assert.ok(watcher.events >= 3, `the watch saw the move happen (${watcher.events} events)`);
    const node = await nodeState(c, ON_DEMAND);
    assert.equal(node.tainted || node.annotated, false);
    const d = await c.apps.readNamespacedDeployment({ name: 'solo', namespace: ns });
    assert.equal(d.metadata?.annotations?.['stowage.io/surge'], undefined, 'the saved strategy record is cleared');
    assert.equal(d.spec?.strategy?.type, 'Recreate', 'the Deployment strategy is given back');
    assert.equal(d.spec?.strategy?.rollingUpdate, undefined);
    log.push(`(b) moves 1 (surge-first); min Ready ${watcher.minReady}/1 over ${watcher.events} watch events; nodes with a Ready replica: ${[...watcher.nodesSeen].sort().join(', ')}; on-demand taints after: [${node.taints.join(', ')}]`);
  });

  test('(c) a PDB that allows no disruption blocks the move; the node is left untainted', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'pdb-c';
    await createNamespace(c.core, ns);
    // Later tests need the on-demand node to themselves, whatever happens here.
    t.after(() => cleanup(c, ns, ['locked']));
    await deployOnOnDemand(c, ns, 'locked', 2);
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'locked' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'locked' } } } } });
    await waitFor('the PDB status observed', async () => {
      const pdb = await c.policy.readNamespacedPodDisruptionBudget({ name: 'locked', namespace: ns });
      return (pdb.status?.observedGeneration ?? 0) >= 1 && pdb.status?.currentHealthy === 2;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    const uids = (await podsOf(c, ns, 'locked')).map((p) => p.metadata?.uid).sort();
    const watcher = new ReadyWatcher(c, ns, 'app=locked', 2);
    await watcher.start();
    t.after(() => watcher.stop());

    const run = await deschedule(c);
    const skip = run.status.skipped.find((s) => s.node === ON_DEMAND);
    assert.equal(skip?.reason.code, 'pdb');
    assert.match(skip?.reason.message ?? '', /PodDisruptionBudget "pdb-c\/locked" allows 0 disruptions/);
    assert.equal(run.report?.drains.length ?? 0, 0, 'nothing is drained');
    const node = await nodeState(c, ON_DEMAND);
    assert.equal(node.tainted, false, 'the node is not tainted');
    assert.equal(node.annotated, false);
    assert.equal(node.unschedulable, false);
    // A short wait shows nothing happens later either.
    await new Promise((r) => setTimeout(r, 2000));
    watcher.stop();
    assert.deepEqual((await podsOf(c, ns, 'locked')).map((p) => p.metadata?.uid).sort(), uids, 'no pod was evicted');
    assert.equal(watcher.minReady, 2);
    const events = (await c.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${ON_DEMAND}` })).items;
    assert.ok(events.some((e) => e.reason === 'DeschedulingSkipped' && /allows 0 disruptions/.test(e.message ?? '')), 'an Event on the node says why');
    log.push(`(c) moves 0; skipped "${ON_DEMAND}": ${skip?.reason.code ?? ''}: ${skip?.reason.message ?? ''}; min Ready ${watcher.minReady}/2; on-demand taints after: [${node.taints.join(', ')}]`);
  });

  test('(d) killed mid-drain and restarted: no node left tainted, no workload below its floor', { timeout: 8 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'crash-d';
    await createNamespace(c.core, ns);
    // Later tests need the on-demand node to themselves, whatever happens here.
    t.after(() => cleanup(c, ns, ['steady']));
    await deployOnOnDemand(c, ns, 'steady', 3);
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'steady' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'steady' } } } } });
    await waitFor('the PDB allows 1', async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: 'steady', namespace: ns })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    const watcher = new ReadyWatcher(c, ns, 'app=steady', 3);
    await watcher.start();
    t.after(() => watcher.stop());

    // A real loop, as deployed, killed with SIGKILL once it has tainted the node and evicted a pod.
    const child = spawnOwned('the descheduler', process.execPath, [BIN, 'deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--interval', '1h'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let killedWhileTainted = false;
    let leftAtKill = 3;
    try {
      await waitFor('the drain to start and a pod to leave', async () => {
        const node = await nodeState(c, ON_DEMAND);
        if (!node.annotated || !node.tainted) return false;
        const left = (await podsOf(c, ns, 'steady')).filter((p) => p.spec?.nodeName === ON_DEMAND && p.metadata?.deletionTimestamp === undefined);
        if (left.length >= 3) return false;
        child.kill('SIGKILL');
        killedWhileTainted = true;
        leftAtKill = left.length;
        return true;
      }, { timeoutMs: 120_000, intervalMs: 25, abortIf: () => (child.exitCode !== null ? `the descheduler exited early: ${stderr.slice(-2000)}` : undefined) });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
    assert.ok(killedWhileTainted);
    const crashed = await nodeState(c, ON_DEMAND);
    assert.equal(crashed.tainted, true, 'the crash left the node tainted, as a crash would');

    // Restart: the roll-back happens first; the drain resumes once the workload is settled again.
    await waitFor('steady settled at 3 Ready', async () => (await podsOf(c, ns, 'steady')).filter(serves).length === 3, { timeoutMs: 60_000, intervalMs: 200 });
    const run = await deschedule(c);
    const after = await nodeState(c, ON_DEMAND);
    assert.equal(after.tainted, false, `no taint left after the restart: ${after.taints.join(', ')}`);
    assert.equal(after.annotated, false);
    const rolledBack = (await c.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${ON_DEMAND}` })).items.filter((e) => e.reason === 'DrainRolledBack');
    assert.equal(rolledBack.length, 1, 'the restart says it rolled the crashed drain back');
    const all = (await c.core.listNode()).items;
    assert.deepEqual(all.filter((n) => (n.spec?.taints ?? []).some((t) => t.key === DRAINING_TAINT.key)).map((n) => n.metadata?.name), [], 'no node tainted anywhere');
    await waitFor('steady settled at 3 Ready', async () => (await podsOf(c, ns, 'steady')).filter(serves).length === 3, { timeoutMs: 60_000, intervalMs: 200 });
    watcher.stop();
    assert.ok(watcher.minReady >= 2, `the PDB floor of 2 held at every event (saw ${watcher.minReady})`);
    const onDemand = (await podsOf(c, ns, 'steady')).filter((p) => p.spec?.nodeName === ON_DEMAND).length;
    const drain = run.report?.drains.find((d) => d.node === ON_DEMAND);
    log.push(`(d) killed with the node tainted and ${3 - leftAtKill} of 3 pods evicted; restart rolled it back and ${drain === undefined ? 'did not drain' : `drained (${drain.outcome}, ${drain.moved.length} moves)`}; ${onDemand} of 3 pods left on on-demand; min Ready ${watcher.minReady}/3 (PDB floor 2) over ${watcher.events} watch events; taints after: [${after.taints.join(', ')}]`);
  });
  test('(e) SIGTERM mid-drain rolls the drain back before exiting; /metrics counts what was done', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'term-e';
    await createNamespace(c.core, ns);
    t.after(() => cleanup(c, ns, ['calm']));
    await deployOnOnDemand(c, ns, 'calm', 3);
    const watcher = new ReadyWatcher(c, ns, 'app=calm', 3);
    await watcher.start();
    t.after(() => watcher.stop());
    const [port] = await freePorts(1);
    const child = spawnOwned('the descheduler', process.execPath, [BIN, 'deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--interval', '1h', '--metrics-listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let metrics = '';
    try {
      await waitFor('the drain to start and a pod to leave', async () => {
        const node = await nodeState(c, ON_DEMAND);
        const left = (await podsOf(c, ns, 'calm')).filter((p) => p.spec?.nodeName === ON_DEMAND && p.metadata?.deletionTimestamp === undefined);
        return node.tainted && left.length < 3;
      }, { timeoutMs: 120_000, intervalMs: 25, abortIf: () => (child.exitCode !== null ? `the descheduler exited early: ${stderr.slice(-2000)}` : undefined) });
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000))]);
      assert.equal(code, 0, `exits by itself after SIGTERM: ${stderr.slice(-2000)}`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const node = await nodeState(c, ON_DEMAND);
    assert.equal(node.tainted, false, 'SIGTERM leaves no taint, without any restart');
    assert.equal(node.annotated, false);
    assert.match(stderr, /Stopped by a signal/);
    assert.match(metrics, /stowage_descheduler_projected_saving_usd_per_hour \d/);
    await waitFor('calm settled at 3 Ready', async () => (await podsOf(c, ns, 'calm')).filter(serves).length === 3, { timeoutMs: 60_000, intervalMs: 200 });
    watcher.stop();
    assert.ok(watcher.minReady >= 2, `one pod at a time (saw ${watcher.minReady})`);
    const onDemand = (await podsOf(c, ns, 'calm')).filter((p) => p.spec?.nodeName === ON_DEMAND).length;
    log.push(`(e) SIGTERM once the first pod left (a surge-first rollout, no PDB): exited 0, node taints after: [${node.taints.join(', ')}]; ${onDemand} of 3 pods left on on-demand; min Ready ${watcher.minReady}/3`);
  });
  test('(g) the move history outlives the process: a second --once run keeps the hourly budget the first one spent', { timeout: 5 * 60_000 }, async (t) => {
    const c = cluster();
    const ns = 'history-g';
    await createNamespace(c.core, ns);
    // The ConfigMap lives beside the Lease, in --leader-elect-resource-namespace (stowage-system by default).
    await createNamespace(c.core, 'stowage-system').catch(() => undefined);
    t.after(() => cleanup(c, ns, ['web', 'api']));
    t.after(() => c.core.deleteNamespacedConfigMap({ name: MOVE_HISTORY_CONFIGMAP, namespace: 'stowage-system' }).catch(() => undefined));
    const budget = writeDeschedulerConfig(dir, 'budget-3', ['antiFlap: { maxMovesPerHour: 3 }']);
    const once = async (extra: readonly string[] = []): Promise<RunReport> => {
      const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', budget, '-o', 'json', ...extra], { STOWAGE_LOG_LEVEL: 'warn' });
      assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
      return JSON.parse(result.stdout) as RunReport;
    };
    const withPdb = async (name: string): Promise<void> => {
      await deployOnOnDemand(c, ns, name, 3);
      await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: name } } } } });
      await waitFor(`the PDB of ${name} allows 1`, async () => (await c.policy.readNamespacedPodDisruptionBudget({ name, namespace: ns })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    };

    // Run 1 moves web's three pods: the hour's budget of 3 is spent, and written down.
    await withPdb('web');
    const first = await once(['--once']);
    assert.equal(first.report?.drains.find((d) => d.node === ON_DEMAND)?.outcome, 'done', JSON.stringify(first.report));
    await waitFor('3 Ready web pods on spot', async () => {
      const pods = await podsOf(c, ns, 'web');
      return pods.length === 3 && pods.every((p) => serves(p) && SPOT.includes(p.spec?.nodeName ?? ''));
    }, { timeoutMs: 60_000, intervalMs: 200 });
    const stored = JSON.parse((await c.core.readNamespacedConfigMap({ name: MOVE_HISTORY_CONFIGMAP, namespace: 'stowage-system' })).data?.['moves.json'] ?? '{}') as { lastMovedAt?: Record<string, string>; times?: string[] };
    assert.equal(stored.times?.length, 3, `three moves recorded: ${JSON.stringify(stored)}`);
    assert.deepEqual(Object.keys(stored.lastMovedAt ?? {}).filter((k) => k.includes('web')).length, 1, 'web rests');

    // Run 2, a new process: api's pods would move too, but the budget is spent; they stay where they are.
    await withPdb('api');
    const before = (await podsOf(c, ns, 'api')).map((p) => `${p.metadata?.name}@${p.spec?.nodeName}`).sort();
    const second = await once(['--once']);
    assert.deepEqual(second.status.moves, [], `no move planned: ${JSON.stringify(second.status)}`);
    assert.ok(second.status.skipped.some((s) => s.node === ON_DEMAND && s.reason.code === 'churn-budget'), `the on-demand node is skipped for the budget: ${JSON.stringify(second.status.skipped)}`);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual((await podsOf(c, ns, 'api')).map((p) => `${p.metadata?.name}@${p.spec?.nodeName}`).sort(), before, 'api\'s pods are the same pods on the same node');

    // The control: without the stored history the same cluster plans api's three moves.
    await c.core.deleteNamespacedConfigMap({ name: MOVE_HISTORY_CONFIGMAP, namespace: 'stowage-system' });
    const forgotten = await once(['--dry-run']);
    assert.equal(forgotten.status.moves.length, 3, `without the history the moves are planned: ${JSON.stringify(forgotten.status.moves)}`);
    log.push(`(g) run 1 moved ${first.report?.drains.find((d) => d.node === ON_DEMAND)?.moved.length ?? 0}, stored ${stored.times?.length} move times; run 2 (new process) moved 0, skipped for churn-budget; without the ConfigMap the dry run plans ${forgotten.status.moves.length}`);
  });
});
