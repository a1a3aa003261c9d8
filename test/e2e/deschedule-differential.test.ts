/**
 * Live against simulated (#10, "Tests" 1): one scripted scenario, run once through the live
 * descheduler on the real control plane and once through the simulator's descheduler from the same
 * starting snapshot; the two must take the same actions in the same order and end with the same
 * placement by capacity type, and neither may ever move a floor pod.
 *
 * The scenario: three on-demand nodes and two empty spot nodes; the placement webhook runs with
 * base 1. On on-demand-1, `web` (3 replicas, PDB maxUnavailable 1: one floor pod, two movable) and
 * `solo` (a single-replica Deployment with base 0: it moves surge-first); on on-demand-2, `api`
 * (2 replicas, base 0, PDB minAvailable 1: evicted one wave at a time); on on-demand-3, `cart`
 * (2 replicas, base 0). One `stowage deschedule --once` cycle (spot-reschedule) runs; as soon as
 * its first drain taints a node, the on-demand node that holds no floor and was not tainted first
 * goes NotReady (its kubelet stops reporting), so its drain, later in the same plan, must not start.
 *
 * Live actions are read from the API, not from Stowage's own report: a taint or untaint is the
 * `stowage.io/draining` taint appearing on or leaving a node (node watch), an eviction is a pod
 * gaining the `DisruptionTarget` condition the Eviction API sets (pod watch), a surge is a
 * Deployment's template gaining a new `stowage.io/moved-at` (Deployment watch), attributed to that
 * Deployment's pod on the node being drained. They are put in order by resourceVersion, which on
 * one etcd is a single counter across all kinds. The simulated actions are `DeschedulerModel.actions`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watch, type V1Deployment, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { parseDeschedulerConfig, placementContextOf } from '../../src/config/descheduler-config.js';
import { DRAINING_TAINT, MOVED_AT_ANNOTATION } from '../../src/controllers/deschedule/drain-state.js';
import type { ClusterSnapshot } from '../../src/core/model.js';
import { DEFAULT_PRICE_TABLE } from '../../src/core/pricing.js';
import { KWOK_NODE_ANNOTATION } from '../../src/devcluster/nodes.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { readClusterSnapshot } from '../../src/kube/read-snapshot.js';
import { replayWorld } from '../../src/sim/replay.js';
import { E2E_POD_STARTUP, useCluster, type TestCluster } from './support/cluster.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { runCli } from './support/exec.js';
import { capacityNodes } from './support/nodes.js';
import { placementWebhookSuite } from './support/placement-webhook.js';
import { servesTraffic } from './support/ready-watch.js';
import { createDeployment, podsOf, setCordoned } from './support/workloads.js';

const cluster = useCluster({ ...E2E_POD_STARTUP, nodes: capacityNodes(3, 2) });
const NS = 'diff';
const ON_DEMAND = ['on-demand-1', 'on-demand-2', 'on-demand-3'];
const SPOT = ['spot-1', 'spot-2'];
const ALL = [...ON_DEMAND, ...SPOT];
/** The two on-demand nodes without a floor: whichever is not drained first goes NotReady. */
const NO_FLOOR = ['on-demand-2', 'on-demand-3'];
/** Pods take 2-3 s from bind to Ready (E2E_POD_STARTUP); the twin's start at the middle. */
const SIM_POD_STARTUP_MS = 2_500;

const WORK = mkdtempSync(join(tmpdir(), 'stowage-differential-e2e-'));
// on-demand-1 keeps its floor pod, so spot-reschedule must be allowed to drain a node it does not empty.
const CONFIG = writeDeschedulerConfig(WORK, 'stowage', [], { strategies: '{ consolidate: { enabled: false }, spot-reschedule: { onlyWhenEmptied: false } }', webhookPlacement: '{ base: 1, percent: 0 }' });

