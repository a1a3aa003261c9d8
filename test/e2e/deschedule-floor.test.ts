/**
 * The placement webhook and the live descheduler together, from one configuration file, on a real
 * control plane: `stowage webhook --config F` is registered in the real kube-apiserver and places
 * the pods of three Deployments and a StatefulSet with their on-demand floors; spot is cordoned
 * meanwhile, so the webhook's fallback puts every pod on the on-demand node. Then spot opens and
 * `stowage deschedule --config F --once` (the same file) runs a spot-reschedule cycle. The test
 * watches the pods itself: every workload's floor stays on on-demand at every event (the same
 * pods, never evicted), every other pod ends on spot, and no workload ever drops below its PDB.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { E2E_POD_STARTUP, useCluster, type TestCluster } from './support/cluster.js';
import { runCli } from './support/exec.js';
import { placementWebhookSuite } from './support/placement-webhook.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { capacityNodes } from './support/nodes.js';
import { podsOf, setCordoned } from './support/workloads.js';
import { servesTraffic as serves } from './support/ready-watch.js';

// Pods take 2-3 s from bind to Ready, as in the other availability tests.
const cluster = useCluster({
  ...E2E_POD_STARTUP,
  nodes: capacityNodes(1, 2),
});
const NS = 'floor';
const ON_DEMAND = 'on-demand';
const SPOT = ['spot-1', 'spot-2'];
const WORK = mkdtempSync(join(tmpdir(), 'stowage-floor-e2e-'));
// The on-demand node keeps the floor's pods, so spot-reschedule must be allowed to drain a node it does not empty.
const STRATEGIES = '{ consolidate: { enabled: false }, spot-reschedule: { onlyWhenEmptied: false } }';
/**
 * One file for both commands, as deploy/config/stowage.yaml ships it but with pods movable at
 * any age, consolidation off and partial drains allowed, so the cycle is a spot-reschedule cycle.
 */
const CONFIG = writeDeschedulerConfig(WORK, 'stowage', [], { strategies: STRATEGIES, webhookPlacement: '{ base: 1, percent: 0 }' });
/** The same descheduler settings without the webhook's document: what the live descheduler knew before. */
const CONFIG_WITHOUT_WEBHOOK = writeDeschedulerConfig(WORK, 'descheduler-only', [], { strategies: STRATEGIES });

/** The workloads, their floors under the file's policy (base 1, or the workload's annotation) and their PDBs. */
const WORKLOADS = [
  { kind: 'Deployment', name: 'web', replicas: 4, base: 2, pdb: true },
  { kind: 'Deployment', name: 'api', replicas: 3, base: undefined, pdb: true },
  { kind: 'Deployment', name: 'solo', replicas: 1, base: undefined, pdb: false },
  { kind: 'StatefulSet', name: 'db', replicas: 3, base: undefined, pdb: true },
] as const;
const FLOOR: Readonly<Record<string, number>> = { web: 2, api: 1, solo: 1, db: 1 };

/**
 * Watches the namespace's pods and, after every event, counts per workload the serving pods on
 * the on-demand node and in all: the fewest ever seen once the workload first settled.
 */
class FloorWatcher {
  readonly #pods = new Map<string, V1Pod>();
  #abort: AbortController | undefined;
  readonly #c: TestCluster;
  /** Workload → the fewest serving pods on on-demand seen at any event. */
  readonly minOnDemand = new Map<string, number>();
  /** Workload → the fewest serving pods seen at any event. */
  readonly minReady = new Map<string, number>();
  /** Uids of pods deleted or evicted while watched. */
  readonly gone = new Set<string>();
  events = 0;

  constructor(c: TestCluster) {
    this.#c = c;
  }

