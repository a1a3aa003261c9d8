/**
 * Stowage's `DEFAULT_PROFILE` against the real kube-scheduler, on randomized small clusters and
 * pods (resources with and without requests per container, taints and tolerations, node
 * affinity, inter-pod affinity and anti-affinity, topology spread, Services and ReplicaSets
 * behind the system-default spread). Each trial creates the pod held by a scheduling gate,
 * computes Stowage's filters and scores on the cluster as read through the API, removes the gate
 * and reads kube-scheduler's bind from the API and its per-plugin scores from its own log
 * (`--vmodule=schedule_one=10`). kube-scheduler breaks ties at random, so the test asks that its
 * node be among the nodes Stowage scores highest, and that the nodes Stowage rejects be those
 * kube-scheduler had no use for; every disagreement is printed with both score tables.
 *
 * STOWAGE_DIFF_SEED reproduces a run (the trials, not kube-scheduler's tie-breaks);
 * STOWAGE_DIFF_TRIALS changes how many.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import type { V1Container, V1Node, V1Pod, V1ReplicaSet, V1PodAffinityTerm, V1Service, V1Taint, V1Toleration, V1TopologySpreadConstraint, V1WeightedPodAffinityTerm } from '@kubernetes/client-node';
import { nodeFromKube, ownerResolver, podFromKube, spreadSelectorResolver } from '../../src/core/from-kube.js';
import type { ClusterSnapshot } from '../../src/core/model.js';
import { LogTail } from '../../src/devcluster/log-tail.js';
import type { NodeFixture } from '../../src/devcluster/nodes.js';
import { DEFAULT_PROFILE, FitState, describeUnschedulable, filterNodes, scoreNodes, type NodeScore } from '../../src/policy/fit/index.js';
import { RandomSource, type RandomStream } from '../../src/sim/random.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';

const SEED = Number(process.env['STOWAGE_DIFF_SEED'] ?? 20261206);
const TRIALS = Number(process.env['STOWAGE_DIFF_TRIALS'] ?? 300);
/** Trials run on one randomized cluster (node labels, taints, cordons) before the next. */
const TRIALS_PER_CLUSTER = 6;
const NS = 'diff';
const GATE = 'stowage.io/differential';
const APPS = ['web', 'db', 'cache'] as const;
const ZONE = 'topology.kubernetes.io/zone';
const HOSTNAME = 'kubernetes.io/hostname';

/** Eight node shapes, created once: the cpu/memory ratios differ, and one node takes only 8 pods. */
const SHAPES: readonly { cpu: string; memory: string; pods: string }[] = [
  { cpu: '2', memory: '4Gi', pods: '110' },
  { cpu: '2', memory: '8Gi', pods: '110' },
  { cpu: '4', memory: '8Gi', pods: '110' },
  { cpu: '4', memory: '16Gi', pods: '110' },
  { cpu: '8', memory: '16Gi', pods: '110' },
  { cpu: '8', memory: '32Gi', pods: '8' },
  { cpu: '16', memory: '32Gi', pods: '110' },
  { cpu: '4', memory: '32Gi', pods: '110' },
];
const NODE_NAMES = SHAPES.map((_, i) => `d${i + 1}`);

const FIXTURE: NodeFixture = {
  apiVersion: 'stowage.io/v1alpha1',
  kind: 'NodeFixture',
  nodes: SHAPES.map((capacity, i) => ({ name: NODE_NAMES[i] as string, count: 1, instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity })),
};

const cluster = useCluster({
  nodes: FIXTURE,
  // Only schedule_one.go at level 10: its per-plugin scores, not every request the client makes.
  schedulerArgs: ['--vmodule=schedule_one=10', '--log-flush-frequency=100ms'],
  // The ReplicaSets here only give pods an owner (the system-default spread's selector): no controller may add or remove pods.
  controllerManagerArgs: ['--controllers=*,-service-lb-controller,-node-route-controller,-replicaset-controller'],
});

