/**
 * Faults on a real control plane, each with the outcome it must have:
 * - kube-apiserver restarted in the middle of a drain: the descheduler's cache re-watches, the
 *   drain either rides the outage out or fails, is rolled back and the node backed off; cycles
 *   go on, no node is left tainted, no floor is broken;
 * - a watch that ends with 410 Gone (etcd compacted past the cache's resourceVersion): the cache
 *   re-LISTs and is again what the apiserver holds;
 * - 429s from API Priority and Fairness (the descheduler's ServiceAccount in a priority level of
 *   one seat that rejects what it cannot take, kept busy by a second ServiceAccount as the
 *   descheduler starts and again as it drains): every rejected request is retried after a
 *   backoff and answered, the drain still completes;
 * - the webhook SIGKILLed during a rollout: failurePolicy Ignore admits the pods unplaced and the
 *   rollout completes.
 *
 * The cluster runs API Priority and Fairness with a small total concurrency (so one share is one
 * seat) and without the watch cache (so a watch from a compacted revision gets its 410 from etcd).
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdmissionregistrationV1Api, KubernetesObjectApi, type V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../../src/core/capacity.js';
import { DRAINING_TAINT } from '../../src/controllers/deschedule/drain-state.js';
import { CAPACITY_TYPE_ANNOTATION } from '../../src/policy/placement/patch.js';
import { urlWebhookConfiguration } from '../../src/controllers/webhook/registration.js';
import { restartComponent } from '../../src/devcluster/cluster.js';
import { httpGet } from '../../src/devcluster/http.js';
import { freePorts, waitFor } from '../../src/devcluster/processes.js';
import { shippedNodeOptions } from '../../src/devcluster/shipped-identity.js';
import { ClusterCache, SNAPSHOT_KINDS } from '../../src/kube/cluster-cache.js';
import { createCertificateAuthority, issueCertificate } from '../../src/pki/certs.js';
import { onDemandAndSpot } from './support/nodes.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { ControllerProcess } from './support/controller-process.js';
import { MinReadyWatch, servesTraffic } from './support/ready-watch.js';
import { auditPolicyFor, kubeconfigForServiceAccount, readAuditLog, type AuditedRequest } from './support/service-account.js';
import { assertSameAsLists } from './support/snapshots.js';

const dir = mkdtempSync(join(tmpdir(), 'stowage-faults-e2e-'));
// The descheduler's requests and how the apiserver answered them (a 429 from APF included).
const AUDIT_LOG = join(dir, 'audit.log');
writeFileSync(join(dir, 'audit-policy.yaml'), auditPolicyFor('system:serviceaccount:stowage-system:stowage-descheduler'));
const cluster = useCluster({
  podStartupMs: 1000,
  apiserverArgs: ['--enable-priority-and-fairness=true', '--max-requests-inflight=20', '--max-mutating-requests-inflight=10', '--watch-cache=false', `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${AUDIT_LOG}`],
  nodes: onDemandAndSpot('8', '32Gi'),
});
const ON_DEMAND = 'on-demand';
const SPOT = ['spot-1', 'spot-2'];
const CONFIG = join(dir, 'descheduler.yaml');
writeFileSync(CONFIG, ['apiVersion: stowage.io/v1alpha1', 'kind: DeschedulerConfiguration', 'spec:', '  deschedule:', '    eviction: { minPodAgeSeconds: 0 }', '    strategies: { consolidate: { enabled: false } }', '  replacementTimeoutSeconds: 120', ''].join('\n'));
const notes: string[] = [];
after(() => process.stdout.write(`# faults e2e observations:\n${notes.map((l) => `#   ${l}\n`).join('')}`));

async function tainted(c: TestCluster): Promise<string[]> {
  return (await c.core.listNode()).items.filter((n) => (n.spec?.taints ?? []).some((t) => t.key === DRAINING_TAINT.key)).map((n) => n.metadata?.name ?? '');
}

async function setSpotCordoned(c: TestCluster, unschedulable: boolean): Promise<void> {
  for (const name of SPOT) await c.core.patchNode({ name, body: [{ op: 'replace', path: '/spec/unschedulable', value: unschedulable }] });
}

/** `replicas` Ready pods of `app` on the on-demand node, under a PDB allowing one disruption. */
/**
 * `replicas` Ready pods of `app` on the on-demand node with a PDB allowing 1; removed after the test
 * (`t`), so the next test's drain of that node meets only its own pods: a drain rolled back (as the
 * apiserver-restart test allows) once left 3 pods there whose workload rested under the anti-flap
 * rule, and the next test's drain never started.
 */
