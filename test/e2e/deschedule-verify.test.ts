/**
 * Moves are verified, not assumed, on a real control plane without the placement webhook: a
 * single-replica Deployment on an on-demand node is moved by spot-reschedule, and kube-scheduler
 * (nothing pins the replacement to spot) puts the replacement on the other, emptier on-demand
 * node. The descheduler, a real `stowage deschedule` loop, must report the drain failed with the
 * `misplaced` reason (log, Event, metric), claim no saving, and not move the workload again within
 * its anti-flap window, although its node backoff is one second and cycles run every two. The
 * pods are watched through the project's informer: a move is a new pod uid.
 *
 * The control: the same loop with the anti-flap interval at 0 moves it again, which is the bounce
 * the issue saw (on-demand-1 → on-demand-2 → on-demand-1).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, waitFor } from '../../src/devcluster/processes.js';
import { DRAIN_ANNOTATION, DRAINING_TAINT, SURGE_ANNOTATION } from '../../src/controllers/deschedule/drain-state.js';
import { createNamespace, E2E_POD_STARTUP, useCluster, type TestCluster } from './support/cluster.js';
import { ControllerProcess, type LogLine } from './support/controller-process.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { capacityNodes } from './support/nodes.js';
import { MinReadyWatch, servesTraffic } from './support/ready-watch.js';
import { deployOnNode, podsOf } from './support/workloads.js';

const cluster = useCluster({ ...E2E_POD_STARTUP, nodes: capacityNodes(2, 1) });
const OD1 = 'on-demand-1';
const OD2 = 'on-demand-2';
const SPOT = 'spot';
const dir = mkdtempSync(join(tmpdir(), 'stowage-verify-e2e-'));
const notes: string[] = [];
after(() => process.stdout.write(`# deschedule-verify e2e observations:\n${notes.map((l) => `#   ${l}\n`).join('')}`));

/** A config whose node backoff (1 s) is too short to stop a bounce: only the anti-flap rule can. */
function config(minMoveIntervalSeconds: number): string {
  return writeDeschedulerConfig(dir, `descheduler-${minMoveIntervalSeconds}`, ['backoff: { baseSeconds: 1, maxSeconds: 1 }', `antiFlap: { minMoveIntervalSeconds: ${minMoveIntervalSeconds}, maxMovesPerHour: 100 }`]);
}

async function metric(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((kv) => l.includes(kv)));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function drainingNodes(c: TestCluster): Promise<string[]> {
  return (await c.core.listNode()).items
    .filter((n) => (n.spec?.taints ?? []).some((t) => t.key === DRAINING_TAINT.key) || n.metadata?.annotations?.[DRAIN_ANNOTATION] !== undefined)
    .map((n) => n.metadata?.name ?? '');
}

