/**
 * The placement webhook end to end, registered in a real kube-apiserver: `stowage webhook` runs
 * as a child process on 127.0.0.1 with the least-privilege RBAC of deploy/webhook (impersonated),
 * the apiserver calls it on every ReplicaSet and StatefulSet pod, the real ReplicaSet,
 * StatefulSet and PodGC controllers and kube-scheduler do the rest, and the test watches where
 * pods land: the split per workload, after a rollout and a scale-down, with the webhook stopped
 * and restarted, and when every spot node disappears at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdmissionregistrationV1Api,
  AuthorizationV1Api,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1Deployment,
  type V1MutatingWebhookConfiguration,
  type V1Node,
  type V1Pod,
  type V1PodSpec,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';
import { createRequest } from '../../src/controllers/webhook/fixtures.test-helper.js';
import { cpuMs, floodInWorker, rssMiB, ValidReviewStream } from '../../src/controllers/webhook/flood.test-helper.js';
import { urlWebhookConfiguration } from '../../src/controllers/webhook/registration.js';
import { httpGet } from '../../src/devcluster/http.js';
import { freePorts, isAlive, processGroupMembers, readyOrStopped, spawnOwned, stopOwned, tailLog, waitFor } from '../../src/devcluster/processes.js';
import { repoPath } from '../../src/devcluster/paths.js';
import { shippedNodeOptions } from '../../src/devcluster/shipped-identity.js';
import { describeApiError } from '../../src/kube/errors.js';
import { ResilientInformer } from '../../src/kube/informer.js';
import { createCertificateAuthority, issueCertificate, type CertificateKeyPair } from '../../src/pki/certs.js';
import { createNamespace, E2E_POD_STARTUP, useCluster } from './support/cluster.js';
import { isReady } from './support/ready-watch.js';

const cluster = useCluster({ ...E2E_POD_STARTUP });
const NS = 'shop';
const SERVICE_ACCOUNT = 'system:serviceaccount:stowage-system:stowage-webhook';
const CAPACITY_LABEL = 'node.kubernetes.io/capacity';
const BIN = fileURLToPath(new URL('../../bin/stowage.js', import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), 'stowage-webhook-e2e-'));
/** What the test saw, printed at the end for the issue's closing note. */
const observed: Record<string, unknown> = {};

interface Split {
  readonly onDemand: number;
  readonly spot: number;
  readonly other: number;
}

// --- the webhook as a child process -----------------------------------------------------------

class WebhookProcess {
  readonly #child: ChildProcess;
  readonly logPath: string;
  readonly port: number;
  readonly metricsPort: number;

  private constructor(child: ChildProcess, logPath: string, port: number, metricsPort: number) {
    this.#child = child;
    this.logPath = logPath;
    this.port = port;
    this.metricsPort = metricsPort;
  }

