/**
 * Small builders of the model for tests and benchmarks: a node or pod with sensible defaults that
 * a test overrides where it matters.
 */
import type { ClusterSnapshot, NodeView, PodView } from './model.js';

/** 1 GiB in bytes. */
export const GI = 1024 * 1024 * 1024;
/** 1 MiB in bytes. */
export const MI = 1024 * 1024;

/** Overrides for `testNode`; `zone` also sets the zone label. */
export type NodeOverrides = Partial<NodeView> & { readonly zone?: string };

/** A Ready, schedulable on-demand node with 4 cpu, 8 GiB and 110 pods, labelled with its hostname and zone. */
export function testNode(name: string, overrides: NodeOverrides = {}): NodeView {
  const zone = overrides.zone ?? 'zone-a';
  const allocatable = overrides.allocatable ?? { cpu: 4000, memory: 8 * GI, pods: 110 };
  return {
    name,
    annotations: {},
    taints: [],
    capacity: allocatable,
    unschedulable: false,
    ready: true,
    capacityType: 'on-demand',
    instanceType: 'm5.xlarge',
    createdAt: 0,
    ...overrides,
    allocatable,
    zone,
    labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone, ...overrides.labels },
  };
}

/** Overrides for `testPod`. */
export type PodOverrides = Partial<PodView>;

/** A Running pod in namespace `default` requesting 100m cpu and 128 MiB, not bound unless `nodeName` is given. */
export function testPod(name: string, overrides: PodOverrides = {}): PodView {
  const namespace = overrides.namespace ?? 'default';
  return {
    namespace,
    name,
    uid: `${namespace}/${name}`,
    labels: {},
    annotations: {},
    requests: { cpu: 100, memory: 128 * MI },
    nodeName: '',
    phase: 'Running',
    ready: true,
    priority: 0,
    priorityClassName: '',
    schedulerName: 'default-scheduler',
    owner: { kind: 'None', namespace, name },
    constraints: {},
    createdAt: 0,
    hasLocalStorage: false,
    isMirror: false,
    pvcNames: [],
    ...overrides,
  };
}

/** A snapshot of the nodes and pods, taken at time 0, without workloads or PDBs. */
export function testSnapshot(nodes: readonly NodeView[], pods: readonly PodView[] = []): ClusterSnapshot {
  return { takenAt: 0, nodes, pods, workloads: [], pdbs: [] };
}
