/** Tenant pods and group nodes as `tenants create` and Karpenter make them, for the doctor's tests. */
import { GI, testNode, testPod, testSnapshot } from '../core/fixtures.test-helper.js';
import type { NodeView, PodView, SchedulingConstraints } from '../core/model.js';
import { DEFAULT_TENANT_CLASSES, resolveClass } from './classes.js';
import { tolerationsFor } from './bundle.js';
import { diagnosePod, type DoctorInput } from './doctor.js';

export const groups = DEFAULT_TENANT_CLASSES.nodeGroups;
export const large = resolveClass(DEFAULT_TENANT_CLASSES, 'premium').group;

export const antiAffinity: NonNullable<SchedulingConstraints['podAntiAffinity']> = {
  required: [{ labelSelector: { matchExpressions: [{ key: 'stowage.io/tenant', operator: 'Exists' }] }, namespaceSelector: { matchExpressions: [{ key: 'stowage.io/tenant', operator: 'Exists' }] }, topologyKey: 'kubernetes.io/hostname' }],
};

/** A premium tenant's pod as `tenants create` renders it, with overrides. */
export function tenantPod(name: string, constraints: Partial<SchedulingConstraints> = {}, overrides: Partial<PodView> = {}): PodView {
  return testPod(name, {
    namespace: name,
    labels: { 'stowage.io/tenant': name },
    phase: 'Pending',
    ready: false,
    requests: { cpu: 2000, memory: 4 * GI },
    constraints: { nodeSelector: { size: 'large' }, tolerations: tolerationsFor(large), podAntiAffinity: antiAffinity, ...constraints },
    ...overrides,
  });
}

/** A node of group "large". */
export function largeNode(name: string, labels: Record<string, string> = {}): NodeView {
  return testNode(name, {
    labels: { size: 'large', 'stowage.io/node-group': 'large', ...labels },
    taints: [{ key: 'size', value: 'large', effect: 'NoSchedule' }],
    allocatable: { cpu: 4000, memory: 16 * GI, pods: 58 },
  });
}

export const namespaceLabels = Object.fromEntries(['p1', 'p2', 'p3', 'p4'].map((n) => [n, { 'stowage.io/tenant': n }]));

/** Diagnoses `pod` on a cluster of one general node plus `nodes`. */
export function diagnose(pod: PodView, nodes: NodeView[] = [], pods: PodView[] = [], extra: Partial<DoctorInput> = {}) {
  return diagnosePod({ pod, snapshot: testSnapshot([testNode('general'), ...nodes], pods), groups, namespaceLabels, ...extra });
}

/** `Code/group` of each finding. */
export const codes = (findings: ReturnType<typeof diagnose>) => findings.map((f) => `${f.code}${f.group ? `/${f.group}` : ''}`);
