/**
 * Times `planDescheduling` on a synthetic cluster of 5,000 nodes and 150,000 pods (goal: under
 * 1 s per plan). 2,000 on-demand nodes lightly loaded, 3,000 tainted spot nodes with room; 5,000
 * Deployments of 30 replicas, a third host anti-affine, a third zone-spread, a fifth under a PDB;
 * the placement webhook's floor (base 1, 10%) keeps some replicas on on-demand. Prints figures;
 * not a test. Run: `node --import tsx bench/deschedule.bench.ts`. Wall time suffers on a shared
 * machine; cpu time (user + system, GC threads included) is the steadier figure.
 */
import type { NodeView, PdbView, PodView, SchedulingConstraints, Toleration, WorkloadView } from '../src/core/model.js';
import { DEFAULT_PRICE_TABLE } from '../src/core/pricing.js';
import { DEFAULT_DESCHEDULING_CONFIG, planDescheduling } from '../src/policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../src/policy/deschedule/plan.js';
import type { DeschedulingContext, Plan } from '../src/policy/deschedule/types.js';
import { GiB, node, pod } from '../src/policy/deschedule/fixtures.test-helper.js';

const ON_DEMAND = 2_000;
const SPOT = 3_000;
const WORKLOADS = 5_000;
const REPLICAS = 30;
const RUNS = 5;
const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const NOW = 30 * 24 * 3_600_000;

const spotToleration: Toleration = { key: 'node.kubernetes.io/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' };

function buildNodes(): NodeView[] {
  const nodes: NodeView[] = [];
  for (let i = 0; i < ON_DEMAND + SPOT; i++) {
    const spot = i >= ON_DEMAND;
    nodes.push(
      node(`${spot ? 'spot' : 'od'}-${String(i).padStart(5, '0')}`, {
        capacityType: spot ? 'spot' : 'on-demand',
        zone: ZONES[i % ZONES.length] as string,
        instanceType: 'm5.4xlarge',
        allocatable: { cpu: 16_000, memory: 64 * GiB, pods: 110 },
        taints: spot ? [{ key: 'node.kubernetes.io/capacity', value: 'spot', effect: 'NoSchedule' }] : [],
      }),
    );
  }
  return nodes;
}

function constraintsOf(w: number, onSpot: boolean): SchedulingConstraints {
  const app = { matchLabels: { app: `app-${w}` } };
  const base = onSpot ? { tolerations: [spotToleration] } : {};
  switch (w % 3) {
    case 0:
      return { ...base, podAntiAffinity: { required: [{ labelSelector: app, topologyKey: 'kubernetes.io/hostname' }] } };
    case 1:
      return { ...base, topologySpread: [{ maxSkew: 3, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: app }] };
    default:
      return base;
  }
}

/** 6 replicas of each workload on on-demand nodes (15 pods a node), 24 on spot (40 a node). */
function buildPods(nodes: readonly NodeView[]): PodView[] {
  const pods: PodView[] = [];
  let od = 0;
  let spot = 0;
  for (let w = 0; w < WORKLOADS; w++) {
    for (let r = 0; r < REPLICAS; r++) {
      const onSpot = r >= 6;
      const host = onSpot ? (nodes[ON_DEMAND + (spot++ % SPOT)] as NodeView) : (nodes[od++ % ON_DEMAND] as NodeView);
      pods.push(
        pod(`app-${w}-${r}`, host.name, {
          namespace: `ns-${w % 50}`,
          owner: { kind: 'Deployment', namespace: `ns-${w % 50}`, name: `app-${w}` },
          labels: { app: `app-${w}` },
          requests: { cpu: 250, memory: GiB },
          annotations: { 'stowage.io/capacity-type': onSpot ? 'spot' : 'on-demand' },
          constraints: constraintsOf(w, onSpot),
          createdAt: r * 1000,
        }),
      );
    }
  }
  return pods;
}