/** Stowage's score plugin names, as kube-scheduler names them in its log. */
const UPSTREAM_NAME: Readonly<Record<string, string>> = { NodeResourcesLeastAllocated: 'NodeResourcesFit' };

interface Outcome {
  readonly trial: number;
  readonly agree: boolean;
  readonly filtersAgree: boolean;
  readonly report?: string;
}

const outcomes: Outcome[] = [];
const exact = new Map<string, { same: number; all: number }>();
let messagesCompared = 0;
const messageMismatches: string[] = [];

after(() => {
  const lines = outcomes.filter((o) => o.report !== undefined).map((o) => o.report as string);
  const perPlugin = [...exact].map(([plugin, { same, all }]) => `${plugin} ${same}/${all}`).join(', ');
  const agree = outcomes.filter((o) => o.agree).length;
  const filters = outcomes.filter((o) => o.filtersAgree).length;
  process.stdout.write(
    [
      `# scheduler differential (seed ${SEED}): kube-scheduler's node in Stowage's best set in ${agree}/${outcomes.length} trials; filters agreed in ${filters}/${outcomes.length}`,
      `# per-plugin node scores equal to kube-scheduler's: ${perPlugin}`,
      `# FitError messages equal to kube-scheduler's: ${messagesCompared - messageMismatches.length}/${messagesCompared}`,
      ...messageMismatches.map((m) => `#   ${m}`),
      ...lines.flatMap((l) => l.split('\n').map((x) => `# ${x}`)),
      '',
    ].join('\n'),
  );
});

test(`kube-scheduler's node is among the nodes Stowage's default profile scores highest (${TRIALS} randomized trials)`, { timeout: 12 * 60_000 }, async () => {
  const c = cluster();
  await createNamespace(c.core, NS);
  const baseLabels = new Map<string, Record<string, string>>();
  for (const node of (await c.core.listNode()).items) baseLabels.set(node.metadata?.name ?? '', { ...(node.metadata?.labels ?? {}) });
  for (const app of APPS) {
    await c.apps.createNamespacedReplicaSet({
      namespace: NS,
      body: {
        metadata: { name: `rs-${app}` },
        spec: { replicas: 1, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'registry.example/c:1' }] } } },
      },
    });
  }
  const replicaSets = (await c.apps.listNamespacedReplicaSet({ namespace: NS })).items;
  const rsUid = new Map(replicaSets.map((rs) => [rs.metadata?.name ?? '', rs.metadata?.uid ?? '']));
  const log = new LogReader(schedulerLog(c));
  const random = new RandomSource(SEED);
  const started = Date.now();
  const phases = new Map<string, number>();
  let nodes: V1Node[] = [];
  let previous: { trial: number; services: readonly string[] } | undefined;

  for (let trial = 0; trial < TRIALS; trial++) {
    let t = Date.now();
    const lap = (phase: string): void => {
      const now = Date.now();
      phases.set(phase, (phases.get(phase) ?? 0) + now - t);
      t = now;
    };
    if (trial % TRIALS_PER_CLUSTER === 0) {
      await randomizeNodes(c, random.stream(`cluster-${trial / TRIALS_PER_CLUSTER}`), baseLabels);
      // The scheduler reads nodes from its own watch: let the changes reach it before the next pod.
      await sleep(400);
      nodes = (await c.core.listNode()).items;
      lap('nodes');
    }
    const r = random.stream(`trial-${trial}`);
    const objects = trialObjects(r, trial, rsUid);
    const name = objects.pod.metadata?.name as string;
    // The last trial's objects go as this one's come: they carry its number, so neither request touches the other's.
    await Promise.all([
      ...(previous === undefined ? [] : [_reset(c, previous.trial, previous.services)]),
      ...objects.services.map((body) => c.core.createNamespacedService({ namespace: NS, body })),
      ...objects.existing.map((body) => c.core.createNamespacedPod({ namespace: NS, body })),
      c.core.createNamespacedPod({ namespace: NS, body: { ...objects.pod, spec: { ...objects.pod.spec, schedulingGates: [{ name: GATE }] } } as V1Pod }),
    ]);
    previous = { trial, services: objects.services.map((svc) => svc.metadata?.name as string) };
    lap('create');
    const stowage = await stowageVerdict(c, name, nodes, replicaSets);
    lap('stowage');
    await c.core.patchNamespacedPod({ name, namespace: NS, body: [{ op: 'remove', path: '/spec/schedulingGates' }] });
    const upstream = await upstreamVerdict(c, log, name);
    lap('upstream');
    outcomes.push(compare(trial, objects.pod, stowage, upstream));
  }
  const seconds = (Date.now() - started) / 1000;
  const perPhase = [...phases].map(([phase, ms]) => `${phase} ${(ms / TRIALS).toFixed(0)} ms`).join(', ');
  process.stdout.write(`# ${TRIALS} trials in ${seconds.toFixed(0)} s (load average ${loadAverage()}); per trial: ${perPhase}\n`);

  const agree = outcomes.filter((o) => o.agree).length;
  const filters = outcomes.filter((o) => o.filtersAgree).length;
  assert.ok(agree >= 0.99 * outcomes.length, `kube-scheduler's node was among Stowage's best in only ${agree}/${outcomes.length} trials (seed ${SEED}); the disagreements are printed above`);
  assert.ok(filters >= 0.99 * outcomes.length, `filters agreed in only ${filters}/${outcomes.length} trials (seed ${SEED})`);
});

