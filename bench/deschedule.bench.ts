/**
 * Times `planDescheduling` on the cluster of `deschedule-cluster.ts`: 5,000 nodes and 150,000
 * pods (goal: under 1 s per plan). Prints figures; not a test. Run: `npm run bench:deschedule`.
 * Wall time suffers on a shared machine; cpu time (user + system of the process, GC threads
 * included) is the steadier figure.
 *
 * `--against DIR` also times the planner of another checkout (e.g. `git worktree add ../base main`)
 * on the same snapshots, run for run in turn, and prints the ratio: a before/after on one machine
 * under one load.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { ClusterSnapshot } from '../src/core/model.js';
import { DEFAULT_DESCHEDULING_CONFIG, planDescheduling } from '../src/policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../src/policy/deschedule/plan.js';
import type { Plan } from '../src/policy/deschedule/types.js';
import { CONFIGS, CONTEXT, LARGE, largeCluster, withFullSpot } from './deschedule-cluster.js';

const { values } = parseArgs({ options: { against: { type: 'string' }, runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);

type Planner = typeof planDescheduling;
const planners: [string, Planner][] = [['this tree', planDescheduling]];
if (values.against !== undefined) {
  const module = (await import(pathToFileURL(path.resolve(values.against, 'src/policy/deschedule/plan.ts')).href)) as { planDescheduling: Planner };
  planners.push([`--against ${values.against}`, module.planDescheduling]);
}

const snapshot = largeCluster();
console.log(`cluster: ${snapshot.nodes.length} nodes (${LARGE.onDemand} on-demand, ${LARGE.spot} spot), ${snapshot.pods.length} pods, ${snapshot.workloads.length} Deployments, ${snapshot.pdbs.length} PDBs`);

// The cluster with spot full: every on-demand node is tried and refused, the slowest plan there is with budgets.
const arms: readonly (readonly [string, DeschedulingConfig, ClusterSnapshot])[] = [
  [CONFIGS[0]?.[0] as string, DEFAULT_DESCHEDULING_CONFIG, snapshot],
  ['default config, spot full (nothing fits)', DEFAULT_DESCHEDULING_CONFIG, withFullSpot(snapshot)],
  ...CONFIGS.slice(1).map(([label, config]) => [label, config, snapshot] as const),
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const [label, config, cluster] of arms) {
  const wall = planners.map(() => [] as number[]);
  const cpu = planners.map(() => [] as number[]);
  const plans: (Plan | undefined)[] = planners.map(() => undefined);
  for (let run = 0; run < RUNS; run++) {
    // In turn, so both planners see the same load.
    planners.forEach(([, plan], i) => {
      const start = performance.now();
      const startCpu = process.cpuUsage();
      plans[i] = plan(cluster, config, CONTEXT);
      const used = process.cpuUsage(startCpu);
      wall[i]?.push(performance.now() - start);
      cpu[i]?.push((used.user + used.system) / 1000);
    });
  }
  console.log(`\n${label}`);
  planners.forEach(([name], i) => {
    const w = wall[i] as number[];
    console.log(
      `  ${name}: median ${median(w).toFixed(0)} ms wall (min ${Math.min(...w).toFixed(0)}, max ${Math.max(...w).toFixed(0)}), median ${median(cpu[i] as number[]).toFixed(0)} ms cpu, over ${RUNS} runs`,
    );
  });
  if (planners.length === 2) {
    const ratio = (xs: number[][]): string => (median(xs[1] as number[]) / median(xs[0] as number[])).toFixed(2);
    console.log(`  --against / this tree: ${ratio(cpu)}× cpu, ${ratio(wall)}× wall`);
  }
  const p = plans[0] as Plan;
  const byStrategy = (kind: 'drains' | 'moves' | 'skipped'): string => {
    const counts = new Map<string, number>();
    for (const x of p[kind]) counts.set(x.strategy, (counts.get(x.strategy) ?? 0) + 1);
    return [...counts].map(([k, n]) => `${k} ${n}`).join(', ') || '0';
  };
  console.log(`  drains: ${byStrategy('drains')}; moves: ${byStrategy('moves')}; skipped: ${byStrategy('skipped')}`);
  console.log(`  projected saving: $${p.savingUsdPerHour.toFixed(2)}/h; waves: ${1 + Math.max(-1, ...p.moves.map((m) => m.wave))}`);
  if (planners.length === 2 && JSON.stringify(plans[0]) !== JSON.stringify(plans[1])) console.log('  the two planners decided differently (see bench/deschedule-decisions.ts)');
}
