/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and KWOK as the node agent, each a process bound to 127.0.0.1 on a free port.
 * Start order follows the dependencies: etcd → certificates → apiserver (/readyz) → kubeconfig →
 * controller-manager and scheduler → kwok → fake nodes (Ready).
 *
 * The cluster's state (pids, ports, kubeconfig) lives in `<dir>/state.json`, so the process that
 * stops it need not be the one that started it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '../pki/certs.js';
import { resolveBinaries, type Binaries } from './binaries.js';
import { httpGet } from './http.js';
import { fixtureNodes, parseNodeFixture, type NodeFixture } from './nodes.js';
import { repoPath } from './paths.js';
import { applyClusterAutoscalerNodeGroups, clusterAutoscalerArgs, clusterAutoscalerEnvironment, resolveClusterAutoscalerBinary } from './cluster-autoscaler.js';
import { applyKarpenterCrds, applyKarpenterNodeGroups, karpenterCrdFiles, karpenterEnvironment, resolveKarpenterBinary, writeInstanceTypes } from './karpenter.js';
import type { TenantClasses } from '../tenants/classes.js';
import { freePorts, isAlive, startProcess, stopProcess, tailLog, waitFor, type RunningProcess } from './processes.js';

export interface ClusterOptions {
  /** Directory for state, certificates, logs and etcd data. Wiped on start. */
  readonly dir: string;
  /** Node fixture; defaults to dev/nodes.yaml. */
  readonly nodes?: NodeFixture;
  /** How long a bound pod takes at least to become Running and Ready. Default 1 s. */
  readonly podStartupMs?: number;
  /**
   * A random extra on top of {@link podStartupMs}: each pod becomes Ready after a uniform time in
   * `[podStartupMs, podStartupMs + podStartupJitterMs)`. Default half of `podStartupMs`.
   */
  readonly podStartupJitterMs?: number;
  /** How long a deleted pod stays Terminating. */
  readonly podTerminationMs?: number;
  /** How long a Job's pod runs. */
  readonly jobRunMs?: number;
  readonly binaries?: Binaries;
  /**
   * More kube-apiserver flags, after the defaults (a later flag wins): for tests that need API
   * Priority and Fairness (`--enable-priority-and-fairness=true`) or an audit log.
   */
  readonly apiserverArgs?: readonly string[];
  /**
   * More kube-scheduler flags, after the defaults (a later flag wins): a verbosity for tests that
   * read its per-plugin scores (`--vmodule=schedule_one=10`), or its client QPS and burst.
   */
  readonly schedulerArgs?: readonly string[];
  /**
   * More kube-controller-manager flags, after the defaults (a later flag wins): a `--controllers`
   * list for tests that keep objects as they made them (no ReplicaSet controller adding pods).
   */
  readonly controllerManagerArgs?: readonly string[];
  /**
   * An autoscaler to start after the nodes, for the tenant classes' node groups (`tenantClasses`,
   * the built-in ones by default): `karpenter` is Karpenter's KWOK provider, with the groups as
   * NodePools; `cluster-autoscaler` is Cluster Autoscaler's kwok provider, with the groups as its
   * template nodes (the binary from `STOWAGE_CLUSTER_AUTOSCALER_BINARY`).
   */
  readonly autoscaler?: DevAutoscaler;
  readonly tenantClasses?: TenantClasses;
  /** Progress messages ("starting etcd"). */
  readonly log?: (message: string) => void;
  readonly timeoutMs?: number;
}

/** The autoscalers `dev cluster up --autoscaler` can start. */
export const DEV_AUTOSCALERS = ['karpenter', 'cluster-autoscaler'] as const;
export type DevAutoscaler = (typeof DEV_AUTOSCALERS)[number];

export interface ClusterState {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly processes: readonly RunningProcess[];
  readonly startedAt: string;
  readonly ports: Readonly<Record<string, number>>;
}

const STATE_FILE = 'state.json';
const CONTEXT = 'stowage-dev';

interface Pki {
  caPath: string;
  certPath: string;
  keyPath: string;
  saKeyPath: string;
  saPubPath: string;
  ca: string;
  cert: string;
  key: string;
}

