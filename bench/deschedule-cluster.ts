/**
 * Clusters for the descheduling benchmark and for checking that a change to the planner keeps
 * every decision (`bench/deschedule-decisions.ts`): the benchmark's fixed large cluster, and
 * seeded random clusters that reach the planner's other paths (pending pods, PDBs at zero, nodes
 * the autoscaler marks, StatefulSets, several pod sizes, zonal volumes, settling nodes).
 */
import type { ClusterSnapshot, NodeView, PdbView, PodView, SchedulingConstraints, Taint, Toleration, WorkloadView } from '../src/core/model.js';
import { DEFAULT_PRICE_TABLE } from '../src/core/pricing.js';
import { DEFAULT_DESCHEDULING_CONFIG } from '../src/policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../src/policy/deschedule/plan.js';
import type { DeschedulingContext } from '../src/policy/deschedule/types.js';
import { GiB, node, pod } from '../src/policy/deschedule/fixtures.test-helper.js';
import { RandomSource } from '../src/sim/random.js';

const ZONES = ['zone-a', 'zone-b', 'zone-c'];
/** When the snapshots are taken: 30 days in, so pods created at 0 are old enough to move. */
export const NOW = 30 * 24 * 3_600_000;

const spotTaint: Taint = { key: 'node.kubernetes.io/capacity', value: 'spot', effect: 'NoSchedule' };
export const spotToleration: Toleration = { key: 'node.kubernetes.io/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' };

/** The context every plan of these clusters runs in: the built-in prices and the webhook's floor (base 1, 10%). */
export const CONTEXT: DeschedulingContext = {
  now: NOW,
  prices: DEFAULT_PRICE_TABLE,
  placement: { defaults: { base: 1, percent: 10, fallback: { onDemandToSpot: true, spotToOnDemand: true }, spotToleration } },
};

/** The benchmark's cluster: its size, and how many replicas of each workload start on on-demand. */
export interface LargeClusterSize {
  readonly onDemand: number;
  readonly spot: number;
  readonly workloads: number;
  readonly replicas: number;
}

/** 5,000 nodes and 150,000 pods: the size `bench:deschedule` must plan in under 1 s. */
export const LARGE: LargeClusterSize = { onDemand: 2_000, spot: 3_000, workloads: 5_000, replicas: 30 };

/**
 * The benchmark's cluster: on-demand nodes lightly loaded, spot nodes tainted with room; Deployments
 * of `replicas` replicas, a third host anti-affine, a third zone-spread, a fifth under a PDB; 6
 * replicas of each on on-demand (15 pods a node at the default size), the rest on spot.
 */
export function largeCluster(size: LargeClusterSize = LARGE): ClusterSnapshot {
  const nodes: NodeView[] = [];
  for (let i = 0; i < size.onDemand + size.spot; i++) {
    const spot = i >= size.onDemand;
    nodes.push(
      node(`${spot ? 'spot' : 'od'}-${String(i).padStart(5, '0')}`, {
        capacityType: spot ? 'spot' : 'on-demand',
        zone: ZONES[i % ZONES.length] as string,
        instanceType: 'm5.4xlarge',
        allocatable: { cpu: 16_000, memory: 64 * GiB, pods: 110 },
        taints: spot ? [spotTaint] : [],
      }),
    );
  }
  const pods: PodView[] = [];
  let od = 0;
  let spotAt = 0;
  for (let w = 0; w < size.workloads; w++) {
    for (let r = 0; r < size.replicas; r++) {
      const onSpot = r >= 6;
      const host = onSpot ? (nodes[size.onDemand + (spotAt++ % size.spot)] as NodeView) : (nodes[od++ % size.onDemand] as NodeView);
      pods.push(
        pod(`app-${w}-${r}`, host.name, {
          namespace: `ns-${w % 50}`,
          owner: { kind: 'Deployment', namespace: `ns-${w % 50}`, name: `app-${w}` },
          labels: { app: `app-${w}` },
          requests: { cpu: 250, memory: GiB },
          annotations: { 'stowage.io/capacity-type': onSpot ? 'spot' : 'on-demand' },
          constraints: _constraints(w % 3, `app-${w}`, onSpot),
          createdAt: r * 1000,
        }),
      );
    }
  }
  const workloads: WorkloadView[] = Array.from({ length: size.workloads }, (_, w) => ({
    ref: { kind: 'Deployment', namespace: `ns-${w % 50}`, name: `app-${w}` },
    replicas: size.replicas,
    selector: { matchLabels: { app: `app-${w}` } },
    annotations: {},
    labels: {},
  }));
  const pdbs: PdbView[] = Array.from({ length: Math.floor(size.workloads / 5) }, (_, i) => ({
    namespace: `ns-${(i * 5) % 50}`,
    name: `app-${i * 5}`,
    selector: { matchLabels: { app: `app-${i * 5}` } },
    maxUnavailable: 1,
    disruptionsAllowed: 1,
    currentHealthy: size.replicas,
    desiredHealthy: size.replicas - 1,
    expectedPods: size.replicas,
  }));
  return { takenAt: NOW, nodes, pods, workloads, pdbs };
}