test('a spot-reschedule replacement that lands back on on-demand is reported failed, claims nothing, and is not moved again within the anti-flap window', { timeout: 5 * 60_000 }, async (t) => {
  const c = cluster();
  const ns = 'verify';
  await createNamespace(c.core, ns);
  // The spot node is three-quarters full: the bouncer still fits (so the plan moves it there), but
  // kube-scheduler's LeastAllocated scoring prefers the empty on-demand node.
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'filler' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'filler' } },
        template: {
          metadata: { labels: { app: 'filler' } },
          spec: { nodeSelector: { 'node.kubernetes.io/capacity': 'spot' }, terminationGracePeriodSeconds: 1, containers: [{ name: 'filler', image: 'registry.example/filler:1', resources: { requests: { cpu: '3', memory: '1Gi' } } }] },
        },
      },
    },
  });
  await waitFor('the filler Ready on spot', async () => (await podsOf(c, ns, 'filler')).some((p) => servesTraffic(p) && p.spec?.nodeName === SPOT), { timeoutMs: 120_000, intervalMs: 200 });
  await deployOnNode(c, ns, 'bouncer', 1, { node: OD1, cordon: [OD2, SPOT] });
  const strategyBefore = (await c.apps.readNamespacedDeployment({ name: 'bouncer', namespace: ns })).spec?.strategy;
  const watch = new MinReadyWatch(c, ns, 'app=bouncer', 1);
  await watch.start();
  t.after(() => watch.stop());
  assert.equal(watch.uids.length, 1);

  const port = (await freePorts(1))[0] as number;
  const loop = new ControllerProcess('descheduler', ['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', config(600), '--interval', '2s', '--metrics-listen', `127.0.0.1:${port}`]);
  t.after(() => loop.kill('SIGKILL'));
  const ended = () => loop.find(/^Drain (failed|done)/).find((l) => l['node'] === OD1);
  await waitFor('the drain of on-demand-1 to end', async () => ended() !== undefined, { timeoutMs: 120_000, intervalMs: 200, abortIf: () => loop.diedEarly() });
  const failedAt = ended() as LogLine;
  assert.equal(failedAt.msg, 'Drain failed: rolled back', JSON.stringify(failedAt));
  assert.equal(failedAt['code'], 'misplaced');
  const message = String(failedAt['reason']);
  assert.match(message, /^The replacement of pod "verify\/bouncer-[a-z0-9-]+" landed on on-demand node "on-demand-2", not on spot as planned: nothing placed it on spot \(no placement webhook admitted it\) and the scheduler chose that node; no saving is claimed$/);

  // What the API shows: the replacement runs on on-demand-2; no node keeps a taint or record; the strategy is back.
  const pods = (await podsOf(c, ns, 'bouncer')).filter((p) => p.metadata?.deletionTimestamp === undefined);
  assert.deepEqual(pods.map((p) => p.spec?.nodeName), [OD2]);
  assert.deepEqual(await drainingNodes(c), []);
  const d = await c.apps.readNamespacedDeployment({ name: 'bouncer', namespace: ns });
  assert.deepEqual(d.spec?.strategy, strategyBefore);
  assert.equal(d.metadata?.annotations?.[SURGE_ANNOTATION], undefined);
  // Event, metric, and no saving anywhere.
  const events = (await c.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === 'MoveMisplaced');
  assert.equal(events.length, 1);
  assert.match(events[0]?.message ?? '', /but not done: The replacement of pod .* landed on on-demand node "on-demand-2"/);
  const nodeEvents = (await c.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${OD1}` })).items.filter((e) => e.reason === 'DrainFailed');
  assert.equal(nodeEvents.length, 1);
  await waitFor('the metrics', async () => (await metric(port, 'stowage_descheduler_evictions_total', 'outcome="misplaced"')) === 1, { timeoutMs: 10_000, intervalMs: 200 });
  assert.equal(await metric(port, 'stowage_descheduler_drains_total', 'outcome="failed"'), 1);
  assert.equal(await metric(port, 'stowage_descheduler_drains_total', 'outcome="done"'), 0);
  assert.equal(await metric(port, 'stowage_descheduler_realised_saving_usd_per_hour_total', 'strategy="spot-reschedule"'), 0);
  const cycle = loop.find(/^Cycle done$/).find((l) => (l['drains'] as { code: string }[]).some((x) => x.code === 'misplaced'));
  assert.equal(cycle?.['realisedSavingUsdPerHour'], 0);

  // Anti-flap: later cycles see on-demand-2 (where the bouncer now runs) and leave it; the watch sees no new pod.
  const planned = loop.find(/^Planned$/).length;
  await waitFor('5 more cycles', async () => loop.find(/^Planned$/).length >= planned + 5, { timeoutMs: 60_000, intervalMs: 200, abortIf: () => loop.diedEarly() });
  const skipped = (await c.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${OD2}` })).items.filter((e) => e.reason === 'DeschedulingSkipped');
  assert.ok(skipped.some((e) => /was moved lately and rests another \d+s \(anti-flap\)/.test(e.message ?? '')), JSON.stringify(skipped.map((e) => e.message)));
  assert.equal(watch.uids.length, 2, 'one move only: the original pod and its replacement');
  assert.equal(loop.find(/^(Surge|Eviction) started/).length, 1, 'no second move started');
  assert.ok(watch.minReady >= 1, `never without a Ready replica (saw ${watch.minReady})`);
  const cycles = loop.find(/^Planned$/).length;
  notes.push(`misplaced: "${message}"; ${cycles} cycles, 1 move (2 pod uids), min Ready ${String(watch.minReady)}/1; skip on ${OD2}: "${skipped[0]?.message ?? ''}"`);
  loop.kill('SIGTERM');
  assert.equal(await loop.exited, 0);

  // The control: without the rule the same loop moves it again at once (the bounce).
  const control = new ControllerProcess('descheduler-no-anti-flap', ['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', config(0), '--interval', '2s']);
  t.after(() => control.kill('SIGKILL'));
  await waitFor('a second move without the anti-flap rule', async () => watch.uids.length >= 3, { timeoutMs: 60_000, intervalMs: 200, abortIf: () => control.diedEarly() });
  await waitFor('that move to end', async () => control.find(/^Drain (failed|done)/).some((l) => l['node'] === OD2), { timeoutMs: 60_000, intervalMs: 200, abortIf: () => control.diedEarly() });
  control.kill('SIGTERM');
  assert.equal(await control.exited, 0);
  const where = (await podsOf(c, ns, 'bouncer')).filter((p) => p.metadata?.deletionTimestamp === undefined).map((p) => p.spec?.nodeName);
  assert.deepEqual(await drainingNodes(c), []);
  assert.ok(watch.minReady >= 1, `never without a Ready replica (saw ${watch.minReady})`);
  notes.push(`control (anti-flap off): moved again from ${OD2}, now on [${where.join(', ')}]; ${control.find(/^Drain failed/).map((l) => String(l['code'])).join(', ')}`);
});
