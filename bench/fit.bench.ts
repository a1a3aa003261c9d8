/**
 * Times the fit layer on a synthetic cluster of 5,000 nodes and 150,000 pods: building the
 * planning state, 10,000 checkFit calls, and the calls a planner makes around them. Prints
 * figures; not a test. Run: `node --import tsx bench/fit.bench.ts`.
 */
import type { NodeView, PodView, SchedulingConstraints } from '../src/core/model.js';
import { GI, MI, testNode, testPod, testSnapshot } from '../src/policy/fit/fixtures.test-helper.js';
import { checkFit, feasibleNodes } from '../src/policy/fit/filter.js';
import { DEFAULT_PROFILE } from '../src/policy/fit/profiles.js';
import { selectNode } from '../src/policy/fit/score.js';
import { FitState } from '../src/policy/fit/state.js';

const NODES = 5_000;
const PODS = 150_000;
const REPLICAS = 30;
const CHECKS = 10_000;
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

/** A small seeded generator (mulberry32), so every run measures the same cluster. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = seeded(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

function buildNodes(): NodeView[] {
  return Array.from({ length: NODES }, (_, i) => {
    const spot = i % 3 === 0;
    return testNode(`node-${String(i).padStart(5, '0')}`, {
      zone: ZONES[i % ZONES.length] as string,
      capacityType: spot ? 'spot' : 'on-demand',
      allocatable: { cpu: 16_000, memory: 64 * GI, pods: 110 },
      labels: { pool: i % 5 === 0 ? 'batch' : 'general', 'karpenter.sh/capacity-type': spot ? 'spot' : 'on-demand' },
      taints: spot ? [{ key: 'spot', value: 'true', effect: 'NoSchedule' }] : [],
    });
  });
}

/** Workload `w`'s constraints: a third anti-affine per host, a third spread over zones, some pinned to a pool. */
function constraintsOf(w: number): SchedulingConstraints {
  const app = { matchLabels: { app: `app-${w}` } };
  const tolerations = w % 2 === 0 ? [{ key: 'spot', operator: 'Exists' as const }] : [];
  const nodeSelector = w % 10 === 0 ? { pool: 'general' } : undefined;
  const base = { tolerations, ...(nodeSelector ? { nodeSelector } : {}) };
  switch (w % 3) {
    case 0:
      return { ...base, podAntiAffinity: { required: [{ labelSelector: app, topologyKey: 'kubernetes.io/hostname' }] } };
    case 1:
      return { ...base, topologySpread: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: app }] };
    default:
      return base;
  }
}

function workloadPod(w: number, replica: number, nodeName: string): PodView {
  return testPod(`app-${w}-${replica}`, {
    namespace: `ns-${w % 50}`,
    labels: { app: `app-${w}`, 'pod-template-hash': `h${w}` },
    requests: { cpu: 100 + (w % 8) * 50, memory: (128 + (w % 8) * 64) * MI },
    nodeName,
    constraints: constraintsOf(w),
  });
}

function buildPods(nodes: readonly NodeView[]): PodView[] {
  const pods: PodView[] = [];
  for (let i = 0; i < PODS; i++) {
    const w = Math.floor(i / REPLICAS);
    pods.push(workloadPod(w, i % REPLICAS, (nodes[(i * 7919) % NODES] as NodeView).name));
  }
  return pods;
}

/** Milliseconds of the sections that make up one planning pass: build, indexes, checks. */
let planningMs = 0;

function time<T>(label: string, run: () => T, count = 1, planning = false): T {
  const start = performance.now();
  const result = run();
  const ms = performance.now() - start;
  if (planning) planningMs += ms;
  const per = count > 1 ? `  (${((ms * 1000) / count).toFixed(1)} µs each)` : '';
  console.log(`${label.padEnd(52)} ${ms.toFixed(1).padStart(9)} ms${per}`);
  return result;
}

const nodes = buildNodes();
const pods = buildPods(nodes);
const snapshot = testSnapshot(nodes, pods);
const workloads = PODS / REPLICAS;
console.log(`cluster: ${NODES} nodes, ${PODS} pods, ${workloads} workloads (a third host anti-affine, a third zone-spread)`);

const state = time('FitState.fromSnapshot', () => FitState.fromSnapshot(snapshot), 1, true);
time('FitState.fromSnapshot (again, warm)', () => FitState.fromSnapshot(snapshot));

time('prepareIndexes (anti-affinity terms, label "app")', () => state.prepareIndexes(['app']), 1, true);

const newPods = Array.from({ length: CHECKS }, (_, i) => workloadPod(Math.floor(random() * workloads), 1000 + i, ''));
const targets = Array.from({ length: CHECKS }, () => (pick(nodes)).name);
let fits = 0;
time(`${CHECKS} checkFit, new pods of random workloads`, () => {
  for (let i = 0; i < CHECKS; i++) if (checkFit(state, newPods[i] as PodView, targets[i] as string).ok) fits++;
}, CHECKS, true);
console.log(`  → ${fits} fit`);
console.log(`${'planning pass: build + indexes + checks'.padEnd(52)} ${planningMs.toFixed(1).padStart(9)} ms`);

const placed = Array.from({ length: CHECKS }, () => pick(pods));
time(`${CHECKS} checkFit, placed pods moving elsewhere`, () => {
  for (let i = 0; i < CHECKS; i++) checkFit(state, placed[i] as PodView, targets[i] as string);
}, CHECKS);

time(`${CHECKS} assume + forget`, () => {
  for (let i = 0; i < CHECKS; i++) {
    state.assume(newPods[i] as PodView, targets[i] as string);
    state.forget(newPods[i] as PodView);
  }
}, CHECKS);

time('feasibleNodes × 20 (every node each)', () => {
  for (let i = 0; i < 20; i++) feasibleNodes(state, newPods[i] as PodView);
}, 20);

time('selectNode (default profile) × 20', () => {
  for (let i = 0; i < 20; i++) selectNode(state, newPods[i] as PodView, DEFAULT_PROFILE);
}, 20);

time('clone', () => state.clone());

// The descheduler's question for one node: do all its pods fit elsewhere, together?
const drained = (nodes[17] as NodeView).name;
time(`drain check of ${drained} (${state.podCount(drained)} pods, first fit)`, () => {
  const planning = state.clone();
  planning.cordon(drained);
  let moved = 0;
  for (const pod of planning.podsOn(drained)) {
    planning.forget(pod);
    const target = nodes.find((n) => checkFit(planning, pod, n.name).ok);
    if (target !== undefined) {
      planning.assume(pod, target.name);
      moved++;
    }
  }
  return moved;
});
