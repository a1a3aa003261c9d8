/**
 * Builders for the descheduling tests and benchmark, on top of the fit builders: nodes labelled
 * with their capacity type and 16 GiB, pods owned by a Deployment named after their prefix
 * (`web-a` → `web`) with 500m and 1 GiB, and workloads and PDBs selecting them by `app`.
 */
import type { ClusterSnapshot, NodeView, PdbView, PodView, WorkloadRef, WorkloadView } from '../../core/model.js';
import { GI, testNode, testPod } from '../fit/fixtures.test-helper.js';
import type { NodeOverrides } from '../fit/fixtures.test-helper.js';

export const GiB = GI;

/** A Ready, schedulable node (on-demand unless overridden): 4 cpu, 16 GiB, 110 pods, m5.xlarge, created at 0. */
export function node(name: string, over: NodeOverrides = {}): NodeView {
  const capacityType = over.capacityType ?? 'on-demand';
  return testNode(name, {
    allocatable: { cpu: 4000, memory: 16 * GiB, pods: 110 },
    ...over,
    capacityType,
    labels: { 'node.kubernetes.io/capacity': capacityType, ...over.labels },
  });
}

/** A Running, Ready pod bound to `nodeName`, of Deployment `app` (the name up to its last dash) in `default`. */
export function pod(name: string, nodeName: string, over: Partial<PodView> = {}): PodView {
  const app = name.replace(/-[^-]*$/, '');
  const owner: WorkloadRef = over.owner ?? { kind: 'Deployment', namespace: over.namespace ?? 'default', name: app };
  return testPod(name, {
    namespace: owner.namespace,
    uid: `uid-${owner.namespace}-${name}`,
    labels: { app },
    requests: { cpu: 500, memory: GiB },
    nodeName,
    owner,
    controllerRef: { kind: owner.kind === 'Deployment' ? 'ReplicaSet' : owner.kind, name: `${owner.name}-rs`, uid: `rs-${owner.namespace}-${owner.name}` },
    ...over,
  });
}

/** A Deployment (unless `ref` says otherwise) in `default` selecting `app: name`. */
export function workload(name: string, replicas: number, over: Partial<WorkloadView> = {}): WorkloadView {
  const ref: WorkloadRef = over.ref ?? { kind: 'Deployment', namespace: 'default', name };
  return { ref, replicas, selector: { matchLabels: { app: name } }, annotations: {}, labels: {}, ...over };
}

/** A PDB in `default` selecting `app`, minAvailable 1, whose status allows 1 disruption. */
export function pdb(name: string, app: string, over: Partial<PdbView> = {}): PdbView {
  return { namespace: 'default', name, selector: { matchLabels: { app } }, minAvailable: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, ...over };
}

/** A snapshot taken at t = 1 h. */
export function snapshot(parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return { takenAt: 3_600_000, nodes: [], pods: [], workloads: [], pdbs: [], ...parts };
}