// --- The random cluster -------------------------------------------------------------------

async function randomizeNodes(c: TestCluster, r: RandomStream, baseLabels: ReadonlyMap<string, Record<string, string>>): Promise<void> {
  const patches = NODE_NAMES.map((name) => {
    const labels: Record<string, string> = { ...(baseLabels.get(name) ?? {}) };
    // Some nodes have no zone: the system-default spread weighs them as a domain of their own.
    if (r.bernoulli(0.85)) labels[ZONE] = pick(r, ['z1', 'z2', 'z3']);
    if (r.bernoulli(0.6)) labels['disk'] = pick(r, ['ssd', 'hdd']);
    if (r.bernoulli(0.8)) labels['gen'] = String(r.int(1, 4));
    const taints: V1Taint[] = [];
    if (r.bernoulli(0.2)) taints.push({ key: 'dedicated', value: pick(r, ['a', 'b']), effect: 'NoSchedule' });
    if (r.bernoulli(0.3)) taints.push({ key: 'spot', value: 'true', effect: 'PreferNoSchedule' });
    if (r.bernoulli(0.15)) taints.push({ key: 'batch', value: 'true', effect: 'PreferNoSchedule' });
    const unschedulable = r.bernoulli(0.07);
    return {
      name,
      body: [
        { op: 'add', path: '/metadata/labels', value: labels },
        { op: 'add', path: '/spec/taints', value: taints },
        { op: 'add', path: '/spec/unschedulable', value: unschedulable },
      ],
    };
  });
  await Promise.all(patches.map((patch) => c.core.patchNode(patch)));
}

interface TrialObjects {
  readonly services: readonly V1Service[];
  /** Pods already on the nodes (bound by name, as if the scheduler had placed them), within each node's room. */
  readonly existing: readonly V1Pod[];
  /** The pod both schedulers place. */
  readonly pod: V1Pod;
}