async function workloadOnOnDemand(c: TestCluster, t: TestContext, ns: string, app: string, replicas: number): Promise<void> {
  t.after(async () => {
    await c.apps.deleteNamespacedDeployment({ name: app, namespace: ns }).catch(() => undefined);
    await c.policy.deleteNamespacedPodDisruptionBudget({ name: app, namespace: ns }).catch(() => undefined);
    await waitFor(`the pods of ${ns}/${app} to be gone`, async () => (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items.length === 0, { timeoutMs: 120_000, intervalMs: 250 });
  });
  await createNamespace(c.core, ns);
  await setSpotCordoned(c, true);
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name: app }, spec: { replicas, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: app, image: `registry.example/${app}:1`, resources: { requests: { cpu: '500m', memory: '256Mi' } } }] } } } },
  });
  await c.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: app }, spec: { maxUnavailable: 1, selector: { matchLabels: { app } } } } });
  await waitFor(`${replicas} Ready ${app} pods on on-demand and the PDB allowing 1`, async () => {
    const pods = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
    const pdb = await c.policy.readNamespacedPodDisruptionBudget({ name: app, namespace: ns });
    return pods.length === replicas && pods.every((p) => servesTraffic(p) && p.spec?.nodeName === ON_DEMAND) && pdb.status?.disruptionsAllowed === 1;
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

async function allOnSpot(c: TestCluster, ns: string, app: string, replicas: number): Promise<boolean> {
  const pods = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
  return pods.length === replicas && pods.every((p) => servesTraffic(p) && SPOT.includes(p.spec?.nodeName ?? ''));
}

/**
 * Watches the 3 pods of `app` for their floor, starts a descheduler loop as `kubeconfig`, and
 * frees the spot nodes so its plan is a drain of the on-demand node.
 */
async function startDeschedulerOn(c: TestCluster, t: TestContext, kubeconfig: string, ns: string, app: string): Promise<{ watch: MinReadyWatch; d: ControllerProcess }> {
  const watch = new MinReadyWatch(c, ns, `app=${app}`, 3);
  await watch.start();
  t.after(() => watch.stop());
  const d = new ControllerProcess('descheduler', ['deschedule', '--kubeconfig', kubeconfig, '--config', CONFIG, '--interval', '2s']);
  t.after(async () => {
    d.kill('SIGKILL');
    await d.exited;
  });
  await setSpotCordoned(c, false);
  return { watch, d };
}

test('kube-apiserver restarted mid-drain: the cache re-watches, the drain ends or rolls back, cycles go on, nothing stays tainted', { timeout: 5 * 60_000 }, async (t) => {
  const c = cluster();
  const kubeconfig = await kubeconfigForServiceAccount(c, 'descheduler', 'stowage-system', 'stowage-descheduler', dir);
  await workloadOnOnDemand(c, t, 'restart', 'web', 3);
  const { watch, d } = await startDeschedulerOn(c, t, kubeconfig, 'restart', 'web');
  await waitFor('the drain to start', async () => (await tainted(c)).includes(ON_DEMAND), { timeoutMs: 120_000, intervalMs: 25, abortIf: () => d.diedEarly() });

  const restartAt = Date.now();
  await restartComponent(c.state.dir, 'kube-apiserver', { downMs: 3000 });
  const backAt = Date.now();
  try {
    // Either the drain rode out the outage and finished, or it failed, was rolled back and the
    // node backed off; either way no taint stays and the loop plans again.
    await waitFor('the drain done or rolled back, no node tainted, and a cycle after the restart', async () => ((await allOnSpot(c, 'restart', 'web', 3)) || d.find(/^Drain failed/).length > 0) && (await tainted(c)).length === 0 && d.find(/^Planned$/).some((l) => l.at > backAt), { timeoutMs: 180_000, intervalMs: 250, abortIf: () => d.diedEarly() });
  } catch (error) {
    const pods = (await c.core.listNamespacedPod({ namespace: 'restart' })).items.map((p) => `${p.metadata?.name ?? ''}@${p.spec?.nodeName ?? '-'}:${servesTraffic(p) ? 'ready' : 'not-ready'}`);
    process.stdout.write(`# state: tainted [${(await tainted(c)).join(', ')}], pods ${pods.join(' ')}\n# descheduler log tail:\n${d.stderr.slice(-6000).split('\n').map((l) => `#   ${l}`).join('\n')}\n`);
    throw error;
  }
  await watch.stop();

  assert.ok(d.running, 'the descheduler outlived the outage');
  const watchFailures = d.find(/^Watch of \w+ failed, restarting/);
  assert.ok(watchFailures.length >= 1, 'the cache saw its watches drop and restarted them');
  const failed = d.find(/^Cycle failed$/);
  const drains = d.find(/^Drain (done|failed)/);
  const onSpot = await allOnSpot(c, 'restart', 'web', 3);
  assert.ok(watch.minReady >= 2, `the PDB floor of 2 held (saw ${watch.minReady})`);
  notes.push(`apiserver restart (down ${Math.round((backAt - restartAt) / 1000)} s) mid-drain: ${watchFailures.length} watch restarts in the cache; ${failed.length} failed cycle(s) retried after ${failed.map((l) => `${String(l['retryInMs'])} ms`).join(', ') || '-'}; drains: ${drains.map((l) => `${l.msg}${l['reason'] === undefined ? '' : ` (${JSON.stringify(l['reason'])})`}`).join(', ')}; ${onSpot ? 'all 3 pods on spot' : 'pods left on on-demand, node backed off'}; min Ready ${watch.minReady}/3; no node tainted`);
});

test('a watch ended by 410 Gone (etcd compacted): the cache re-lists and holds the cluster again', { timeout: 3 * 60_000 }, async () => {
  const c = cluster();
  const relisted: string[] = [];
  // A short idle watchdog re-watches quiet kinds from their old resourceVersion, which compaction removes.
  const cache = new ClusterCache(c.kc, { capacityRules: DEFAULT_CAPACITY_TYPE_RULES, kinds: SNAPSHOT_KINDS, idleRestartMs: 1500, backoff: { baseMs: 100, maxMs: 1000 } });
  cache.on('deployments', (event, obj) => {
    if (event === 'add') relisted.push(obj.metadata?.name ?? '');
  });
  try {
    await cache.start();
    await createNamespace(c.core, 'gone');
    for (let i = 0; i < 5; i++) await c.core.createNamespacedConfigMap({ namespace: 'gone', body: { metadata: { name: `churn-${i}` } } });
    const etcd = `http://127.0.0.1:${c.state.ports['etcdClient'] ?? 0}`;
    const range = (await (await fetch(`${etcd}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/registry/').toString('base64'), limit: 1 }) })).json()) as { header: { revision: string } };
    const compacted = await fetch(`${etcd}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: range.header.revision, physical: true }) });
    assert.equal(compacted.status, 200, await compacted.text());
    await waitFor('a re-LIST after 410 Gone', async () => cache.restarts.relists >= 1, { timeoutMs: 60_000, intervalMs: 100 });
    await c.apps.createNamespacedDeployment({ namespace: 'gone', body: { metadata: { name: 'after' }, spec: { replicas: 1, selector: { matchLabels: { app: 'after' } }, template: { metadata: { labels: { app: 'after' } }, spec: { containers: [{ name: 'after', image: 'registry.example/after:1' }] } } } } });
    await waitFor('the cache to see a change made after the compaction', async () => cache.get('deployments', 'after', 'gone') !== undefined, { timeoutMs: 30_000, intervalMs: 100 });
    const listed = await assertSameAsLists(c, () => cache.snapshot(), 'the cache snapshot after a re-LIST');
    notes.push(`etcd compacted at revision ${range.header.revision}: ${cache.restarts.relists} re-LIST(s) after 410 Gone, ${cache.restarts.failures} other watch restarts; the cache snapshot then equals the LIST reader's (${listed.pods.length} pods, ${listed.workloads.length} workloads)`);
  } finally {
    await cache.stop();
    await c.apps.deleteNamespacedDeployment({ name: 'after', namespace: 'gone' }).catch(() => undefined);
  }
});

/**
 * Another client in the descheduler's priority level of one seat: one loop that LISTs the
 * ConfigMaps of a namespace (hundreds of objects, read from etcd: the seat held for some ms)
 * back to back. While it runs the seat is nearly always taken, so a request of the descheduler
 * arriving then is rejected with 429, as on a busy apiserver; the hog itself, one request at a
 * time, is rarely rejected, so the level's Retry-After (which APF doubles while it keeps
 * rejecting) stays short.
 */
class SeatHog {
  readonly #agent: Agent;
  readonly #url: URL;
  readonly #token: string;
  #running = false;
  #loops: Promise<void>[] = [];
  /** Answers the hog got, by status. */
  readonly statuses = new Map<number, number>();
  /** Time its answered requests took, in all. */
  busyMs = 0;

  constructor(server: string, ca: string, token: string, path: string) {
    this.#url = new URL(path, server);
    this.#token = token;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  }

  start(workers = 1): void {
    if (this.#running) return;
    this.#running = true;
    this.#loops = Array.from({ length: workers }, () => this.#loop());
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  close(): void {
    this.#agent.destroy();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const started = performance.now();
      const status = await this.#get();
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      if (status === 200) this.busyMs += performance.now() - started;
      else await sleep(100);
    }
  }

  #get(): Promise<number> {
    return new Promise((resolve) => {
      const req = httpsRequest(this.#url, { agent: this.#agent, headers: { authorization: `Bearer ${this.#token}` }, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end();
    });
  }
}

test('429s from API Priority and Fairness: requests are retried with backoff and the drain completes', { timeout: 5 * 60_000 }, async (t) => {
  const c = cluster();
  const kubeconfig = await kubeconfigForServiceAccount(c, 'descheduler', 'stowage-system', 'stowage-descheduler', dir);
  await workloadOnOnDemand(c, t, 'apf', 'api', 3);
  const objects = KubernetesObjectApi.makeApiClient(c.kc);
  // The hog: its own ServiceAccount, allowed to list the ConfigMaps of "apf", of which there are 300.
  const hogRbac = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'apf-hog', namespace: 'apf' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'apf-hog', namespace: 'apf' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'apf-hog', namespace: 'apf' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'apf-hog' }, subjects: [{ kind: 'ServiceAccount', name: 'apf-hog', namespace: 'apf' }] },
  ];
  for (const obj of hogRbac) await objects.create(obj);
  const filler = 'x'.repeat(1024);
  for (let i = 0; i < 300; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => c.core.createNamespacedConfigMap({ namespace: 'apf', body: { metadata: { name: `hog-${i + j}` }, data: { filler } } })));
  const level = { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'stowage-tiny' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: { type: 'Reject' } } } };
  // Two FlowSchemas into the one level, so the apiserver's metrics tell whose requests it rejected.
  const schemaFor = (name: string, serviceAccount: { name: string; namespace: string }) => ({
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name },
    spec: {
      priorityLevelConfiguration: { name: 'stowage-tiny' },
      matchingPrecedence: 500,
      distinguisherMethod: { type: 'ByUser' },
      rules: [{ subjects: [{ kind: 'ServiceAccount', serviceAccount }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] }],
    },
  });
  const schemas = [schemaFor('stowage-descheduler', { name: 'stowage-descheduler', namespace: 'stowage-system' }), schemaFor('stowage-apf-hog', { name: 'apf-hog', namespace: 'apf' })];
  await objects.create(level);
  for (const schema of schemas) await objects.create(schema);
  t.after(async () => {
    for (const schema of schemas) await objects.delete(schema).catch(() => undefined);
    await objects.delete(level).catch(() => undefined);
  });
  const read = (file: string): string => readFileSync(join(c.state.dir, 'pki', file), 'utf8');
  const tls = { ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key') };
  const rejected = async (schema: string): Promise<number> => {
    const text = (await httpGet(`${c.state.server}/metrics`, { tls, timeoutMs: 10_000 })).body;
    return text.split('\n').filter((l) => l.startsWith('apiserver_flowcontrol_rejected_requests_total{') && l.includes(`flow_schema="${schema}"`)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };
  await waitFor('both FlowSchemas to be in force', async () => {
    for (const schema of schemas) {
      const fs = (await objects.read(schema)) as unknown as { status?: { conditions?: { type?: string; status?: string }[] } };
      if (!(fs.status?.conditions?.some((cond) => cond.type === 'Dangling' && cond.status === 'False') ?? false)) return false;
    }
    return true;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  const before = await rejected('stowage-descheduler');
  const token = (await c.core.createNamespacedServiceAccountToken({ name: 'apf-hog', namespace: 'apf', body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status?.token ?? '';
  const hog = new SeatHog(c.state.server, tls.ca, token, '/api/v1/namespaces/apf/configmaps');
  t.after(async () => {
    await hog.stop();
    hog.close();
  });
  // The descheduler's requests, as the apiserver answered them (its audit log keeps only the descheduler's).
  const rejectedSince = (from: number): AuditedRequest[] => readAuditLog(AUDIT_LOG).filter((r) => r.code === 429 && r.at >= from - 5);

  // 1. The seat kept busy before the descheduler starts: its first requests (the cache's LISTs) meet 429s.
  hog.start();
  await waitFor('the hog to hold the seat', async () => (hog.statuses.get(200) ?? 0) >= 3, { timeoutMs: 30_000, intervalMs: 50 });
  const startedAt = Date.now();
  const { watch, d } = await startDeschedulerOn(c, t, kubeconfig, 'apf', 'api');
  await waitFor('a request of the starting descheduler rejected with 429', async () => rejectedSince(startedAt).length > 0, { timeoutMs: 60_000, intervalMs: 50, abortIf: () => d.diedEarly() });
  await hog.stop();
  const atStart = rejectedSince(startedAt).length;

  // 2. Again once the drain has begun: its reads, taint and evictions meet 429s.
  await waitFor('the drain to start', async () => (await tainted(c)).includes(ON_DEMAND), { timeoutMs: 120_000, intervalMs: 25, abortIf: () => d.diedEarly() });
  const drainAt = Date.now();
  hog.start();
  // (An Event is not the drain's own work: its reads, evictions and writes are.)
  const drainRejected = (): AuditedRequest[] => rejectedSince(drainAt).filter((r) => r.resource !== 'events');
  await waitFor('a request of the draining descheduler rejected with 429', async () => drainRejected().length > 0, { timeoutMs: 60_000, intervalMs: 50, abortIf: () => d.diedEarly() });
  await hog.stop();
  const midDrain = drainRejected();

  await waitFor('all api pods moved to spot, no node tainted', async () => (await allOnSpot(c, 'apf', 'api', 3)) && (await tainted(c)).length === 0 && d.find(/^Drain done$/).length > 0, { timeoutMs: 180_000, intervalMs: 250, abortIf: () => d.diedEarly() });
  await watch.stop();
  const shed = (await rejected('stowage-descheduler')) - before;
  const hogShed = await rejected('stowage-apf-hog');
  assert.ok(d.running, 'the descheduler outlived the 429s');
  assert.ok(watch.minReady >= 2, `the PDB floor of 2 held (saw ${watch.minReady})`);
  const failedDrains = d.find(/^Drain failed/);
  assert.deepEqual(failedDrains.map((l) => l['reason']), [], 'no drain failed on a 429 (an APF 429 is not a PDB refusal)');
  assert.ok(shed >= 2, `the apiserver counted the descheduler's rejections under its FlowSchema (${shed})`);
  // Every rejected request was sent again and answered (same verb and path; a watch's
  // resourceVersion may differ), no sooner than the apiserver's Retry-After (at least 1 s; APF
  // raises it while the level keeps shedding): retried with backoff, not dropped, not hammered.
  // Events are best-effort (the recorder logs a failed one and goes on), so they are only counted.
  const pathOf = (uri: string): string => uri.split('?')[0] ?? uri;
  const all429 = rejectedSince(startedAt);
  const events = all429.filter((r) => r.resource === 'events');
  const retriesOf = (audit: readonly AuditedRequest[]) => all429.filter((r) => r.resource !== 'events').map((r) => {
    const next = audit.find((a) => a.at > r.at && a.verb === r.verb && pathOf(a.requestURI) === pathOf(r.requestURI) && a.code !== 429);
    return { request: `${r.verb} ${pathOf(r.requestURI)}`, afterMs: next === undefined ? undefined : next.at - r.at, code: next?.code ?? 0 };
  });
  // A retry may still be waiting out its Retry-After (at most 32 s).
  let retries = retriesOf(readAuditLog(AUDIT_LOG));
  await waitFor('every rejected request sent again', async () => (retries = retriesOf(readAuditLog(AUDIT_LOG))).every((r) => r.afterMs !== undefined), { timeoutMs: 40_000, intervalMs: 250 }).catch(() => undefined);
  const notRetried = retries.filter((r) => r.afterMs === undefined || r.code === 0 || r.code >= 500).map((r) => r.request);
  assert.deepEqual(notRetried, [], 'every request rejected with 429 was sent again and answered');
  const gaps = retries.map((r) => r.afterMs ?? 0).sort((a, b) => a - b);
  const tooSoon = retries.filter((r) => (r.afterMs ?? 0) < 950).map((r) => `${r.request} after ${r.afterMs} ms`);
  assert.deepEqual(tooSoon, [], 'no rejected request was sent again before the Retry-After of at least 1 s');
  notes.push(`API Priority and Fairness (1 seat, Reject; a second ServiceAccount keeping the seat busy: ${[...hog.statuses].map(([s, n]) => `${n}×${s}`).join(' ')}, ${((hog.statuses.get(200) ?? 0) === 0 ? 0 : hog.busyMs / (hog.statuses.get(200) ?? 1)).toFixed(1)} ms per LIST, ${hogShed} of its requests rejected): ${shed} request(s) of the descheduler rejected with 429 (${atStart} as it started, ${midDrain.length} mid-drain: ${midDrain.map((r) => `${r.verb} ${r.resource}`).join(', ')}); each retried and answered after ${gaps[0]}–${gaps[gaps.length - 1]} ms (median ${gaps[Math.floor(gaps.length / 2)]})${events.length > 0 ? `; ${events.length} Event(s) not recorded` : ''}; drain done, 3 pods on spot, min Ready ${watch.minReady}/3, no failed drain`);
});

test('the webhook SIGKILLed during a rollout: pods are admitted unplaced (fail-open) and the rollout completes', { timeout: 4 * 60_000 }, async (t) => {
  const c = cluster();
  const ns = 'failopen';
  await createNamespace(c.core, ns);
  const ca = await createCertificateAuthority('stowage-faults-e2e-ca');
  const serving = await issueCertificate(ca, { commonName: 'stowage-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const webhook = new ControllerProcess('webhook', ['webhook', '--kubeconfig', c.state.kubeconfigPath, '--tls-cert-file', join(dir, 'tls.crt'), '--tls-private-key-file', join(dir, 'tls.key'), '--listen', `127.0.0.1:${port}`, '--metrics-listen', `127.0.0.1:${metricsPort}`], {}, shippedNodeOptions('webhook'));
  t.after(async () => {
    webhook.kill('SIGKILL');
    await webhook.exited;
  });
  await waitFor('the webhook to be ready', async () => (await httpGet(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 120_000, intervalMs: 200, abortIf: () => webhook.diedEarly() });
  const admission = c.kc.makeApiClient(AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({ body: urlWebhookConfiguration(`https://127.0.0.1:${port}/mutate`, ca.certPem, 'stowage-faults') as unknown as V1MutatingWebhookConfiguration });
  t.after(() => admission.deleteMutatingWebhookConfiguration({ name: 'stowage-faults' }).catch(() => undefined));

  const app = 'roll';
  const pods = async () => (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name: app }, spec: { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: app, image: `registry.example/${app}:1`, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } } } },
  });
  await waitFor('4 Ready pods, each placed by the webhook', async () => {
    const all = await pods();
    return all.length === 4 && all.every((p) => servesTraffic(p) && p.metadata?.annotations?.[CAPACITY_TYPE_ANNOTATION] !== undefined);
  }, { timeoutMs: 120_000, intervalMs: 250 });

  // A rollout, one pod at a time; the webhook dies as the first new pod appears.
  await c.apps.patchNamespacedDeployment({ name: app, namespace: ns, body: [{ op: 'add', path: '/spec/template/metadata/annotations', value: { 'example.com/rev': '2' } }] });
  await waitFor('the first pod of the new revision', async () => (await pods()).some((p) => p.metadata?.annotations?.['example.com/rev'] === '2'), { timeoutMs: 60_000, intervalMs: 20 });
  const before = new Set((await pods()).map((p) => p.metadata?.uid ?? ''));
  webhook.kill('SIGKILL');
  const killedAt = Date.now();
  await webhook.exited;
  await waitFor('the rollout to complete', async () => {
    const d = await c.apps.readNamespacedDeployment({ name: app, namespace: ns });
    const s = d.status ?? {};
    return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s.updatedReplicas === 4 && s.readyReplicas === 4 && s.replicas === 4;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  const rolled = await pods();
  // Pods that did not exist when it was killed (creation timestamps have whole seconds only).
  const afterKill = rolled.filter((p) => !before.has(p.metadata?.uid ?? ''));
  const unplaced = rolled.filter((p) => p.metadata?.annotations?.[CAPACITY_TYPE_ANNOTATION] === undefined);
  assert.equal(rolled.length, 4);
  assert.ok(rolled.every(servesTraffic), 'every pod of the new revision is Ready');
  assert.ok(afterKill.length >= 1, 'pods were created after the webhook died');
  assert.ok(afterKill.every((p) => p.metadata?.annotations?.[CAPACITY_TYPE_ANNOTATION] === undefined), 'those were admitted unplaced: failurePolicy Ignore');
  notes.push(`webhook SIGKILLed during a 4-pod rollout: the rollout completed in ${Math.round((Date.now() - killedAt) / 1000)} s; ${afterKill.length} pod(s) created after the kill, all admitted unplaced (fail-open); ${unplaced.length} of 4 final pods unplaced`);
});