async function _writePki(dir: string): Promise<Pki> {
  const pkiDir = join(dir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  const ca = await createCertificateAuthority('stowage-dev-ca');
  // One certificate serves the apiserver and authenticates every component as an admin, as
  // kwokctl does: this cluster is a test bench on loopback, not a hardened control plane.
  const admin = await issueCertificate(ca, {
    commonName: 'kubernetes-admin',
    organizations: ['system:masters'],
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
    usage: 'server-and-client',
  });
  const sa = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pki: Pki = {
    caPath: join(pkiDir, 'ca.crt'),
    certPath: join(pkiDir, 'admin.crt'),
    keyPath: join(pkiDir, 'admin.key'),
    saKeyPath: join(pkiDir, 'sa.key'),
    saPubPath: join(pkiDir, 'sa.pub'),
    ca: ca.certPem,
    cert: admin.certPem,
    key: admin.keyPem,
  };
  writeFileSync(pki.caPath, ca.certPem);
  writeFileSync(pki.certPath, admin.certPem);
  writeFileSync(pki.keyPath, admin.keyPem, { mode: 0o600 });
  writeFileSync(pki.saKeyPath, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pki.saPubPath, sa.publicKey.export({ type: 'spki', format: 'pem' }));
  return pki;
}

function _kubeconfigYaml(server: string, pki: Pki): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${CONTEXT}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.ca)}`,
    'users:',
    `- name: ${CONTEXT}-admin`,
    '  user:',
    `    client-certificate-data: ${b64(pki.cert)}`,
    `    client-key-data: ${b64(pki.key)}`,
    'contexts:',
    `- name: ${CONTEXT}`,
    '  context:',
    `    cluster: ${CONTEXT}`,
    `    user: ${CONTEXT}-admin`,
    `current-context: ${CONTEXT}`,
    '',
  ].join('\n');
}

/**
 * The range of a pod's start-up delay, from binding to Ready, for the given options: at least
 * `minMs`, less than `maxMs` (equal when there is no jitter).
 */
export function podStartupRange(options: Pick<ClusterOptions, 'podStartupMs' | 'podStartupJitterMs'>): { minMs: number; maxMs: number } {
  const minMs = Math.max(0, Math.round(options.podStartupMs ?? 1_000));
  const jitterMs = Math.max(0, Math.round(options.podStartupJitterMs ?? minMs / 2));
  return { minMs, maxMs: minMs + jitterMs };
}

/** The kwok configuration (dev/kwok/stages.yaml with its placeholders filled in) for the options. */
export function renderStages(options: Omit<ClusterOptions, 'dir'>): string {
  const startup = podStartupRange(options);
  const values: Record<string, number> = {
    POD_STARTUP_MS: startup.minMs,
    // kwok's jitter is the latest delay, not an extra (see the comment in stages.yaml).
    POD_STARTUP_LATEST_MS: startup.maxMs,
    POD_TERMINATION_MS: options.podTerminationMs ?? 500,
    JOB_RUN_MS: options.jobRunMs ?? 5_000,
  };
  const template = readFileSync(repoPath('dev', 'kwok', 'stages.yaml'), 'utf8');
  return template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`Unknown placeholder "\${${name}}" in dev/kwok/stages.yaml`);
    return String(Math.max(0, Math.round(value)));
  });
}

/** Starts a fresh cluster in `options.dir` and waits until its fake nodes are Ready. */
export async function startCluster(options: ClusterOptions): Promise<ClusterState> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const dir = options.dir;
  const existing = readClusterState(dir);
  if (existing && existing.processes.some((p) => isAlive(p.pid))) {
    throw new Error(`A cluster is already running in "${dir}": stop it first with \`stowage dev cluster down\``);
  }
  rmSync(dir, { recursive: true, force: true });
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });

  const binaries = options.binaries ?? (await resolveBinaries({ onBuildStart: () => log('checking the control-plane binaries with dev/build-binaries.sh (a cold build takes tens of minutes)') }));
  const nodes = options.nodes ?? parseNodeFixture(readFileSync(repoPath('dev', 'nodes.yaml'), 'utf8'), 'dev/nodes.yaml');
  const [etcdClient, etcdPeer, apiserver, kcm, scheduler, kwok] = (await freePorts(6)) as [number, number, number, number, number, number];
  const ports: Record<string, number> = { etcdClient, etcdPeer, apiserver, kcm, scheduler, kwok };
  const server = `https://127.0.0.1:${apiserver}`;
  const processes: RunningProcess[] = [];
  const kubeconfigPath = join(dir, 'kubeconfig');
  const state = (): ClusterState => ({ dir, kubeconfigPath, server, processes: [...processes], startedAt: new Date().toISOString(), ports });
  const saveState = (): void => writeFileSync(join(dir, STATE_FILE), JSON.stringify(state(), null, 2));
  const diedEarly = (p: RunningProcess) => (): string | undefined =>
    isAlive(p.pid) ? undefined : `${p.name} exited; last lines of ${p.logPath}:\n${tailLog(p.logPath)}`;
  const start = (name: string, args: string[], binary = binaries[name as keyof Binaries], env?: Record<string, string>): RunningProcess => {
    const p = startProcess(name, binary, args, logDir, env);
    processes.push(p);
    saveState();
    return p;
  };

  try {
    const pki = await _writePki(dir);
    writeFileSync(kubeconfigPath, _kubeconfigYaml(server, pki), { mode: 0o600 });

    log(`starting etcd on 127.0.0.1:${etcdClient}`);
    const etcd = start('etcd', [
      '--name=node0',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=node0=http://127.0.0.1:${etcdPeer}`,
      '--auto-compaction-retention=1',
      '--quota-backend-bytes=8589934592',
      // A throw-away test store: skipping fsync makes it much faster and loses nothing we keep.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd to be healthy', async () => (await httpGet(`http://127.0.0.1:${etcdClient}/health`)).body.includes('"health":"true"'), {
      timeoutMs,
      abortIf: diedEarly(etcd),
    });

    log(`starting kube-apiserver on ${server}`);
    const api = start('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--etcd-prefix=/registry',
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserver}`,
      `--cert-dir=${join(dir, 'pki', 'apiserver')}`,
      `--tls-cert-file=${pki.certPath}`,
      `--tls-private-key-file=${pki.keyPath}`,
      `--client-ca-file=${pki.caPath}`,
      `--service-account-key-file=${pki.saPubPath}`,
      `--service-account-signing-key-file=${pki.saKeyPath}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.0.0.0/24',
      // The aggregation layer (metrics-server and other extension apiservers) and the
      // controllers' delegated authentication read the request-header CA; without it they log errors.
      `--requestheader-client-ca-file=${pki.caPath}`,
      // The same CA signs client certificates, so only this name may act as the proxy.
      '--requestheader-allowed-names=kubernetes-admin',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki.certPath}`,
      `--proxy-client-key-file=${pki.keyPath}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--max-requests-inflight=0',
      '--max-mutating-requests-inflight=0',
      '--endpoint-reconciler-type=none',
      '--v=1',
      ...(options.apiserverArgs ?? []),
    ]);
    await waitFor('kube-apiserver to be ready', async () => (await httpGet(`${server}/readyz`, { tls: pki })).status === 200, {
      timeoutMs,
      abortIf: diedEarly(api),
    });

    log('starting kube-controller-manager and kube-scheduler');
    const componentAuth = [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--tls-cert-file=${pki.certPath}`,
      `--tls-private-key-file=${pki.keyPath}`,
      `--client-ca-file=${pki.caPath}`,
      '--leader-elect=false',
      '--kube-api-qps=1000',
      '--kube-api-burst=2000',
      '--v=1',
    ];
    const kcmProcess = start('kube-controller-manager', [
      ...componentAuth,
      `--secure-port=${kcm}`,
      `--root-ca-file=${pki.caPath}`,
      `--service-account-private-key-file=${pki.saKeyPath}`,
      '--use-service-account-credentials=true',
      '--cluster-name=stowage-dev',
      // No cloud: IPAM, routes and service load balancers have nothing to act on.
      '--controllers=*,-service-lb-controller,-node-route-controller',
      ...(options.controllerManagerArgs ?? []),
    ]);
    const schedulerProcess = start('kube-scheduler', [...componentAuth, `--secure-port=${scheduler}`, ...(options.schedulerArgs ?? [])]);
    await waitFor('kube-controller-manager to be healthy', async () => (await httpGet(`https://127.0.0.1:${kcm}/healthz`, { tls: pki })).status === 200, {
      timeoutMs,
      abortIf: diedEarly(kcmProcess),
    });
    await waitFor('kube-scheduler to be healthy', async () => (await httpGet(`https://127.0.0.1:${scheduler}/healthz`, { tls: pki })).status === 200, {
      timeoutMs,
      abortIf: diedEarly(schedulerProcess),
    });

    log(`starting kwok on 127.0.0.1:${kwok}`);
    const stagesPath = join(dir, 'kwok.yaml');
    writeFileSync(stagesPath, renderStages(options));
    const kwokProcess = start('kwok', [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${stagesPath}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--node-lease-duration-seconds=40',
      '--cidr=10.244.0.0/16',
      '--node-ip=127.0.0.1',
      `--server-address=127.0.0.1:${kwok}`,
    ]);
    await waitFor('kwok to be healthy', async () => (await httpGet(`http://127.0.0.1:${kwok}/healthz`)).status === 200, {
      timeoutMs,
      abortIf: diedEarly(kwokProcess),
    });

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const wanted = fixtureNodes(nodes);
    log(`creating ${wanted.length} fake nodes`);
    for (const body of wanted) await core.createNode({ body });
    await waitFor(
      `${wanted.length} nodes to be Ready`,
      async () => {
        const list = await core.listNode();
        const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length >= wanted.length;
      },
      { timeoutMs, abortIf: diedEarly(kwokProcess) },
    );
    // The ServiceAccount admission plugin rejects pods until "default" exists in their namespace.
    await waitFor('the default service account', async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    }, { timeoutMs, abortIf: diedEarly(kcmProcess) });

    if (options.autoscaler === 'karpenter') {
      log('checking Karpenter with dev/build-karpenter.sh (a cold build takes about 6 minutes)');
      const karpenterBinary = await resolveKarpenterBinary();
      log('applying Karpenter\'s CRDs from the Go module cache');
      await applyKarpenterCrds(kc, await karpenterCrdFiles(), timeoutMs);
      const [metricsPort, healthPort] = (await freePorts(2)) as [number, number];
      ports['karpenterMetrics'] = metricsPort;
      ports['karpenterHealth'] = healthPort;
      const instanceTypesPath = writeInstanceTypes(dir, options.tenantClasses);
      // Karpenter listens on ":<port>" (all interfaces); it takes no bind address.
      log(`starting Karpenter (KWOK provider; metrics on :${metricsPort}, health on :${healthPort}, all interfaces)`);
      const karpenter = start('karpenter', [], karpenterBinary, karpenterEnvironment({ kubeconfigPath, instanceTypesPath, metricsPort, healthPort }));
      await waitFor('Karpenter to be ready', async () => (await httpGet(`http://127.0.0.1:${healthPort}/readyz`)).status === 200, {
        timeoutMs,
        abortIf: diedEarly(karpenter),
      });
      log('applying the tenant node groups as NodePools');
      await applyKarpenterNodeGroups(kc, options.tenantClasses);
    }
    if (options.autoscaler === 'cluster-autoscaler') {
      const binary = resolveClusterAutoscalerBinary();
      log('applying the tenant node groups as Cluster Autoscaler kwok-provider templates');
      await applyClusterAutoscalerNodeGroups(kc, options.tenantClasses);
      const [port] = (await freePorts(1)) as [number];
      ports['clusterAutoscaler'] = port;
      log(`starting Cluster Autoscaler (kwok provider) on 127.0.0.1:${port}`);
      const autoscaler = start('cluster-autoscaler', clusterAutoscalerArgs({ kubeconfigPath, port }), binary, clusterAutoscalerEnvironment());
      await waitFor('Cluster Autoscaler to be healthy', async () => (await httpGet(`http://127.0.0.1:${port}/health-check`)).status === 200, {
        timeoutMs,
        abortIf: diedEarly(autoscaler),
      });
    }
    saveState();
    return state();
  } catch (error) {
    await stopCluster(dir).catch(() => undefined);
    throw error;
  }
}