const nodes = buildNodes();
const pods = buildPods(nodes);
const workloads: WorkloadView[] = Array.from({ length: WORKLOADS }, (_, w) => ({
  ref: { kind: 'Deployment', namespace: `ns-${w % 50}`, name: `app-${w}` },
  replicas: REPLICAS,
  selector: { matchLabels: { app: `app-${w}` } },
  annotations: {},
  labels: {},
}));
const pdbs: PdbView[] = Array.from({ length: WORKLOADS / 5 }, (_, i) => ({
  namespace: `ns-${(i * 5) % 50}`,
  name: `app-${i * 5}`,
  selector: { matchLabels: { app: `app-${i * 5}` } },
  maxUnavailable: 1,
  disruptionsAllowed: 1,
  currentHealthy: REPLICAS,
  desiredHealthy: REPLICAS - 1,
  expectedPods: REPLICAS,
}));
const snapshot = { takenAt: NOW, nodes, pods, workloads, pdbs };
const ctx: DeschedulingContext = {
  now: NOW,
  prices: DEFAULT_PRICE_TABLE,
  placement: { defaults: { base: 1, percent: 10, fallback: { onDemandToSpot: true, spotToOnDemand: true }, spotToleration } },
};
console.log(`cluster: ${nodes.length} nodes (${ON_DEMAND} on-demand, ${SPOT} spot), ${pods.length} pods, ${WORKLOADS} Deployments, ${pdbs.length} PDBs`);

// The same cluster with no room left on spot (each spot node's cpu all requested): nothing moves,
// and every on-demand node is tried and refused, the slowest plan there is with budgets.
const full = {
  ...snapshot,
  nodes: nodes.map((n) => (n.capacityType === 'spot' ? { ...n, allocatable: { ...n.allocatable, cpu: 10_000 } } : n)),
};

const unbounded = 1_000_000_000;
const arms: readonly [string, DeschedulingConfig, typeof snapshot?][] = [
  ['default config (50 evictions a cycle)', DEFAULT_DESCHEDULING_CONFIG],
  ['default config, spot full (nothing fits)', DEFAULT_DESCHEDULING_CONFIG, full],
  [
    'no budgets (every drain that fits)',
    { ...DEFAULT_DESCHEDULING_CONFIG, budgets: { maxEvictionsPerCycle: unbounded, maxEvictionsPerNode: unbounded, maxEvictionsPerNamespace: unbounded } },
  ],
  [
    'no budgets, balance on too',
    {
      ...DEFAULT_DESCHEDULING_CONFIG,
      budgets: { maxEvictionsPerCycle: unbounded, maxEvictionsPerNode: unbounded, maxEvictionsPerNamespace: unbounded },
      strategies: { ...DEFAULT_DESCHEDULING_CONFIG.strategies, balance: { ...DEFAULT_DESCHEDULING_CONFIG.strategies.balance, enabled: true } },
    },
  ],
];

for (const [label, config, cluster = snapshot] of arms) {
  const times: number[] = [];
  const cpu: number[] = [];
  let plan: Plan | undefined;
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    plan = planDescheduling(cluster, config, ctx);
    const used = process.cpuUsage(startCpu);
    times.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const p = plan as Plan;
  const byStrategy = (kind: 'drains' | 'moves' | 'skipped'): string => {
    const counts = new Map<string, number>();
    for (const x of p[kind]) counts.set(x.strategy, (counts.get(x.strategy) ?? 0) + 1);
    return [...counts].map(([k, n]) => `${k} ${n}`).join(', ') || '0';
  };
  console.log(`\n${label}`);
  console.log(
    `  planDescheduling: median ${(times[Math.floor(RUNS / 2)] as number).toFixed(0)} ms wall (min ${(times[0] as number).toFixed(0)}, max ${(times[RUNS - 1] as number).toFixed(0)}), ` +
      `median ${(cpu[Math.floor(RUNS / 2)] as number).toFixed(0)} ms cpu, over ${RUNS} runs`,
  );
  console.log(`  drains: ${byStrategy('drains')}; moves: ${byStrategy('moves')}; skipped: ${byStrategy('skipped')}`);
  console.log(`  projected saving: $${p.savingUsdPerHour.toFixed(2)}/h; waves: ${1 + Math.max(-1, ...p.moves.map((m) => m.wave))}`);
}
