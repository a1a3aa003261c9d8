/**
 * A tenant's bundle: the objects one tenant of a class gets, rendered from the class and the
 * tenant's parameters, in the order they are applied (a Namespace first, what the Deployment
 * reads before it, the Deployment last), as Helm orders its kinds on install.
 *
 * Every object is labelled with the tenant and its class, so `list`, `delete` and `doctor` find
 * them without any state outside the cluster.
 */
import type { Toleration } from '../core/model.js';
import type { NodeGroupSpec, TenantClass } from './classes.js';

export const TENANT_LABEL = 'stowage.io/tenant';
export const TENANT_CLASS_LABEL = 'stowage.io/tenant-class';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'stowage';
/** Server-side apply's field manager for everything `stowage tenants` writes. */
export const FIELD_MANAGER = 'stowage';
/** The annotation recording the tenant's parameters, so `get` can show what a tenant was made with. */
export const TENANT_PARAMS_ANNOTATION = 'stowage.io/tenant-params';

/** A tenant as the user asks for it. */
export interface TenantRequest {
  readonly name: string;
  readonly class: string;
  readonly params: Readonly<Record<string, string>>;
}

/** A Kubernetes object as plain data, ready for server-side apply. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** The kinds of a bundle in the order they are applied; deletion goes the other way. */
export const BUNDLE_ORDER = ['Namespace', 'Secret', 'ConfigMap', 'Service', 'Deployment'] as const;

/** A tenant name must be a namespace name, and leave room for the objects' suffixes. */
const _NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks a tenant name, returning why it is unusable or undefined. */
export function invalidTenantName(name: string): string | undefined {
  if (!_NAME.test(name)) return `Invalid tenant name "${name}": use lowercase letters, digits and dashes, starting and ending with a letter or digit`;
  if (name.length > 50) return `Invalid tenant name "${name}": at most 50 characters`;
  return undefined;
}

/** The tolerations of a group's taints, so a tenant pod goes on the group's nodes. */
export function tolerationsFor(group: NodeGroupSpec): Toleration[] {
  return group.taints.map((t) =>
    t.value === undefined ? { key: t.key, operator: 'Exists', effect: t.effect } : { key: t.key, operator: 'Equal', value: t.value, effect: t.effect },
  );
}

/** Labels of the tenant's pods. */
export function tenantPodLabels(tenant: TenantRequest): Record<string, string> {
  return { [TENANT_LABEL]: tenant.name, [TENANT_CLASS_LABEL]: tenant.class, 'app.kubernetes.io/name': tenant.name };
}

/**
 * Substitutes `${tenant.name}`, `${tenant.class}` and `${params.KEY}` in a template string.
 *
 * @throws {Error} naming the tenant and the parameter that is not set
 */
export function substitute(template: string, tenant: TenantRequest, where: string): string {
  return template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    if (name === 'tenant.name') return tenant.name;
    if (name === 'tenant.class') return tenant.class;
    if (name.startsWith('params.')) {
      const value = tenant.params[name.slice('params.'.length)];
      if (value !== undefined) return value;
      throw new Error(`Cannot render tenant "${tenant.name}": ${where} uses parameter "${name.slice('params.'.length)}", which is not set (pass --set ${name.slice('params.'.length)}=VALUE)`);
    }
    throw new Error(`Cannot render tenant "${tenant.name}": ${where} uses unknown placeholder "\${${name}}"`);
  });
}

function _base64(text: string): string {
  // btoa takes Latin-1 only: encode to UTF-8 bytes first, without Node's Buffer (this module is pure).
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The tenant's objects in apply order: Namespace, Secret, ConfigMap, Service, Deployment. The
 * Deployment's pods tolerate the group's taints, select its labels, request the class's
 * resources and, for one-per-node classes, refuse any node that already runs a tenant pod.
 */
export function renderBundle(tenant: TenantRequest, tenantClass: TenantClass, group: NodeGroupSpec): KubeObject[] {
  const invalid = invalidTenantName(tenant.name);
  if (invalid !== undefined) throw new Error(invalid);
  const namespace = tenant.name;
  const common = { [TENANT_LABEL]: tenant.name, [TENANT_CLASS_LABEL]: tenant.class, [MANAGED_BY_LABEL]: MANAGED_BY };
  const podLabels = tenantPodLabels(tenant);
  const config = Object.fromEntries(Object.entries(tenantClass.bundle.config).map(([k, v]) => [k, substitute(v, tenant, `bundle.config.${k}`)]));
  const secret = Object.fromEntries(Object.entries(tenantClass.bundle.secret).map(([k, v]) => [k, _base64(substitute(v, tenant, `bundle.secret.${k}`))]));
  const image = substitute(tenantClass.bundle.image, tenant, 'bundle.image');
  const params: Record<string, string> = Object.keys(tenant.params).length === 0 ? {} : { [TENANT_PARAMS_ANNOTATION]: JSON.stringify(_sorted(tenant.params)) };
  const antiAffinity = tenantClass.onePerNode
    ? {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              // Tenants live in their own namespaces: the term must look at every tenant namespace.
              labelSelector: { matchExpressions: [{ key: TENANT_LABEL, operator: 'Exists' }] },
              namespaceSelector: { matchExpressions: [{ key: TENANT_LABEL, operator: 'Exists' }] },
              topologyKey: 'kubernetes.io/hostname',
            },
          ],
        },
      }
    : undefined;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: common, annotations: params } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${tenant.name}-secret`, namespace, labels: common }, type: 'Opaque', data: secret },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${tenant.name}-config`, namespace, labels: common }, data: config },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: tenant.name, namespace, labels: common },
      spec: { selector: podLabels, ports: [{ name: 'http', port: tenantClass.bundle.port, targetPort: tenantClass.bundle.port, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: tenant.name, namespace, labels: common },
      spec: {
        replicas: tenantClass.bundle.replicas,
        selector: { matchLabels: podLabels },
        template: {
          metadata: { labels: { ...podLabels, [MANAGED_BY_LABEL]: MANAGED_BY } },
          spec: {
            nodeSelector: { ...group.labels },
            tolerations: tolerationsFor(group),
            ...(antiAffinity ? { affinity: antiAffinity } : {}),
            containers: [
              {
                name: 'tenant',
                image,
                ports: [{ name: 'http', containerPort: tenantClass.bundle.port, protocol: 'TCP' }],
                envFrom: [{ configMapRef: { name: `${tenant.name}-config` } }, { secretRef: { name: `${tenant.name}-secret` } }],
                resources: { requests: { ...tenantClass.requests } },
              },
            ],
          },
        },
      },
    },
  ];
}

function _sorted(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