/**
 * Stops one component and starts it again with the same flags, waiting until it is healthy:
 * for tests of what Stowage does when the API server goes away (dropped watches, refused
 * connections). Only kube-apiserver's health is awaited; others are awaited by the caller.
 */
export async function restartComponent(dir: string, name: string, options: { downMs?: number; timeoutMs?: number } = {}): Promise<ClusterState> {
  const state = readClusterState(dir);
  if (!state) throw new Error(`No cluster in "${dir}"`);
  const index = state.processes.findIndex((p) => p.name === name);
  const old = state.processes[index];
  if (old === undefined) throw new Error(`No component "${name}" in the cluster in "${dir}"`);
  await stopProcess(old.pid, 10_000);
  if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
  const fresh = startProcess(old.name, old.binary, old.args, join(dir, 'logs'), old.env);
  const processes = state.processes.map((p, i) => (i === index ? fresh : p));
  const next: ClusterState = { ...state, processes };
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(next, null, 2));
  if (name === 'kube-apiserver') {
    const read = (file: string): string => readFileSync(join(dir, 'pki', file), 'utf8');
    const pki = { ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key') };
    await waitFor('kube-apiserver to be ready again', async () => (await httpGet(`${state.server}/readyz`, { tls: pki })).status === 200, {
      timeoutMs: options.timeoutMs ?? 60_000,
      abortIf: () => (isAlive(fresh.pid) ? undefined : `kube-apiserver exited; last lines of ${fresh.logPath}:\n${tailLog(fresh.logPath)}`),
    });
  }
  return next;
}