  async start(): Promise<void> {
    const list = await this.#c.core.listNamespacedPod({ namespace: NS });
    for (const p of list.items) this.#pods.set(p.metadata?.uid ?? '', p);
    this.#observe();
    this.#abort = await new Watch(this.#c.kc).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
      (type: string, pod: V1Pod) => {
        const uid = pod.metadata?.uid ?? '';
        if (type === 'DELETED') {
          this.#pods.delete(uid);
          this.gone.add(uid);
        } else {
          this.#pods.set(uid, pod);
          if (pod.metadata?.deletionTimestamp !== undefined) this.gone.add(uid);
        }
        this.events++;
        this.#observe();
      },
      () => undefined,
    );
  }

  #observe(): void {
    for (const w of WORKLOADS) {
      const mine = [...this.#pods.values()].filter((p) => p.metadata?.labels?.['app'] === w.name && serves(p));
      const onDemand = mine.filter((p) => p.spec?.nodeName === ON_DEMAND).length;
      this.minOnDemand.set(w.name, Math.min(this.minOnDemand.get(w.name) ?? Infinity, onDemand));
      this.minReady.set(w.name, Math.min(this.minReady.get(w.name) ?? Infinity, mine.length));
    }
  }

  stop(): void {
    this.#abort?.abort();
  }
}

/** The workload's pods that are not on their way out. */
async function livePodsOf(c: TestCluster, app: string): Promise<V1Pod[]> {
  return (await podsOf(c, NS, app)).filter((p) => p.metadata?.deletionTimestamp === undefined);
}

interface RunReport {
  readonly report?: { readonly drains: readonly { readonly node: string; readonly outcome: string; readonly moved: readonly string[]; readonly reason: string }[] };
  readonly status: {
    readonly drains: readonly { readonly node: string; readonly pods: readonly { readonly name: string }[]; readonly staying: readonly { readonly name: string }[] }[];
    readonly moves: readonly { readonly pod: { readonly name: string }; readonly mode: string; readonly capacityType?: string }[];
  };
}

