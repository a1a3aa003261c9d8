/**
 * The webhook run against a local cluster (`stowage dev cluster up`), the way a newcomer tries it:
 * a fresh CA and serving certificate for 127.0.0.1, `stowage webhook` as a detached process bound
 * to 127.0.0.1 only, acting as its shipped ServiceAccount (deploy/webhook/rbac.yaml, impersonated)
 * so it has the rights a deployed replica has, and the shipped registration pointed at it with a
 * `url` clientConfig and the CA as caBundle. The process joins the cluster's state, so
 * `stowage dev cluster down` stops it too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig, type V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { readClusterState, recordProcess, stopRecordedProcess } from '../../devcluster/cluster.js';
import { httpGet } from '../../devcluster/http.js';
import { repoPath } from '../../devcluster/paths.js';
import { impersonatingKubeconfig, shippedNodeOptions, shippedRbac } from '../../devcluster/shipped-identity.js';
import { freePorts, isAlive, startProcess, tailLog, waitFor } from '../../devcluster/processes.js';
import { serverSideApply } from '../../kube/apply.js';
import { describeApiError } from '../../kube/errors.js';
import { createCertificateAuthority, issueCertificate } from '../../pki/certs.js';
import { shippedWebhookConfiguration, urlWebhookConfiguration } from './registration.js';

/** The process's name in the cluster's state (and its log file's). */
export const LOCAL_WEBHOOK_PROCESS = 'stowage-webhook';

const FIELD_MANAGER = 'stowage-dev';

export interface LocalWebhookOptions {
  /** The cluster's directory (its state, kubeconfig and logs); the webhook's files go in `webhook/` there. */
  readonly clusterDir: string;
  /** A configuration file for `stowage webhook --config`; the built-in defaults when undefined. */
  readonly configFile?: string;
  /** HTTPS port on 127.0.0.1; a free one when undefined. */
  readonly port?: number;
  /** Plain-HTTP /metrics and /readyz port on 127.0.0.1; a free one when undefined. */
  readonly metricsPort?: number;
  readonly dryRun?: boolean;
  /** Progress messages. */
  readonly log?: (message: string) => void;
  readonly timeoutMs?: number;
}

export interface LocalWebhook {
  readonly url: string;
  readonly metricsUrl: string;
  readonly pid: number;
  readonly logPath: string;
  /** The MutatingWebhookConfiguration's name. */
  readonly registration: string;
  /** The ServiceAccount the webhook acts as, `system:serviceaccount:NS:NAME`. */
  readonly user: string;
  /** How long after registering the apiserver first sent the webhook a review. */
  readonly calledAfterMs: number;
}

function _kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

function _sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function _register(kc: KubeConfig, body: V1MutatingWebhookConfiguration): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const name = body.metadata?.name ?? '';
  try {
    await api.createMutatingWebhookConfiguration({ body });
  } catch (error) {
    if (describeApiError(error).status !== 409) throw error;
    // A registration left by an earlier run (or the in-cluster one): point it here.
    const live = await api.readMutatingWebhookConfiguration({ name });
    await api.replaceMutatingWebhookConfiguration({ name, body: { ...body, metadata: { ...body.metadata, name, resourceVersion: live.metadata?.resourceVersion ?? '' } } });
  }
}

/**
 * Starts the webhook beside the cluster in `clusterDir`, registers it, and resolves once the
 * apiserver has sent it a review (pods created from then on are placed).
 *
 * @throws {Error} one line when the cluster is not running, the webhook is already running, or it does not start
 */