  /**
   * Starts `stowage webhook` and waits until /readyz says its caches are synced and HTTPS serves.
   * `entry` is the CLI to run: bin/stowage.js (the sources through tsx) unless given. A webhook
   * that is not ready within `readyTimeoutMs` is stopped before the error is thrown: left running,
   * it would keep this test file's process alive after its last test.
   */
  static async start(kubeconfig: string, tls: { cert: string; key: string }, port: number, metricsPort: number, name: string, options: { entry?: string; readyTimeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<WebhookProcess> {
    const logPath = join(WORK, `${name}.log`);
    const fd = openSync(logPath, 'a');
    // With the Node options of deploy/webhook's Deployment: the heap sized as deployed.
    const args = [...shippedNodeOptions('webhook'), options.entry ?? BIN, 'webhook', '--kubeconfig', kubeconfig, '--tls-cert-file', tls.cert, '--tls-private-key-file', tls.key, '--listen', `127.0.0.1:${port}`, '--metrics-listen', `127.0.0.1:${metricsPort}`];
    let child: ChildProcess;
    try {
      child = spawnOwned(name, process.execPath, args, { stdio: ['ignore', fd, fd], env: { ...process.env, STOWAGE_LOG_LEVEL: 'info' } });
    } finally {
      closeSync(fd);
    }
    options.onSpawn?.(child.pid ?? 0);
    const webhook = new WebhookProcess(child, logPath, port, metricsPort);
    await readyOrStopped(child, 'the webhook to be ready', async () => (await httpGet(`http://127.0.0.1:${metricsPort}/readyz`, { timeoutMs: 5_000 })).status === 200, {
      timeoutMs: options.readyTimeoutMs ?? 120_000,
      intervalMs: 200,
      abortIf: () => (child.exitCode === null ? undefined : `the webhook exited with ${child.exitCode}; last lines of ${logPath}:\n${tailLog(logPath)}`),
    });
    return webhook;
  }

  /** The process id, for its RSS from /proc. */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.pid !== undefined && isAlive(this.#child.pid);
  }

  async metrics(): Promise<string> {
    return (await httpGet(`http://127.0.0.1:${this.metricsPort}/metrics`, { timeoutMs: 5_000 })).body;
  }

  /** SIGTERM to this child, SIGKILL after 15 s; then its exit code. */
  stop(): Promise<number | null> {
    return stopOwned(this.#child, 15_000);
  }
}

/** The sum of a metric's series whose labels include `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * The histogram `name`'s cumulative bucket counts for the series whose labels include `labels`,
 * by upper bound in seconds (`+Inf` last).
 */
function histogramBuckets(text: string, name: string, labels: Record<string, string>): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`) || !Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1] ?? '';
    buckets.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** The smallest bucket bound (ms) under which at least `p` of the observations between `before` and `after` fall. */
function percentileBound(before: Map<number, number>, after: Map<number, number>, p: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total === 0) return Number.NaN;
  const bound = bounds.find((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0) >= p * total);
  return bound === undefined ? Number.NaN : bound * 1000;
}

// --- workloads ---------------------------------------------------------------------------------

function podTemplate(app: string, extra: Partial<V1PodSpec> = {}, labels: Record<string, string> = {}) {
  return {
    metadata: { labels: { app, ...labels } },
    spec: {
      containers: [{ name: 'app', image: `registry.example/${app}:1`, resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
      terminationGracePeriodSeconds: 1,
      ...extra,
    },
  };
}

function deploymentBody(name: string, replicas: number, annotations: Record<string, string> = {}, extra: Partial<V1PodSpec> = {}, labels: Record<string, string> = {}): V1Deployment {
  return { metadata: { name, annotations }, spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name, extra, labels) } };
}

/**
 * Compiles the sources as the Dockerfile does (`tsc -p tsconfig.build.json`) into `<dir>/dist`,
 * with `<dir>/node_modules` linked to the repository's, and returns the CLI's entry point: the
 * webhook as the image runs it, plain JavaScript without tsx's loader threads.
 */
function compileAsTheImage(dir: string): string {
  const tsc = join(repoPath('node_modules'), 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', repoPath('tsconfig.build.json'), '--outDir', join(dir, 'dist')], { stdio: 'inherit' });
  symlinkSync(repoPath('node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'dist', 'cli', 'main.js');
}

/**
 * True when the webhook placed the pod: it recorded a capacity type, set the matching
 * pod-deletion-cost and constrained the pod to that capacity type's nodes (required or preferred).
 */
function placedByWebhook(pod: V1Pod): boolean {
  const type = pod.metadata?.annotations?.['stowage.io/capacity-type'];
  if (type !== 'spot' && type !== 'on-demand') return false;
  if (pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'] !== (type === 'spot' ? '-100' : '100')) return false;
  const affinity = pod.spec?.affinity?.nodeAffinity;
  const expressions = [
    ...(affinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []).flatMap((t) => t.matchExpressions ?? []),
    ...(affinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).flatMap((p) => p.preference?.matchExpressions ?? []),
  ];
  return expressions.some((e) => e.key === CAPACITY_LABEL && e.operator === 'In' && e.values?.length === 1 && e.values[0] === type);
}

/** A valid AdmissionReview of the CREATE of a pod of ReplicaSet `owner`, sent to the webhook directly. */
function floodReview(uid: string, owner: { readonly name: string; readonly uid: string }): object {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: NS, labels: { app: 'flood-direct' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.name, uid: owner.uid, controller: true }] }, spec: podTemplate('flood-direct').spec };
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: createRequest(pod, uid) };
}

describe('placement webhook on a real control plane', () => {
  let ca: CertificateKeyPair;
  let tlsFiles: { cert: string; key: string };
  let kubeconfigAsWebhook: string;
  let ports: { https: number; metrics: number };
  let webhook: WebhookProcess | undefined;
  let nodeType = new Map<string, string>();

  const api = () => {
    const { kc } = cluster();
    return { admission: kc.makeApiClient(AdmissionregistrationV1Api), authz: kc.makeApiClient(AuthorizationV1Api), objects: KubernetesObjectApi.makeApiClient(kc) };
  };

  async function livePods(app: string): Promise<V1Pod[]> {
    const { core } = cluster();
    return (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
  }

  async function refreshNodeTypes(): Promise<void> {
    const { core } = cluster();
    nodeType = new Map((await core.listNode()).items.map((n) => [n.metadata?.name ?? '', n.metadata?.labels?.[CAPACITY_LABEL] ?? 'none']));
  }

  function splitOf(pods: readonly V1Pod[]): Split {
    const count = (type: string) => pods.filter((p) => nodeType.get(p.spec?.nodeName ?? '') === type).length;
    return { onDemand: count('on-demand'), spot: count('spot'), other: pods.length - count('on-demand') - count('spot') };
  }

  /** Waits until exactly `replicas` live pods of `app` are bound and Ready, and returns their split. */
  async function waitForSplit(app: string, replicas: number, filter: (pod: V1Pod) => boolean = () => true): Promise<{ split: Split; pods: V1Pod[] }> {
    let pods: V1Pod[] = [];
    await waitFor(`${replicas} Ready pods of "${app}"`, async () => {
      pods = (await livePods(app)).filter(filter);
      return pods.length === replicas && pods.every((p) => p.spec?.nodeName && isReady(p));
    }, { timeoutMs: 180_000, intervalMs: 250 });
    await refreshNodeTypes();
    return { split: splitOf(pods), pods };
  }

  async function updateDeployment(name: string, change: (d: V1Deployment) => void): Promise<void> {
    const { apps } = cluster();
    for (let attempt = 1; ; attempt++) {
      const current = await apps.readNamespacedDeployment({ name, namespace: NS });
      change(current);
      try {
        await apps.replaceNamespacedDeployment({ name, namespace: NS, body: current });
        return;
      } catch (error) {
        if (describeApiError(error).status !== 409 || attempt >= 10) throw error;
      }
    }
  }

  /** Creates bare pods with server-side dry run until the webhook's review counter moves. */
  async function waitUntilCalled(wh: WebhookProcess): Promise<number> {
    const { core } = cluster();
    const started = Date.now();
    await waitFor('the apiserver to call the webhook', async () => {
      const before = metricSum(await wh.metrics(), 'stowage_webhook_reviews_total');
      await core.createNamespacedPod({
        namespace: NS,
        dryRun: 'All',
        body: {
          // matchConditions only send pods controlled by a ReplicaSet or StatefulSet.
          metadata: { generateName: 'probe-', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'probe', uid: '11111111-2222-3333-4444-555555555555', controller: true }] },
          spec: { containers: [{ name: 'c', image: 'registry.example/probe:1' }] },
        },
      });
      return metricSum(await wh.metrics(), 'stowage_webhook_reviews_total') > before;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    return Date.now() - started;
  }

  before(async () => {
    const { core, state } = cluster();
    const { objects } = api();
    await createNamespace(core, NS);
    // Namespace-level policy for this namespace: 25% of the replicas above base on on-demand.
    const ns = await core.readNamespace({ name: NS });
    ns.metadata = { ...ns.metadata, annotations: { ...ns.metadata?.annotations, 'stowage.io/on-demand-percent': '25' } };
    await core.replaceNamespace({ name: NS, body: ns });

    // deploy/webhook against the real apiserver: every object passes a server-side dry run, and
    // the RBAC objects are created for real so the webhook runs with exactly those rights.
    const manifests: KubernetesObject[] = [];
    const dir = repoPath('deploy', 'webhook');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        const obj = doc.toJS() as KubernetesObject | null;
        if (obj !== null) manifests.push(obj);
      }
    }
    const namespace = manifests.filter((o) => o.kind === 'Namespace');
    for (const obj of namespace) await objects.create(obj, undefined, 'All');
    for (const obj of namespace) await objects.create(obj);
    for (const obj of manifests.filter((o) => o.kind !== 'Namespace')) await objects.create(obj, undefined, 'All');
    const rbac = manifests.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind ?? ''));
    assert.equal(rbac.length, 3);
    for (const obj of rbac) await objects.create(obj);
    observed['manifestsDryRun'] = manifests.map((o) => `${o.kind}/${o.metadata?.name}`);

    // The webhook talks to the apiserver as its ServiceAccount (impersonated by the admin).
    const kubeconfig = parseYaml(readFileSync(state.kubeconfigPath, 'utf8')) as { users: { user: Record<string, unknown> }[] };
    for (const user of kubeconfig.users) user.user['as'] = SERVICE_ACCOUNT;
    kubeconfigAsWebhook = join(WORK, 'kubeconfig-webhook');
    writeFileSync(kubeconfigAsWebhook, toYaml(kubeconfig), { mode: 0o600 });

    ca = await createCertificateAuthority('stowage-webhook-e2e-ca');
    const serving = await issueCertificate(ca, { commonName: 'stowage-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
    tlsFiles = { cert: join(WORK, 'tls.crt'), key: join(WORK, 'tls.key') };
    writeFileSync(tlsFiles.cert, serving.certPem);
    writeFileSync(tlsFiles.key, serving.keyPem, { mode: 0o600 });
    const [https, metrics] = (await freePorts(2)) as [number, number];
    ports = { https, metrics };
    webhook = await WebhookProcess.start(kubeconfigAsWebhook, tlsFiles, ports.https, ports.metrics, 'webhook-1');

    const { admission } = api();
    await admission.createMutatingWebhookConfiguration({ body: urlWebhookConfiguration(`https://127.0.0.1:${ports.https}/mutate`, ca.certPem) as unknown as V1MutatingWebhookConfiguration });
    observed['msUntilApiserverCalledWebhook'] = await waitUntilCalled(webhook);
    await refreshNodeTypes();
  }, { timeout: 5 * 60_000 });

