/**
 * Simulates one week of a 1,000-node, 20,000-pod cluster for one arm and prints the wall time, the
 * CPU time and simulated seconds per wall second (goal: under 60 s on a quiet machine, where wall
 * and CPU time agree: the run is one thread). Prints figures; not a test.
 *
 * Run: `node --import tsx bench/sim.bench.ts [arm] [duration-hours] [seed]` (default B0, 168, 1).
 *
 * The cluster: 2,000 services of about 10 replicas (lognormal, 2–60) at ~330m cpu and 3 GiB per
 * core, on m5.2xlarge nodes in three zones, with the default scenario's daily load cycle, HPA,
 * PDBs and batch jobs scaled up 30×; Cluster Autoscaler sizes it to about 1,000 nodes.
 */
import { findArm } from '../src/sim/arms.js';
import { resolveScenario } from '../src/sim/scenario.js';
import { runSimulation } from '../src/sim/simulation.js';

const armName = process.argv[2] ?? 'B0';
const hours = Number(process.argv[3] ?? 168);
const seed = Number(process.argv[4] ?? 1);
const arm = findArm(armName);
if (arm === undefined) throw new Error(`Unknown arm "${armName}"`);

const scenario = resolveScenario(
  {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'Scenario',
    metadata: { name: 'bench-1000-nodes', description: '1,000 nodes, 20,000 pods, one week' },
    spec: {
      duration: `${hours}h`,
      warmUp: '2h',
      cloud: { instanceTypes: [{ name: 'm5.2xlarge', cpu: 8, memory: '32Gi', pods: 58, interruption: '5-10%' }] },
      nodeGroups: { maxSize: 1_500, maxNodesTotal: 3_000 },
      services: {
        generate: {
          count: 2_000,
          replicas: { median: 9, sigma: 0.5, min: 2, max: 60 },
          singleReplicaShare: 0.05,
          cpu: { median: '280m', sigma: 0.6, min: '50m', max: '2' },
          memoryPerCpu: { median: '3Gi', sigma: 0.4, min: '512Mi', max: '8Gi' },
        },
      },
      jobs: { arrivalsPerHour: 180 },
    },
  },
  'bench',
);

const started = performance.now();
const cpuStarted = process.cpuUsage();
let lastReport = started;
const output = runSimulation(
  { scenario, arm, seed },
  {
    wallClock: () => performance.now(),
    onProgress: (fraction) => {
      const now = performance.now();
      if (now - lastReport < 5_000) return;
      lastReport = now;
      process.stderr.write(`  ${(fraction * 100).toFixed(0)}% after ${((now - started) / 1_000).toFixed(1)} s\n`);
    },
  },
);
const wallSeconds = (performance.now() - started) / 1_000;
const cpuUsed = process.cpuUsage(cpuStarted);
const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
const d = output.diagnostics;
const m = output.metrics;
const simulated = d.simulatedSeconds;
console.log(`scenario: ${scenario.services.length} services, ${hours} h measured after a 2 h warm-up, arm ${arm.name}, seed ${seed}`);
console.log(`cluster:  up to ${d.maxNodes} nodes and ${d.maxPods} pods; ${d.podsCreated} pods created`);
console.log(`model:    ${d.events} events, ${d.scheduler.attempts} scheduling attempts (${d.scheduler.binds} binds), ${d.autoscaler.nodesAdded} nodes added, ${d.autoscaler.nodesRemoved} removed`);
console.log(`result:   $${m.usdPerDay.toFixed(0)}/day, ${(m.meanRequestedUtilisation * 100).toFixed(1)}% requested, A1 ${(m.uptimeA1 * 100).toFixed(4)}%, A2 ${(m.uptimeA2 * 100).toFixed(4)}%`);
if (d.descheduler !== undefined) console.log(`planning: ${d.descheduler.cycles} cycles, ${(d.descheduler.planningMs / 1_000).toFixed(1)} s`);
console.log(`cpu:      ${cpuSeconds.toFixed(1)} s (user + system of this process; wall time on a loaded machine measures the contention)`);
console.log(`wall:     ${wallSeconds.toFixed(1)} s for ${simulated.toFixed(0)} simulated s = ${(simulated / wallSeconds).toFixed(0)} simulated s per wall s (${(d.events / wallSeconds).toFixed(0)} events/s)`);
const weekSeconds = hours === 168 ? wallSeconds : (wallSeconds * 168) / hours;
console.log(`goal:     one week under 60 s: ${weekSeconds < 60 ? 'met' : 'NOT met'}${hours === 168 ? '' : ` (about ${weekSeconds.toFixed(0)} s projected from ${hours} h)`}`);
