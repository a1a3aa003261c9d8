/**
 * Availability at volume: the real descheduler (`stowage deschedule` as a process, as its shipped
 * ServiceAccount) makes at least 500 evictions on a real control plane while the test watches
 * every workload's Ready count through the project's informer, at every change the API reports.
 * No instant may find a workload below its floor: its PodDisruptionBudget's, or one Ready
 * replica for a single-replica Deployment (moved surge-first).
 *
 * How the volume is made: two nodes are labelled on-demand and two spot. The workloads start on
 * the on-demand pair; spot-reschedule drains both; once every pod runs Ready on spot and no node
 * is tainted, the test swaps the labels (the full pair becomes on-demand) and the descheduler
 * drains them again. Pods take 2-3 s from binding to Ready, so every eviction waits for a
 * replacement that is not Ready yet: the hard case.
 *
 * An eviction is counted from the API alone: a pod that the watch saw gain the `DisruptionTarget`
 * condition the Eviction API sets (reason `EvictionByEvictionAPI`) and then go away. Stowage's
 * own metrics and logs are not read.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { DRAINING_TAINT } from '../../src/controllers/deschedule/drain-state.js';
import { CAPACITY_LABEL } from '../../src/devcluster/nodes.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { ResilientInformer } from '../../src/kube/informer.js';
import { createNamespace, E2E_POD_STARTUP, useCluster, type TestCluster } from './support/cluster.js';
import { ControllerProcess } from './support/controller-process.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { servesTraffic } from './support/ready-watch.js';
import { kubeconfigForServiceAccount } from './support/service-account.js';
import { createDeployment, setCordoned } from './support/workloads.js';

const capacity = { cpu: '32', memory: '128Gi', pods: '250' };
const cluster = useCluster({
  ...E2E_POD_STARTUP,
  nodes: {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'NodeFixture',
    nodes: [
      { name: 'left', count: 2, capacityType: 'on-demand', instanceType: 'm5.4xlarge', labels: {}, annotations: {}, taints: [], capacity },
      { name: 'right', count: 2, capacityType: 'spot', instanceType: 'm5.4xlarge', labels: {}, annotations: {}, taints: [], capacity },
    ],
  },
});
const LEFT = ['left-1', 'left-2'];
const RIGHT = ['right-1', 'right-2'];
const NS = 'volume';
const TARGET_EVICTIONS = 500;
/** The run stops making rounds after this long, whatever the count: the test is bounded. */
const BUDGET_MS = 3 * 60_000;
const WORK = mkdtempSync(join(tmpdir(), 'stowage-volume-e2e-'));
// Every pod may move at once and again at once: the budgets, the pod age, the backoff and the
// anti-flap rule would otherwise be what limits the volume, not availability.
const CONFIG = writeDeschedulerConfig(
  WORK,
  'stowage',
  [
    'budgets: { maxEvictionsPerCycle: 1000, maxEvictionsPerNode: 1000, maxEvictionsPerNamespace: 1000 }',
    'backoff: { baseSeconds: 1, maxSeconds: 2 }',
    'antiFlap: { minMoveIntervalSeconds: 0, maxMovesPerHour: 100000 }',
  ],
  { strategies: '{ consolidate: { enabled: false }, balance: { enabled: false } }' },
);

interface Workload {
  readonly name: string;
  readonly replicas: number;
  /** The PDB's spec, if it has one. */
  readonly pdb?: { readonly minAvailable?: number | string; readonly maxUnavailable?: number | string };
  /** The fewest Ready replicas allowed at any instant. */
  readonly floor: number;
}

/**
 * Ninety workloads of two replicas under PodDisruptionBudgets of each kind, and three single
 * replicas (two without a PDB, one with `minAvailable: 1`), moved surge-first. The planner moves
 * one pod of a workload per wave; with two nodes a side, kube-scheduler's default spread puts one
 * replica of most on each node, so a drain is one wave of some ninety evictions (a second, small
 * one for workloads whose replicas share the node), and a round of two drains some 180.
 */
const PAIRS = 90;
const PDB_KINDS: readonly NonNullable<Workload['pdb']>[] = [{ minAvailable: 1 }, { maxUnavailable: 1 }, { maxUnavailable: '50%' }, { minAvailable: '50%' }];
const WORKLOADS: readonly Workload[] = [
  ...Array.from({ length: PAIRS }, (_, i): Workload => ({ name: `svc-${i}`, replicas: 2, pdb: PDB_KINDS[i % PDB_KINDS.length], floor: 1 })),
  { name: 'cron-ui', replicas: 1, floor: 1 },
  { name: 'admin', replicas: 1, floor: 1 },
  { name: 'billing', replicas: 1, pdb: { minAvailable: 1 }, floor: 1 },
];
/**
 * kube-scheduler has no notion of spot: without the webhook it may put a replacement on the other
 * on-demand node, which the next drain moves again. A PreferNoSchedule taint on the on-demand side
 * (TaintToleration outweighs the default spread) sends replacements to spot, as the webhook would.
 */
