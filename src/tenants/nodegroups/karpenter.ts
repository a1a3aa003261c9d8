/**
 * Karpenter NodePools (karpenter.sh/v1) for the tenant node groups, and for Karpenter's KWOK
 * provider its node class and instance-type file.
 *
 * One NodePool per group: the group's labels (and Stowage's group label) and taints on every
 * node, requirements pinning the instance types, zones and capacity types, `limits.nodes` at the
 * group's max size (and cpu at max × the largest type, for Karpenter versions that only count
 * resources), and a disruption policy that removes empty nodes after `consolidateAfter`.
 * Field names follow sigs.k8s.io/karpenter v1.14 (pkg/apis/v1/nodepool.go).
 */
import type { PriceTable } from '../../core/pricing.js';
import { groupNodeLabels, type NodeGroupSpec, type TenantClasses } from '../classes.js';
import type { KubeObject } from '../bundle.js';
import { INSTANCE_SHAPES, instanceShape, shapeResourceList } from '../instance-types.js';

export const KARPENTER_CAPACITY_TYPE_LABEL = 'karpenter.sh/capacity-type';
export const KARPENTER_NODEPOOL_LABEL = 'karpenter.sh/nodepool';

/** The node class the NodePools reference: the KWOK provider's, or the AWS provider's EC2NodeClass. */
export const NODE_CLASSES = {
  kwok: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass' },
  aws: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass' },
} as const;
export type NodeClassProvider = keyof typeof NODE_CLASSES;

export interface KarpenterRenderOptions {
  readonly provider: NodeClassProvider;
  /** The node class's name. */
  readonly nodeClassName: string;
}

export const DEFAULT_KARPENTER_OPTIONS: KarpenterRenderOptions = { provider: 'kwok', nodeClassName: 'default' };

/** The NodePool of one group. */
export function renderNodePool(group: NodeGroupSpec, options: KarpenterRenderOptions = DEFAULT_KARPENTER_OPTIONS): KubeObject {
  const maxVcpus = Math.max(...group.instanceTypes.map((t) => instanceShape(t)?.vcpus ?? 0));
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: group.name, labels: { 'app.kubernetes.io/managed-by': 'stowage' } },
    spec: {
      template: {
        metadata: { labels: groupNodeLabels(group) },
        spec: {
          nodeClassRef: { ...NODE_CLASSES[options.provider], name: options.nodeClassName },
          ...(group.taints.length > 0 ? { taints: group.taints.map((t) => ({ ...t })) } : {}),
          requirements: [
            { key: 'node.kubernetes.io/instance-type', operator: 'In', values: [...group.instanceTypes] },
            { key: 'topology.kubernetes.io/zone', operator: 'In', values: [...group.zones] },
            { key: KARPENTER_CAPACITY_TYPE_LABEL, operator: 'In', values: [...group.capacityTypes] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
          ],
          // Tenants come and go; their nodes go with them, not on a timer.
          expireAfter: 'Never',
        },
      },
      limits: { nodes: String(group.maxSize), cpu: String(group.maxSize * maxVcpus) },
      disruption: {
        consolidationPolicy: 'WhenEmptyOrUnderutilized',
        consolidateAfter: group.consolidateAfter,
        // The default budget (10% of nodes) would empty a small group one node at a time.
        budgets: [{ nodes: '100%' }],
      },
    },
  };
}

/** The KWOK provider's node class: nodes register at once. */
export function renderKwokNodeClass(name = DEFAULT_KARPENTER_OPTIONS.nodeClassName): KubeObject {
  return { apiVersion: 'karpenter.kwok.sh/v1alpha1', kind: 'KWOKNodeClass', metadata: { name } };
}

/**
 * Everything `--for karpenter` renders: the KWOK node class (for the kwok provider; an
 * EC2NodeClass needs the account's subnets and role, so it is left to the user), then a
 * NodePool per group.
 */
export function renderKarpenter(classes: TenantClasses, options: KarpenterRenderOptions = DEFAULT_KARPENTER_OPTIONS): KubeObject[] {
  const pools = classes.nodeGroups.map((g) => renderNodePool(g, options));
  return options.provider === 'kwok' ? [renderKwokNodeClass(options.nodeClassName), ...pools] : pools;
}

/** One entry of the KWOK provider's instance-type file (`--instance-types-file-path`). */
export interface KwokInstanceType {
  readonly name: string;
  readonly offerings: readonly {
    readonly Price: number;
    readonly Available: boolean;
    readonly Requirements: readonly { readonly key: string; readonly operator: 'In'; readonly values: readonly string[] }[];
  }[];
  readonly architecture: 'amd64';
  readonly operatingSystems: readonly ['linux'];
  readonly resources: Readonly<Record<string, string>>;
}

/**
 * The KWOK provider's instance types from Stowage's price table: every priced type whose shape
 * Stowage knows, with a spot and an on-demand offering in each zone. The field names are those
 * the provider decodes (its embedded instance_types.json): `Price`, `Available`, `Requirements`.
 */
export function kwokInstanceTypes(prices: PriceTable, zones: readonly string[]): KwokInstanceType[] {
  const types: KwokInstanceType[] = [];
  for (const name of prices.instanceTypes()) {
    const shape = INSTANCE_SHAPES.get(name);
    if (shape === undefined) continue;
    const offerings = zones.flatMap((zone) =>
      (['spot', 'on-demand'] as const).map((capacityType) => ({
        Price: prices.priceOf(name, capacityType) ?? 0,
        Available: true,
        Requirements: [
          { key: KARPENTER_CAPACITY_TYPE_LABEL, operator: 'In' as const, values: [capacityType] },
          { key: 'topology.kubernetes.io/zone', operator: 'In' as const, values: [zone] },
        ],
      })),
    );
    types.push({ name, offerings, architecture: 'amd64', operatingSystems: ['linux'], resources: shapeResourceList(shape) });
  }
  return types;
}

/** The zones of every group, for the instance-type file. */
export function zonesOf(classes: TenantClasses): string[] {
  return [...new Set(classes.nodeGroups.flatMap((g) => g.zones))].sort();
}