/** One trial's random Services, placed pods and pod to schedule, each labelled with the trial's number. */
function trialObjects(r: RandomStream, trial: number, rsUid: ReadonlyMap<string, string>): TrialObjects {
  const labels = { trial: String(trial) };
  const services: V1Service[] = [];
  for (const app of APPS) {
    if (r.bernoulli(0.2)) services.push({ metadata: { name: `svc-${app}-${trial}`, labels }, spec: { selector: { app }, ports: [{ port: 80 }] } });
  }
  const free = new Map(SHAPES.map((s, i) => [NODE_NAMES[i] as string, { cpu: Number(s.cpu) * 1000, memory: _gi(s.memory), pods: Number(s.pods) }]));
  const existing: V1Pod[] = [];
  const count = r.int(0, 10);
  for (let i = 0; i < count; i++) {
    const pod = randomPod(r, `e-${trial}-${i}`, trial, rsUid, true);
    const need = _podRequests(pod);
    const fits = NODE_NAMES.filter((n) => {
      const f = free.get(n) as { cpu: number; memory: number; pods: number };
      return f.cpu >= need.cpu && f.memory >= need.memory && f.pods >= 1;
    });
    if (fits.length === 0) continue;
    const node = pick(r, fits);
    const f = free.get(node) as { cpu: number; memory: number; pods: number };
    free.set(node, { cpu: f.cpu - need.cpu, memory: f.memory - need.memory, pods: f.pods - 1 });
    existing.push({ ...pod, spec: { ...pod.spec, nodeName: node } } as V1Pod);
  }
  const pod = randomPod(r, `t-${String(trial).padStart(4, '0')}`, trial, rsUid);
  return { services, existing, pod };
}

/** Deletes a trial's pods and Services, the pods at once (no grace period). */
async function _reset(c: TestCluster, trial: number, services: readonly string[]): Promise<void> {
  await Promise.all([
    c.core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: `trial=${trial}`, gracePeriodSeconds: 0 }),
    ...services.map((name) => c.core.deleteNamespacedService({ name, namespace: NS })),
  ]);
}

const CPU = ['', '', '100m', '250m', '500m', '1', '2', '3'] as const;
const MEMORY = ['', '', '128Mi', '512Mi', '1Gi', '2Gi', '4Gi', '6Gi'] as const;

function randomContainer(r: RandomStream, i: number): V1Container {
  const cpu = pick(r, CPU);
  const memory = pick(r, MEMORY);
  const requests: Record<string, string> = {};
  if (cpu !== '') requests['cpu'] = cpu;
  if (memory !== '') requests['memory'] = memory;
  return { name: `c${i}`, image: 'registry.example/app:1', ...(Object.keys(requests).length === 0 ? {} : { resources: { requests } }) };
}

