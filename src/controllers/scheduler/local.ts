/**
 * `stowage scheduler` run against a local cluster (`stowage dev cluster up`), the way a newcomer
 * tries it: the shipped PodGroup CRD and RBAC applied (deploy/scheduler), the scheduler as a
 * detached process acting as its shipped ServiceAccount (impersonated), with the shipped
 * configuration's profiles (`stowage` and `stowage-cost-aware`) unless another file is given. The
 * process joins the cluster's state, so `stowage dev cluster down` stops it too.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiextensionsV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { readClusterState, recordProcess, stopRecordedProcess } from '../../devcluster/cluster.js';
import { httpGet } from '../../devcluster/http.js';
import { repoPath } from '../../devcluster/paths.js';
import { freePorts, isAlive, startProcess, tailLog, waitFor } from '../../devcluster/processes.js';
import { impersonatingKubeconfig, shippedObjects, shippedRbac } from '../../devcluster/shipped-identity.js';
import { serverSideApply } from '../../kube/apply.js';

/** The process's name in the cluster's state (and its log file's). */
export const LOCAL_SCHEDULER_PROCESS = 'stowage-scheduler';

const FIELD_MANAGER = 'stowage-dev';

export interface LocalSchedulerOptions {
  /** The cluster's directory (its state, kubeconfig and logs); the scheduler's files go in `scheduler/` there. */
  readonly clusterDir: string;
  /** A SchedulerConfiguration file for `stowage scheduler --config`; the one in deploy/scheduler/config.yaml when undefined. */
  readonly configFile?: string;
  /** Plain-HTTP /metrics and /readyz port on 127.0.0.1; a free one when undefined. */
  readonly metricsPort?: number;
  /** Progress messages. */
  readonly log?: (message: string) => void;
  readonly timeoutMs?: number;
}

export interface LocalScheduler {
  readonly metricsUrl: string;
  readonly pid: number;
  readonly logPath: string;
  /** The ServiceAccount the scheduler acts as, `system:serviceaccount:NS:NAME`. */
  readonly user: string;
}

/** The SchedulerConfiguration the deployed scheduler reads: the `config.yaml` key of deploy/scheduler/config.yaml's ConfigMap. */
export function shippedSchedulerConfiguration(): string {
  const configMap = parseYaml(readFileSync(repoPath('deploy', 'scheduler', 'config.yaml'), 'utf8')) as { data?: Record<string, string> };
  const text = configMap.data?.['config.yaml'];
  if (text === undefined) throw new Error('Cannot find the key config.yaml in deploy/scheduler/config.yaml');
  return text;
}

/**
 * Starts the scheduler beside the cluster in `clusterDir` and resolves once it is ready (its
 * cluster cache synced: pods naming one of its profiles are scheduled from then on).
 *
 * @throws {Error} one line when the cluster is not running, the scheduler is already running, or it does not start
 */
export async function startLocalScheduler(options: LocalSchedulerOptions): Promise<LocalScheduler> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const dir = options.clusterDir;
  const state = readClusterState(dir);
  const apiserver = state?.processes.find((p) => p.name === 'kube-apiserver');
  if (state === undefined || apiserver === undefined || !isAlive(apiserver.pid)) throw new Error('The cluster is not running');
  const running = state.processes.find((p) => p.name === LOCAL_SCHEDULER_PROCESS);
  if (running !== undefined && isAlive(running.pid)) throw new Error(`The scheduler is already running (pid ${running.pid})`);

  const adminKc = new KubeConfig();
  adminKc.loadFromFile(state.kubeconfigPath);
  const workDir = join(dir, 'scheduler');
  mkdirSync(workDir, { recursive: true });

  // The PodGroup CRD first, established before the scheduler starts: it looks once, at start,
  // whether PodGroups are served (gang scheduling is off otherwise).
  log('applying the PodGroup CRD of deploy/scheduler (gang scheduling)');
  const crds = shippedObjects('scheduler', ['podgroup-crd.yaml'], new Set(['CustomResourceDefinition']));
  await serverSideApply(adminKc, crds, FIELD_MANAGER);
  const extensions = adminKc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    await waitFor(`CRD ${crd.metadata.name} to be established`, async () => {
      const live = await extensions.readCustomResourceDefinition({ name: crd.metadata.name });
      return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
    }, { timeoutMs: 30_000, intervalMs: 200 });
  }

  const rbac = shippedRbac('scheduler');
  log(`applying deploy/scheduler's ServiceAccount and RBAC; the scheduler acts as ${rbac.user}`);
  await serverSideApply(adminKc, rbac.objects, FIELD_MANAGER);
  const files = { kubeconfig: join(workDir, 'kubeconfig'), config: join(workDir, 'config.yaml') };
  writeFileSync(files.kubeconfig, impersonatingKubeconfig(state.kubeconfigPath, rbac.user), { mode: 0o600 });
  const configFile = options.configFile === undefined ? files.config : resolve(options.configFile);
  if (options.configFile === undefined) writeFileSync(files.config, shippedSchedulerConfiguration());

  const metricsPort = options.metricsPort ?? ((await freePorts(1))[0]);
  const args = [repoPath('bin', 'stowage.js'), 'scheduler', `--kubeconfig=${files.kubeconfig}`, `--config=${configFile}`, `--metrics-listen=127.0.0.1:${metricsPort}`];
  log(`starting the scheduler (metrics on http://127.0.0.1:${metricsPort}/metrics)`);
  const child = startProcess(LOCAL_SCHEDULER_PROCESS, process.execPath, args, join(dir, 'logs'), { STOWAGE_LOG_LEVEL: process.env['STOWAGE_LOG_LEVEL'] ?? 'info' });
  recordProcess(dir, child);
  try {
    const diedEarly = (): string | undefined => (isAlive(child.pid) ? undefined : `it exited; last lines of ${child.logPath}:\n${tailLog(child.logPath)}`);
    await waitFor('the scheduler to be ready', async () => (await httpGet(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200, { timeoutMs, abortIf: diedEarly });
    return { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, pid: child.pid, logPath: child.logPath, user: rbac.user };
  } catch (error) {
    await stopLocalScheduler(dir).catch(() => undefined);
    throw error;
  }
}

/**
 * Stops the local scheduler (SIGTERM: the binds in flight finish first). Pods naming its profiles
 * stay Pending until it runs again. Safe to call twice, and after the cluster is down.
 *
 * @returns the pid stopped, or undefined when it was not running
 */
export async function stopLocalScheduler(clusterDir: string): Promise<number | undefined> {
  return stopRecordedProcess(clusterDir, LOCAL_SCHEDULER_PROCESS, 15_000);
}