  after(async () => {
    await webhook?.stop();
    process.stdout.write(`# WEBHOOK-E2E ${JSON.stringify(observed)}\n`);
    // The webhook's logs are kept only on request (STOWAGE_E2E_KEEP_LOGS=1): a failed assertion quotes their tail.
    if (process.env['STOWAGE_E2E_KEEP_LOGS'] === '1') process.stdout.write(`# webhook logs in ${WORK}\n`);
    else rmSync(WORK, { recursive: true, force: true });
  });

  test('the ServiceAccount may read what the webhook watches, and nothing more', async () => {
    const { authz } = api();
    const can = async (verb: string, resource: string, group = ''): Promise<boolean> =>
      (await authz.createSubjectAccessReview({
        body: { spec: { user: SERVICE_ACCOUNT, groups: ['system:serviceaccounts', 'system:serviceaccounts:stowage-system', 'system:authenticated'], resourceAttributes: { verb, resource, group } } },
      })).status?.allowed === true;
    for (const [resource, group] of [['pods', ''], ['nodes', ''], ['namespaces', ''], ['replicasets', 'apps'], ['deployments', 'apps'], ['statefulsets', 'apps']] as const) {
      assert.ok(await can('list', resource, group), `list ${resource}`);
      assert.ok(await can('watch', resource, group), `watch ${resource}`);
    }
    for (const [verb, resource, group] of [['create', 'pods', ''], ['patch', 'pods', ''], ['delete', 'pods', ''], ['get', 'secrets', ''], ['update', 'deployments', 'apps'], ['create', 'pods/eviction', '']] as const) {
      assert.equal(await can(verb, resource, group), false, `${verb} ${resource} is denied`);
    }
    assert.ok(webhook?.running, 'the webhook runs with only these rights');
  });

