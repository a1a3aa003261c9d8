/**
 * Fake nodes for the local control plane, from a YAML fixture:
 *
 * ```yaml
 * apiVersion: stowage.io/v1alpha1
 * kind: NodeFixture
 * nodes:
 *   - name: spot          # with count > 1: spot-1, spot-2, ...
 *     count: 2
 *     capacityType: spot  # sets node.kubernetes.io/capacity
 *     instanceType: m5.xlarge
 *     zone: us-east-1b
 *     labels: { team: a }
 *     taints: [{ key: spot, value: "true", effect: NoSchedule }]
 *     capacity: { cpu: "4", memory: 16Gi, pods: "110" }
 * ```
 */
import type { V1Node } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatZodError } from '../core/validation.js';

/** The annotation kwok is told to manage; real nodes never carry it. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const CAPACITY_LABEL = 'node.kubernetes.io/capacity';

const quantity = z.union([z.string().min(1), z.number()]).transform((v) => String(v));

const NodeGroupSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name'),
  count: z.int().min(1).max(1000).default(1),
  capacityType: z.enum(['spot', 'on-demand']).optional(),
  instanceType: z.string().min(1).optional(),
  zone: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  taints: z.array(z.strictObject({
    key: z.string().min(1),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  })).default([]),
  capacity: z.record(z.string(), quantity).default({ cpu: '4', memory: '16Gi', pods: '110' }),
  allocatable: z.record(z.string(), quantity).optional(),
});

const NodeFixtureSchema = z.strictObject({
  apiVersion: z.literal('stowage.io/v1alpha1'),
  kind: z.literal('NodeFixture'),
  nodes: z.array(NodeGroupSchema).min(1),
});

export type NodeGroup = z.infer<typeof NodeGroupSchema>;
export type NodeFixture = z.infer<typeof NodeFixtureSchema>;

/** Parses and validates a fixture; errors name the file and the field. */
export function parseNodeFixture(text: string, source = 'node fixture'): NodeFixture {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new Error(`Cannot parse ${source}: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = NodeFixtureSchema.safeParse(raw);
  if (!result.success) throw new Error(`Invalid ${source}: ${formatZodError(result.error)}`);
  const names = new Set<string>();
  for (const node of fixtureNodes(result.data)) {
    const name = node.metadata?.name ?? '';
    if (names.has(name)) throw new Error(`Invalid ${source}: node name "${name}" is used twice`);
    names.add(name);
  }
  return result.data;
}

/** The Node objects a fixture describes, ready to create. */
export function fixtureNodes(fixture: NodeFixture): V1Node[] {
  return fixture.nodes.flatMap((group) =>
    Array.from({ length: group.count }, (_, i) => {
      const name = group.count === 1 ? group.name : `${group.name}-${i + 1}`;
      const labels: Record<string, string> = {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/worker': '',
        type: 'kwok',
        ...(group.capacityType ? { [CAPACITY_LABEL]: group.capacityType } : {}),
        ...(group.instanceType ? { 'node.kubernetes.io/instance-type': group.instanceType } : {}),
        ...(group.zone ? { 'topology.kubernetes.io/zone': group.zone } : {}),
        ...group.labels,
      };
      return {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels, annotations: { ...group.annotations, [KWOK_NODE_ANNOTATION]: 'fake' } },
        spec: { taints: group.taints.map((t) => ({ ...t })) },
        status: { capacity: { ...group.capacity }, allocatable: { ...(group.allocatable ?? group.capacity) } },
      } satisfies V1Node;
    }),
  );
}