const PREFER_SPOT = { key: 'e2e.stowage.io/on-demand', effect: 'PreferNoSchedule' } as const;

/** The condition the Eviction API puts on a pod before it deletes it. */
function evictedByApi(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'EvictionByEvictionAPI');
}

/** Ready replicas per workload at every change the watch delivers, and every pod that went away. */
class VolumeWatch {
  readonly #informer: ResilientInformer<V1Pod>;
  readonly minReady = new Map<string, number>();
  readonly deleted = new Map<string, Set<string>>();
  /** Pods seen with the Eviction API's condition, by uid. */
  readonly #evicted = new Set<string>();
  events = 0;
  /** Instants (watch events) at which some workload was below its floor, with what was seen. */
  readonly breaches: string[] = [];
  /** Off while the first LIST fills the cache: a half-filled cache is no instant of the cluster. */
  #armed = false;

  constructor(c: TestCluster) {
    this.#informer = new ResilientInformer<V1Pod>(c.kc, { name: 'pods', path: `/api/v1/namespaces/${NS}/pods`, backoff: { baseMs: 100, maxMs: 1000 } });
    const see = (pod: V1Pod): void => {
      this.events++;
      const app = pod.metadata?.labels?.['app'] ?? '';
      if (evictedByApi(pod)) this.#evicted.add(pod.metadata?.uid ?? '');
      if (pod.metadata?.deletionTimestamp !== undefined) this.#deleted(app, pod);
      this.#observe();
    };
    this.#informer.on('add', see);
    this.#informer.on('update', see);
    this.#informer.on('delete', (pod) => {
      this.#deleted(pod.metadata?.labels?.['app'] ?? '', pod);
      see(pod);
    });
  }

  #deleted(app: string, pod: V1Pod): void {
    const set = this.deleted.get(app) ?? new Set<string>();
    set.add(pod.metadata?.uid ?? '');
    this.deleted.set(app, set);
  }

  async start(): Promise<void> {
    await this.#informer.start();
    this.#armed = true;
    this.#observe();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  #observe(): void {
    if (!this.#armed) return;
    const ready = new Map<string, number>();
    for (const pod of this.#informer.list()) {
      if (!servesTraffic(pod)) continue;
      const app = pod.metadata?.labels?.['app'] ?? '';
      ready.set(app, (ready.get(app) ?? 0) + 1);
    }
    for (const w of WORKLOADS) {
      const n = ready.get(w.name) ?? 0;
      this.minReady.set(w.name, Math.min(this.minReady.get(w.name) ?? Number.POSITIVE_INFINITY, n));
      if (n < w.floor && this.breaches.length < 20) this.breaches.push(`${w.name}: ${n} Ready < floor ${w.floor} at watch event ${this.events}`);
    }
  }

  /** Pods the Eviction API evicted that went away, in any workload. */
  evictions(): number {
    let n = 0;
    for (const uids of this.deleted.values()) for (const uid of uids) if (this.#evicted.has(uid)) n++;
    return n;
  }

  /** Pods that went away without the Eviction API: single replicas replaced by a surge-first rollout. */
  others(): { readonly pairs: number; readonly singles: number } {
    const count = (ws: readonly Workload[]) => ws.reduce((sum, w) => sum + [...(this.deleted.get(w.name) ?? [])].filter((uid) => !this.#evicted.has(uid)).length, 0);
    return { pairs: count(WORKLOADS.filter((w) => w.replicas > 1)), singles: count(WORKLOADS.filter((w) => w.replicas === 1)) };
  }
}

async function livePods(c: TestCluster): Promise<V1Pod[]> {
  return (await c.core.listNamespacedPod({ namespace: NS })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
}

/** Labels `onDemand` as on-demand (with the PreferNoSchedule taint) and `spot` as spot (without). */
async function label(c: TestCluster, onDemand: readonly string[], spot: readonly string[]): Promise<void> {
  for (const [names, value] of [[onDemand, 'on-demand'], [spot, 'spot']] as const) {
    for (const name of names) {
      // The taints are rewritten whole: the test op makes a concurrent change (the descheduler's
      // draining taint, kwok's heartbeat) fail the patch with 422, and the patch is read and tried again.
      for (let attempt = 1; ; attempt++) {
        const node = await c.core.readNode({ name });
        const taints = (node.spec?.taints ?? []).filter((t) => t.key !== PREFER_SPOT.key);
        try {
          await c.core.patchNode({
            name,
            body: [
              { op: 'test', path: '/metadata/resourceVersion', value: node.metadata?.resourceVersion },
              { op: 'replace', path: `/metadata/labels/${CAPACITY_LABEL.replace('/', '~1')}`, value },
              { op: 'add', path: '/spec/taints', value: value === 'on-demand' ? [...taints, PREFER_SPOT] : taints },
            ],
          });
          break;
        } catch (error) {
          if ((error as { code?: number }).code !== 422 || attempt >= 20) throw error;
        }
      }
    }
  }
}

/** True once every workload has exactly its replicas, all Ready on `nodes`, and no node is tainted for a drain. */
async function settledOn(c: TestCluster, nodes: readonly string[]): Promise<boolean> {
  const pods = await livePods(c);
  for (const w of WORKLOADS) {
    const mine = pods.filter((p) => p.metadata?.labels?.['app'] === w.name);
    if (mine.length !== w.replicas || !mine.every((p) => servesTraffic(p) && nodes.includes(p.spec?.nodeName ?? ''))) return false;
  }
  const tainted = (await c.core.listNode()).items.some((n) => (n.spec?.taints ?? []).some((t) => t.key === DRAINING_TAINT.key));
  return !tainted;
}

describe('availability at volume', () => {
  after(() => rmSync(WORK, { recursive: true, force: true }));

  test(`≥ ${TARGET_EVICTIONS} evictions by the descheduler: no workload below its floor at any instant`, { timeout: 9 * 60_000 }, async (t) => {
    const c = cluster();
    await createNamespace(c.core, NS);
    // Every workload starts on the on-demand pair.
    await label(c, LEFT, RIGHT);
    await setCordoned(c, RIGHT, true);
    for (const w of WORKLOADS) {
      await createDeployment(c, NS, { name: w.name, replicas: w.replicas, requests: { cpu: '50m', memory: '64Mi' }, ...(w.pdb === undefined ? {} : { pdb: w.pdb }) });
    }
    await waitFor('every workload Ready on the on-demand pair', () => settledOn(c, LEFT), { timeoutMs: 180_000, intervalMs: 500 });
    await setCordoned(c, RIGHT, false);
    await waitFor('every PDB observed with its pods healthy', async () => {
      const pdbs = (await c.policy.listNamespacedPodDisruptionBudget({ namespace: NS })).items;
      return pdbs.length === WORKLOADS.filter((w) => w.pdb).length && pdbs.every((p) => (p.status?.observedGeneration ?? 0) >= 1 && (p.status?.currentHealthy ?? 0) === (p.status?.expectedPods ?? -1));
    }, { timeoutMs: 60_000, intervalMs: 250 });

    const watch = new VolumeWatch(c);
    await watch.start();
    t.after(() => watch.stop());
    for (const w of WORKLOADS) assert.equal(watch.minReady.get(w.name), w.replicas, `${w.name} starts with every replica Ready`);

    const kubeconfig = await kubeconfigForServiceAccount(c, 'descheduler', 'stowage-system', 'stowage-descheduler', WORK);
    const descheduler = new ControllerProcess('descheduler', ['deschedule', '--kubeconfig', kubeconfig, '--config', CONFIG, '--interval', '1s'], { STOWAGE_LOG_LEVEL: 'warn' });
    t.after(async () => {
      descheduler.kill('SIGTERM');
      await descheduler.exited;
    });

    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    let spotSide = RIGHT;
    let rounds = 0;
    while (watch.evictions() < TARGET_EVICTIONS && Date.now() - started < BUDGET_MS) {
      await waitFor(`round ${rounds + 1}: every pod Ready on ${spotSide.join(', ')}`, () => settledOn(c, spotSide), {
        timeoutMs: Math.max(10_000, BUDGET_MS + 60_000 - (Date.now() - started)),
        intervalMs: 250,
        abortIf: () => descheduler.diedEarly(),
      });
      rounds++;
      // The full pair becomes on-demand, the empty pair spot: the next round moves everything back.
      const onDemandSide = spotSide;
      spotSide = spotSide === RIGHT ? LEFT : RIGHT;
      await label(c, onDemandSide, spotSide);
    }
    const seconds = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    descheduler.kill('SIGTERM');
    assert.equal(await descheduler.exited, 0, `the descheduler exits cleanly on SIGTERM: ${descheduler.stderr.slice(-2000)}`);
    await watch.stop();

    const lowest = WORKLOADS.map((w) => `${w.name} ${watch.minReady.get(w.name)}/${w.replicas}`).join(', ');
    const others = watch.others();
    const figure = `evictions ${watch.evictions()} (pods with the Eviction API's DisruptionTarget condition, then deleted), surge-first replacements ${others.singles}, other deletions of two-replica pods ${others.pairs}, rounds ${rounds}, ${seconds.toFixed(0)} s wall, ${watch.events} watch events, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; lowest Ready (Ready/replicas, floor 1 each): ${lowest}; test process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`;
    t.diagnostic(figure);
    process.stdout.write(`# VOLUME ${figure}\n`);
    assert.deepEqual(watch.breaches, [], 'no workload below its floor at any instant');
    assert.ok(watch.evictions() >= TARGET_EVICTIONS, `at least ${TARGET_EVICTIONS} evictions within the budget (${figure})`);
    assert.ok(others.singles >= 3 * rounds, `each single replica moved (surge-first) in every round: ${others.singles} in ${rounds} rounds`);
    assert.equal(others.pairs, 0, 'every two-replica pod that went away was evicted through the Eviction API');
    const errors = descheduler.logs().filter((l) => l['level'] === 50 || l['level'] === 'error');
    assert.deepEqual(errors.map((l) => l.msg), [], 'the descheduler logged no error');
  });
});
