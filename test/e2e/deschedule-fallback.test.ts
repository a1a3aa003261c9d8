/**
 * Replicas that fell back to on-demand go back to spot once spot has room again, on a real control
 * plane with the real placement webhook (`stowage webhook --config F`) and `stowage deschedule
 * --config F --once` from the same file, spot-reschedule with its defaults (a drain must free the
 * node). While spot and the second on-demand node are cordoned, the webhook puts web's floor pod
 * (required on on-demand) and its two other replicas (spot preferred, on-demand allowed) on
 * "on-demand-1". Moving the two alone would leave the floor pod holding the node, so the cycle
 * drains the node whole: the replicas above the floor to spot, the floor to "on-demand-2". The test
 * watches the pods itself: never below the PDB, and at the end exactly the floor on on-demand.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { E2E_POD_STARTUP, useCluster } from './support/cluster.js';
import type { TestCluster } from './support/cluster.js';
import { runCli } from './support/exec.js';
import { placementWebhookSuite } from './support/placement-webhook.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { capacityNodes } from './support/nodes.js';
import { MinReadyWatch, servesTraffic as serves } from './support/ready-watch.js';
import { podsOf, setCordoned } from './support/workloads.js';

const cluster = useCluster({ ...E2E_POD_STARTUP, nodes: capacityNodes(2, 2) });
const NS = 'fallback';
const FULL = 'on-demand-1';
const OTHER = 'on-demand-2';
const SPOT = ['spot-1', 'spot-2'];
const WORK = mkdtempSync(join(tmpdir(), 'stowage-fallback-e2e-'));
/** Both commands read this file: the webhook's floor of one pod, spot-reschedule with its defaults, consolidation off. */
const CONFIG = writeDeschedulerConfig(WORK, 'stowage', [], { strategies: '{ consolidate: { enabled: false } }', webhookPlacement: '{ base: 1, percent: 0 }' });
const REPLICAS = 3;

interface RunReport {
  readonly report?: { readonly drains: readonly { readonly node: string; readonly outcome: string }[] };
  readonly status: {
    readonly drains: readonly { readonly node: string; readonly reason: { readonly code: string }; readonly savingUsdPerHour: number; readonly staying: readonly unknown[] }[];
    readonly moves: readonly { readonly pod: { readonly name: string }; readonly toNode: string; readonly capacityType?: string }[];
    readonly skipped: readonly { readonly node: string; readonly strategy: string; readonly reason: { readonly code: string; readonly message: string } }[];
  };
}

async function livePods(c: TestCluster): Promise<V1Pod[]> {
  return (await podsOf(c, NS, 'web')).filter((p) => p.metadata?.deletionTimestamp === undefined);
}

async function deschedule(c: TestCluster, mode: '--dry-run' | '--once'): Promise<RunReport> {
  const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', CONFIG, mode, '-o', 'json'], { STOWAGE_LOG_LEVEL: 'warn' });
  assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as RunReport;
}

describe('spot-reschedule moves fallback replicas back to spot', () => {
  const observed = placementWebhookSuite(cluster, { namespace: NS, config: CONFIG, work: WORK, tag: 'DESCHEDULE-FALLBACK-E2E' });

  test('an on-demand node holding fallback replicas beside a floor pod is drained whole: the replicas to spot, the floor to another on-demand node', { timeout: 6 * 60_000 }, async (t) => {
    const c = cluster();
    // Only on-demand-1 is open while web starts: the webhook's fallback puts every replica there.
    await setCordoned(c, [OTHER, ...SPOT], true);
    const template = { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'registry.example/web:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } };
    await c.apps.createNamespacedDeployment({ namespace: NS, body: { metadata: { name: 'web' }, spec: { replicas: REPLICAS, selector: { matchLabels: { app: 'web' } }, template } } });
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } } });
    await waitFor(`${REPLICAS} Ready web pods on "${FULL}"`, async () => {
      const pods = await livePods(c);
      return pods.length === REPLICAS && pods.every((p) => serves(p) && p.spec?.nodeName === FULL);
    }, { timeoutMs: 120_000, intervalMs: 250 });
    const decided = (await livePods(c)).map((p) => p.metadata?.annotations?.['stowage.io/capacity-type']).sort();
    assert.deepEqual(decided, ['on-demand', 'spot', 'spot'], 'the webhook decided one floor pod and two spot replicas that fell back');
    await waitFor('the PDB allows 1', async () => (await c.policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: NS })).status?.disruptionsAllowed === 1, { timeoutMs: 60_000, intervalMs: 200 });
    const before = new Set((await livePods(c)).map((p) => p.metadata?.uid ?? ''));
    // Spot capacity is back, and another on-demand node has room for the floor.
    await setCordoned(c, [OTHER, ...SPOT], false);

    const dry = await deschedule(c, '--dry-run');
    const drain = dry.status.drains.find((d) => d.node === FULL);
    assert.equal(drain?.reason.code, 'drain-empties', JSON.stringify(dry.status));
    assert.ok((drain?.savingUsdPerHour ?? 0) > 0, 'the drain claims the node\'s price');
    assert.deepEqual(dry.status.moves.map((m) => `${m.capacityType}:${m.capacityType === 'spot' ? SPOT.includes(m.toNode) : m.toNode === OTHER}`).sort(), ['on-demand:true', 'spot:true', 'spot:true']);

    const watch = new MinReadyWatch(c, NS, 'app=web', REPLICAS);
    await watch.start();
    t.after(() => watch.stop());
    const run = await deschedule(c, '--once');
    assert.equal(run.report?.drains.find((d) => d.node === FULL)?.outcome, 'done', JSON.stringify(run.report));

    // The end state, through the API: three new Ready pods, exactly the floor on on-demand (not on
    // the drained node), the replicas above it on spot.
    await waitFor('web: 3 Ready pods, 1 on on-demand-2, 2 on spot', async () => {
      const pods = await livePods(c);
      return pods.length === REPLICAS && pods.every(serves) && pods.filter((p) => p.spec?.nodeName === OTHER).length === 1 && pods.filter((p) => SPOT.includes(p.spec?.nodeName ?? '')).length === 2;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    await watch.stop();
    const end = await livePods(c);
    assert.ok(end.every((p) => !before.has(p.metadata?.uid ?? '')), 'every pod was replaced');
    assert.equal(end.filter((p) => p.spec?.nodeName === FULL).length, 0, `nothing of web is left on ${FULL}`);
    assert.equal(end.find((p) => p.spec?.nodeName === OTHER)?.metadata?.annotations?.['stowage.io/capacity-type'], 'on-demand', 'the floor\'s replacement was decided on-demand by the webhook');
    assert.ok(watch.minReady >= REPLICAS - 1, `never below the PDB (saw ${watch.minReady} of ${REPLICAS} Ready)`);
    Object.assign(observed, { moves: dry.status.moves.length, minReady: watch.minReady, watchEvents: watch.events, end: end.map((p) => p.spec?.nodeName).sort() });
  });
});