interface WorkloadSpec {
  readonly name: string;
  readonly replicas: number;
  readonly node: string;
  /** `stowage.io/on-demand-base` on the Deployment; the file's base 1 when absent. */
  readonly base?: number;
  readonly pdb?: { readonly maxUnavailable: number } | { readonly minAvailable: number };
}
const WORKLOADS: readonly WorkloadSpec[] = [
  { name: 'web', replicas: 3, node: 'on-demand-1', pdb: { maxUnavailable: 1 } },
  { name: 'solo', replicas: 1, node: 'on-demand-1', base: 0 },
  { name: 'api', replicas: 2, node: 'on-demand-2', base: 0, pdb: { minAvailable: 1 } },
  { name: 'cart', replicas: 2, node: 'on-demand-3', base: 0 },
];

/** One action, as both sides write it: `taint <node>`, `evict <ns>/<pod>`, … */
type Action = string;

/** Capacity type per node name, from a snapshot. */
function typesOf(snapshot: ClusterSnapshot): Map<string, string> {
  return new Map(snapshot.nodes.map((n) => [n.name, n.capacityType] as const));
}

/** Per workload, its pods not on their way out by capacity type, e.g. `web: on-demand,spot,spot`. */
function placementOf(pods: readonly { readonly app: string; readonly node: string }[], types: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of WORKLOADS) out[w.name] = pods.filter((p) => p.app === w.name).map((p) => types.get(p.node) ?? 'unknown').sort().join(',');
  return out;
}

/**
 * Watches nodes, the namespace's pods and Deployments, and writes down Stowage's actions as the
 * API shows them (see the module comment), plus every pod deletion and the fewest serving pods
 * each workload had at any event.
 */
class ActionWatcher {
  readonly #c: TestCluster;
  readonly #aborts: AbortController[] = [];
  readonly #found: { readonly rv: number; readonly action: Action }[] = [];
  readonly #tainted = new Set<string>();
  readonly #evicted = new Set<string>();
  readonly #movedAt = new Map<string, string | undefined>();
  readonly #pods = new Map<string, V1Pod>();
  /** Uids of pods deleted or evicted while watched. */
  readonly gone = new Set<string>();
  readonly minServing = new Map<string, number>();
  /** Called once, with the first node seen tainted. */
  onFirstTaint: ((node: string) => void) | undefined;
  errors: string[] = [];

  constructor(c: TestCluster) {
    this.#c = c;
  }

