/**
 * `stowage scheduler` on a real control plane, run as a process with the shipped ServiceAccount
 * (deploy/scheduler's RBAC is all it has), beside the control plane's kube-scheduler. Everything
 * is checked through the API: spec.nodeName, the PodScheduled condition, Events, pods gone.
 *
 * Nodes are in pools (label `pool`), and each test's pods select their pool, so the tests do not
 * take each other's room.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchedulingV1Api, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { fixtureNodes, type NodeFixture } from '../../src/devcluster/nodes.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { ControllerProcess } from './support/controller-process.js';
import { boundMembers, createPodGroup, installScheduler, podGroupStatus, schedulerPod, type PodGroupStatus } from './support/scheduler.js';

const node = (name: string, count: number, cpu: string, pool: string): NodeFixture['nodes'][number] => ({
  name,
  count,
  capacityType: 'on-demand',
  instanceType: 'm5.large',
  labels: { pool },
  annotations: {},
  taints: [],
  capacity: { cpu, memory: '8Gi', pods: '20' },
});

const cluster = useCluster({
  podTerminationMs: 300,
  nodes: {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'NodeFixture',
    nodes: [node('basic', 1, '4', 'basic'), node('pre', 3, '1', 'pre'), node('gang-fit', 2, '2', 'gang-fit'), node('gang-big', 2, '2', 'gang-big'), node('gang-two', 2, '2', 'gang-two')],
  },
});
const dir = mkdtempSync(join(tmpdir(), 'stowage-scheduler-e2e-'));
const notes: string[] = [];
let scheduler: ControllerProcess | undefined;
after(() => {
  scheduler?.kill('SIGTERM');
  process.stdout.write(`# scheduler e2e observations:\n${notes.map((l) => `#   ${l}\n`).join('')}`);
});

/** Starts the scheduler once, in the first test (a top-level `before` may run beside the cluster's own). */
async function ensureScheduler(): Promise<void> {
  if (scheduler !== undefined) return;
  const c = cluster();
  const { kubeconfig, config } = await installScheduler(c, dir);
  const scheduling = c.kc.makeApiClient(SchedulingV1Api);
  for (const [name, value] of [['low', 10], ['high', 1000]] as const) {
    await scheduling.createPriorityClass({ body: { metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority' } });
  }
  scheduler = new ControllerProcess('stowage scheduler', ['scheduler', `--kubeconfig=${kubeconfig}`, `--config=${config}`, '--log-level=debug']);
  // Compiling the CLI and syncing the cache took over 60 s once at load 28 (nice 10 on 2 cores).
  await waitFor('the scheduler to start', async () => scheduler?.find(/^Scheduler started/).length === 1, { timeoutMs: 240_000, intervalMs: 100, abortIf: () => scheduler?.diedEarly() });
}

const pod = schedulerPod;

async function read(c: TestCluster, ns: string, name: string): Promise<V1Pod> {
  return c.core.readNamespacedPod({ name, namespace: ns });
}

async function eventsOf(c: TestCluster, ns: string, name: string): Promise<CoreV1Event[]> {
  return (await c.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items;
}

/** Who wrote an Event: kube-scheduler writes events.k8s.io Events (reportingController), Stowage both fields. */
const reporter = (e: CoreV1Event): string => e.reportingComponent || e.source?.component || '';

async function bound(c: TestCluster, ns: string, name: string, timeoutMs = 30_000): Promise<V1Pod> {
  let last: V1Pod | undefined;
  await waitFor(`pod ${ns}/${name} to be bound`, async () => ((last = await read(c, ns, name)).spec?.nodeName ?? '') !== '', { timeoutMs, intervalMs: 50, abortIf: () => scheduler?.diedEarly() });
  return last as V1Pod;
}

test('a basic pod is bound: spec.nodeName, PodScheduled=True, a Scheduled Event from "stowage"', { timeout: 5 * 60_000 }, async () => {
  await ensureScheduler();
  const c = cluster();
  await createNamespace(c.core, 'basic');
  const created = Date.now();
  await c.core.createNamespacedPod({ namespace: 'basic', body: pod('web', 'basic', '500m') });
  const p = await bound(c, 'basic', 'web');
  notes.push(`basic pod bound ${Date.now() - created} ms after creation, to ${p.spec?.nodeName}`);
  assert.equal(p.spec?.nodeName, 'basic');
  const condition = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
  assert.equal(condition?.status, 'True', 'the apiserver sets PodScheduled=True on the binding');
  await waitFor('the Scheduled Event', async () => (await eventsOf(c, 'basic', 'web')).some((e) => e.reason === 'Scheduled'), { timeoutMs: 10_000 });
  const event = (await eventsOf(c, 'basic', 'web')).find((e) => e.reason === 'Scheduled') as CoreV1Event;
  assert.equal(event.type, 'Normal');
  assert.equal(reporter(event), 'stowage');
  assert.equal(event.message, 'Successfully assigned basic/web to basic');
});

test('pods for kube-scheduler and for other schedulers are left alone', { timeout: 60_000 }, async () => {
  await ensureScheduler();
  const c = cluster();
  await createNamespace(c.core, 'others');
  await c.core.createNamespacedPod({ namespace: 'others', body: pod('by-default', 'basic', '100m', { schedulerName: 'default-scheduler' }) });
  await c.core.createNamespacedPod({ namespace: 'others', body: pod('by-nobody', 'basic', '100m', { schedulerName: 'someone-else' }) });
  // A pod of ours created after both: once it is bound, the scheduler has seen the other two.
  await c.core.createNamespacedPod({ namespace: 'others', body: pod('marker', 'basic', '100m') });
  await bound(c, 'others', 'marker');
  await bound(c, 'others', 'by-default');
  await new Promise((r) => setTimeout(r, 1_500));
  const byDefault = await eventsOf(c, 'others', 'by-default');
  assert.ok(byDefault.some((e) => e.reason === 'Scheduled' && reporter(e) === 'default-scheduler'), 'kube-scheduler bound its pod');
  assert.ok(!byDefault.some((e) => reporter(e) === 'stowage'), 'no Event of ours on kube-scheduler\'s pod');
  const nobody = await read(c, 'others', 'by-nobody');
  assert.equal(nobody.spec?.nodeName ?? '', '', 'a pod for another scheduler stays unbound');
  assert.equal(nobody.status?.conditions?.find((x) => x.type === 'PodScheduled'), undefined, 'and gets no condition from us');
  assert.deepEqual((await eventsOf(c, 'others', 'by-nobody')).map((e) => e.reason), []);
});

test('a pending pod is bound within seconds of a node appearing, after FailedScheduling in kube-scheduler\'s words', { timeout: 90_000 }, async () => {
  await ensureScheduler();
  const c = cluster();
  await createNamespace(c.core, 'late');
  await c.core.createNamespacedPod({ namespace: 'late', body: pod('waiting', 'late', '500m') });
  let unschedulable: V1Pod | undefined;
  await waitFor('the PodScheduled=False condition', async () => (unschedulable = await read(c, 'late', 'waiting')).status?.conditions?.some((x) => x.type === 'PodScheduled' && x.status === 'False') === true, { timeoutMs: 20_000, intervalMs: 100 });
  const condition = unschedulable?.status?.conditions?.find((x) => x.type === 'PodScheduled');
  assert.equal(condition?.reason, 'Unschedulable');
  assert.equal(condition?.message, "0/10 nodes are available: 10 node(s) didn't match Pod's node affinity/selector. preemption: 0/10 nodes are available: 10 Preemption is not helpful for scheduling.");
  const failed = (await eventsOf(c, 'late', 'waiting')).find((e) => e.reason === 'FailedScheduling');
  assert.equal(failed?.type, 'Warning');
  assert.equal(failed?.message, condition?.message);

  // Past the first backoff: what brings it back is the node event, not a timer.
  await new Promise((r) => setTimeout(r, 2_000));
  const [late] = fixtureNodes({ apiVersion: 'stowage.io/v1alpha1', kind: 'NodeFixture', nodes: [node('late', 1, '2', 'late')] });
  const created = Date.now();
  await c.core.createNode({ body: late as NonNullable<typeof late> });
  const p = await bound(c, 'late', 'waiting', 15_000);
  const ms = Date.now() - created;
  notes.push(`pending pod bound ${ms} ms after its node was created`);
  assert.equal(p.spec?.nodeName, 'late');
  assert.ok(ms < 5_000, `bound ${ms} ms after the node appeared`);
});

test('three low-priority pods fill the nodes; a high-priority pod preempts exactly one and is bound to its nominated node', { timeout: 120_000 }, async () => {
  await ensureScheduler();
  const c = cluster();
  await createNamespace(c.core, 'pre');
  // 700m of each 1-cpu node: a 500m pod fits nowhere until one of them goes.
  for (const name of ['low-1', 'low-2', 'low-3']) await c.core.createNamespacedPod({ namespace: 'pre', body: pod(name, 'pre', '700m', { priorityClassName: 'low' }) });
  const lows = new Map<string, { uid: string; node: string }>();
  for (const name of ['low-1', 'low-2', 'low-3']) {
    const p = await bound(c, 'pre', name);
    lows.set(name, { uid: p.metadata?.uid ?? '', node: p.spec?.nodeName ?? '' });
  }
  assert.equal(new Set([...lows.values()].map((l) => l.node)).size, 3, 'one low pod per node');

  await c.core.createNamespacedPod({ namespace: 'pre', body: pod('vip', 'pre', '500m', { priorityClassName: 'high' }) });
  let nominated = '';
  await waitFor('the high-priority pod to be nominated', async () => {
    const p = await read(c, 'pre', 'vip');
    nominated = p.status?.nominatedNodeName ?? '';
    return nominated !== '' || (p.spec?.nodeName ?? '') !== '';
  }, { timeoutMs: 20_000, intervalMs: 50 });
  const vip = await bound(c, 'pre', 'vip', 30_000);
  assert.notEqual(nominated, '', 'status.nominatedNodeName was set before the bind');
  assert.equal(vip.spec?.nodeName, nominated, 'bound to the nominated node');

  const remaining = (await c.core.listNamespacedPod({ namespace: 'pre' })).items.filter((p) => p.metadata?.name?.startsWith('low-'));
  const gone = [...lows].filter(([name, l]) => !remaining.some((p) => p.metadata?.name === name && p.metadata?.uid === l.uid));
  assert.equal(gone.length, 1, `exactly one victim: ${gone.map(([n]) => n).join(', ')}`);
  assert.equal(gone[0]?.[1].node, nominated, 'the victim was on the nominated node');
  assert.ok(remaining.every((p) => p.metadata?.deletionTimestamp == null), 'no other low pod is being deleted');
  const victim = gone[0]?.[0] ?? '';
  const preempted = (await eventsOf(c, 'pre', victim)).find((e) => e.reason === 'Preempted');
  assert.equal(preempted?.message, `Preempted by pod ${vip.metadata?.uid ?? ''} on node ${nominated}`);
  assert.ok((await eventsOf(c, 'pre', 'vip')).some((e) => e.reason === 'Preempting' && e.message?.includes(`pre/${victim}`)), 'an Event on the preemptor names its victim');
  notes.push(`preemption: victim ${victim} on ${nominated}; the high-priority pod bound there`);
});

test('a gang that fits is bound whole, and its PodGroup says Scheduled', { timeout: 2 * 60_000 }, async () => {
  await ensureScheduler();
  const c = cluster();
  await createNamespace(c.core, 'gang-fit');
  await createPodGroup(c, 'gang-fit', 'train', 3);
  for (const name of ['w0', 'w1', 'w2']) await c.core.createNamespacedPod({ namespace: 'gang-fit', body: pod(name, 'gang-fit', '1', { group: 'train' }) });
  await waitFor('the three members bound', async () => (await boundMembers(c, 'gang-fit', 'train')).length === 3, { timeoutMs: 30_000, intervalMs: 100, abortIf: () => scheduler?.diedEarly() });
  await waitFor('the PodGroup to say Scheduled', async () => (await podGroupStatus(c, 'gang-fit', 'train')).phase === 'Scheduled', { timeoutMs: 10_000, intervalMs: 100 });
  assert.equal((await podGroupStatus(c, 'gang-fit', 'train')).scheduled, 3);
});

test('a gang that cannot fit leaves no member bound, and its PodGroup says why', { timeout: 2 * 60_000 }, async () => {
  await ensureScheduler();
  const c = cluster();
  await createNamespace(c.core, 'gang-big');
  await createPodGroup(c, 'gang-big', 'big', 3);
  // 1.5 cpu each on two 2-cpu nodes: two would fit, three never.
  for (const name of ['w0', 'w1', 'w2']) await c.core.createNamespacedPod({ namespace: 'gang-big', body: pod(name, 'gang-big', '1500m', { group: 'big' }) });
  let status: PodGroupStatus = {};
  await waitFor('the PodGroup to say why', async () => (status = await podGroupStatus(c, 'gang-big', 'big')).conditions?.some((x) => x.type === 'Scheduled' && x.status === 'False' && x.reason === 'GroupDoesNotFit') === true, { timeoutMs: 20_000, intervalMs: 100 });
  const condition = status.conditions?.find((x) => x.type === 'Scheduled');
  // 11 nodes: the pools' 10 and the one the pending-pod test added.
  assert.match(condition?.message ?? '', /^PodGroup "gang-big\/big" cannot place 3 member\(s\) together \(2 fit\): pod "gang-big\/w\d": 0\/11 nodes are available: 2 Insufficient cpu, 9 node\(s\) didn't match Pod's node affinity\/selector\.$/);
  assert.equal(status.phase, 'Pending');
  // Through several retries (backoff 1 s, 2 s, 4 s), no member is ever bound.
  const deadline = Date.now() + 8_000;
  while (Date.now() < deadline) {
    assert.deepEqual(await boundMembers(c, 'gang-big', 'big'), []);
    await new Promise((r) => setTimeout(r, 250));
  }
  notes.push(`gang that cannot fit: "${condition?.message ?? ''}"`);
});

test('two gangs that each fit alone but not together: one completes, the other binds none, no deadlock', { timeout: 2 * 60_000 }, async () => {
  await ensureScheduler();
  const c = cluster();
  await createNamespace(c.core, 'gang-two');
  await createPodGroup(c, 'gang-two', 'a', 3);
  await createPodGroup(c, 'gang-two', 'b', 3);
  // 1 cpu each on two 2-cpu nodes: three fit, six do not. Members created interleaved.
  for (const i of [0, 1, 2]) {
    await c.core.createNamespacedPod({ namespace: 'gang-two', body: pod(`a${i}`, 'gang-two', '1', { group: 'a' }) });
    await c.core.createNamespacedPod({ namespace: 'gang-two', body: pod(`b${i}`, 'gang-two', '1', { group: 'b' }) });
  }
  await waitFor('one gang bound whole', async () => {
    const [a, b] = [await boundMembers(c, 'gang-two', 'a'), await boundMembers(c, 'gang-two', 'b')];
    return a.length === 3 || b.length === 3;
  }, { timeoutMs: 40_000, intervalMs: 100, abortIf: () => scheduler?.diedEarly() });
  const deadline = Date.now() + 6_000;
  while (Date.now() < deadline) {
    const [a, b] = [await boundMembers(c, 'gang-two', 'a'), await boundMembers(c, 'gang-two', 'b')];
    assert.ok((a.length === 3 && b.length === 0) || (b.length === 3 && a.length === 0), `one whole, the other none: a ${a.join(',')}, b ${b.join(',')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const [a] = [await boundMembers(c, 'gang-two', 'a')];
  notes.push(`two gangs: ${a.length === 3 ? 'a' : 'b'} completed, the other bound none`);
});
