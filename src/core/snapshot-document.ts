/**
 * The snapshot file: a ClusterSnapshot with apiVersion/kind, as `stowage snapshot -o yaml`
 * writes it and `stowage simulate --from` reads it. `status.summary` is derived, for people and
 * scripts; readers rebuild it rather than trust it.
 */
import { z } from 'zod';
import { formatZodError } from './validation.js';
import { summarizeCluster, type ClusterSummary } from './cluster-summary.js';
import type { ClusterSnapshot, NodeView, PdbView, PodView, WorkloadView } from './model.js';
import { toMillis } from './from-kube.js';
import type { PriceTable } from './pricing.js';

export const SNAPSHOT_API_VERSION = 'stowage.io/v1alpha1';

export interface SnapshotDocument {
  readonly apiVersion: typeof SNAPSHOT_API_VERSION;
  readonly kind: 'ClusterSnapshot';
  readonly metadata: { readonly takenAt: string; readonly context?: string };
  readonly spec: {
    readonly nodes: readonly NodeView[];
    readonly pods: readonly PodView[];
    readonly workloads: readonly WorkloadView[];
    readonly pdbs: readonly PdbView[];
  };
  readonly status: { readonly summary: ClusterSummary };
}

/** Wraps a snapshot into its document, with the cost summary computed from `prices`. */
export function toSnapshotDocument(snapshot: ClusterSnapshot, options: { context?: string; prices: PriceTable }): SnapshotDocument {
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'ClusterSnapshot',
    // Formats the given instant; no clock is read.
    // eslint-disable-next-line no-restricted-globals
    metadata: { takenAt: new Date(snapshot.takenAt).toISOString(), ...(options.context ? { context: options.context } : {}) },
    spec: { nodes: snapshot.nodes, pods: snapshot.pods, workloads: snapshot.workloads, pdbs: snapshot.pdbs },
    status: { summary: summarizeCluster(snapshot, options.prices) },
  };
}

const resources = z.record(z.string(), z.number().finite());
const labels = z.record(z.string(), z.string());
const workloadRef = z.object({ kind: z.string(), namespace: z.string(), name: z.string() });

// The reader checks what the simulator relies on and passes the rest through: snapshots written
// by a newer Stowage with extra fields still load.
const DocumentSchema = z.object({
  apiVersion: z.literal(SNAPSHOT_API_VERSION),
  kind: z.literal('ClusterSnapshot'),
  metadata: z.object({ takenAt: z.iso.datetime({ offset: true }) }).loose(),
  spec: z.object({
    nodes: z.array(z.object({
      name: z.string().min(1),
      labels,
      allocatable: resources,
      capacityType: z.enum(['spot', 'on-demand', 'unknown']),
    }).loose()),
    pods: z.array(z.object({
      namespace: z.string().min(1),
      name: z.string().min(1),
      requests: resources,
      nodeName: z.string(),
      owner: workloadRef,
    }).loose()),
    workloads: z.array(z.object({ ref: workloadRef }).loose()).default([]),
    pdbs: z.array(z.object({ namespace: z.string(), name: z.string() }).loose()).default([]),
  }),
}).loose();

/** Validates a parsed snapshot file and returns the snapshot in it. */
export function parseSnapshotDocument(raw: unknown): ClusterSnapshot {
  const result = DocumentSchema.safeParse(raw);
  if (!result.success) throw new Error(formatZodError(result.error));
  const { spec, metadata } = result.data;
  return {
    takenAt: toMillis(metadata.takenAt) ?? 0,
    nodes: spec.nodes as unknown as NodeView[],
    pods: spec.pods as unknown as PodView[],
    workloads: spec.workloads as unknown as WorkloadView[],
    pdbs: spec.pdbs as unknown as PdbView[],
  };
}