/** The same cluster with no room left on spot (each spot node's cpu all requested): nothing moves. */
export function withFullSpot(snapshot: ClusterSnapshot): ClusterSnapshot {
  return { ...snapshot, nodes: snapshot.nodes.map((n) => (n.capacityType === 'spot' ? { ...n, allocatable: { ...n.allocatable, cpu: 10_000 } } : n)) };
}

const UNBOUNDED = 1_000_000_000;

/** The configs the benchmark times, by label: the defaults, no budgets, and no budgets with balance. */
export const CONFIGS: readonly (readonly [string, DeschedulingConfig])[] = [
  ['default config (50 evictions a cycle)', DEFAULT_DESCHEDULING_CONFIG],
  ['no budgets (every drain that fits)', { ...DEFAULT_DESCHEDULING_CONFIG, budgets: { maxEvictionsPerCycle: UNBOUNDED, maxEvictionsPerNode: UNBOUNDED, maxEvictionsPerNamespace: UNBOUNDED } }],
  [
    'no budgets, balance on too',
    {
      ...DEFAULT_DESCHEDULING_CONFIG,
      budgets: { maxEvictionsPerCycle: UNBOUNDED, maxEvictionsPerNode: UNBOUNDED, maxEvictionsPerNamespace: UNBOUNDED },
      strategies: { ...DEFAULT_DESCHEDULING_CONFIG.strategies, balance: { ...DEFAULT_DESCHEDULING_CONFIG.strategies.balance, enabled: true } },
    },
  ],
];

/** 0: host anti-affinity, 1: zone spread, 2: none (the large cluster's three); 3: zone anti-affinity, 4: host spread by an `In` selector. */
function _constraints(kind: number, app: string, onSpot: boolean): SchedulingConstraints {
  const selector = { matchLabels: { app } };
  const base = onSpot ? { tolerations: [spotToleration] } : {};
  switch (kind) {
    case 0:
      return { ...base, podAntiAffinity: { required: [{ labelSelector: selector, topologyKey: 'kubernetes.io/hostname' }] } };
    case 1:
      return { ...base, topologySpread: [{ maxSkew: 3, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: selector }] };
    case 3:
      return { ...base, podAntiAffinity: { required: [{ labelSelector: selector, topologyKey: 'topology.kubernetes.io/zone' }] } };
    case 4:
      return { ...base, topologySpread: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [app] }] } }] };
    default:
      return base;
  }
}

/**
 * A random cluster of some tens of nodes named by `seed`: on-demand and spot nodes of two sizes
 * (some not Ready, cordoned, tainted by the autoscaler or recently created), Deployments and
 * StatefulSets of several sizes and constraints, PDBs allowing one or no disruption, pods with
 * zonal volumes, local storage or recent creation, and pending pods that fit nowhere.
 */