  test('a webhook that does not get ready in time is stopped with its process group, not left running', async () => {
    // An apiserver nobody listens on: its caches never sync, so it never gets ready — the hazard
    // of a restart that takes too long under load (it once kept this file running 35 minutes).
    const [deadPort, https, metrics] = (await freePorts(3)) as [number, number, number];
    const kubeconfig = parseYaml(readFileSync(kubeconfigAsWebhook, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    for (const c of kubeconfig.clusters) c.cluster['server'] = `https://127.0.0.1:${deadPort}`;
    const unreachable = join(WORK, 'kubeconfig-unreachable');
    writeFileSync(unreachable, toYaml(kubeconfig), { mode: 0o600 });
    let pid = 0;
    let group: number[] = [];
    const started = Date.now();
    await assert.rejects(WebhookProcess.start(unreachable, tlsFiles, https, metrics, 'webhook-never-ready', {
      readyTimeoutMs: 8_000,
      onSpawn: (p) => {
        pid = p;
        // What its group holds once running (tsx's esbuild service is a child of its own).
        setTimeout(() => (group = processGroupMembers(p)), 6_000);
      },
    }), /Timed out after 8s waiting for the webhook to be ready/);
    assert.ok(pid > 0);
    assert.ok(group.includes(pid), `the webhook ran in its own process group: [${group.join(', ')}]`);
    assert.equal(isAlive(pid), false, `the webhook (pid ${pid}) is gone once start failed`);
    assert.deepEqual(processGroupMembers(pid), [], `nothing of its group is left (it held [${group.join(', ')}])`);
    observed['notReadyStopped'] = { pid, group, msToFailAndStop: Date.now() - started };
  });

  test('Deployments of 1, 3 and 10 replicas are split by their policies; an opted-out one is left alone', async () => {
    const { apps } = cluster();
    const userAffinity: Partial<V1PodSpec> = {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } },
      tolerations: [{ key: 'team', operator: 'Exists', effect: 'NoSchedule' }],
    };
    // solo: namespace 25% + default base 1 → floor(1) = 1. trio: base 1 + 50% → floor(3) = 2.
    // fleet: namespace 25% → floor(10) = 1 + ceil(2.25) = 4. legacy: opted out.
    await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody('solo', 1) });
    await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody('trio', 3, { 'stowage.io/on-demand-base': '1', 'stowage.io/on-demand-percent': '50' }, userAffinity) });
    await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody('fleet', 10) });
    await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody('legacy', 2, { 'stowage.io/placement': 'disabled' }) });

    const solo = await waitForSplit('solo', 1);
    const trio = await waitForSplit('trio', 3);
    const fleet = await waitForSplit('fleet', 10);
    const legacy = await waitForSplit('legacy', 2);
    observed['initialSplit'] = { solo: solo.split, trio: trio.split, fleet: fleet.split, legacy: legacy.split };
    assert.deepEqual(solo.split, { onDemand: 1, spot: 0, other: 0 });
    assert.deepEqual(trio.split, { onDemand: 2, spot: 1, other: 0 });
    assert.deepEqual(fleet.split, { onDemand: 4, spot: 6, other: 0 });

    for (const pod of [...solo.pods, ...trio.pods, ...fleet.pods]) {
      const type = nodeType.get(pod.spec?.nodeName ?? '');
      assert.equal(pod.metadata?.annotations?.['stowage.io/capacity-type'], type, `${pod.metadata?.name} records its decision`);
      assert.equal(pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'], type === 'spot' ? '-100' : '100');
    }
    // The user's own affinity term and toleration survive; ours joins the term.
    for (const pod of trio.pods) {
      const term = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0];
      assert.deepEqual(term?.matchExpressions?.map((e) => e.key), ['kubernetes.io/os', CAPACITY_LABEL]);
      assert.ok(pod.spec?.tolerations?.some((t) => t.key === 'team'));
    }
    for (const pod of legacy.pods) assert.equal(pod.metadata?.annotations?.['stowage.io/capacity-type'], undefined, 'opted out: unchanged');
  });

  test('a StatefulSet puts its lowest ordinals on on-demand', async () => {
    const { apps } = cluster();
    const body: V1StatefulSet = {
      metadata: { name: 'db', annotations: { 'stowage.io/on-demand-base': '2', 'stowage.io/on-demand-percent': '0' } },
      spec: { replicas: 4, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: podTemplate('db') },
    };
    await apps.createNamespacedStatefulSet({ namespace: NS, body });
    const { pods, split } = await waitForSplit('db', 4);
    const byOrdinal = Object.fromEntries(pods.map((p) => [p.metadata?.name ?? '', nodeType.get(p.spec?.nodeName ?? '')]));
    observed['statefulSet'] = byOrdinal;
    assert.deepEqual(byOrdinal, { 'db-0': 'on-demand', 'db-1': 'on-demand', 'db-2': 'spot', 'db-3': 'spot' });
    assert.deepEqual(split, { onDemand: 2, spot: 2, other: 0 });
  });

  test('after a rollout the new revision holds the same split', async () => {
    await updateDeployment('fleet', (d) => {
      const template = d.spec?.template;
      if (template) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, 'example.com/revision': '2' } };
    });
    const { apps } = cluster();
    await waitFor('the fleet rollout to finish', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'fleet', namespace: NS });
      const s = d.status;
      return (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s?.updatedReplicas === 10 && s.readyReplicas === 10 && s.replicas === 10;
    }, { timeoutMs: 180_000, intervalMs: 250 });
    const { split, pods } = await waitForSplit('fleet', 10);
    assert.equal(new Set(pods.map((p) => p.metadata?.labels?.['pod-template-hash'])).size, 1, 'only the new revision is left');
    observed['fleetAfterRollout'] = split;
    assert.deepEqual(split, { onDemand: 4, spot: 6, other: 0 });
  });

  test('a scale-down removes spot replicas first (pod-deletion-cost)', async () => {
    const before = (await waitForSplit('fleet', 10)).pods;
    const typeBefore = new Map(before.map((p) => [p.metadata?.name ?? '', nodeType.get(p.spec?.nodeName ?? '')]));
    await updateDeployment('fleet', (d) => {
      if (d.spec) d.spec.replicas = 5;
    });
    const { split, pods } = await waitForSplit('fleet', 5);
    const kept = new Set(pods.map((p) => p.metadata?.name ?? ''));
    const removed = [...typeBefore].filter(([name]) => !kept.has(name)).map(([, type]) => type);
    observed['fleetScaleDown'] = { split, removed };
    assert.deepEqual(removed, ['spot', 'spot', 'spot', 'spot', 'spot']);
    assert.deepEqual(split, { onDemand: 4, spot: 1, other: 0 });
  });

  test('with the webhook stopped, pods are still admitted (failurePolicy Ignore), unplaced', async () => {
    assert.ok(webhook);
    const code = await webhook.stop();
    observed['webhookExitCode'] = code;
    assert.equal(code, 0, `the webhook stops cleanly on SIGTERM; log: ${tailLog(webhook.logPath)}`);
    const { apps } = cluster();
    const started = Date.now();
    await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody('unplaced', 2) });
    const { pods, split } = await waitForSplit('unplaced', 2);
    observed['whileStopped'] = { msToTwoReadyPods: Date.now() - started, split };
    for (const pod of pods) assert.equal(pod.metadata?.annotations?.['stowage.io/capacity-type'], undefined);
  });

  test('a restarted webhook rebuilds its counts from the cluster', async () => {
    webhook = await WebhookProcess.start(kubeconfigAsWebhook, tlsFiles, ports.https, ports.metrics, 'webhook-2');
    observed['msUntilCalledAfterRestart'] = await waitUntilCalled(webhook);
    // solo: 1 pod on on-demand; scaled to 3 the floor is 1 + ceil(25% of 2) = 2. A webhook that
    // forgot the running pod would put both new pods on on-demand (3/0); one that counts it, 2/1.
    await updateDeployment('solo', (d) => {
      if (d.spec) d.spec.replicas = 3;
    });
    const { split } = await waitForSplit('solo', 3);
    observed['soloAfterRestartScaleUp'] = split;
    assert.deepEqual(split, { onDemand: 2, spot: 1, other: 0 });
    const text = await webhook.metrics();
    assert.equal(metricSum(text, 'stowage_webhook_workload_on_demand_desired', { name: 'solo' }), 2);
    assert.equal(metricSum(text, 'stowage_webhook_workload_pods', { name: 'solo', capacity_type: 'on-demand' }), 2);
  });

  test('a flood of 1,000 hostile requests from 16 clients: the webhook (compiled, as the image runs it) stays up, places every pod the apiserver creates meanwhile, answers 99% of the reviews it places within 100 ms (timed inside it), stays under 256 MiB and spends little of its event loop on each hostile request', async () => {
    assert.ok(webhook?.running);
    // The image runs compiled JavaScript (Dockerfile); from the sources, tsx's loader threads
    // alone hold some 90 MiB more. The same port: the registration stays as it is.
    const entry = compileAsTheImage(WORK);
    assert.equal(await webhook.stop(), 0);
    webhook = await WebhookProcess.start(kubeconfigAsWebhook, tlsFiles, ports.https, ports.metrics, 'webhook-compiled', { entry });
    const wh = webhook;
    await waitUntilCalled(wh);
    const { apps, core } = cluster();
    // The valid reviews sent directly are for pods of a real ReplicaSet, so the webhook decides them in full.
    await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody('flood-direct', 1, {}, {}, { flood: 'yes' }) });
    let owner = { name: '', uid: '' };
    await waitFor('the ReplicaSet of "flood-direct"', async () => {
      const rs = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=flood-direct' })).items[0];
      owner = { name: rs?.metadata?.name ?? '', uid: rs?.metadata?.uid ?? '' };
      return owner.uid !== '';
    }, { timeoutMs: 30_000, intervalMs: 200 });
    const reviewsBefore = metricSum(await wh.metrics(), 'stowage_webhook_reviews_total');
    // First 5 s of valid reviews alone: their latency without the flood, and what each costs the
    // webhook's main thread (the event loop every review waits on; its thread id is the pid).
    const p99 = (results: readonly { readonly ms: number }[]): number => {
      const ms = results.map((r) => r.ms).sort((a, b) => a - b);
      return ms[Math.min(ms.length - 1, Math.ceil(0.99 * ms.length) - 1)] ?? NaN;
    };
    const calmCpuBefore = cpuMs(wh.pid, wh.pid);
    // Sent from a worker thread of their own (this thread's API calls would delay their answers'
    // handling), through one pool of connections for the calm reviews and those during the flood,
    // as the apiserver keeps its idle connections (90 s): a flood does not empty it.
    const stream = ValidReviewStream.start({ port: ports.https, ca: ca.certPem, body: JSON.stringify(floodReview('__UID__', owner)) });
    const calm = await stream.run(20, 'flood-calm', new Promise((r) => setTimeout(r, 5_000)));
    const mainMsPerValidReview = (cpuMs(wh.pid, wh.pid) - calmCpuBefore) / calm.length;
    let peak = rssMiB(wh.pid);
    const rssBefore = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(wh.pid))), 50);
    // The flood hits the webhook directly on loopback (its own worker thread, so this test's API
    // calls and the RSS sampler keep their pace), while Deployments are created through the API
    // for as long as it lasts: the apiserver calls the webhook for each of their pods.
    const started = Date.now();
    const floodCpuBefore = cpuMs(wh.pid, wh.pid);
    // Answer times inside the webhook (first byte to response), for the reviews it placed meanwhile.
    const answeredBefore = histogramBuckets(await wh.metrics(), 'stowage_webhook_admission_duration_seconds', { outcome: 'patched' });
    const flood = floodInWorker({ port: ports.https, ca: ca.certPem, count: 1_000, clients: 16 });
    let floodEnded = 0;
    void flood.then(() => (floodEnded = Date.now()), () => (floodEnded = Date.now()));
    // Valid reviews sent directly too, at 20/s: their latency, client-side, beside a control plane
    // creating pods on the same two cores (printed; webhook-flood.test.ts asserts it on loopback).
    const direct = stream.run(20, 'flood-direct', flood.catch(() => undefined));
    const created: string[] = [];
    // Small pods (10m), at most 40 Deployments of three: whatever the flood's length, they fit the four nodes.
    const small: Partial<V1PodSpec> = { containers: [{ name: 'app', image: 'registry.example/flood:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] };
    try {
      while (floodEnded === 0 && created.length < 40) {
        const name = `flood-${created.length}`;
        await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody(name, 3, {}, small, { flood: 'yes' }) });
        created.push(name);
        await new Promise((r) => setTimeout(r, 300));
      }
      const result = await flood;
      const answers = await direct;
      // The event loop's CPU during the flood beyond what the valid reviews sent meanwhile cost.
      const mainMsPerHostile = (cpuMs(wh.pid, wh.pid) - floodCpuBefore - answers.length * mainMsPerValidReview) / 1_000;
      const answeredAfter = histogramBuckets(await wh.metrics(), 'stowage_webhook_admission_duration_seconds', { outcome: 'patched' });
      await new Promise((r) => setTimeout(r, 5_000));
      clearInterval(sampler);
      const rssAfter = rssMiB(wh.pid);
      let pods: V1Pod[] = [];
      try {
        await waitFor('every pod of the flood Deployments created', async () => {
          pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'flood=yes,app!=flood-direct' })).items;
          return pods.length === created.length * 3;
        }, { timeoutMs: 120_000, intervalMs: 500 });
      } finally {
        // The figures, even when the pods did not all come.
        observed['floodPartial'] = { floodSeconds: result.seconds, deployments: created.length, pods: pods.length, rssMiB: { before: Math.round(rssBefore), peakDuring: Math.round(peak), after5s: Math.round(rssAfter) } };
      }
      // creationTimestamp has whole seconds: a pod stamped a full second before the flood ended was admitted during it.
      const during = pods.filter((p) => (p.metadata?.creationTimestamp?.getTime() ?? Infinity) + 1_000 <= floodEnded).length;
      const unplaced = pods.filter((p) => !placedByWebhook(p)).map((p) => p.metadata?.name);
      const ok = answers.filter((r) => r.status === 200);
      const placedDirect = ok.filter((r) => r.body.includes('"patch"')).length;
      const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
      const placedInside = { n: (answeredAfter.get(Infinity) ?? 0) - (answeredBefore.get(Infinity) ?? 0), p50MsAtMost: percentileBound(answeredBefore, answeredAfter, 0.5), p99MsAtMost: percentileBound(answeredBefore, answeredAfter, 0.99) };
      observed['flood'] = {
        hostileRequests: 1_000,
        clients: 16,
        floodSeconds: result.seconds,
        statuses: result.statuses,
        unexpectedAnswers: result.unexpected.length,
        podsCreatedThroughApi: pods.length,
        podsAdmittedDuringFlood: during,
        podsUnplaced: unplaced.length,
        directValidReviews: { sent: answers.length, answered200: ok.length, placed: placedDirect, onNewConnections: ok.filter((r) => r.newConnection === true).length, p99MsOnKeptAliveConnections: p99(ok.filter((r) => r.newConnection !== true)), p50Ms: ms[Math.floor(ms.length / 2)], p99Ms: p99(ok), maxMs: ms[ms.length - 1], p99MsBeforeTheFlood: p99(calm) },
        // Every review the webhook placed while the flood ran (direct and the apiserver's), timed by
        // the webhook itself: a bucket bound of its histogram, so "at most".
        placedInsideTheWebhook: placedInside,
        webhookMainThreadCpuMs: { perValidReview: Number(mainMsPerValidReview.toFixed(2)), perHostileRequest: Number(mainMsPerHostile.toFixed(2)) },
        rssMiB: { before: Math.round(rssBefore), peakDuring: Math.round(peak), after5s: Math.round(rssAfter) },
        webhookReviewsDuringTest: metricSum(await wh.metrics(), 'stowage_webhook_reviews_total') - reviewsBefore,
        load: loadavg().map((l) => Number(l.toFixed(1))),
        wallSeconds: (Date.now() - started) / 1000,
      };
      process.stdout.write(`# WEBHOOK-FLOOD ${JSON.stringify(observed['flood'])}\n`);
      assert.ok(wh.running, `the webhook survived the flood; log: ${tailLog(wh.logPath)}`);
      assert.deepEqual(result.unexpected, [], 'every hostile request got one of its expected answers, in one line');
      assert.ok(during >= 10, `pods were admitted while the flood ran (${during} of ${pods.length})`);
      assert.deepEqual(unplaced, [], 'no pod was admitted unplaced: the apiserver never gave up on the webhook');
      assert.equal(ok.length, answers.length, 'every valid review sent directly was answered 200');
      assert.ok(peak < 256, `RSS during the flood ${peak.toFixed(0)} MiB < 256 MiB`);
      assert.ok(rssAfter < 256, `RSS 5 s after the flood ${rssAfter.toFixed(0)} MiB < 256 MiB`);
      // Valid reviews' latency here is wall time on two cores the flood's own client and a control
      // plane creating pods share, so it is printed (p99 above), not asserted: webhook-flood.test.ts
      // asserts it (< 100 ms, client-side) with the webhook server and the flood alone. What the webhook controls is
      // how long each hostile request holds the event loop those reviews wait on: CPU time, which
      // the load disturbs far less (before the parse worker sent back only the pod's fields and
      // ran at a lower priority, ~5.8 ms; since, ~2 ms).
      assert.ok(mainMsPerHostile < 4, `the event loop spent ${mainMsPerHostile.toFixed(2)} ms of CPU per hostile request (< 4 ms), beyond the valid reviews' ${mainMsPerValidReview.toFixed(2)} ms each`);
      // And the time the webhook itself took to answer the reviews it placed meanwhile (first byte
      // to response, its histogram): within 100 ms for 99% of them, the issue's bound, counted
      // where the machine's other processes weigh least (<= 50 ms at load 17.6, the client's p99
      // then 260 ms). The client's p99 above stays printed.
      assert.ok(placedInside.n > 0 && placedInside.p99MsAtMost <= 100, `99% of the reviews placed during the flood were answered within ${placedInside.p99MsAtMost} ms inside the webhook (<= 100 ms)`);
    } finally {
      clearInterval(sampler);
      await flood.catch(() => undefined);
      await direct.catch(() => undefined);
      await stream.close();
      for (const name of [...created, 'flood-direct']) await apps.deleteNamespacedDeployment({ name, namespace: NS });
      await waitFor('the flood Deployments\' pods to be gone', async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: 'flood=yes' })).items.length === 0, { timeoutMs: 120_000, intervalMs: 500 });
    }
  });

  test('every spot node deleted at once: each workload keeps at least one Ready replica and recovers on on-demand', async () => {
    const { core, kc } = cluster();
    const placed: Record<string, number> = { solo: 3, trio: 3, fleet: 5, db: 4 };
    const unplaced: Record<string, number> = { legacy: 2, unplaced: 2 };
    const desired = { ...placed, ...unplaced };
    const pods = new ResilientInformer<V1Pod>(kc, { name: 'pods', path: `/api/v1/namespaces/${NS}/pods` });
    const nodes = new ResilientInformer<V1Node>(kc, { name: 'nodes', path: '/api/v1/nodes' });
    const minReady = new Map(Object.keys(desired).map((app) => [app, Number.POSITIVE_INFINITY]));
    const recoveredAt = new Map<string, number>();
    const dropped = new Set<string>();
    let t0 = 0;
    // A replica counts while it is Ready, not deleted, and on a node that still exists: a pod
    // left on a deleted node keeps its last status until PodGC removes it, but serves nothing.
    const ready = (): Map<string, number> => {
      const alive = new Set(nodes.list().map((n) => n.metadata?.name ?? ''));
      const counts = new Map<string, number>();
      for (const pod of pods.list()) {
        if (pod.metadata?.deletionTimestamp !== undefined || !alive.has(pod.spec?.nodeName ?? '') || !isReady(pod)) continue;
        const app = pod.metadata?.labels?.['app'] ?? '';
        counts.set(app, (counts.get(app) ?? 0) + 1);
      }
      return counts;
    };
    const sample = (): void => {
      if (t0 === 0) return;
      const counts = ready();
      for (const app of Object.keys(desired)) {
        const n = counts.get(app) ?? 0;
        minReady.set(app, Math.min(minReady.get(app) ?? n, n));
        if (n < (desired[app] ?? 0)) {
          dropped.add(app);
          recoveredAt.delete(app);
        } else if (dropped.has(app) && !recoveredAt.has(app)) {
          recoveredAt.set(app, Date.now() - t0);
        }
      }
    };
    for (const verb of ['add', 'update', 'delete'] as const) {
      pods.on(verb, sample);
      nodes.on(verb, sample);
    }
    const sampler = setInterval(sample, 100);
    try {
      await Promise.all([pods.start(), nodes.start()]);
      const before = ready();
      for (const [app, n] of Object.entries(desired)) assert.equal(before.get(app) ?? 0, n, `${app} is fully Ready before the spot loss`);
      const spotNodes = nodes.list().filter((n) => n.metadata?.labels?.[CAPACITY_LABEL] === 'spot').map((n) => n.metadata?.name ?? '');
      assert.equal(spotNodes.length, 2);
      t0 = Date.now();
      sample();
      await Promise.all(spotNodes.map((name) => core.deleteNode({ name })));
      await waitFor('the spot nodes to be gone', async () => !nodes.list().some((n) => spotNodes.includes(n.metadata?.name ?? '')), { timeoutMs: 30_000 });
      await waitFor('every placed workload to be fully Ready again on the remaining nodes', async () => {
        sample();
        const counts = ready();
        return Object.keys(placed).every((app) => (counts.get(app) ?? 0) >= (placed[app] ?? 0));
      }, { timeoutMs: 6 * 60_000, intervalMs: 500 });
    } finally {
      clearInterval(sampler);
      await pods.stop();
      await nodes.stop();
    }
    await refreshNodeTypes();
    const after: Record<string, Split> = {};
    for (const app of Object.keys(placed)) after[app] = splitOf((await livePods(app)).filter((p) => p.spec?.nodeName));
    observed['spotLoss'] = {
      minReadyDuringLoss: Object.fromEntries(minReady),
      msToFullyReady: Object.fromEntries(Object.keys(desired).map((app) => [app, dropped.has(app) ? (recoveredAt.get(app) ?? 'not yet') : 0])),
      splitAfter: after,
    };
    for (const app of Object.keys(placed)) assert.ok((minReady.get(app) ?? 0) >= 1, `${app} kept at least one Ready replica (min ${minReady.get(app)})`);
    for (const app of Object.keys(placed)) assert.equal(after[app]?.spot, 0, `${app}'s replacements fell back to on-demand`);
    const text = webhook ? await webhook.metrics() : '';
    observed['decisionsAfterRestart'] = {
      fallback: metricSum(text, 'stowage_webhook_decisions_total', { reason: 'fallback' }),
      total: metricSum(text, 'stowage_webhook_decisions_total'),
    };
    assert.ok(metricSum(text, 'stowage_webhook_decisions_total', { reason: 'fallback' }) >= 1, 'replacements were decided as spot with on-demand allowed');
  });
});
