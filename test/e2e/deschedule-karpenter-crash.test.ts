/**
 * A descheduler SIGKILLed in the middle of a replacement through Karpenter leaves no empty node
 * behind: on the real control plane with Karpenter's KWOK provider, pods that take 2-3 s to be Ready.
 *
 * One m5.2xlarge of a NodePool that also allows the m5.xlarge (half the price) runs a single
 * replica (gamma) and two replicas under a PDB of minAvailable 1 (delta). Karpenter's own
 * disruption is off for the pool. Each round a real `stowage deschedule --once` plans the
 * replacement, creates a NodeClaim, and is SIGKILLed: round 1 right after the NodeClaim is
 * created, round 2 a seeded random time (0-1.5 s) after, while its node comes up, round 3 a random time (0-1.5 s) after its
 * first move started (mid-drain). Then `--dry-run` must report the claim the killed run left (and
 * change nothing), and a restart with every strategy off (it only recovers) must leave, checked
 * through the API: no Stowage taint or drain record on any node, no Deployment with a replaced
 * strategy, and — once Karpenter has removed what was deleted — no Stowage-launched NodeClaim
 * whose node runs none of the pods (a claim whose node took moved pods is kept, by design). The
 * Ready pods of both workloads are watched throughout: neither may go below its floor. Before the
 * rounds, the pool's disruption budget is set to 0 nodes: the dry run plans nothing for it and says
 * why (`disruption-budget`); the rounds run with a budget of 1 node (0 for drift). A round
 * that ends with the replacement kept changes the cluster the next would start from, so the
 * rounds stop there. STOWAGE_E2E_SEED changes the seed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { DRAIN_ANNOTATION, SURGE_ANNOTATION } from '../../src/controllers/deschedule/drain-state.js';
import { NODE_POOLS } from '../../src/kube/node-pools.js';
import { RandomSource } from '../../src/sim/random.js';
import { createNamespace, E2E_POD_STARTUP, useCluster, type TestCluster } from './support/cluster.js';
import { ControllerProcess } from './support/controller-process.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { runCli } from './support/exec.js';
import { claimsOf, deployOnPool, nodePool, patchPool, poolReady, type ClaimSeen } from './support/karpenter.js';
import { MinReadyWatch, servesTraffic } from './support/ready-watch.js';
import { podsOf } from './support/workloads.js';

const cluster = useCluster({ autoscaler: 'karpenter', ...E2E_POD_STARTUP });
const POOL = 'crash';
const NS = 'karpenter-crash';
const SEED = Number(process.env['STOWAGE_E2E_SEED'] ?? 20261206);
const APPS = [
  { app: 'gamma', replicas: 1, cpu: '1500m', floor: 1 },
  { app: 'delta', replicas: 2, cpu: '1000m', floor: 1 },
] as const;
/** When each round's kill comes: after which log line, and up to how long after it (a seeded random delay). */
const ROUNDS = [
  { after: /^Created a NodeClaim for a replacement node$/, maxDelayMs: 0, what: 'right after the NodeClaim is created' },
  { after: /^Created a NodeClaim for a replacement node$/, maxDelayMs: 1_500, what: 'at a random point after the NodeClaim is created (while its node comes up)' },
  { after: /^(Surge started: replacement first|Eviction started)$/, maxDelayMs: 1_500, what: 'at a random point after the first move started' },
] as const;
const dir = mkdtempSync(join(tmpdir(), 'stowage-karpenter-crash-e2e-'));
const notes: string[] = [];
after(() => {
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`# deschedule-karpenter-crash e2e observations:\n${notes.map((l) => `#   ${l}\n`).join('')}`);
});

/** What is left of Stowage on the cluster, read through the API. */
interface Left {
  /** Nodes with a `stowage.io/` taint or the drain record. */
  readonly nodes: readonly string[];
  /** Deployments with a saved strategy. */
  readonly surged: readonly string[];
  /** NodeClaims the descheduler launched, not being deleted. */
  readonly claims: readonly ClaimSeen[];
}

