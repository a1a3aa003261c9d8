/**
 * Tenant classes as configuration: each class names a node group (instance types, labels,
 * taints, size bounds, zones, capacity types) and what one tenant of the class gets (requests,
 * one pod per node or not, a bundle of Deployment, Service, ConfigMap and Secret).
 *
 * ```yaml
 * apiVersion: stowage.io/v1alpha1
 * kind: TenantClasses
 * spec:
 *   nodeGroups:
 *     - name: large
 *       instanceTypes: [t3a.xlarge]
 *       labels: { size: large }
 *       taints: [{ key: size, value: large, effect: NoSchedule }]
 *       minSize: 0
 *       maxSize: 3
 *       zones: [us-east-1a]
 *       capacityTypes: [on-demand]
 *       consolidateAfter: 10s        # how long an empty node lingers (Karpenter)
 *   classes:
 *     - name: premium
 *       nodeGroup: large
 *       onePerNode: true
 *       requests: { cpu: "2", memory: 4Gi }
 *       bundle:
 *         image: registry.k8s.io/pause:3.10
 *         port: 8080
 *         config: { TENANT: "${tenant.name}", PLAN: "${params.plan}" }
 *         secret: { API_KEY: "${params.apiKey}" }
 * ```
 *
 * The seed's example (premium on t3a.xlarge, standard on t3a.medium) is the built-in default.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatZodError } from '../core/validation.js';
import { parseDurationMs } from '../core/duration.js';
import type { Taint } from '../core/model.js';
import { Quantity } from '../core/quantity.js';
import { instanceShape } from './instance-types.js';

export const TENANTS_API_VERSION = 'stowage.io/v1alpha1';

/** The label every node of a group carries (set by the rendered NodePool or template), naming the group. */
export const NODE_GROUP_LABEL = 'stowage.io/node-group';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS label').max(63);
// A qualified name with an optional DNS-subdomain prefix, as Kubernetes label keys are.
const labelKey = z.string().regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a label key').max(316);
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a label value').max(63);
const quantity = z
  .union([z.string().min(1), z.number()])
  .transform((v) => String(v))
  .refine(_isQuantity, 'must be a quantity like "500m", "2" or "4Gi"');
function _isQuantity(text: string): boolean {
  try {
    Quantity.parse(text);
    return true;
  } catch {
    return false;
  }
}

const duration = z.string().refine((v) => parseDurationMs(v) !== undefined, 'must be a duration like "10s" or "1m"');

