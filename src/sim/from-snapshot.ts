/**
 * A scenario from a live cluster: `stowage snapshot -o yaml` writes a snapshot document, and
 * `stowage simulate --from` turns it into a scenario over the default one: the cluster's instance
 * types and zones, one service per Deployment or StatefulSet with its replicas, median requests,
 * PDB, eviction annotations and placement annotations, and the DaemonSet overhead per node. A snapshot holds no load
 * history, so the services run at constant replicas (no HPA) and no batch jobs arrive; add them
 * with a scenario file if the cluster has them.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { matchesLabelSelector } from '../core/labels.js';
import type { ClusterSnapshot, NodeView, PodView } from '../core/model.js';
import { summarizeCluster } from '../core/cluster-summary.js';
import { DEFAULT_PRICE_TABLE } from '../core/pricing.js';
import type { PriceTable } from '../core/pricing.js';
import { parseSnapshotDocument } from '../core/snapshot-document.js';
import { EvictionAnnotation } from '../policy/deschedule/evictable.js';
import { PlacementAnnotation } from '../policy/placement/policy.js';
import { DEFAULT_SCENARIO_DOCUMENT, resolveScenario, ScenarioError } from './scenario.js';
import type { Scenario } from './scenario.js';
import type { TodayResult } from './result.js';

/** Reads and validates a snapshot file (`stowage snapshot -o yaml`); a bad file is a `ScenarioError` of one line. */
export async function readSnapshotFile(path: string): Promise<ClusterSnapshot> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError(`Cannot read snapshot ${JSON.stringify(path)}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  try {
    return parseSnapshotDocument(raw);
  } catch (error) {
    throw new ScenarioError(`Invalid snapshot ${JSON.stringify(path)}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The cluster of a snapshot as it runs now, over `durationSeconds`: its nodes at the prices the
 * scenario built from it bills (the built-in table, or an estimate from a node's size), kept as
 * they are: no autoscaler, no Stowage. The first row of `simulate --from`.
 *
 * @example
 * todayOf(snapshot, 7 * 86_400).usdPerDay; // 24 × the nodes' hourly prices
 */
export function todayOf(snapshot: ClusterSnapshot, durationSeconds: number, prices: PriceTable = DEFAULT_PRICE_TABLE): TodayResult {
  const summary = summarizeCluster(snapshot, prices);
  const count = (type: NodeView['capacityType']): number => summary.groups.find((g) => g.capacityType === type)?.nodes ?? 0;
  const nodes = { onDemand: count('on-demand'), spot: count('spot'), unknown: count('unknown') };
  const hours = durationSeconds / 3600;
  const { cpu, memory } = summary.totals.utilisation;
  const described = `${nodes.onDemand} on-demand, ${nodes.spot} spot${nodes.unknown > 0 ? `, ${nodes.unknown} of unknown type` : ''}`;
  return {
    description: `the cluster as it runs now: its ${summary.totals.nodes} nodes (${described}) from the snapshot, kept as they are (no autoscaler, no Stowage)`,
    takenAt: new Date(snapshot.takenAt).toISOString(),
    usdPerDay: summary.totals.usdPerHour * 24,
    nodes,
    nodeHoursOnDemand: (nodes.onDemand + nodes.unknown) * hours,
    nodeHoursSpot: nodes.spot * hours,
    requestedUtilisation: (cpu + memory) / 2,
  };
}

function _median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function _label(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return cleaned === '' ? 'workload' : cleaned;
}

function _typeName(node: NodeView): string {
  if (node.instanceType !== '') return node.instanceType;
  return `custom-${Math.round((node.capacity['cpu'] ?? node.allocatable['cpu'] ?? 0) / 1000)}cpu-${Math.round((node.capacity['memory'] ?? node.allocatable['memory'] ?? 0) / 2 ** 30)}gi`;
}

/** Builds the scenario document of a snapshot and resolves it over the default. */
export function scenarioFromSnapshot(snapshot: ClusterSnapshot, source: string): Scenario {
  if (snapshot.nodes.length === 0) throw new ScenarioError(`Invalid snapshot ${JSON.stringify(source)}: it holds no nodes`);
  const types = new Map<string, Record<string, unknown>>();
  const zones = new Set<string>();
  const perType = new Map<string, number>();
  for (const node of snapshot.nodes) {
    const name = _typeName(node);
    perType.set(name, (perType.get(name) ?? 0) + 1);
    if (node.zone !== '') zones.add(node.zone);
    if (types.has(name)) continue;
    const capacity = { cpu: node.capacity['cpu'] ?? node.allocatable['cpu'] ?? 0, memory: node.capacity['memory'] ?? node.allocatable['memory'] ?? 0, pods: node.capacity['pods'] ?? node.allocatable['pods'] ?? 110 };
    const listed = DEFAULT_PRICE_TABLE.priceOf(name, 'on-demand');
    const onDemand = listed ?? DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ ...node, capacityType: 'on-demand' }).usdPerHour;
    const spot = DEFAULT_PRICE_TABLE.priceOf(name, 'spot') ?? DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ ...node, capacityType: 'spot' }).usdPerHour;
    types.set(name, { name, cpu: capacity.cpu / 1000, memory: capacity.memory, pods: capacity.pods, onDemand, spot });
  }

  const live = snapshot.pods.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed');
  const byWorkload = new Map<string, PodView[]>();
  const daemonPerNode = new Map<string, { cpu: number; memory: number }>();
  for (const pod of live) {
    if (pod.owner.kind === 'DaemonSet') {
      const sum = daemonPerNode.get(pod.nodeName) ?? { cpu: 0, memory: 0 };
      sum.cpu += pod.requests['cpu'] ?? 0;
      sum.memory += pod.requests['memory'] ?? 0;
      daemonPerNode.set(pod.nodeName, sum);
      continue;
    }
    if (pod.owner.kind !== 'Deployment' && pod.owner.kind !== 'StatefulSet') continue;
    const key = `${pod.owner.namespace}/${pod.owner.name}`;
    const list = byWorkload.get(key);
    if (list) list.push(pod);
    else byWorkload.set(key, [pod]);
  }
  const replicasOf = new Map<string, number | undefined>(snapshot.workloads.map((w) => [`${w.ref.namespace}/${w.ref.name}`, w.replicas]));
  const placementOf = new Map<string, Record<string, string>>();
  const placementNames = new Set<string>(Object.values(PlacementAnnotation));
  for (const w of snapshot.workloads) {
    // The webhook's per-workload policy; the Deployment's other annotations mean nothing to the models.
    const own = Object.fromEntries(Object.entries(w.annotations).filter(([k]) => placementNames.has(k)));
    if (Object.keys(own).length > 0) placementOf.set(`${w.ref.namespace}/${w.ref.name}`, own);
  }
  const services: Record<string, unknown>[] = [];
  for (const [key, pods] of [...byWorkload].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const first = pods[0] as PodView;
    const pdb = snapshot.pdbs.find((p) => p.namespace === first.namespace && pods.some((pod) => matchesLabelSelector(p.selector, pod.labels)));
    const safe = first.annotations[EvictionAnnotation.SafeToEvict]?.trim().toLowerCase();
    services.push({
      name: _label(first.owner.name),
      namespace: first.owner.namespace,
      replicas: Math.max(1, replicasOf.get(key) ?? pods.length),
      cpu: `${Math.max(1, Math.round(_median(pods.map((p) => p.requests['cpu'] ?? 0))))}m`,
      memory: Math.max(1, Math.round(_median(pods.map((p) => p.requests['memory'] ?? 0)))),
      ...(pdb?.minAvailable !== undefined ? { pdb: { minAvailable: pdb.minAvailable } } : pdb?.maxUnavailable !== undefined ? { pdb: { maxUnavailable: pdb.maxUnavailable } } : {}),
      ...(safe === 'false' ? { safeToEvict: false } : safe === 'true' ? { safeToEvict: true } : {}),
      localStorage: first.hasLocalStorage,
      ...(placementOf.has(key) ? { annotations: placementOf.get(key) } : {}),
    });
  }
  const daemon = [...daemonPerNode.values()];
  const spec = DEFAULT_SCENARIO_DOCUMENT.spec;
  const document = {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'Scenario',
    metadata: { name: `snapshot-${new Date(snapshot.takenAt).toISOString().slice(0, 10)}`, description: `Built from the cluster snapshot ${source.replace(/^snapshot:/, '')}: ${snapshot.nodes.length} nodes, ${services.length} services at constant replicas` },
    spec: {
      cloud: { zones: zones.size > 0 ? [...zones].sort() : spec.cloud.zones, instanceTypes: [...types.values()] },
      nodeGroups: { minSize: 0, maxSize: Math.max(spec.nodeGroups.maxSize, 2 * Math.max(...perType.values())), maxNodesTotal: Math.max(spec.nodeGroups.maxNodesTotal, 3 * snapshot.nodes.length) },
      daemonSet: daemon.length === 0 ? { cpu: 0, memory: 0 } : { cpu: `${Math.round(_median(daemon.map((d) => d.cpu)))}m`, memory: Math.round(_median(daemon.map((d) => d.memory))) },
      services: { generate: { count: 0 }, list: services },
      jobs: { arrivalsPerHour: 0 },
    },
  };
  return resolveScenario(document, source);
}