  get actions(): readonly Action[] {
    return [...this.#found].sort((a, b) => a.rv - b.rv).map((f) => f.action);
  }

  async start(): Promise<void> {
    const { core, apps, kc } = this.#c;
    const nodes = await core.listNode();
    for (const n of nodes.items) if (this.#hasTaint(n)) this.#tainted.add(n.metadata?.name ?? '');
    const pods = await core.listNamespacedPod({ namespace: NS });
    for (const p of pods.items) this.#pods.set(p.metadata?.uid ?? '', p);
    const deployments = await apps.listNamespacedDeployment({ namespace: NS });
    for (const d of deployments.items) this.#movedAt.set(d.metadata?.name ?? '', d.spec?.template.metadata?.annotations?.[MOVED_AT_ANNOTATION]);
    this.#observe();
    const watch = new Watch(kc);
    const done = (error: unknown): void => {
      if (error !== null && error !== undefined && !(error instanceof Error && error.name === 'AbortError')) this.errors.push(error instanceof Error ? error.message : JSON.stringify(error));
    };
    this.#aborts.push(await watch.watch('/api/v1/nodes', { resourceVersion: nodes.metadata?.resourceVersion }, (_type: string, n: V1Node) => this.#onNode(n), done));
    this.#aborts.push(await watch.watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: pods.metadata?.resourceVersion }, (type: string, p: V1Pod) => this.#onPod(type, p), done));
    this.#aborts.push(await watch.watch(`/apis/apps/v1/namespaces/${NS}/deployments`, { resourceVersion: deployments.metadata?.resourceVersion }, (_type: string, d: V1Deployment) => this.#onDeployment(d), done));
  }

  stop(): void {
    for (const a of this.#aborts) a.abort();
  }

  #hasTaint(n: V1Node): boolean {
    return (n.spec?.taints ?? []).some((t) => t.key === DRAINING_TAINT.key && t.effect === DRAINING_TAINT.effect);
  }

  #record(rv: string | undefined, action: Action): void {
    this.#found.push({ rv: Number(rv ?? Number.NaN), action });
  }

  #onNode(n: V1Node): void {
    const name = n.metadata?.name ?? '';
    const tainted = this.#hasTaint(n);
    if (tainted === this.#tainted.has(name)) return;
    if (tainted) this.#tainted.add(name);
    else this.#tainted.delete(name);
    this.#record(n.metadata?.resourceVersion, `${tainted ? 'taint' : 'untaint'} ${name}`);
    if (tainted && this.onFirstTaint !== undefined) {
      const first = this.onFirstTaint;
      this.onFirstTaint = undefined;
      first(name);
    }
  }

  #onPod(type: string, p: V1Pod): void {
    const uid = p.metadata?.uid ?? '';
    const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
    const evicted = (p.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'EvictionByEvictionAPI');
    if (evicted && !this.#evicted.has(uid)) {
      this.#evicted.add(uid);
      this.#record(p.metadata?.resourceVersion, `evict ${key}`);
    }
    if (type === 'DELETED') {
      this.#pods.delete(uid);
      this.gone.add(uid);
    } else {
      this.#pods.set(uid, p);
      if (p.metadata?.deletionTimestamp !== undefined) this.gone.add(uid);
    }
    this.#observe();
  }

