/**
 * Karpenter's KWOK provider as the dev cluster's autoscaler (`dev cluster up --autoscaler
 * karpenter`): the binary from `dev/build-karpenter.sh` (pinned by
 * dev/tools-karpenter/karpenter/go.mod), its CRDs from that module in the Go module cache, an
 * instance-type file written from Stowage's price table, and the tenant node groups as NodePools.
 *
 * Karpenter binds its metrics and health servers to every interface (`:<port>`, hard-coded in
 * sigs.k8s.io/karpenter's operator): the launcher can only pick free ports for them.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { serverSideApply, type ObjectRef } from '../kube/apply.js';
import { DEFAULT_PRICE_TABLE, type PriceTable } from '../core/pricing.js';
import { DEFAULT_TENANT_CLASSES, type TenantClasses } from '../tenants/classes.js';
import { kwokInstanceTypes, renderKarpenter, zonesOf } from '../tenants/nodegroups/karpenter.js';
import { repoPath } from './paths.js';
import { waitFor } from './processes.js';

const execFileAsync = promisify(execFile);
const MODULE_DIR = repoPath('dev', 'tools-karpenter', 'karpenter');
const FIELD_MANAGER = 'stowage-dev';

/** The pinned sigs.k8s.io/karpenter version, read from its go.mod. */
export function karpenterVersion(): string {
  const goMod = readFileSync(join(MODULE_DIR, 'go.mod'), 'utf8');
  const match = /^\s*sigs\.k8s\.io\/karpenter (v\S+)/m.exec(goMod);
  if (match?.[1] === undefined) throw new Error(`Cannot find the sigs.k8s.io/karpenter version in "${join(MODULE_DIR, 'go.mod')}"`);
  return match[1];
}

/** Builds Karpenter's KWOK provider when missing (about 6 minutes cold) and returns its path; `STOWAGE_KARPENTER_BINARY` skips the build. */
export async function resolveKarpenterBinary(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', [repoPath('dev', 'build-karpenter.sh')], { env, maxBuffer: 16 * 1024 * 1024 });
    const path = stdout.trim().split('\n').at(-1) ?? '';
    if (!existsSync(path)) throw new Error(`dev/build-karpenter.sh printed "${path}", which does not exist`);
    return path;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new Error(`Cannot build Karpenter with dev/build-karpenter.sh:\n${stderr.trim().split('\n').slice(-15).join('\n')}`, { cause: error });
  }
}

/** The CRD files of the pinned Karpenter module (NodePool, NodeClaim, … and KWOKNodeClass), downloading the module when missing. */
export async function karpenterCrdFiles(): Promise<string[]> {
  const version = karpenterVersion();
  const goEnv = { ...process.env, GOFLAGS: '-mod=readonly', GOTOOLCHAIN: 'local' };
  const { stdout } = await execFileAsync('go', ['env', 'GOMODCACHE'], { env: goEnv });
  const root = join(stdout.trim(), 'sigs.k8s.io', `karpenter@${version}`);
  if (!existsSync(root)) await execFileAsync('go', ['mod', 'download', `sigs.k8s.io/karpenter@${version}`], { cwd: MODULE_DIR, env: goEnv });
  const dirs = [join(root, 'kwok', 'charts', 'crds'), join(root, 'kwok', 'apis', 'crds')];
  const files = dirs.flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f)) : []));
  if (files.length === 0) throw new Error(`Cannot find Karpenter's CRDs under "${root}"`);
  return files;
}

/** Applies the CRDs and waits until the API server serves them. */
export async function applyKarpenterCrds(kc: KubeConfig, files: readonly string[], timeoutMs = 60_000): Promise<void> {
  const crds = files.flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as ObjectRef).filter((o) => o?.kind === 'CustomResourceDefinition'));
  await serverSideApply(kc, crds, FIELD_MANAGER);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    await waitFor(`CRD "${name}" to be established`, async () => {
      const live = await api.readCustomResourceDefinition({ name });
      return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    }, { timeoutMs });
  }
}

/** Writes the KWOK provider's instance-type file (spot and on-demand offerings from the price table) and returns its path. */
export function writeInstanceTypes(dir: string, classes: TenantClasses = DEFAULT_TENANT_CLASSES, prices: PriceTable = DEFAULT_PRICE_TABLE): string {
  const path = join(dir, 'karpenter-instance-types.json');
  writeFileSync(path, `${JSON.stringify(kwokInstanceTypes(prices, zonesOf(classes)), null, 2)}\n`);
  return path;
}

/** How Karpenter is started: its settings as environment variables, as its Helm chart sets them. */
export function karpenterEnvironment(options: { kubeconfigPath: string; instanceTypesPath: string; metricsPort: number; healthPort: number }): Record<string, string> {
  return {
    KUBECONFIG: options.kubeconfigPath,
    INSTANCE_TYPES_FILE_PATH: options.instanceTypesPath,
    METRICS_PORT: String(options.metricsPort),
    HEALTH_PROBE_PORT: String(options.healthPort),
    // One replica on a test bench: no lease to win first.
    DISABLE_LEADER_ELECTION: 'true',
    LOG_LEVEL: 'info',
    // Pods that arrive together (several tenants created at once) are provisioned in one batch.
    BATCH_IDLE_DURATION: '1s',
    BATCH_MAX_DURATION: '5s',
  };
}

/**
 * Applies the NodePools (and the KWOKNodeClass) of the tenant node groups, and marks the node
 * class Ready: in a real cluster the provider's controller would, and a NodePool whose node class
 * is not Ready launches nothing; the KWOK provider has no such controller.
 */
export async function applyKarpenterNodeGroups(kc: KubeConfig, classes: TenantClasses = DEFAULT_TENANT_CLASSES): Promise<void> {
  const objects = renderKarpenter(classes);
  await serverSideApply(kc, objects, FIELD_MANAGER);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const now = new Date().toISOString();
  for (const nodeClass of objects.filter((o) => o.kind === 'KWOKNodeClass')) {
    const name = nodeClass.metadata?.name ?? '';
    const live = (await custom.getClusterCustomObject({ group: 'karpenter.kwok.sh', version: 'v1alpha1', plural: 'kwoknodeclasses', name })) as { metadata?: { generation?: number } };
    await custom.patchClusterCustomObjectStatus({
      group: 'karpenter.kwok.sh',
      version: 'v1alpha1',
      plural: 'kwoknodeclasses',
      name,
      body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: now, observedGeneration: live.metadata?.generation ?? 1 }] } },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }
}
