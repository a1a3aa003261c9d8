/**
 * A Stowage controller run beside a local cluster acts as its shipped ServiceAccount: the
 * Namespace and RBAC objects of `deploy/<component>/` are applied, and the controller gets the
 * cluster's admin kubeconfig with `as: system:serviceaccount:…` (impersonation), so it has exactly
 * the rights a deployed replica has — a missing permission shows up locally, not in production.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';
import { repoPath } from './paths.js';

/** A manifest object, as far as applying it needs. */
export interface ShippedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

const _RBAC_KINDS = new Set(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** The objects of `deploy/<component>/<file>` for each file, of the given kinds. */
export function shippedObjects(component: string, files: readonly string[], kinds: ReadonlySet<string>): ShippedObject[] {
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(repoPath('deploy', component, file), 'utf8'))
      .map((doc) => doc.toJS() as ShippedObject | null)
      .filter((o): o is ShippedObject => o !== null && kinds.has(o.kind)),
  );
}

/**
 * The Namespace and RBAC objects of `deploy/<component>/namespace.yaml` and `rbac.yaml`, and the
 * user name of the ServiceAccount they bind.
 *
 * @throws {Error} when rbac.yaml has no ServiceAccount
 */
export function shippedRbac(component: string): { readonly objects: ShippedObject[]; readonly user: string } {
  const objects = shippedObjects(component, ['namespace.yaml', 'rbac.yaml'], _RBAC_KINDS);
  const account = objects.find((o) => o.kind === 'ServiceAccount');
  if (account?.metadata.namespace === undefined) throw new Error(`Cannot find the ServiceAccount in deploy/${component}/rbac.yaml`);
  return { objects, user: `system:serviceaccount:${account.metadata.namespace}:${account.metadata.name}` };
}

/**
 * The Node options `deploy/<component>/deployment.yaml` gives its container (`NODE_OPTIONS`), as
 * command-line arguments: a controller run locally or in a test gets the heap it is deployed with.
 * `root` is the checkout whose manifest is read (this one by default).
 *
 * @example
 * spawn(process.execPath, [...shippedNodeOptions('webhook'), 'bin/stowage.js', 'webhook', …]);
 */
export function shippedNodeOptions(component: string, root: string = repoPath()): string[] {
  type Deployment = { kind?: string; spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } };
  const deployments = parseAllDocuments(readFileSync(join(root, 'deploy', component, 'deployment.yaml'), 'utf8'))
    .map((doc) => doc.toJS() as Deployment | null)
    .filter((o): o is Deployment => o?.kind === 'Deployment');
  const value = deployments.flatMap((d) => d.spec?.template?.spec?.containers ?? []).flatMap((c) => c.env ?? []).find((e) => e.name === 'NODE_OPTIONS')?.value;
  return (value ?? '').split(/\s+/).filter((option) => option !== '');
}

/** The cluster's admin kubeconfig (YAML at `adminPath`), acting as `user` (the admin may impersonate anyone). */
export function impersonatingKubeconfig(adminPath: string, user: string): string {
  const config = parseYaml(readFileSync(adminPath, 'utf8')) as { users?: { user: Record<string, unknown> }[] };
  for (const entry of config.users ?? []) entry.user['as'] = user;
  return toYaml(config);
}