  #onDeployment(d: V1Deployment): void {
    const name = d.metadata?.name ?? '';
    const movedAt = d.spec?.template.metadata?.annotations?.[MOVED_AT_ANNOTATION];
    if (movedAt === undefined || movedAt === this.#movedAt.get(name)) return;
    this.#movedAt.set(name, movedAt);
    // The surge moves the Deployment's pod on the node being drained.
    const pod = [...this.#pods.values()].find((p) => p.metadata?.labels?.['app'] === name && p.metadata.deletionTimestamp === undefined && this.#tainted.has(p.spec?.nodeName ?? ''));
    this.#record(d.metadata?.resourceVersion, `surge ${NS}/${pod?.metadata?.name ?? `(a pod of ${name} on no tainted node)`}`);
  }

  #observe(): void {
    for (const w of WORKLOADS) {
      const serving = [...this.#pods.values()].filter((p) => p.metadata?.labels?.['app'] === w.name && servesTraffic(p)).length;
      this.minServing.set(w.name, Math.min(this.minServing.get(w.name) ?? Number.POSITIVE_INFINITY, serving));
    }
  }
}

/** The kubelet of `name` stops reporting: kwok lets go of the node, whose Ready condition turns False. */
async function makeNotReady(c: TestCluster, name: string): Promise<void> {
  // kwok would set a node that is not Ready back to Ready: it stops managing the node first.
  await c.core.patchNode({ name, body: [{ op: 'remove', path: `/metadata/annotations/${KWOK_NODE_ANNOTATION.replace('/', '~1')}` }] });
  const node = await c.core.readNodeStatus({ name });
  const now = new Date();
  node.status = {
    ...node.status,
    conditions: (node.status?.conditions ?? []).map((cond) =>
      cond.type === 'Ready' ? { ...cond, status: 'False', reason: 'KubeletNotReady', message: 'the differential test stopped the kubelet', lastHeartbeatTime: now, lastTransitionTime: now } : cond,
    ),
  };
  await c.core.replaceNodeStatus({ name, body: node });
}

async function deploy(c: TestCluster, w: WorkloadSpec): Promise<void> {
  await setCordoned(c, ALL.filter((n) => n !== w.node), true);
  try {
    await createDeployment(c, NS, {
      name: w.name,
      replicas: w.replicas,
      requests: { cpu: '500m', memory: '256Mi' },
      ...(w.base === undefined ? {} : { annotations: { 'stowage.io/on-demand-base': String(w.base) } }),
      ...(w.pdb === undefined ? {} : { pdb: w.pdb }),
    });
    await waitFor(`${w.replicas} Ready ${w.name} pods on "${w.node}"`, async () => {
      const pods = await podsOf(c, NS, w.name);
      return pods.length === w.replicas && pods.every((p) => servesTraffic(p) && p.spec?.nodeName === w.node);
    }, { timeoutMs: 120_000, intervalMs: 250 });
  } finally {
    await setCordoned(c, ALL, false);
  }
}

describe('the live descheduler and its simulated twin take the same actions from the same start', () => {
  const observed = placementWebhookSuite(cluster, { namespace: NS, config: CONFIG, work: WORK, tag: 'DESCHEDULE-DIFFERENTIAL-E2E' });

  test('the same sequence of taints, untaints, evictions and surges, the same end placement, and no floor pod moved', { timeout: 8 * 60_000 }, async (t) => {
    const c = cluster();
    for (const w of WORKLOADS) await deploy(c, w);
    for (const w of WORKLOADS.filter((x) => x.pdb !== undefined)) {
      await waitFor(`the PDB of ${w.name} to allow 1`, async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: w.name, namespace: NS })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    }
    // The webhook's floor: web keeps the one pod it required on on-demand.
    const floor = (await podsOf(c, NS, 'web')).filter((p) => p.metadata?.annotations?.['stowage.io/capacity-type'] === 'on-demand');
    assert.equal(floor.length, 1, 'the webhook put one web pod on the on-demand floor');
    const floorPod = floor[0] as V1Pod;

    // The starting point of both runs: the same file, the same snapshot.
    const config = parseDeschedulerConfig(readFileSync(CONFIG, 'utf8'), CONFIG, () => assert.fail('the file names no other file'));
    assert.ok(config.placement !== undefined);
    const start = await readClusterSnapshot(c.kc, { capacityRules: config.placement.capacityTypeRules });

    // Live: one cycle of the real command, watched through the API.
    const watcher = new ActionWatcher(c);
    let notReady: Promise<void> | undefined;
    let notReadyNode = '';
    watcher.onFirstTaint = (first) => {
      notReadyNode = NO_FLOOR.find((n) => n !== first) ?? '';
      notReady = makeNotReady(c, notReadyNode);
    };
    await watcher.start();
    t.after(() => watcher.stop());
    const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--once', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
    assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
    await notReady;
    const report = (JSON.parse(result.stdout) as { report: { drains: { node: string; outcome: string; reason: { code: string } }[] } }).report;
    // Every Deployment back to its replicas, but the one on the NotReady node (its pods stay, not Ready).
    await waitFor('every other workload to serve all its replicas', async () => {
      for (const w of WORKLOADS.filter((x) => x.node !== notReadyNode)) {
        const pods = (await podsOf(c, NS, w.name)).filter((p) => p.metadata?.deletionTimestamp === undefined);
        if (pods.length !== w.replicas || !pods.every(servesTraffic)) return false;
      }
      return true;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    watcher.stop();
    assert.deepEqual(watcher.errors, [], 'the watches ran to the end');
    const end = await readClusterSnapshot(c.kc, { capacityRules: config.placement.capacityTypeRules });
    const liveActions = watcher.actions;
    const livePlacement = placementOf(end.pods.filter((p) => p.deletionRequestedAt === undefined).map((p) => ({ app: p.labels['app'] ?? '', node: p.nodeName })), typesOf(end));

    // Simulated: the twin of the starting snapshot, the same config, the same NotReady at the same point.
    const world = replayWorld(start, {
      config: config.deschedule,
      prices: DEFAULT_PRICE_TABLE,
      placement: { ...placementContextOf(config.placement), namespaceAnnotations: new Map([[NS, {}]]) },
      waveTimeoutMs: config.replacementTimeoutMs,
      podStartupMs: SIM_POD_STARTUP_MS,
    });
    world.descheduler.tick();
    let simNotReady = '';
    while (world.descheduler.executing && world.engine.now < 30 * 60_000) {
      world.engine.run(world.engine.now + 100);
      const first = world.descheduler.actions.find((a) => a.action === 'taint');
      if (simNotReady === '' && first !== undefined && 'node' in first) {
        simNotReady = NO_FLOOR.find((n) => n !== first.node) ?? '';
        world.setNotReady(simNotReady);
      }
    }
    assert.equal(world.descheduler.executing, false, 'the simulated plan was carried out to its end');
    world.engine.run(world.engine.now + 60_000);
    const simActions = world.descheduler.actions.map((a) => ('pod' in a ? `${a.action} ${a.pod}` : `${a.action} ${a.node}`));
    const simEnd = world.cluster.snapshot(world.engine.now);
    const simPlacement = placementOf(simEnd.pods.filter((p) => p.deletionRequestedAt === undefined).map((p) => ({ app: p.labels['app'] ?? '', node: p.nodeName })), typesOf(simEnd));

    Object.assign(observed, { liveActions, simActions, notReady: { live: notReadyNode, sim: simNotReady }, livePlacement, simPlacement, liveDrains: report.drains.map((d) => `${d.node}:${d.outcome}:${d.reason.code}`), minServing: Object.fromEntries(watcher.minServing) });
    process.stdout.write(`# live actions:      ${liveActions.join(', ')}\n# simulated actions: ${simActions.join(', ')}\n`);

    // The two agree.
    assert.deepEqual(liveActions, simActions, 'live and simulated actions, in order');
    assert.equal(simNotReady, notReadyNode);
    assert.deepEqual(livePlacement, simPlacement, 'the end placement by capacity type');
    // And what they agree on is the scenario's point: the NotReady node's drain never started,
    // the floor stayed, everything else moved to spot.
    assert.ok(!liveActions.includes(`taint ${notReadyNode}`), `the NotReady node "${notReadyNode}" was never tainted`);
    assert.equal(report.drains.find((d) => d.node === notReadyNode)?.reason.code, 'node-not-ready');
    assert.deepEqual(livePlacement, { web: 'on-demand,spot,spot', solo: 'spot', api: notReadyNode === 'on-demand-2' ? 'on-demand,on-demand' : 'spot,spot', cart: notReadyNode === 'on-demand-3' ? 'on-demand,on-demand' : 'spot,spot' });
    assert.ok(liveActions.some((a) => a.startsWith('surge ')) && liveActions.some((a) => a.startsWith('evict ')), 'both kinds of move were exercised');
    // Floor pods never moved: live, watched; simulated, never acted on and still in place.
    const floorName = `${NS}/${floorPod.metadata?.name}`;
    assert.ok(!watcher.gone.has(floorPod.metadata?.uid ?? ''), `the floor pod ${floorName} was never deleted or evicted live`);
    assert.ok(!simActions.some((a) => a.endsWith(` ${floorName}`)), `the twin never moved the floor pod ${floorName}`);
    assert.equal(simEnd.pods.find((p) => p.name === floorPod.metadata?.name)?.nodeName, floorPod.spec?.nodeName);
    // Availability, by watching: web and api never below their PDBs, solo never without a serving pod.
    assert.ok((watcher.minServing.get('web') ?? 0) >= 2, `web: ${watcher.minServing.get('web')}`);
    assert.ok((watcher.minServing.get('solo') ?? 0) >= 1, `solo: ${watcher.minServing.get('solo')}`);
    if (notReadyNode !== 'on-demand-2') assert.ok((watcher.minServing.get('api') ?? 0) >= 1, `api: ${watcher.minServing.get('api')}`);
  });
});
