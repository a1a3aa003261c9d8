/**
 * Brings up a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
 * kwok) for one e2e test file, and tears it down after, checking that no process is left: the
 * Stowage processes the file's tests started (`spawnOwned`) and did not stop — a failed start,
 * a failed assertion, a timed-out test — are stopped first.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import { startCluster, stopCluster, type ClusterOptions, type ClusterState } from '../../../src/devcluster/cluster.js';
import { isAlive, stopOwnedProcesses } from '../../../src/devcluster/processes.js';

export interface TestCluster {
  readonly state: ClusterState;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
}

/**
 * How long a pod takes from binding to Ready in the availability tests: a few seconds with jitter,
 * as real containers take, so a test sees replacements that are not Ready yet (the hard case for
 * availability) and in an order that varies from run to run. Other e2e files keep the shorter
 * default of `useCluster` (0.5-0.75 s, also real since kwok's jitter is set right).
 */
export const E2E_POD_STARTUP = { podStartupMs: 2_000, podStartupJitterMs: 1_000 } as const;

/** Registers before/after hooks that run a cluster for the calling test file. */
export function useCluster(options: Omit<ClusterOptions, 'dir'> = {}): () => TestCluster {
  let cluster: TestCluster | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'stowage-e2e-'));
  before(async () => {
    const state = await startCluster({ dir, podStartupMs: 500, ...options });
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfigPath);
    cluster = { state, kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), policy: kc.makeApiClient(PolicyV1Api) };
  }, { timeout: 20 * 60_000 });
  after(async () => {
    const leftByTests = await stopOwnedProcesses();
    if (leftByTests.length > 0) process.stdout.write(`# stopped what the tests left running: ${leftByTests.join(', ')}\n`);
    const pids = cluster?.state.processes ?? [];
    await stopCluster(dir, { purge: true });
    const left = pids.filter((p) => isAlive(p.pid)).map((p) => p.name);
    assert.deepEqual(left, [], 'every control-plane process is stopped');
  });
  return () => {
    if (!cluster) throw new Error('The cluster is not up: useCluster() hooks have not run');
    return cluster;
  };
}

/** Creates a namespace and waits for its default service account (pods need it). */
export async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
