/**
 * Cluster Autoscaler with its kwok cloud provider as the dev cluster's autoscaler (`dev cluster up
 * --autoscaler cluster-autoscaler`). No Go module proxy serves Cluster Autoscaler, so the launcher
 * does not build it: `STOWAGE_CLUSTER_AUTOSCALER_BINARY` names a binary the user built from
 * kubernetes/autoscaler (`cd cluster-autoscaler && go build .`).
 *
 * The provider reads two ConfigMaps in the namespace `POD_NAMESPACE` names (the ones
 * `tenants nodegroups render --for cluster-autoscaler-kwok` prints) and creates nodes as copies of
 * the template nodes, annotated `kwok.x-k8s.io/node: fake`, which the dev cluster's kwok manages.
 * Those copies carry no `kubernetes.io/hostname`; the dev cluster's `node-hostname` KWOK stage adds
 * it before the node becomes Ready.
 */
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { serverSideApply } from '../kube/apply.js';
import { DEFAULT_TENANT_CLASSES, type TenantClasses } from '../tenants/classes.js';
import { KWOK_PROVIDER_CONFIG_MAP, renderClusterAutoscalerKwok } from '../tenants/nodegroups/cluster-autoscaler-kwok.js';

/** The environment variable that names a Cluster Autoscaler binary. */
export const CLUSTER_AUTOSCALER_BINARY_ENV = 'STOWAGE_CLUSTER_AUTOSCALER_BINARY';
/** Where the provider's ConfigMaps live (its `POD_NAMESPACE`). */
export const CLUSTER_AUTOSCALER_NAMESPACE = 'kube-system';
const FIELD_MANAGER = 'stowage-dev';

/** The Cluster Autoscaler binary `STOWAGE_CLUSTER_AUTOSCALER_BINARY` names, or a one-line error saying how to get one. */
export function resolveClusterAutoscalerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const path = env[CLUSTER_AUTOSCALER_BINARY_ENV]?.trim() ?? '';
  if (path === '') {
    throw new Error(`--autoscaler cluster-autoscaler needs ${CLUSTER_AUTOSCALER_BINARY_ENV}: no Go module proxy serves Cluster Autoscaler, so build it from kubernetes/autoscaler (cluster-autoscaler/) and point the variable at the binary`);
  }
  if (!existsSync(path)) throw new Error(`${CLUSTER_AUTOSCALER_BINARY_ENV} names "${path}", which does not exist`);
  return path;
}

/**
 * Cluster Autoscaler's flags for a test bench: the kwok provider, its metrics and health on
 * 127.0.0.1, a short scan interval and scale-down timers short enough that an empty group returns
 * to zero within a minute or two (production defaults are 10 minutes).
 */
export function clusterAutoscalerArgs(options: { kubeconfigPath: string; port: number }): string[] {
  return [
    '--cloud-provider=kwok',
    `--kubeconfig=${options.kubeconfigPath}`,
    `--address=127.0.0.1:${options.port}`,
    '--leader-elect=false',
    '--scan-interval=2s',
    '--new-pod-scale-up-delay=0s',
    '--max-node-provision-time=2m',
    '--scale-down-enabled=true',
    '--scale-down-delay-after-add=10s',
    '--scale-down-delay-after-delete=0s',
    '--scale-down-delay-after-failure=10s',
    '--scale-down-unneeded-time=20s',
    '--skip-nodes-with-local-storage=false',
    '--v=2',
  ];
}

/** The provider's environment: where its ConfigMaps are. */
export function clusterAutoscalerEnvironment(): Record<string, string> {
  return { POD_NAMESPACE: CLUSTER_AUTOSCALER_NAMESPACE, KWOK_PROVIDER_CONFIGMAP: KWOK_PROVIDER_CONFIG_MAP };
}

/** Applies the provider's configuration and template ConfigMaps for the tenant node groups (server-side apply: idempotent). */
export async function applyClusterAutoscalerNodeGroups(kc: KubeConfig, classes: TenantClasses = DEFAULT_TENANT_CLASSES): Promise<void> {
  await serverSideApply(kc, renderClusterAutoscalerKwok(classes, CLUSTER_AUTOSCALER_NAMESPACE), FIELD_MANAGER);
}