async function left(c: TestCluster): Promise<Left> {
  const nodes = (await c.core.listNode()).items.filter((n) => (n.spec?.taints ?? []).some((t) => t.key.startsWith('stowage.io/')) || n.metadata?.annotations?.[DRAIN_ANNOTATION] !== undefined);
  const deployments = (await c.apps.listNamespacedDeployment({ namespace: NS })).items.filter((d) => d.metadata?.annotations?.[SURGE_ANNOTATION] !== undefined);
  const claims = (await claimsOf(c, POOL)).filter((cl) => cl.launchedFor !== undefined && !cl.deleting);
  return { nodes: nodes.map((n) => n.metadata?.name ?? '').sort(), surged: deployments.map((d) => d.metadata?.name ?? '').sort(), claims };
}

/** The test's pods on `node` (not being deleted), through the API. */
async function podsOn(c: TestCluster, node: string): Promise<string[]> {
  const pods = (await c.core.listNamespacedPod({ namespace: NS, fieldSelector: `spec.nodeName=${node}` })).items;
  return pods.filter((p) => p.metadata?.deletionTimestamp === undefined).map((p) => p.metadata?.name ?? '');
}

/** Polls every 50 ms, so a kill follows the log line closely. */
async function until(what: string, check: () => boolean, timeoutMs: number, abortIf: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const abort = abortIf();
    if (abort !== undefined) throw new Error(`${what}: ${abort}`);
    if (check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(50);
  }
}

interface DryRun {
  readonly status: { readonly leftovers?: { readonly launches?: readonly { readonly claim: string; readonly node?: string; readonly pods: readonly string[]; readonly onStart: string }[] } };
}