describe('the live descheduler keeps the webhook\'s on-demand floor', () => {
  const observed = placementWebhookSuite(cluster, { namespace: NS, config: CONFIG, work: WORK, tag: 'DESCHEDULE-FLOOR-E2E' });

  test('with the webhook\'s policy in force, a spot-reschedule cycle leaves every workload\'s on-demand floor on on-demand', { timeout: 8 * 60_000 }, async (t) => {
    const c = cluster();
    // Spot is closed while the workloads start: the webhook's floor pods require on-demand, the
    // others prefer spot and fall back to on-demand, so every pod starts on the on-demand node.
    await setCordoned(c, SPOT, true);
    const template = (name: string) => ({
      metadata: { labels: { app: name } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name, image: `registry.example/${name}:1`, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
    });
    for (const w of WORKLOADS) {
      const metadata = { name: w.name, ...(w.base === undefined ? {} : { annotations: { 'stowage.io/on-demand-base': String(w.base) } }) };
      const spec = { replicas: w.replicas, selector: { matchLabels: { app: w.name } }, template: template(w.name) };
      if (w.kind === 'Deployment') await c.apps.createNamespacedDeployment({ namespace: NS, body: { metadata, spec } });
      else await c.apps.createNamespacedStatefulSet({ namespace: NS, body: { metadata, spec: { ...spec, serviceName: w.name } } });
      if (w.pdb) await c.policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name: w.name }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: w.name } } } } });
    }
    for (const w of WORKLOADS) {
      await waitFor(`${w.replicas} Ready ${w.name} pods on "${ON_DEMAND}"`, async () => {
        const pods = await livePodsOf(c, w.name);
        return pods.length === w.replicas && pods.every((p) => serves(p) && p.spec?.nodeName === ON_DEMAND);
      }, { timeoutMs: 120_000, intervalMs: 250 });
    }
    // The webhook decided each pod: the floor's required on on-demand, the rest spot (only preferred, as spot had no room).
    const floorPods = new Map<string, Set<string>>();
    for (const w of WORKLOADS) {
      const pods = await livePodsOf(c, w.name);
      const decided = pods.filter((p) => p.metadata?.annotations?.['stowage.io/capacity-type'] === 'on-demand');
      assert.equal(decided.length, FLOOR[w.name], `${w.name}: ${FLOOR[w.name]} pod(s) decided on-demand by the webhook`);
      assert.equal(pods.length - decided.length, w.replicas - (FLOOR[w.name] ?? 0));
      floorPods.set(w.name, new Set(decided.map((p) => p.metadata?.uid ?? '')));
    }
    for (const w of WORKLOADS.filter((x) => x.pdb)) {
      await waitFor(`the PDB of ${w.name} allows 1`, async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: w.name, namespace: NS })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    }
    await setCordoned(c, SPOT, false);

    // Without the webhook's document the descheduler cannot know the floor: its plan moves floor pods too.
    const blind = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG_WITHOUT_WEBHOOK, '--dry-run', '-o', 'json']);
    assert.equal(blind.code, 0, blind.stderr);
    const blindMoves = (JSON.parse(blind.stdout) as RunReport).status.moves.map((m) => m.pod.name);
    const allFloor = [...floorPods.values()].flatMap((uids) => [...uids]);
    const floorNames = new Set<string>();
    for (const w of WORKLOADS) for (const p of await livePodsOf(c, w.name)) if (allFloor.includes(p.metadata?.uid ?? '')) floorNames.add(p.metadata?.name ?? '');
    assert.ok(blindMoves.some((name) => floorNames.has(name)), `without the policy, floor pods are planned to move: ${blindMoves.join(', ')}`);

    // With it, the dry run names the floor's pods as staying and moves the rest, each to spot.
    const dry = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--dry-run', '-o', 'json']);
    assert.equal(dry.code, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout) as RunReport;
    const staying = planned.status.drains.find((d) => d.node === ON_DEMAND)?.staying.map((p) => p.name).sort();
    assert.deepEqual(staying, [...floorNames].sort(), 'the plan keeps exactly the floor\'s pods');
    assert.deepEqual(planned.status.moves.map((m) => m.capacityType), planned.status.moves.map(() => 'spot'));
    assert.equal(planned.status.moves.length, 6);

    const watcher = new FloorWatcher(c);
    await watcher.start();
    t.after(() => watcher.stop());
    const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--once', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
    assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
    const run = JSON.parse(result.stdout) as RunReport;
    const drain = run.report?.drains.find((d) => d.node === ON_DEMAND);
    assert.equal(drain?.outcome, 'done', JSON.stringify(run.report));

    // The end state, as the API shows it: per workload exactly its floor on on-demand (the very
    // pods the webhook put there), the rest Ready on spot.
    const end: Record<string, { onDemand: number; spot: number }> = {};
    for (const w of WORKLOADS) {
      await waitFor(`${w.name}: ${w.replicas} Ready pods, ${FLOOR[w.name]} on on-demand`, async () => {
        const pods = await livePodsOf(c, w.name);
        return pods.length === w.replicas && pods.every(serves) && pods.filter((p) => p.spec?.nodeName === ON_DEMAND).length === FLOOR[w.name];
      }, { timeoutMs: 120_000, intervalMs: 250 });
      const pods = await livePodsOf(c, w.name);
      const onDemand = pods.filter((p) => p.spec?.nodeName === ON_DEMAND);
      end[w.name] = { onDemand: onDemand.length, spot: pods.filter((p) => SPOT.includes(p.spec?.nodeName ?? '')).length };
      assert.deepEqual(new Set(onDemand.map((p) => p.metadata?.uid ?? '')), floorPods.get(w.name), `${w.name}: the floor's pods are the ones that stayed`);
      assert.equal(end[w.name]?.spot, w.replicas - (FLOOR[w.name] ?? 0), `${w.name}: every pod above the floor moved to spot`);
    }
    watcher.stop();
    for (const w of WORKLOADS) {
      assert.ok((watcher.minOnDemand.get(w.name) ?? 0) >= (FLOOR[w.name] ?? 0), `${w.name}: at least ${FLOOR[w.name]} serving pod(s) on on-demand at every event (saw ${watcher.minOnDemand.get(w.name)})`);
      assert.ok((watcher.minReady.get(w.name) ?? 0) >= w.replicas - (w.pdb ? 1 : 0), `${w.name}: never below its PDB (saw ${watcher.minReady.get(w.name)} of ${w.replicas})`);
      for (const uid of floorPods.get(w.name) ?? []) assert.ok(!watcher.gone.has(uid), `${w.name}: a floor pod was deleted or evicted`);
    }
    Object.assign(observed, {
      moves: drain?.moved.length,
      staying: staying?.length,
      blindPlanMovedFloorPods: blindMoves.filter((name) => floorNames.has(name)).length,
      end,
      minOnDemand: Object.fromEntries(watcher.minOnDemand),
      minReady: Object.fromEntries(watcher.minReady),
      watchEvents: watcher.events,
    });
  });
});
