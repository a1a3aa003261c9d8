/**
 * Crash safety on a real control plane: the real `stowage deschedule` process is SIGKILLed again
 * and again at random points of its drains (evictions under a PDB, surge-first moves that replace
 * a Deployment's strategy, rollouts), with pods that take 2-3 s to become Ready. After every kill
 * the next start must first roll back or resume what the killed run left, before it plans:
 * `--dry-run` reports the leftovers, and once the restarted process says its start-up recovery is
 * done no node carries the draining taint or the drain record and every Deployment has its own
 * strategy again. Throughout, each workload's Ready pods are watched through the project's
 * informer: none may ever go below its floor.
 *
 * One cluster serves every round. Each round: every node is labelled spot (nothing to plan), a
 * descheduler starts and recovers, the test checks the cluster is clean, then labels the node
 * holding most pods on-demand; the descheduler drains it (spot-reschedule), and is killed a
 * seeded random time (0-7 s) after the drain starts. STOWAGE_E2E_KILLS and STOWAGE_E2E_SEED
 * change the count and the seed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1DeploymentStrategy } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { DRAIN_ANNOTATION, DRAINING_TAINT, SURGE_ANNOTATION } from '../../src/controllers/deschedule/drain-state.js';
import { RandomSource } from '../../src/sim/random.js';
import { createNamespace, E2E_POD_STARTUP, useCluster, type TestCluster } from './support/cluster.js';
import { ControllerProcess } from './support/controller-process.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { runCli } from './support/exec.js';
import { capacityNodes } from './support/nodes.js';
import { MinReadyWatch, servesTraffic } from './support/ready-watch.js';
import { deployOnNode, podsOf } from './support/workloads.js';

const cluster = useCluster({ ...E2E_POD_STARTUP, nodes: capacityNodes(1, 2, '8', '32Gi') });
const NODES = ['on-demand', 'spot-1', 'spot-2'];
const NS = 'crash';
const KILLS = Number(process.env['STOWAGE_E2E_KILLS'] ?? 20);
const SEED = Number(process.env['STOWAGE_E2E_SEED'] ?? 20261206);
/** Each workload's floor: its PDB's, one Ready replica, and what a default rolling update of three keeps. */
const WORKLOADS = [
  { name: 'guarded', replicas: 3, floor: 2, pdb: true },
  { name: 'solo', replicas: 1, floor: 1, strategy: { type: 'Recreate' } as V1DeploymentStrategy },
  { name: 'trio', replicas: 3, floor: 3 },
] as const;
const dir = mkdtempSync(join(tmpdir(), 'stowage-crash-e2e-'));
// No anti-flap rest: every round's process is new, and each round should find work.
const CONFIG = writeDeschedulerConfig(dir, 'descheduler', ['antiFlap: { minMoveIntervalSeconds: 0 }']);
const notes: string[] = [];
after(() => process.stdout.write(`# deschedule-crash e2e observations:\n${notes.map((l) => `#   ${l}\n`).join('')}`));

/** What drains left on the cluster, read through the API. */
interface Left {
  readonly tainted: readonly string[];
  readonly recorded: readonly string[];
  readonly surged: readonly string[];
  /** Deployments whose strategy differs from the one they were created with. */
  readonly changed: readonly string[];
}

async function left(c: TestCluster, strategies: ReadonlyMap<string, unknown>): Promise<Left> {
  const nodes = (await c.core.listNode()).items;
  const deployments = (await c.apps.listNamespacedDeployment({ namespace: NS })).items;
  return {
    tainted: nodes.filter((n) => (n.spec?.taints ?? []).some((t) => t.key === DRAINING_TAINT.key)).map((n) => n.metadata?.name ?? ''),
    recorded: nodes.filter((n) => n.metadata?.annotations?.[DRAIN_ANNOTATION] !== undefined).map((n) => n.metadata?.name ?? ''),
    surged: deployments.filter((d) => d.metadata?.annotations?.[SURGE_ANNOTATION] !== undefined).map((d) => d.metadata?.name ?? ''),
    changed: deployments.filter((d) => JSON.stringify(d.spec?.strategy) !== JSON.stringify(strategies.get(d.metadata?.name ?? ''))).map((d) => d.metadata?.name ?? ''),
  };
}

async function setCapacity(c: TestCluster, node: string, type: 'spot' | 'on-demand'): Promise<void> {
  await c.core.patchNode({ name: node, body: [{ op: 'replace', path: '/metadata/labels/node.kubernetes.io~1capacity', value: type }] });
}

/** Polls every 50 ms (no growing interval: the kill time should follow the drain closely). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, abortIf: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const abort = abortIf();
    if (abort !== undefined) throw new Error(`${what}: ${abort}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(50);
  }
}

interface DryRunLeftovers {
  readonly status: { readonly leftovers?: { readonly nodes: readonly { readonly node: string; readonly tainted: boolean; readonly annotated: boolean }[]; readonly surges: readonly { readonly name: string }[] } };
}

test(`SIGKILLed ${KILLS} times at random points of drains and surges, the descheduler always restarts clean and no workload goes below its floor`, { timeout: 12 * 60_000 }, async (t) => {
  assert.ok(KILLS >= 1);
  const c = cluster();
  const random = new RandomSource(SEED).stream('kills');
  await createNamespace(c.core, NS);
  for (const w of WORKLOADS) await deployOnNode(c, NS, w.name, w.replicas, { node: 'on-demand', cordon: ['spot-1', 'spot-2'] }, 'strategy' in w ? w.strategy : undefined);
  await c.policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name: 'guarded' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'guarded' } } } } });
  await waitFor('the PDB allows 1', async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: 'guarded', namespace: NS })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
  const strategies = new Map<string, unknown>();
  for (const w of WORKLOADS) strategies.set(w.name, (await c.apps.readNamespacedDeployment({ name: w.name, namespace: NS })).spec?.strategy);
  const watches = WORKLOADS.map((w) => ({ w, watch: new MinReadyWatch(c, NS, `app=${w.name}`, w.replicas) }));
  for (const { watch } of watches) await watch.start();
  t.after(async () => {
    for (const { watch } of watches) await watch.stop();
  });

  const started = Date.now();
  let previous: Left = { tainted: [], recorded: [], surged: [], changed: [] };
  const tally = { midDrain: 0, midSurge: 0, rolledBack: 0, restored: 0, dryRuns: 0, delays: [] as number[] };
  for (let round = 1; round <= KILLS + 1; round++) {
    // Nothing to plan: the restarted process only recovers, and the check below sees what it left.
    for (const node of NODES) await setCapacity(c, node, 'spot');
    const loop = new ControllerProcess(`descheduler-${round}`, ['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--interval', '1s']);
    t.after(() => loop.kill('SIGKILL'));
    await until(`round ${round}: start-up recovery`, async () => loop.find(/^Start-up recovery done$/).length > 0, 120_000, () => loop.diedEarly());
    const recovered = loop.find(/^Start-up recovery done$/)[0];
    const firstPlan = loop.find(/^Planned$/)[0];
    assert.ok(firstPlan === undefined || (recovered?.at ?? 0) <= firstPlan.at, 'recovery comes before any planning');
    const after = await left(c, strategies);
    assert.deepEqual(after, { tainted: [], recorded: [], surged: [], changed: [] }, `round ${round}: the restart left nothing of the killed run (it had left ${JSON.stringify(previous)})`);
    const rolledBack = loop.find(/^Rolled back a drain left by an earlier run$/).map((l) => String(l['node'])).sort();
    const restored = loop.find(/^Gave back a Deployment strategy/).map((l) => String(l['deployment'])).sort();
    assert.deepEqual(rolledBack, [...new Set([...previous.tainted, ...previous.recorded])].sort(), `round ${round}: the restart rolled back exactly the nodes the kill left`);
    assert.deepEqual(restored, previous.surged.map((name) => `${NS}/${name}`).sort(), `round ${round}: the restart gave back exactly the strategies the kill left`);
    tally.rolledBack += rolledBack.length;
    tally.restored += restored.length;
    if (round > KILLS) {
      loop.kill('SIGTERM');
      assert.equal(await loop.exited, 0, loop.stderr.slice(-2000));
      break;
    }

    // Work: the node holding most of the pods becomes on-demand, and spot-reschedule drains it.
    const pods = (await c.core.listNamespacedPod({ namespace: NS })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
    const busiest = [...NODES].sort((a, b) => pods.filter((p) => p.spec?.nodeName === b).length - pods.filter((p) => p.spec?.nodeName === a).length)[0] as string;
    await setCapacity(c, busiest, 'on-demand');
    await until(`round ${round}: the drain of "${busiest}" to start`, async () => (await left(c, strategies)).tainted.includes(busiest), 120_000, () => loop.diedEarly());
    const delay = Math.round(random.uniform(0, 7_000));
    tally.delays.push(delay);
    await sleep(delay);
    loop.kill('SIGKILL');
    await loop.exited;
    previous = await left(c, strategies);
    if (previous.tainted.length > 0) tally.midDrain++;
    if (previous.surged.length > 0) tally.midSurge++;
    // The dry run reports what the kill left (once each kind shows up, then every fifth round).
    if ((previous.tainted.length > 0 || previous.surged.length > 0) && (tally.dryRuns < 2 || round % 5 === 0)) {
      const dry = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, '--dry-run', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
      assert.equal(dry.code, 0, dry.stderr);
      const reported = (JSON.parse(dry.stdout) as DryRunLeftovers).status.leftovers;
      assert.deepEqual(reported?.nodes.filter((n) => n.tainted).map((n) => n.node), previous.tainted, `round ${round}: --dry-run reports the tainted nodes`);
      assert.deepEqual(reported?.nodes.filter((n) => n.annotated).map((n) => n.node), previous.recorded, `round ${round}: --dry-run reports the drain records`);
      assert.deepEqual(reported?.surges.map((s) => s.name), previous.surged, `round ${round}: --dry-run reports the replaced strategies`);
      assert.deepEqual(await left(c, strategies), previous, 'a dry run changes nothing');
      tally.dryRuns++;
    }
  }
  await waitFor('every workload settled', async () => {
    for (const w of WORKLOADS) if ((await podsOf(c, NS, w.name)).filter(servesTraffic).length !== w.replicas) return false;
    return true;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  const seconds = Math.round((Date.now() - started) / 1000);
  const lows = watches.map(({ w, watch }) => `${w.name} ${watch.minReady}/${w.replicas} (floor ${w.floor}, ${watch.events} events, ${watch.uids.length} pods)`);
  notes.push(`seed ${SEED}: ${KILLS} SIGKILLs in ${seconds}s, kill delays ${Math.min(...tally.delays)}-${Math.max(...tally.delays)} ms after the drain started; ${tally.midDrain} left a tainted node, ${tally.midSurge} a replaced strategy; restarts rolled back ${tally.rolledBack} node(s) and gave back ${tally.restored} strateg(ies); ${tally.dryRuns} dry runs reported the leftovers`);
  notes.push(`lowest Ready: ${lows.join('; ')}`);
  for (const { w, watch } of watches) assert.ok(watch.minReady >= w.floor, `${w.name} went below its floor of ${w.floor}: ${watch.minReady} Ready`);
  assert.ok(tally.midDrain >= KILLS / 2, `most kills landed mid-drain (${tally.midDrain} of ${KILLS})`);
  assert.ok(tally.midSurge >= 1, 'at least one kill landed mid-surge');
});