/**
 * Adds a process started beside the cluster (a Stowage component run against it) to its state,
 * replacing one of the same name, so `stowage dev cluster down` stops it with the rest.
 */
export function recordProcess(dir: string, process: RunningProcess): ClusterState {
  const state = readClusterState(dir);
  if (!state) throw new Error(`No cluster in "${dir}"`);
  const next: ClusterState = { ...state, processes: [...state.processes.filter((p) => p.name !== process.name), process] };
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(next, null, 2));
  return next;
}

/** Removes the process `name` from the cluster's state (it is not stopped here). */
export function forgetProcess(dir: string, name: string): void {
  const state = readClusterState(dir);
  if (!state) return;
  writeFileSync(join(dir, STATE_FILE), JSON.stringify({ ...state, processes: state.processes.filter((p) => p.name !== name) }, null, 2));
}

/**
 * Stops the process `name` a controller joined to the cluster's state (SIGTERM, then SIGKILL after
 * `graceMs`) and removes it from the state. Safe when it is not there or already gone.
 *
 * @returns the pid stopped, or undefined when it was not running
 */
export async function stopRecordedProcess(dir: string, name: string, graceMs: number): Promise<number | undefined> {
  const child = readClusterState(dir)?.processes.find((p) => p.name === name);
  if (child === undefined) return undefined;
  let stopped: number | undefined;
  if (isAlive(child.pid)) {
    await stopProcess(child.pid, graceMs);
    stopped = child.pid;
  }
  forgetProcess(dir, name);
  return stopped;
}

/** Reads the state of a cluster started in `dir`, or undefined when there is none. */
export function readClusterState(dir: string): ClusterState | undefined {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ClusterState;
  } catch (error) {
    throw new Error(`Cannot read cluster state "${path}": ${(error as Error).message}`);
  }
}

/**
 * Stops every process of the cluster in `dir`, in reverse start order, and removes its state file.
 * Returns the names of the processes that were still running. Safe to call twice.
 */
export async function stopCluster(dir: string, options: { purge?: boolean } = {}): Promise<string[]> {
  const state = readClusterState(dir);
  const stopped: string[] = [];
  if (state) {
    for (const p of [...state.processes].reverse()) {
      if (!isAlive(p.pid)) continue;
      // Give apiserver/etcd time to shut down cleanly; the rest stop instantly.
      await stopProcess(p.pid, p.name === 'etcd' || p.name === 'kube-apiserver' ? 10_000 : 5_000);
      stopped.push(p.name);
    }
    rmSync(join(dir, STATE_FILE), { force: true });
  }
  if (options.purge) rmSync(dir, { recursive: true, force: true });
  return stopped;
}
