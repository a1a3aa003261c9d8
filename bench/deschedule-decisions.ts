/**
 * Checks that two checkouts' planners decide the same: plans the benchmark's large cluster under
 * each config and `--seeds` random clusters under each config with both, and compares the whole
 * plans (every move, drain, skip and reason) as JSON. For changes meant to make planning faster
 * without changing a decision. Exits 1 at the first difference, printing it.
 * Run: `node --import tsx bench/deschedule-decisions.ts --against ../base [--seeds 300]`.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { ClusterSnapshot } from '../src/core/model.js';
import { planDescheduling } from '../src/policy/deschedule/plan.js';
import type { DeschedulingConfig } from '../src/policy/deschedule/plan.js';
import { CONFIGS, CONTEXT, largeCluster, randomCluster, withFullSpot } from './deschedule-cluster.js';

const { values } = parseArgs({ options: { against: { type: 'string' }, seeds: { type: 'string', default: '300' } } });
if (values.against === undefined) {
  console.error('Missing --against DIR: the checkout whose planner to compare with');
  process.exit(2);
}
const other = (await import(pathToFileURL(path.resolve(values.against, 'src/policy/deschedule/plan.ts')).href)) as { planDescheduling: typeof planDescheduling };

// Small budgets too, so budget refusals and their reasons are compared.
const configs: readonly (readonly [string, DeschedulingConfig])[] = [
  ...CONFIGS,
  ['small budgets', { ...(CONFIGS[2]?.[1] as DeschedulingConfig), budgets: { maxEvictionsPerCycle: 7, maxEvictionsPerNode: 3, maxEvictionsPerNamespace: 4 } }],
];

let compared = 0;
let moves = 0;
let drains = 0;
function compare(label: string, snapshot: ClusterSnapshot, config: DeschedulingConfig): void {
  const mine = JSON.stringify(planDescheduling(snapshot, config, CONTEXT), null, 1);
  const theirs = JSON.stringify(other.planDescheduling(snapshot, config, CONTEXT), null, 1);
  compared++;
  const plan = JSON.parse(mine) as { moves: unknown[]; drains: unknown[] };
  moves += plan.moves.length;
  drains += plan.drains.length;
  if (mine === theirs) return;
  const a = mine.split('\n');
  const b = theirs.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  console.error(`${label}: the plans differ at line ${at + 1}:\n  this tree: ${a[at]}\n  --against: ${b[at]}`);
  process.exit(1);
}

const large = largeCluster();
for (const [label, config] of configs) compare(`large cluster, ${label}`, large, config);
compare('large cluster with spot full, default config', withFullSpot(large), CONFIGS[0]?.[1] as DeschedulingConfig);
for (let seed = 1; seed <= Number(values.seeds); seed++) {
  const snapshot = randomCluster(seed);
  for (const [label, config] of configs) compare(`seed ${seed}, ${label}`, snapshot, config);
}
console.log(`${compared} plans identical (${moves} moves, ${drains} drains in all)`);