export async function startLocalWebhook(options: LocalWebhookOptions): Promise<LocalWebhook> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const dir = options.clusterDir;
  const state = readClusterState(dir);
  const apiserver = state?.processes.find((p) => p.name === 'kube-apiserver');
  if (state === undefined || apiserver === undefined || !isAlive(apiserver.pid)) throw new Error('The cluster is not running');
  const running = state.processes.find((p) => p.name === LOCAL_WEBHOOK_PROCESS);
  if (running !== undefined && isAlive(running.pid)) throw new Error(`The webhook is already running (pid ${running.pid})`);

  const adminKc = _kubeConfig(state.kubeconfigPath);
  const workDir = join(dir, 'webhook');
  mkdirSync(workDir, { recursive: true });

  log('issuing a CA and a serving certificate for 127.0.0.1');
  const ca = await createCertificateAuthority('stowage-dev-webhook-ca');
  const serving = await issueCertificate(ca, { commonName: 'stowage-webhook', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const files = { ca: join(workDir, 'ca.crt'), cert: join(workDir, 'tls.crt'), key: join(workDir, 'tls.key'), kubeconfig: join(workDir, 'kubeconfig') };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.cert, serving.certPem);
  writeFileSync(files.key, serving.keyPem, { mode: 0o600 });

  const rbac = shippedRbac('webhook');
  log(`applying deploy/webhook's ServiceAccount and RBAC; the webhook acts as ${rbac.user}`);
  await serverSideApply(adminKc, rbac.objects, FIELD_MANAGER);
  writeFileSync(files.kubeconfig, impersonatingKubeconfig(state.kubeconfigPath, rbac.user), { mode: 0o600 });

  const [freeHttps, freeMetrics] = (await freePorts(2)) as [number, number];
  const port = options.port ?? freeHttps;
  const metricsPort = options.metricsPort ?? freeMetrics;
  const args = [
    // Sized as deployed (deploy/webhook/deployment.yaml's NODE_OPTIONS).
    ...shippedNodeOptions('webhook'),
    repoPath('bin', 'stowage.js'),
    'webhook',
    `--kubeconfig=${files.kubeconfig}`,
    `--tls-cert-file=${files.cert}`,
    `--tls-private-key-file=${files.key}`,
    `--listen=127.0.0.1:${port}`,
    `--metrics-listen=127.0.0.1:${metricsPort}`,
    ...(options.configFile === undefined ? [] : [`--config=${resolve(options.configFile)}`]),
    ...(options.dryRun === true ? ['--dry-run'] : []),
  ];
  log(`starting the webhook on https://127.0.0.1:${port}/mutate`);
  const child = startProcess(LOCAL_WEBHOOK_PROCESS, process.execPath, args, join(dir, 'logs'), { STOWAGE_LOG_LEVEL: process.env['STOWAGE_LOG_LEVEL'] ?? 'info' });
  recordProcess(dir, child);
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  try {
    const diedEarly = (): string | undefined => (isAlive(child.pid) ? undefined : `it exited; last lines of ${child.logPath}:\n${tailLog(child.logPath)}`);
    await waitFor('the webhook to be ready', async () => (await httpGet(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200, { timeoutMs, abortIf: diedEarly });

    const url = `https://127.0.0.1:${port}/mutate`;
    const registration = urlWebhookConfiguration(url, ca.certPem);
    log(`registering MutatingWebhookConfiguration "${registration.metadata.name}" with clientConfig.url ${url}`);
    await _register(adminKc, registration as unknown as V1MutatingWebhookConfiguration);

    // The apiserver picks a registration up within a second or so; until then pods go unplaced.
    // A server-side dry run of a ReplicaSet-owned pod is sent to the webhook and stores nothing.
    const registered = Date.now();
    const core = adminKc.makeApiClient(CoreV1Api);
    const reviews = async (): Promise<number> => _sumMetric((await httpGet(metricsUrl)).body, 'stowage_webhook_reviews_total');
    const before = await reviews();
    await waitFor('the apiserver to call the webhook', async () => {
      await core.createNamespacedPod({
        namespace: 'default',
        dryRun: 'All',
        body: {
          metadata: { generateName: 'stowage-probe-', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'stowage-probe', uid: '00000000-0000-0000-0000-000000000000', controller: true }] },
          spec: { containers: [{ name: 'probe', image: 'registry.example/probe:1' }] },
        },
      });
      return (await reviews()) > before;
    }, { timeoutMs: 60_000, intervalMs: 200, abortIf: diedEarly });
    return { url, metricsUrl, pid: child.pid, logPath: child.logPath, registration: registration.metadata.name, user: rbac.user, calledAfterMs: Date.now() - registered };
  } catch (error) {
    await stopLocalWebhook(dir).catch(() => undefined);
    throw error;
  }
}

/** What {@link stopLocalWebhook} did. */
export interface StoppedLocalWebhook {
  /** The registration deleted, if there was one pointing at a local URL. */
  readonly unregistered?: string;
  /** The pid stopped, if the webhook was running. */
  readonly stopped?: number;
}

/**
 * Deletes the registration (first, so the apiserver stops calling a webhook that is going away)
 * and stops the webhook. A registration whose clientConfig is not a URL (the in-cluster one) is
 * left alone. Safe to call twice, and after the cluster is down.
 */
export async function stopLocalWebhook(clusterDir: string): Promise<StoppedLocalWebhook> {
  const state = readClusterState(clusterDir);
  if (state === undefined) return {};
  let unregistered: string | undefined;
  const apiserver = state.processes.find((p) => p.name === 'kube-apiserver');
  if (apiserver !== undefined && isAlive(apiserver.pid)) {
    const api = _kubeConfig(state.kubeconfigPath).makeApiClient(AdmissionregistrationV1Api);
    const name = shippedWebhookConfiguration().metadata.name;
    try {
      const live = await api.readMutatingWebhookConfiguration({ name });
      if ((live.webhooks ?? []).every((w) => w.clientConfig.url?.startsWith('https://127.0.0.1:') === true)) {
        await api.deleteMutatingWebhookConfiguration({ name });
        unregistered = name;
      }
    } catch (error) {
      if (describeApiError(error).status !== 404) throw error;
    }
  }
  // SIGTERM: in-flight reviews finish, then the informers and listeners close.
  const stopped = await stopRecordedProcess(clusterDir, LOCAL_WEBHOOK_PROCESS, 15_000);
  return { ...(unregistered === undefined ? {} : { unregistered }), ...(stopped === undefined ? {} : { stopped }) };
}