export function randomCluster(seed: number): ClusterSnapshot {
  const random = new RandomSource(seed).stream('cluster');
  const rnd = (): number => random.next();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const nodes: NodeView[] = [];
  const nodeCount = 8 + Math.floor(rnd() * 40);
  for (let i = 0; i < nodeCount; i++) {
    const spot = rnd() < 0.5;
    const taints: Taint[] = spot && rnd() < 0.8 ? [spotTaint] : [];
    const mark = rnd();
    if (mark < 0.05) taints.push({ key: 'DeletionCandidateOfClusterAutoscaler', value: '1', effect: 'PreferNoSchedule' });
    else if (mark < 0.07) taints.push({ key: 'ToBeDeletedByClusterAutoscaler', value: '1', effect: 'NoSchedule' });
    const big = rnd() < 0.3;
    nodes.push(
      node(`n-${String(i).padStart(3, '0')}`, {
        capacityType: spot ? 'spot' : 'on-demand',
        zone: pick(ZONES),
        instanceType: big ? 'm5.2xlarge' : 'm5.xlarge',
        allocatable: { cpu: big ? 8000 : 4000, memory: (big ? 32 : 16) * GiB, pods: 110 },
        taints,
        ready: rnd() > 0.04,
        unschedulable: rnd() < 0.04,
        createdAt: rnd() < 0.1 ? NOW - 60_000 : 0,
      }),
    );
  }
  const used = new Map<string, number>();
  const pods: PodView[] = [];
  const workloads: WorkloadView[] = [];
  const pdbs: PdbView[] = [];
  const workloadCount = 3 + Math.floor(rnd() * 25);
  for (let w = 0; w < workloadCount; w++) {
    const name = `w${w}`;
    const namespace = pick(['default', 'shop', 'batch']);
    const kind = rnd() < 0.25 ? 'StatefulSet' : 'Deployment';
    const ref = { kind, namespace, name } as const;
    const replicas = 1 + Math.floor(rnd() * 8);
    const cpu = pick([100, 250, 500, 1000, 2000]);
    const constraintKind = Math.floor(rnd() * 6);
    const placed = rnd() < 0.8;
    const annotations: Record<string, string> = placed ? {} : { 'stowage.io/placement': 'disabled' };
    workloads.push({ ref, replicas, selector: { matchLabels: { app: name } }, annotations, labels: {} });
    const pdbKind = rnd();
    if (pdbKind < 0.4) {
      const allowed = pdbKind < 0.1 ? 0 : 1;
      pdbs.push({ namespace, name, selector: { matchLabels: { app: name } }, maxUnavailable: 1, disruptionsAllowed: allowed, currentHealthy: replicas, desiredHealthy: replicas - 1, expectedPods: replicas });
    }
    for (let r = 0; r < replicas; r++) {
      const start = Math.floor(rnd() * nodes.length);
      const tolerant = rnd() < 0.9;
      const constraints = _constraints(constraintKind, name, tolerant);
      const podName = kind === 'StatefulSet' ? `${name}-${r}` : `${name}-p${r}`;
      const extra: Partial<PodView> = {
        namespace,
        owner: ref,
        labels: { app: name },
        requests: { cpu, memory: (cpu / 250) * GiB },
        constraints,
        createdAt: rnd() < 0.05 ? NOW - 30_000 : r * 1000,
        hasLocalStorage: rnd() < 0.05,
        pvcNames: kind === 'StatefulSet' && rnd() < 0.5 ? [`data-${podName}`] : [],
      };
      let host: NodeView | undefined;
      for (let k = 0; k < nodes.length; k++) {
        const n = nodes[(start + k) % nodes.length] as NodeView;
        if (n.taints.some((t) => t.key === spotTaint.key) && !tolerant) continue;
        if ((used.get(n.name) ?? 0) + cpu > (n.allocatable['cpu'] ?? 0)) continue;
        host = n;
        break;
      }
      if (host === undefined || rnd() < 0.03) {
        pods.push(pod(podName, '', { ...extra, phase: 'Pending', ready: false }));
        continue;
      }
      used.set(host.name, (used.get(host.name) ?? 0) + cpu);
      const annotation: Record<string, string> = host.capacityType === 'spot' || host.capacityType === 'on-demand' ? { 'stowage.io/capacity-type': host.capacityType } : {};
      pods.push(pod(podName, host.name, { ...extra, annotations: placed && rnd() < 0.7 ? annotation : {} }));
    }
  }
  return { takenAt: NOW, nodes, pods, workloads, pdbs };
}
