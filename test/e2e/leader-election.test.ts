/**
 * Two `stowage deschedule --leader-elect` processes on a real control plane, each as the shipped
 * ServiceAccount (so the Lease Role in deploy/descheduler is what they have): only the Lease's
 * holder plans and drains; SIGKILL it mid-drain and the other takes the Lease within the lease
 * time, rolls the dead leader's drain back and finishes the job; no node is left tainted, and the
 * workload never goes below its PDB's floor. A leader that loses the Lease without dying wins it
 * back and works on (a second term builds a new cluster cache on the same metrics registry).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { DRAINING_TAINT } from '../../src/controllers/deschedule/drain-state.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { onDemandAndSpot } from './support/nodes.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { ControllerProcess } from './support/controller-process.js';
import { handoverBoundMs, leaseHolder } from './support/leases.js';
import { MinReadyWatch, servesTraffic } from './support/ready-watch.js';
import { kubeconfigForServiceAccount } from './support/service-account.js';

const LEASE_S = 4;
const RENEW_S = 3;
const RETRY_MS = 500;
const ON_DEMAND = 'on-demand';
const SPOT = ['spot-1', 'spot-2'];

const cluster = useCluster({
  podStartupMs: 1500,
  nodes: onDemandAndSpot('4', '16Gi'),
});
const dir = mkdtempSync(join(tmpdir(), 'stowage-leader-e2e-'));
const notes: string[] = [];
const CONFIG = ['apiVersion: stowage.io/v1alpha1', 'kind: DeschedulerConfiguration', 'spec:', '  deschedule:', '    eviction: { minPodAgeSeconds: 0 }', '    strategies: { consolidate: { enabled: false } }', '  replacementTimeoutSeconds: 120', ''].join('\n');
after(() => process.stdout.write(`# leader election e2e observations:\n${notes.map((l) => `#   ${l}\n`).join('')}`));

async function tainted(c: TestCluster): Promise<string[]> {
  return (await c.core.listNode()).items.filter((n) => (n.spec?.taints ?? []).some((t) => t.key === DRAINING_TAINT.key)).map((n) => n.metadata?.name ?? '');
}

async function holder(c: TestCluster): Promise<string> {
  return leaseHolder(c, 'stowage-descheduler');
}

test('only the leader acts; SIGKILL hands over within the lease time and leaves no node tainted', { timeout: 8 * 60_000 }, async (t) => {
  const c = cluster();
  const kubeconfig = await kubeconfigForServiceAccount(c, 'descheduler', 'stowage-system', 'stowage-descheduler', dir);
  const config = join(dir, 'descheduler.yaml');
  writeFileSync(config, CONFIG);

  // Three replicas on the on-demand node under a PDB allowing one disruption: a drain of three waves.
  const ns = 'le';
  await createNamespace(c.core, ns);
  for (const name of SPOT) await c.core.patchNode({ name, body: [{ op: 'replace', path: '/spec/unschedulable', value: true }] });
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'registry.example/web:1', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] } } } },
  });
  await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } } });
  await waitFor('3 Ready web pods on on-demand and the PDB allowing 1', async () => {
    const pods = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
    const pdb = await c.policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns });
    return pods.length === 3 && pods.every((p) => servesTraffic(p) && p.spec?.nodeName === ON_DEMAND) && pdb.status?.disruptionsAllowed === 1;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  const watch = new MinReadyWatch(c, ns, 'app=web', 3);
  await watch.start();
  t.after(() => watch.stop());

  const args = ['deschedule', '--kubeconfig', kubeconfig, '--config', config, '--interval', '1s', '--leader-elect', `--leader-elect-lease-duration=${LEASE_S}s`, `--leader-elect-renew-deadline=${RENEW_S}s`, `--leader-elect-retry-period=${RETRY_MS}ms`];
  const a = new ControllerProcess('descheduler-a', args);
  const b = new ControllerProcess('descheduler-b', args);
  t.after(async () => {
    for (const p of [a, b]) p.kill('SIGKILL');
    await Promise.all([a.exited, b.exited]);
  });
  const identity = (p: ControllerProcess): string => (p.find(/^Became leader$/)[0]?.['identity'] as string | undefined) ?? '';
  const diedEarly = (): string | undefined => a.diedEarly() ?? b.diedEarly();
  await waitFor('one of the two to lead', async () => identity(a) !== '' || identity(b) !== '', { timeoutMs: 60_000, intervalMs: 100, abortIf: diedEarly });
  const [leader, standby] = identity(a) !== '' ? [a, b] : [b, a];
  const leaderId = identity(leader);
  assert.equal(await holder(c), leaderId, 'the Lease names the leader');

  // Both standing: only the leader plans. Free the spot nodes now, so its plan is a drain.
  await waitFor('the standby to see the Lease held', async () => standby.find(/standing by/).length > 0, { timeoutMs: 30_000, intervalMs: 100, abortIf: diedEarly });
  for (const name of SPOT) await c.core.patchNode({ name, body: [{ op: 'replace', path: '/spec/unschedulable', value: false }] });
  let evictedAtKill = 0;
  await waitFor('the leader to taint the node and move a pod', async () => {
    if (!(await tainted(c)).includes(ON_DEMAND)) return false;
    const pods = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.filter((p) => p.spec?.nodeName === ON_DEMAND && p.metadata?.deletionTimestamp === undefined);
    evictedAtKill = 3 - pods.length;
    return pods.length < 3;
  }, { timeoutMs: 120_000, intervalMs: 25, abortIf: diedEarly });
  assert.ok(leader.find(/^Planned$/).length > 0, 'the leader planned');
  assert.deepEqual(standby.find(/^(Planned|Drain started|Cluster cache synced)$/).map((l) => l.msg), [], 'the standby neither plans nor caches while the other leads');

  // SIGKILL mid-drain: no chance to roll back or release the Lease.
  leader.kill('SIGKILL');
  const killedAt = Date.now();
  await leader.exited;
  let handoverMs = 0;
  await waitFor('the standby to hold the Lease', async () => {
    const id = await holder(c);
    if (id === '' || id === leaderId) return false;
    handoverMs = Date.now() - killedAt;
    return true;
  }, { timeoutMs: 60_000, intervalMs: 50, abortIf: () => standby.diedEarly() });
  const standbyId = identity(standby) || (await holder(c));
  assert.equal(await holder(c), standbyId);
  const bound = handoverBoundMs(LEASE_S, RETRY_MS);
  assert.ok(handoverMs <= bound, `handover in ${handoverMs} ms, within ${bound} ms`);

  // The new leader rolls the dead one's drain back, then finishes the move from a fresh plan.
  await waitFor('3 Ready web pods on spot and no node tainted', async () => {
    const pods = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
    return pods.length === 3 && pods.every((p) => servesTraffic(p) && SPOT.includes(p.spec?.nodeName ?? '')) && (await tainted(c)).length === 0;
  }, { timeoutMs: 180_000, intervalMs: 250, abortIf: () => standby.diedEarly() });
  const untaintedAt = standby.find(/^Rolled back a drain left by an earlier run$/)[0]?.at;
  assert.ok(untaintedAt !== undefined, 'the new leader rolled back the drain the dead leader left');
  assert.deepEqual(await tainted(c), [], 'no node tainted');
  await watch.stop();
  assert.ok(watch.minReady >= 2, `the PDB floor of 2 held at every event (saw ${watch.minReady})`);

  // Who acted, as the cluster recorded it: each Event names the replica that wrote it.
  const events = (await c.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === 'Descheduled');
  const writers = new Set(events.map((e) => e.reportingInstance ?? ''));
  // The dead leader may die before it records the pod it evicted; the new leader records every pod it moves.
  assert.ok(events.length >= 3 - evictedAtKill, `an Event per pod the new leader moved (${events.length})`);
  assert.ok(events.some((e) => e.reportingInstance === standbyId), 'the new leader moved pods');
  assert.ok([...writers].every((w) => w === leaderId || w === standbyId), `only the two leaders in turn wrote Events: ${[...writers].join(', ')}`);
  const beforeKill = events.filter((e) => new Date(e.firstTimestamp ?? 0).getTime() < killedAt).map((e) => e.reportingInstance);
  assert.ok(beforeKill.every((w) => w === leaderId), 'before the kill, only the first leader moved pods');
  const leaseEvents = (await c.core.listNamespacedEvent({ namespace: 'stowage-system' })).items.filter((e) => e.reason === 'LeaderElection').map((e) => e.message ?? '');
  assert.ok(leaseEvents.includes(`${leaderId} became leader`) && leaseEvents.includes(`${standbyId} became leader`), `LeaderElection Events: ${leaseEvents.join('; ')}`);

  // A graceful stop releases the Lease at once.
  standby.kill('SIGTERM');
  assert.equal(await standby.exited, 0, standby.stderr.slice(-2000));
  assert.equal(await holder(c), '', 'SIGTERM released the Lease');
  notes.push(`leader killed (SIGKILL) with the node tainted and ${evictedAtKill} of 3 pods evicted; handover ${handoverMs} ms (lease ${LEASE_S}s, renew ${RENEW_S}s, retry ${RETRY_MS}ms; bound ${bound} ms); drain rolled back ${untaintedAt - killedAt} ms after the kill; min Ready ${watch.minReady}/3 (PDB floor 2); Descheduled Events ${events.length} from ${writers.size} leader(s)`);
});

test('a leader that loses the Lease while alive wins it back and plans again', { timeout: 4 * 60_000 }, async (t) => {
  const c = cluster();
  const kubeconfig = await kubeconfigForServiceAccount(c, 'descheduler', 'stowage-system', 'stowage-descheduler', dir);
  const config = join(dir, 'descheduler.yaml');
  writeFileSync(config, CONFIG);
  const p = new ControllerProcess('descheduler-c', ['deschedule', '--kubeconfig', kubeconfig, '--config', config, '--interval', '1s', '--leader-elect', `--leader-elect-lease-duration=${LEASE_S}s`, `--leader-elect-renew-deadline=${RENEW_S}s`, `--leader-elect-retry-period=${RETRY_MS}ms`]);
  t.after(async () => {
    p.kill('SIGKILL');
    await p.exited;
  });
  const terms = (): number => p.find(/^Became leader$/).length;
  await waitFor('the replica to lead and plan', async () => terms() === 1 && p.find(/^Planned$/).length > 0, { timeoutMs: 60_000, intervalMs: 100, abortIf: () => p.diedEarly() });
  const identity = await holder(c);

  // Another holder renews the Lease as if it had won it: the replica fails to renew, stops
  // working, and takes the Lease back once that holder stops renewing.
  const leases = c.kc.makeApiClient(CoordinationV1Api);
  // The leader renews every retry period: a write between our read and replace is a 409, read again.
  let stolenAt = 0;
  for (let attempt = 1; stolenAt === 0; attempt++) {
    const lease = await leases.readNamespacedLease({ name: 'stowage-descheduler', namespace: 'stowage-system' });
    const now = Date.now();
    try {
      await leases.replaceNamespacedLease({ name: 'stowage-descheduler', namespace: 'stowage-system', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'e2e-thief', leaseDurationSeconds: LEASE_S, renewTime: new V1MicroTime(now), acquireTime: new V1MicroTime(now) } } });
      stolenAt = now;
    } catch (error) {
      if ((error as { code?: number }).code !== 409 || attempt >= 20) throw error;
    }
  }
  await waitFor('the replica to lose and win the Lease back', async () => terms() === 2 && (await holder(c)) === identity, { timeoutMs: 60_000, intervalMs: 100, abortIf: () => p.diedEarly() });
  const regainedMs = Date.now() - stolenAt;
  assert.ok(p.find(/^Lost leadership/).length === 1, 'the first term ended on the failed renewals');
  const plannedBefore = p.find(/^Planned$/).length;
  await waitFor('a plan in the second term', async () => p.find(/^Planned$/).length > plannedBefore, { timeoutMs: 30_000, intervalMs: 100, abortIf: () => p.diedEarly() });
  assert.equal(p.find(/^Cluster cache synced$/).length, 2, 'one cluster cache per term');
  assert.equal(p.diedEarly(), undefined);
  notes.push(`Lease taken by another holder: the replica lost it and led again ${regainedMs} ms later, planning in its second term`);
});