/** A pod with random labels, requests, owner, tolerations, node and pod (anti-)affinity and spread. */
function randomPod(r: RandomStream, name: string, trial: number, rsUid: ReadonlyMap<string, string>, existing = false): V1Pod {
  const app = pick(r, APPS);
  const labels: Record<string, string> = { app, trial: String(trial) };
  if (r.bernoulli(0.3)) labels['team'] = pick(r, ['a', 'b']);
  const owned = r.bernoulli(0.4);
  const containers = Array.from({ length: r.int(1, 3) }, (_, i) => randomContainer(r, i));
  const tolerations: V1Toleration[] = [];
  if (r.bernoulli(0.3)) tolerations.push({ key: 'dedicated', operator: 'Equal', value: pick(r, ['a', 'b']), effect: 'NoSchedule' });
  if (r.bernoulli(0.2)) tolerations.push({ key: 'spot', operator: 'Exists' });
  if (r.bernoulli(0.1)) tolerations.push({ key: 'batch', operator: 'Equal', value: 'true', effect: 'PreferNoSchedule' });
  const nodeSelector = !existing && r.bernoulli(0.12) ? { disk: 'ssd' } : undefined;
  const affinity: NonNullable<V1Pod['spec']>['affinity'] = {};
  if (!existing && r.bernoulli(0.15)) {
    affinity.nodeAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          r.bernoulli(0.5)
            ? { matchExpressions: [{ key: ZONE, operator: 'In', values: [pick(r, ['z1', 'z2', 'z3']), pick(r, ['z1', 'z2', 'z3'])] }] }
            : { matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['1'] }] },
        ],
      },
    };
  }
  if (!existing && r.bernoulli(0.4)) {
    affinity.nodeAffinity = {
      ...affinity.nodeAffinity,
      preferredDuringSchedulingIgnoredDuringExecution: Array.from({ length: r.int(1, 2) }, () => ({
        weight: r.int(1, 100),
        preference: r.bernoulli(0.5)
          ? { matchExpressions: [{ key: 'disk', operator: 'In' as const, values: [pick(r, ['ssd', 'hdd'])] }] }
          : { matchExpressions: [{ key: 'gen', operator: pick(r, ['Gt', 'Lt'] as const), values: [String(r.int(1, 3))] }] },
      })),
    };
  }
  const term = (): V1PodAffinityTerm => ({ labelSelector: { matchLabels: { app: pick(r, APPS) } }, topologyKey: pick(r, [HOSTNAME, ZONE]) });
  const weighted = (): V1WeightedPodAffinityTerm[] => Array.from({ length: r.int(1, 2) }, () => ({ weight: r.int(1, 100), podAffinityTerm: term() }));
  if (r.bernoulli(existing ? 0.08 : 0.12)) affinity.podAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [term()] };
  if (r.bernoulli(0.15)) affinity.podAffinity = { ...affinity.podAffinity, preferredDuringSchedulingIgnoredDuringExecution: weighted() };
  if (r.bernoulli(existing ? 0.1 : 0.15)) affinity.podAntiAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [term()] };
  if (r.bernoulli(0.15)) affinity.podAntiAffinity = { ...affinity.podAntiAffinity, preferredDuringSchedulingIgnoredDuringExecution: weighted() };
  const spread: V1TopologySpreadConstraint[] = [];
  if (!existing && r.bernoulli(0.3)) {
    // At most one constraint per topology key (the API rejects two with the same key and action).
    const keys = r.bernoulli(0.3) ? [ZONE, HOSTNAME] : [pick(r, [ZONE, HOSTNAME])];
    for (const topologyKey of keys) {
      const minDomains = r.bernoulli(0.2) ? { minDomains: r.int(2, 4) } : {};
      const whenUnsatisfiable = minDomains.minDomains !== undefined || r.bernoulli(0.5) ? 'DoNotSchedule' : 'ScheduleAnyway';
      spread.push({ maxSkew: r.int(1, 2), topologyKey, whenUnsatisfiable, labelSelector: { matchLabels: { app } }, ...minDomains });
    }
  }
  const uid = rsUid.get(`rs-${app}`);
  return {
    metadata: {
      name,
      labels,
      ...(owned && uid !== undefined ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${app}`, uid, controller: true }] } : {}),
    },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers,
      ...(tolerations.length === 0 ? {} : { tolerations }),
      ...(nodeSelector === undefined ? {} : { nodeSelector }),
      ...(Object.keys(affinity).length === 0 ? {} : { affinity }),
      ...(spread.length === 0 ? {} : { topologySpreadConstraints: spread }),
    },
  };
}

// --- Stowage's verdict --------------------------------------------------------------------

interface StowageVerdict {
  readonly feasible: readonly string[];
  readonly rejected: ReadonlyMap<string, string>;
  readonly scores: readonly NodeScore[];
  readonly best: readonly string[];
  readonly message: string;
}

/** Filters and scores the pod with DEFAULT_PROFILE on the cluster as the API shows it now. */
async function stowageVerdict(c: TestCluster, name: string, nodes: readonly V1Node[], replicaSets: readonly V1ReplicaSet[]): Promise<StowageVerdict> {
  // Nodes change once per cluster and ReplicaSets never: read when they change, not per trial.
  const [pods, services] = await Promise.all([c.core.listNamespacedPod({ namespace: NS }), c.core.listNamespacedService({ namespace: NS })]);
  const resolveOwner = ownerResolver(replicaSets, []);
  const resolveSpread = spreadSelectorResolver({ services: services.items, replicaSets });
  const snapshot: ClusterSnapshot = {
    takenAt: Date.now(),
    nodes: nodes.map((n) => nodeFromKube(n)),
    pods: pods.items.map((p) => podFromKube(p, resolveOwner, resolveSpread)),
    workloads: [],
    pdbs: [],
  };
  const state = FitState.fromSnapshot(snapshot);
  const pod = snapshot.pods.find((p) => p.name === name);
  if (pod === undefined) throw new Error(`Cannot find pod "${NS}/${name}" in the snapshot`);
  const { feasible, rejected } = filterNodes(state, pod, DEFAULT_PROFILE.filters);
  const scores = scoreNodes(state, pod, DEFAULT_PROFILE, feasible);
  let top = Number.NEGATIVE_INFINITY;
  for (const s of scores) top = Math.max(top, s.total);
  return {
    feasible,
    rejected: new Map([...rejected].map(([node, failure]) => [node, `${failure.plugin}: ${failure.reason}`])),
    scores,
    best: scores.filter((s) => s.total === top).map((s) => s.nodeName),
    message: describeUnschedulable(state.nodeNames.length, rejected.values()),
  };
}

// --- kube-scheduler's verdict -------------------------------------------------------------

interface UpstreamVerdict {
  /** The node it bound the pod to, or undefined when it found none. */
  readonly node?: string;
  /** Its FitError message when it found none. */
  readonly message?: string;
  /** Nodes it scored (feasible), with each plugin's weighted score; empty when it bound without scoring (one feasible node). */
  readonly scores: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly feasibleCount: number;
}

async function upstreamVerdict(c: TestCluster, log: LogReader, name: string): Promise<UpstreamVerdict> {
  const deadline = Date.now() + 30_000;
  let pod: V1Pod;
  for (;;) {
    pod = await c.core.readNamespacedPod({ name, namespace: NS });
    const scheduled = pod.status?.conditions?.find((cond) => cond.type === 'PodScheduled');
    if (pod.spec?.nodeName !== undefined && pod.spec.nodeName !== '') break;
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
      return { message: scheduled.message ?? '', scores: new Map(), feasibleCount: 0 };
    }
    if (Date.now() > deadline) throw new Error(`Pod "${NS}/${name}" was neither bound nor found unschedulable within 30 s`);
    await sleep(20);
  }
  const node = pod.spec.nodeName;
  const key = `${NS}/${name}`;
  // The bind is logged after the scores: once it is in the log, so are they.
  const bound = await log.waitForBind(key, 10_000);
  return { node, scores: log.scores(key), feasibleCount: bound?.feasibleNodes ?? 0 };
}

/** The kube-scheduler process's log file. */
function schedulerLog(c: TestCluster): string {
  const p = c.state.processes.find((x) => x.name === 'kube-scheduler');
  if (p === undefined) throw new Error('The cluster has no kube-scheduler process');
  return p.logPath;
}

const SCORED = /"Plugin scored node for pod" pod="([^"]+)" plugin="([^"]+)" node="([^"]+)" score=(-?\d+)/;
const BOUND = /"Successfully bound pod to node" pod="([^"]+)" node="([^"]+)" evaluatedNodes=(\d+) feasibleNodes=(\d+)/;

/** Reads kube-scheduler's log as it grows and files its score and bind lines by pod. */
class LogReader {
  readonly #tail: LogTail;
  readonly #scores = new Map<string, Map<string, Map<string, number>>>();
  readonly #bound = new Map<string, { node: string; feasibleNodes: number }>();

  constructor(path: string) {
    this.#tail = new LogTail(path);
  }

  scores(pod: string): ReadonlyMap<string, ReadonlyMap<string, number>> {
    return this.#scores.get(pod) ?? new Map();
  }

  /** Waits until the log has the pod's bind line (written after its scores), or the timeout. */
  async waitForBind(pod: string, timeoutMs: number): Promise<{ node: string; feasibleNodes: number } | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.#tail.readLines()) this.#parse(line);
      const bound = this.#bound.get(pod);
      if (bound !== undefined || Date.now() > deadline) return bound;
      await sleep(20);
    }
  }

  #parse(line: string): void {
    const scored = SCORED.exec(line);
    if (scored !== null) {
      const [, pod, plugin, node, score] = scored as unknown as [string, string, string, string, string];
      let byNode = this.#scores.get(pod);
      if (byNode === undefined) this.#scores.set(pod, (byNode = new Map<string, Map<string, number>>()));
      let byPlugin = byNode.get(node);
      if (byPlugin === undefined) byNode.set(node, (byPlugin = new Map<string, number>()));
      byPlugin.set(plugin, Number(score));
      return;
    }
    const bound = BOUND.exec(line);
    if (bound !== null) {
      const [, pod, node, , feasible] = bound as unknown as [string, string, string, string, string];
      this.#bound.set(pod, { node, feasibleNodes: Number(feasible) });
    }
  }
}

// --- Comparison ---------------------------------------------------------------------------

function compare(trial: number, body: V1Pod, stowage: StowageVerdict, upstream: UpstreamVerdict): Outcome {
  // The nodes kube-scheduler found feasible: those it scored, or the one it bound without scoring.
  const upstreamFeasible = new Set(upstream.scores.size > 0 ? upstream.scores.keys() : upstream.node === undefined ? [] : [upstream.node]);
  const knownFeasible = upstream.node === undefined || upstream.scores.size > 0 || upstream.feasibleCount === 1;
  const rejectedButUsable = [...stowage.rejected.keys()].filter((n) => upstreamFeasible.has(n));
  const acceptedButUnusable = knownFeasible ? stowage.feasible.filter((n) => !upstreamFeasible.has(n)) : [];
  const filtersAgree = rejectedButUsable.length === 0 && acceptedButUnusable.length === 0;
  const agree = upstream.node === undefined ? stowage.feasible.length === 0 : stowage.best.includes(upstream.node);

  if (upstream.message !== undefined && stowage.feasible.length === 0) {
    messagesCompared++;
    // kube-scheduler appends what its PostFilter plugins found ("no new claims to deallocate,
    // preemption: …"): the filters' part is the first sentence.
    const end = upstream.message.indexOf('. ');
    const filterPart = end === -1 ? upstream.message : upstream.message.slice(0, end + 1);
    if (filterPart !== stowage.message) messageMismatches.push(`trial ${trial}: kube-scheduler "${filterPart}", Stowage "${stowage.message}"`);
  }
  _countExact(stowage, upstream);
  if (agree && filtersAgree) return { trial, agree, filtersAgree };

  const lines: string[] = [];
  const cluster = Math.floor(trial / TRIALS_PER_CLUSTER);
  lines.push(
    `trial ${trial} (STOWAGE_DIFF_SEED=${SEED}, cluster ${cluster}): kube-scheduler ${upstream.node === undefined ? `found no node (${upstream.message ?? ''})` : `bound ${upstream.node}`}; ` +
      `Stowage's best: ${stowage.best.join(', ') || 'none'}`,
  );
  if (!filtersAgree) {
    for (const n of rejectedButUsable) lines.push(`  filter: Stowage rejected ${n} (${stowage.rejected.get(n) ?? ''}), kube-scheduler found it feasible`);
    for (const n of acceptedButUnusable) lines.push(`  filter: Stowage found ${n} feasible, kube-scheduler did not`);
  }
  lines.push(`  pod: ${JSON.stringify({ labels: body.metadata?.labels, owned: body.metadata?.ownerReferences !== undefined, ...body.spec, terminationGracePeriodSeconds: undefined })}`);
  lines.push(..._scoreTable(stowage, upstream));
  return { trial, agree, filtersAgree, report: lines.join('\n') };
}

/** Both score tables side by side: per node and plugin, Stowage's weighted score / kube-scheduler's. */
function _scoreTable(stowage: StowageVerdict, upstream: UpstreamVerdict): string[] {
  const plugins = new Set<string>();
  for (const s of stowage.scores) for (const p of Object.keys(s.plugins)) plugins.add(UPSTREAM_NAME[p] ?? p);
  for (const byPlugin of upstream.scores.values()) for (const p of byPlugin.keys()) plugins.add(p);
  const columns = [...plugins].sort();
  const weights = new Map(DEFAULT_PROFILE.scores.map((w) => [UPSTREAM_NAME[w.plugin] ?? w.plugin, w.weight]));
  const nodes = [...new Set([...stowage.scores.map((s) => s.nodeName), ...upstream.scores.keys()])].sort();
  const rows = [`  ${['node', ...columns, 'total'].join(' | ')}   (Stowage weighted / kube-scheduler weighted; - = not scored)`];
  for (const node of nodes) {
    const ours = stowage.scores.find((s) => s.nodeName === node);
    const theirs = upstream.scores.get(node);
    const cells = columns.map((col) => {
      const stowageName = Object.keys(UPSTREAM_NAME).find((k) => UPSTREAM_NAME[k] === col) ?? col;
      const mine = ours?.plugins[stowageName as keyof NodeScore['plugins']];
      const o = mine === undefined ? '-' : String(mine * (weights.get(col) ?? 1));
      return `${o}/${theirs?.get(col) ?? '-'}`;
    });
    const theirTotal = theirs === undefined ? '-' : String([...theirs.values()].reduce((a, b) => a + b, 0));
    rows.push(`  ${[node, ...cells, `${ours?.total ?? '-'}/${theirTotal}`].join(' | ')}`);
  }
  return rows;
}

function _countExact(stowage: StowageVerdict, upstream: UpstreamVerdict): void {
  const weights = new Map(DEFAULT_PROFILE.scores.map((w) => [w.plugin as string, w.weight]));
  for (const s of stowage.scores) {
    const theirs = upstream.scores.get(s.nodeName);
    if (theirs === undefined) continue;
    for (const [plugin, score] of Object.entries(s.plugins)) {
      const upstreamName = UPSTREAM_NAME[plugin] ?? plugin;
      const entry = exact.get(upstreamName) ?? { same: 0, all: 0 };
      entry.all++;
      // A plugin kube-scheduler skipped for the pod logs no score: it gave every node 0.
      if ((score ?? 0) * (weights.get(plugin) ?? 1) === (theirs.get(upstreamName) ?? 0)) entry.same++;
      exact.set(upstreamName, entry);
    }
  }
}

// --- Helpers ------------------------------------------------------------------------------

function pick<T>(r: RandomStream, values: readonly T[]): T {
  return values[r.int(0, values.length - 1)] as T;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(1)).join(' ');
}

function _gi(memory: string): number {
  return Number(memory.replace('Gi', '')) * 1024 ** 3;
}

/** Cpu (millicores) and memory (bytes) requested, counting only what containers set. */
function _podRequests(pod: V1Pod): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const container of pod.spec?.containers ?? []) {
    const requests = container.resources?.requests ?? {};
    const c = requests['cpu'];
    const m = requests['memory'];
    if (c !== undefined) cpu += c.endsWith('m') ? Number(c.slice(0, -1)) : Number(c) * 1000;
    if (m !== undefined) memory += Number(m.slice(0, -2)) * (m.endsWith('Gi') ? 1024 ** 3 : 1024 ** 2);
  }
  return { cpu, memory };
}
