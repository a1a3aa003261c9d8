/**
 * Runs a Stowage component as its shipped ServiceAccount: applies a deploy/ directory's RBAC and
 * writes a kubeconfig with a token of that ServiceAccount. The component then has exactly the
 * rights the manifests grant (a missing verb fails the test), and the apiserver sees it under its
 * own name: an audit log or a FlowSchema can pick its requests out.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { TestCluster } from './cluster.js';

const _RBAC_KINDS = new Set(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/**
 * The Namespace, ServiceAccount and RBAC objects of every manifest of `deploy/<component>`, in
 * file order: what a cluster admin applies to give the component its rights.
 */
export function shippedRbacObjects(component: string): KubernetesObject[] {
  const dir = new URL(`../../../deploy/${component}/`, import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  const objects = files.flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))
      .map((doc) => doc.toJS() as KubernetesObject | null)
      .filter((obj): obj is KubernetesObject => obj !== null && _RBAC_KINDS.has(obj.kind ?? '')),
  );
  // Namespaces first: the ServiceAccount and Roles live in them.
  return [...objects.filter((o) => o.kind === 'Namespace'), ...objects.filter((o) => o.kind !== 'Namespace')];
}

/** Creates `objects`, leaving those that exist already as they are. */
export async function createAll(c: TestCluster, objects: readonly KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(c.kc);
  for (const obj of objects) {
    try {
      await api.create(obj);
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
}

/** Writes a kubeconfig at `<dir>/<name>.kubeconfig` that authenticates with a token of `namespace/name`. */
export async function tokenKubeconfig(c: TestCluster, namespace: string, name: string, dir: string): Promise<string> {
  const token = await c.core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const server = c.state.server;
  const ca = readFileSync(join(c.state.dir, 'pki', 'ca.crt')).toString('base64');
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: e2e`,
      `  cluster: { server: "${server}", certificate-authority-data: ${ca} }`,
      'users:',
      `- name: ${name}`,
      `  user: { token: "${token.status?.token ?? ''}" }`,
      'contexts:',
      `- name: ${name}`,
      `  context: { cluster: e2e, user: ${name} }`,
      `current-context: ${name}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return path;
}

/**
 * Creates the Namespace, ServiceAccount and RBAC objects of `deploy/<component>` and returns the
 * path of a kubeconfig that authenticates as `namespace/name`.
 */
export async function kubeconfigForServiceAccount(c: TestCluster, component: string, namespace: string, name: string, dir: string): Promise<string> {
  await createAll(c, shippedRbacObjects(component));
  return tokenKubeconfig(c, namespace, name, dir);
}

/** One request in the apiserver's audit log (level Metadata). */
export interface AuditedRequest {
  readonly auditID: string;
  readonly verb: string;
  readonly resource: string;
  readonly requestURI: string;
  readonly code: number;
  readonly at: number;
}

/** The audit policy that logs every request of `username` at Metadata level, and nothing else. */
export function auditPolicyFor(username: string): string {
  return [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitStages: [RequestReceived]',
    'rules:',
    `- level: Metadata`,
    `  users: ["${username}"]`,
    '- level: None',
    '',
  ].join('\n');
}

/** The requests in an audit log, once each (a watch logs ResponseStarted and ResponseComplete). */
export function readAuditLog(path: string): AuditedRequest[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const byId = new Map<string, AuditedRequest>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as { auditID: string; verb: string; objectRef?: { resource?: string; subresource?: string }; requestURI: string; responseStatus?: { code?: number }; requestReceivedTimestamp: string };
    const resource = `${e.objectRef?.resource ?? ''}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
    byId.set(e.auditID, { auditID: e.auditID, verb: e.verb, resource, requestURI: e.requestURI, code: e.responseStatus?.code ?? 0, at: Date.parse(e.requestReceivedTimestamp) });
  }
  return [...byId.values()].sort((a, b) => a.at - b.at);
}