const taintSchema = z.strictObject({
  key: labelKey,
  value: labelValue.optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

const nodeGroupSchema = z.strictObject({
  name: dnsLabel,
  instanceTypes: z.array(z.string().min(1)).min(1),
  labels: z.record(labelKey, labelValue).default({}),
  taints: z.array(taintSchema).default([]),
  minSize: z.int().min(0).default(0),
  maxSize: z.int().min(1).max(1000),
  zones: z.array(z.string().min(1)).min(1).default(['us-east-1a']),
  capacityTypes: z.array(z.enum(['on-demand', 'spot'])).min(1).default(['on-demand']),
  consolidateAfter: duration.default('10s'),
});

const bundleSchema = z.strictObject({
  image: z.string().min(1).default('registry.k8s.io/pause:3.10'),
  replicas: z.int().min(0).max(100).default(1),
  port: z.int().min(1).max(65535).default(8080),
  config: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a ConfigMap key'), z.string()).default({}),
  secret: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key'), z.string()).default({}),
});

const classSchema = z.strictObject({
  name: dnsLabel,
  nodeGroup: dnsLabel,
  onePerNode: z.boolean().default(true),
  requests: z.record(z.string().min(1), quantity).default({ cpu: '1', memory: '1Gi' }),
  bundle: bundleSchema.default({ image: 'registry.k8s.io/pause:3.10', replicas: 1, port: 8080, config: {}, secret: {} }),
});

const documentSchema = z.strictObject({
  apiVersion: z.literal(TENANTS_API_VERSION),
  kind: z.literal('TenantClasses'),
  metadata: z.record(z.string(), z.unknown()).optional(),
  spec: z.strictObject({
    nodeGroups: z.array(nodeGroupSchema).min(1),
    classes: z.array(classSchema).min(1),
  }),
});

/** A node group: where the tenants of a class run. */
export interface NodeGroupSpec {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly minSize: number;
  readonly maxSize: number;
  readonly zones: readonly string[];
  readonly capacityTypes: readonly ('on-demand' | 'spot')[];
  /** Karpenter's `consolidateAfter` for the group's NodePool, as written (`10s`). */
  readonly consolidateAfter: string;
}

/** What one tenant's bundle holds; string values may use `${tenant.name}`, `${tenant.class}`, `${params.KEY}`. */
export interface BundleSpec {
  readonly image: string;
  readonly replicas: number;
  readonly port: number;
  readonly config: Readonly<Record<string, string>>;
  readonly secret: Readonly<Record<string, string>>;
}

/** A tenant class. */
export interface TenantClass {
  readonly name: string;
  readonly nodeGroup: string;
  /** Tenant pods never share a node (required pod anti-affinity on `kubernetes.io/hostname`). */
  readonly onePerNode: boolean;
  readonly requests: Readonly<Record<string, string>>;
  readonly bundle: BundleSpec;
}

/** Validated tenant classes with their node groups, every reference resolved. */
export interface TenantClasses {
  readonly nodeGroups: readonly NodeGroupSpec[];
  readonly classes: readonly TenantClass[];
}

/** The seed's tiers: premium tenants on t3a.xlarge nodes, standard tenants on t3a.medium, from zero nodes. */
export const DEFAULT_TENANT_CLASSES_YAML = `apiVersion: ${TENANTS_API_VERSION}
kind: TenantClasses
spec:
  nodeGroups:
    - name: large
      instanceTypes: [t3a.xlarge]
      labels: { size: large }
      taints: [{ key: size, value: large, effect: NoSchedule }]
      minSize: 0
      maxSize: 3
      zones: [us-east-1a]
      capacityTypes: [on-demand]
    - name: medium
      instanceTypes: [t3a.medium]
      labels: { size: medium }
      taints: [{ key: size, value: medium, effect: NoSchedule }]
      minSize: 0
      maxSize: 5
      zones: [us-east-1a]
      capacityTypes: [on-demand]
  classes:
    - name: premium
      nodeGroup: large
      onePerNode: true
      requests: { cpu: "2", memory: 4Gi }
      bundle:
        config: { TENANT: "\${tenant.name}", TIER: "\${tenant.class}" }
        secret: { TENANT_TOKEN: "\${tenant.name}-token" }
    - name: standard
      nodeGroup: medium
      onePerNode: true
      requests: { cpu: "1", memory: 1Gi }
      bundle:
        config: { TENANT: "\${tenant.name}", TIER: "\${tenant.class}" }
        secret: { TENANT_TOKEN: "\${tenant.name}-token" }
`;

/**
 * Validates a parsed TenantClasses document: the schema, then what spans fields (unique names,
 * each class's group exists, min ≤ max, instance types Stowage knows the shape of).
 *
 * @throws {Error} one line naming the source and each bad field
 */
export function tenantClassesFromDocument(document: unknown, source = 'tenant classes'): TenantClasses {
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) throw new Error(`Invalid ${source}: ${formatZodError(parsed.error)}`);
  const { nodeGroups, classes } = parsed.data.spec;
  const problems: string[] = [];
  const groupNames = new Set<string>();
  nodeGroups.forEach((group, i) => {
    const at = `spec.nodeGroups[${i}]`;
    if (groupNames.has(group.name)) problems.push(`${at}.name: node group "${group.name}" is defined twice`);
    groupNames.add(group.name);
    if (group.minSize > group.maxSize) problems.push(`${at}.minSize: ${group.minSize} is above maxSize ${group.maxSize}`);
    group.instanceTypes.forEach((type, j) => {
      if (instanceShape(type) === undefined) problems.push(`${at}.instanceTypes[${j}]: unknown instance type "${type}"`);
    });
    if (Object.keys(group.labels).length === 0) problems.push(`${at}.labels: a group needs at least one label for its tenants' pods to select`);
    if (NODE_GROUP_LABEL in group.labels) problems.push(`${at}.labels: "${NODE_GROUP_LABEL}" is set by Stowage to the group's name`);
  });
  const classNames = new Set<string>();
  classes.forEach((tenantClass, i) => {
    const at = `spec.classes[${i}]`;
    if (classNames.has(tenantClass.name)) problems.push(`${at}.name: class "${tenantClass.name}" is defined twice`);
    classNames.add(tenantClass.name);
    if (!groupNames.has(tenantClass.nodeGroup)) problems.push(`${at}.nodeGroup: no node group "${tenantClass.nodeGroup}"`);
  });
  if (problems.length > 0) throw new Error(`Invalid ${source}: ${problems.join('; ')}`);
  return { nodeGroups, classes };
}

/** Parses and validates TenantClasses YAML. */
export function parseTenantClasses(text: string, source = 'tenant classes'): TenantClasses {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new Error(`Cannot parse ${source}: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  return tenantClassesFromDocument(document, source);
}

/** The built-in classes. */
export const DEFAULT_TENANT_CLASSES: TenantClasses = parseTenantClasses(DEFAULT_TENANT_CLASSES_YAML, 'built-in tenant classes');

/** The class named `name`, with its node group, or an error listing the classes there are. */
export function resolveClass(classes: TenantClasses, name: string): { readonly tenantClass: TenantClass; readonly group: NodeGroupSpec } {
  const tenantClass = classes.classes.find((c) => c.name === name);
  if (tenantClass === undefined) {
    throw new Error(`Unknown tenant class "${name}": use one of ${classes.classes.map((c) => `"${c.name}"`).join(', ')}`);
  }
  const group = classes.nodeGroups.find((g) => g.name === tenantClass.nodeGroup);
  if (group === undefined) throw new Error(`Tenant class "${name}" names node group "${tenantClass.nodeGroup}", which is not defined`);
  return { tenantClass, group };
}

/** The labels a group's nodes carry: the group's own plus Stowage's group-name label. */
export function groupNodeLabels(group: NodeGroupSpec): Record<string, string> {
  return { ...group.labels, [NODE_GROUP_LABEL]: group.name };
}

/** `size=large:NoSchedule`, as kubectl prints a taint. */
export function formatTaint(taint: Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}
