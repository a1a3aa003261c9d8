/**
 * The shape of common AWS instance types (vCPUs, memory, and the pods a node of the type takes
 * with the VPC CNI's ENI limits), for what a node group's nodes will offer before any exists:
 * Karpenter's instance-type file, Cluster Autoscaler's template nodes, and `tenants doctor`.
 *
 * Figures from the AWS EC2 instance-type pages (vCPU, GiB) and the EKS AMI's eni-max-pods.txt
 * (max pods); the same families as Stowage's price table (`src/core/pricing.ts`).
 */

/** What one instance of a type offers. */
export interface InstanceShape {
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** Max pods with the VPC CNI (`eni-max-pods.txt`). */
  readonly pods: number;
}

const _SIZES = {
  large: { vcpus: 2, pods: 29 },
  xlarge: { vcpus: 4, pods: 58 },
  '2xlarge': { vcpus: 8, pods: 58 },
  '4xlarge': { vcpus: 16, pods: 234 },
  '8xlarge': { vcpus: 32, pods: 234 },
} as const;

function _family(name: string, gibPerVcpu: number, sizes: readonly (keyof typeof _SIZES)[]): [string, InstanceShape][] {
  return sizes.map((size) => [`${name}.${size}`, { vcpus: _SIZES[size].vcpus, memoryGiB: _SIZES[size].vcpus * gibPerVcpu, pods: _SIZES[size].pods }]);
}

const _ALL_SIZES = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge'] as const;

/** Instance types by name. */
export const INSTANCE_SHAPES: ReadonlyMap<string, InstanceShape> = new Map<string, InstanceShape>([
  // Burstable: medium and large are 2 vCPUs with 4 and 8 GiB; xlarge 4 vCPUs/16 GiB; 2xlarge 8/32.
  ['t3.medium', { vcpus: 2, memoryGiB: 4, pods: 17 }],
  ['t3.large', { vcpus: 2, memoryGiB: 8, pods: 35 }],
  ['t3.xlarge', { vcpus: 4, memoryGiB: 16, pods: 58 }],
  ['t3.2xlarge', { vcpus: 8, memoryGiB: 32, pods: 58 }],
  ['t3a.medium', { vcpus: 2, memoryGiB: 4, pods: 17 }],
  ['t3a.large', { vcpus: 2, memoryGiB: 8, pods: 35 }],
  ['t3a.xlarge', { vcpus: 4, memoryGiB: 16, pods: 58 }],
  ['t3a.2xlarge', { vcpus: 8, memoryGiB: 32, pods: 58 }],
  ..._family('m5', 4, _ALL_SIZES),
  ..._family('m6i', 4, _ALL_SIZES),
  ..._family('m7i', 4, _ALL_SIZES),
  ..._family('c5', 2, ['large', 'xlarge', '2xlarge', '4xlarge']),
  ['c5.9xlarge', { vcpus: 36, memoryGiB: 72, pods: 234 }],
  ..._family('c6i', 2, _ALL_SIZES),
  ..._family('c7i', 2, _ALL_SIZES),
  ..._family('r5', 8, ['large', 'xlarge', '2xlarge', '4xlarge']),
  ..._family('r6i', 8, ['large', 'xlarge', '2xlarge', '4xlarge']),
]);

/** A type's shape, or undefined when Stowage does not know it. */
export function instanceShape(name: string): InstanceShape | undefined {
  return INSTANCE_SHAPES.get(name);
}

/** A shape as a Kubernetes ResourceList (`cpu: "4"`, `memory: 16Gi`, `pods: "58"`). */
export function shapeResourceList(shape: InstanceShape): Record<string, string> {
  return { cpu: String(shape.vcpus), memory: `${shape.memoryGiB}Gi`, pods: String(shape.pods) };
}