describe('a replacement through Karpenter, SIGKILLed', () => {
  let big = '';

  before(async () => {
    const c = cluster();
    const custom = c.kc.makeApiClient(CustomObjectsApi);
    // Only the big type at first, one node at most: Karpenter launches the m5.2xlarge for the pods.
    await custom.createClusterCustomObject({ ...NODE_POOLS, body: nodePool(POOL, ['m5.2xlarge'], '1') });
    await poolReady(c, POOL);
    await createNamespace(c.core, NS);
    big = await deployOnPool(c, NS, 'gamma', POOL);
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name: 'delta' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'delta' } } } } });
    assert.equal(await deployOnPool(c, NS, 'delta', POOL, { replicas: 2, cpu: '1000m' }), big, 'delta joins gamma on the one node of the pool');
    // Now the m5.xlarge too (3.5 of its ~3.9 allocatable cpus requested), and room for one more node.
    await patchPool(c, POOL, { limits: { nodes: '2' }, template: (nodePool(POOL, ['m5.xlarge', 'm5.2xlarge'], '2').spec as { template: unknown }).template });
    await poolReady(c, POOL);
  }, { timeout: 10 * 60_000 });

  test('SIGKILLed mid-replacement, the restarted descheduler leaves no empty Stowage-launched NodeClaim, no taint, and no workload below its floor', { timeout: 12 * 60_000 }, async (t) => {
    const c = cluster();
    const random = new RandomSource(SEED).stream('karpenter-kills');
    // No anti-flap rest: each round's process is new, and each should find the replacement to do.
    const work = writeDeschedulerConfig(dir, 'work', ['antiFlap: { minMoveIntervalSeconds: 0 }'], {
      strategies: '{ consolidate: { enabled: false }, spot-reschedule: { enabled: false }, karpenter-consolidate: { enabled: true, settleSeconds: 0 } }',
    });
    // Nothing to plan: a start with it only recovers.
    const idle = writeDeschedulerConfig(dir, 'idle', [], { strategies: '{ consolidate: { enabled: false }, spot-reschedule: { enabled: false }, karpenter-consolidate: { enabled: false } }' });
    const connection = ['--kubeconfig', c.state.kubeconfigPath];
    const watches = APPS.map((a) => ({ a, watch: new MinReadyWatch(c, NS, `app=${a.app}`, a.replicas) }));
    for (const { watch } of watches) await watch.start();
    t.after(async () => {
      for (const { watch } of watches) await watch.stop();
    });

    // The pool's disruption budget first: none of its nodes at once, so nothing is planned for it, and the dry run says why.
    const budgets = (nodePool(POOL, [], '2').spec as { disruption: { budgets: unknown[] } }).disruption.budgets;
    await patchPool(c, POOL, { disruption: { budgets: [{ nodes: '0' }] } });
    const closed = await runCli(['deschedule', ...connection, '--config', work, '--dry-run', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
    assert.equal(closed.code, 0, closed.stderr);
    const closedPlan = JSON.parse(closed.stdout) as { status: { launches?: unknown[]; drains: unknown[]; skipped: { node: string; strategy: string; reason: { code: string; message: string } }[] } };
    assert.deepEqual([closedPlan.status.launches, closedPlan.status.drains], [undefined, []], closed.stdout);
    const held = closedPlan.status.skipped.find((x) => x.node === big && x.strategy === 'karpenter-consolidate');
    assert.equal(held?.reason.code, 'disruption-budget', closed.stdout);
    assert.match(held?.reason.message ?? '', /NodePool "crash" allows disrupting 0 more node\(s\), 1 wanted: its budget allows 0 of its 1 node\(s\) at once for Underutilized/);
    notes.push(`budget of 0 nodes: nothing planned, the dry run says "${held?.reason.message ?? ''}"`);
    await patchPool(c, POOL, { disruption: { budgets } });

    for (const [i, round] of ROUNDS.entries()) {
      const n = i + 1;
      const killer = new ControllerProcess(`descheduler-${n}`, ['deschedule', ...connection, '--config', work, '--once', '-o', 'json']);
      t.after(() => killer.kill('SIGKILL'));
      await until(`round ${n}: the log line to kill after`, () => killer.find(round.after).length > 0, 180_000, () => killer.diedEarly());
      const delay = Math.round(random.uniform(0, round.maxDelayMs));
      await sleep(delay);
      assert.ok(killer.running, `round ${n}: the descheduler was still at work when killed (${delay} ms after the line): ${killer.stderr.slice(-1500)}`);
      killer.kill('SIGKILL');
      await killer.exited;
      const claimField = killer.find(/^Created a NodeClaim for a replacement node$/)[0]?.['nodeClaim'];
      const created = typeof claimField === 'string' ? claimField : '';
      assert.notEqual(created, '', `round ${n}: the killed run created a NodeClaim`);
      const moves = killer.find(/^(Surge started: replacement first|Eviction started)$/).length;
      const killed = await left(c);
      assert.ok(killed.nodes.includes(big), `round ${n}: the kill left the replaced node tainted (${JSON.stringify(killed)})`);
      assert.ok(killed.claims.some((cl) => cl.name === created), `round ${n}: the kill left its NodeClaim`);

      // The dry run reports the claim the killed run left and changes nothing.
      const dry = await runCli(['deschedule', ...connection, '--config', idle, '--dry-run', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
      assert.equal(dry.code, 0, dry.stderr);
      const reported = (JSON.parse(dry.stdout) as DryRun).status.leftovers?.launches ?? [];
      assert.deepEqual(reported.map((l) => l.claim), [created], `round ${n}: --dry-run reports the claim the kill left`);
      if (n === 1) assert.equal(reported[0]?.onStart, 'delete', 'right after its creation no pod runs on the new node');
      assert.deepEqual((await left(c)).nodes, killed.nodes, 'a dry run changes nothing');

      // The restart recovers.
      const restart = await runCli(['deschedule', ...connection, '--config', idle, '--once', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'info' });
      assert.equal(restart.code, 0, restart.stderr);
      const deletedClaim = /"msg":"Deleted the NodeClaim of an empty replacement an earlier run left"/.test(restart.stderr);
      const keptClaim = /"msg":"Kept the replacement node an earlier run launched: pods were moved onto it"/.test(restart.stderr);
      assert.ok(deletedClaim !== keptClaim, `round ${n}: the restart deleted or kept the claim, one of the two: ${restart.stderr.slice(-2000)}`);
      // Karpenter removes what was deleted (a deleted claim's node keeps the taint recovery put on it until it goes).
      const stillTainted = (await left(c)).nodes;
      await waitFor(`round ${n}: Karpenter to remove the deleted NodeClaims and their nodes`, async () => {
        const claims = await claimsOf(c, POOL);
        const claimed = new Set(claims.map((cl) => cl.nodeName));
        const poolNodes = (await c.core.listNode({ labelSelector: `karpenter.sh/nodepool=${POOL}` })).items;
        return claims.every((cl) => !cl.deleting) && poolNodes.every((node) => claimed.has(node.metadata?.name ?? ''));
      }, { timeoutMs: 120_000, intervalMs: 500 });
      const recovered = await left(c);
      assert.deepEqual([recovered.nodes, recovered.surged], [[], []], `round ${n}: no Stowage taint, drain record or replaced strategy left (right after the restart: ${JSON.stringify(stillTainted)})`);
      // What stays of Stowage's launches runs moved pods.
      const stowageClaims = (await claimsOf(c, POOL)).filter((cl) => cl.launchedFor !== undefined);
      for (const cl of stowageClaims) assert.ok(cl.nodeName !== '' && (await podsOn(c, cl.nodeName)).length > 0, `round ${n}: Stowage-launched NodeClaim "${cl.name}" runs pods (node "${cl.nodeName}")`);
      assert.equal(stowageClaims.some((cl) => cl.name === created), keptClaim, `round ${n}: the claim is there exactly when the restart kept it`);
      notes.push(`round ${n}: killed ${delay} ms ${round.what} (${moves} move(s) started); restart ${deletedClaim ? 'deleted the empty claim' : `kept the claim: its node runs ${(await podsOn(c, stowageClaims[0]?.nodeName ?? '')).join(', ')}`}`);
      if (keptClaim) {
        notes.push(`rounds stop after round ${n}: the replacement was kept, so the cluster differs from the one the rounds start from`);
        break;
      }
      // Back where the rounds start: the one big node runs every pod, and the pool counts one node again.
      await waitFor(`round ${n}: every pod serving on "${big}" again`, async () => {
        for (const a of APPS) {
          const pods = (await podsOf(c, NS, a.app)).filter((p) => p.metadata?.deletionTimestamp === undefined);
          if (pods.length !== a.replicas || !pods.every((p) => p.spec?.nodeName === big && servesTraffic(p))) return false;
        }
        return true;
      }, { timeoutMs: 60_000, intervalMs: 250 });
      await waitFor('the pool to count one node', async () => {
        const pool = (await c.kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({ ...NODE_POOLS, name: POOL })) as { status?: { resources?: { nodes?: string } } };
        return (pool.status?.resources?.nodes ?? '1') === '1';
      }, { timeoutMs: 60_000, intervalMs: 500 });
    }

    await waitFor('every workload settled', async () => {
      for (const a of APPS) if ((await podsOf(c, NS, a.app)).filter(servesTraffic).length !== a.replicas) return false;
      return true;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    for (const { a, watch } of watches) {
      notes.push(`${a.app}: lowest Ready ${watch.minReady}/${a.replicas} (floor ${a.floor}, ${watch.events} watch events, ${watch.uids.length} pods)`);
      assert.ok(watch.minReady >= a.floor, `${a.app} went below its floor of ${a.floor}: ${watch.minReady} Ready`);
    }
  });
});
