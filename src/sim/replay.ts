/**
 * The simulator's twin of a live cluster at one instant: exactly the snapshot's nodes (names,
 * labels, taints, allocatable, capacity type) and its bound pods (names, annotations, constraints,
 * creation times, the nodes they run on), with the simulator's models around them — the default
 * scheduler, the pod lifecycle, each Deployment's ReplicaSet controller and PDB, the placement
 * webhook, and Stowage's descheduler. No cloud and no autoscaler: the nodes are the snapshot's.
 *
 * What it is for: running the simulated descheduler from the very state a live run starts from,
 * so the two can be compared action by action (`test/e2e/deschedule-differential.test.ts`).
 *
 * @example
 * const world = replayWorld(snapshot, { config, prices, placement, waveTimeoutMs: 120_000 });
 * world.descheduler.tick();
 * while (world.descheduler.executing) world.engine.run(world.engine.now + 100);
 * world.descheduler.actions; // [{ action: 'taint', node: 'on-demand-1' }, …]
 */
import type { ClusterSnapshot } from '../core/model.js';
import type { PriceTable } from '../core/pricing.js';
import { holdsResources } from '../core/snapshot.js';
import type { DeschedulingConfig } from '../policy/deschedule/plan.js';
import type { PlacementContext } from '../policy/deschedule/types.js';
import { DEFAULT_PROFILE } from '../policy/fit/index.js';
import type { SchedulingProfile } from '../policy/fit/index.js';
import { CordonReason, SimCluster } from './cluster.js';
import { DeschedulerModel } from './descheduler.js';
import { Engine } from './engine.js';
import { scenarioFromSnapshot } from './from-snapshot.js';
import type { NodeGroup } from './node-group.js';
import { PodLifecycle } from './pods.js';
import { RandomSource } from './random.js';
import { DefaultScheduler } from './scheduler.js';
import { Workloads } from './workloads.js';

/** How the twin runs. */
export interface ReplayOptions {
  readonly config: DeschedulingConfig;
  readonly prices: PriceTable;
  /** The placement webhook as the live cluster runs it; absent when none does. */
  readonly placement?: PlacementContext;
  /** A wave not settled within this time fails its drain (the live `replacementTimeoutSeconds`). */
  readonly waveTimeoutMs: number;
  /** Median time from bind to Ready of a new pod; the scenario default when absent. */
  readonly podStartupMs?: number;
  readonly seed?: number;
  readonly profile?: SchedulingProfile;
}

/** The twin's models, for a test to drive and read. */
export interface ReplayWorld {
  readonly engine: Engine;
  readonly cluster: SimCluster;
  readonly workloads: Workloads;
  readonly descheduler: DeschedulerModel;
  /**
   * The node's kubelet stops reporting: the node is not Ready and takes no new pods (the
   * node-lifecycle controller's `not-ready` taint), and its pods are marked not Ready.
   */
  setNotReady(nodeName: string): void;
}

/**
 * Builds the twin of `snapshot`. Every bound pod must belong to a Deployment (the models'
 * workloads) and no pod may be pending: anything else would make the twin differ from the
 * cluster, so it is refused with one line naming the pod.
 *
 * @throws {Error} when the snapshot holds what the twin cannot hold exactly
 */
export function replayWorld(snapshot: ClusterSnapshot, options: ReplayOptions): ReplayWorld {
  const pods = snapshot.pods.filter(holdsResources);
  for (const pod of pods) {
    if (pod.nodeName === '') throw new Error(`Cannot replay pod "${pod.namespace}/${pod.name}": it is not bound to a node`);
    if (pod.owner.kind !== 'Deployment') throw new Error(`Cannot replay pod "${pod.namespace}/${pod.name}": owned by a ${pod.owner.kind}, and the twin models Deployments only`);
  }
  const base = scenarioFromSnapshot(snapshot, 'snapshot:replay');
  const startupMs = options.podStartupMs;
  const scenario = { ...base, services: base.services.map((s) => (startupMs === undefined ? s : { ...s, startupMs })) };
  const engine = new Engine();
  const random = new RandomSource(options.seed ?? 1);
  const cluster = new SimCluster({ epochOffset: snapshot.takenAt });
  const scheduler = new DefaultScheduler(engine, cluster, random.stream('scheduler'), options.profile ?? DEFAULT_PROFILE, scenario.scheduler);
  const lifecycle = new PodLifecycle(engine, cluster, {
    onPodCreated: (pod) => scheduler.enqueue(pod),
    onPodBound: () => undefined,
    onCapacityFreed: () => scheduler.onClusterChange(),
    onPodDeleted: () => undefined,
  });
  scheduler.setLifecycle(lifecycle);
  const placement = options.placement;
  const workloads = new Workloads(
    engine,
    random,
    scenario,
    cluster,
    lifecycle,
    { onServiceChanged: () => undefined },
    placement === undefined ? undefined : { policy: placement.defaults, ...(placement.optOutNamespaces === undefined ? {} : { optOutNamespaces: placement.optOutNamespaces }) },
  );
  cluster.setWorkloadViews({ workloads: () => workloads.workloadViews(), pdbs: () => workloads.pdbViews() });

  for (const view of snapshot.nodes) {
    if (view.capacityType === 'unknown') throw new Error(`Cannot replay node "${view.name}": its capacity type is unknown`);
    if (!view.ready) throw new Error(`Cannot replay node "${view.name}": it is not Ready`);
    if (view.unschedulable) throw new Error(`Cannot replay node "${view.name}": it is cordoned`);
    const group: NodeGroup = {
      id: view.name,
      namePrefix: view.name,
      instanceType: { name: view.instanceType, cpu: view.capacity['cpu'] ?? 0, memory: view.capacity['memory'] ?? 0, pods: view.capacity['pods'] ?? 110, interruption: '<5%' },
      zone: view.zone,
      capacityType: view.capacityType,
      pool: `${view.instanceType}/${view.zone}`,
      hourlyPrice: options.prices.hourlyPriceOfNode(view).usdPerHour,
      labels: view.labels,
      taints: view.taints,
      allocatable: view.allocatable,
      capacity: view.capacity,
      minSize: 0,
      maxSize: 0,
    };
    const node = cluster.addNode(group, 0, view.name);
    cluster.markReady(node, 0);
  }
  const services = new Map(workloads.services.map((s) => [`${s.ref.namespace}/${s.ref.name}`, s] as const));
  for (const pod of [...pods].sort((a, b) => a.createdAt - b.createdAt || (a.name < b.name ? -1 : 1))) {
    const service = services.get(`${pod.owner.namespace}/${pod.owner.name}`);
    if (service === undefined) throw new Error(`Cannot replay pod "${pod.namespace}/${pod.name}": Deployment "${pod.owner.namespace}/${pod.owner.name}" is not a DNS label the models can name`);
    workloads.adoptPod(service, pod, cluster.nodes.get(pod.nodeName) ?? _missing(pod.nodeName, pod.name));
  }
  const descheduler = new DeschedulerModel(engine, cluster, workloads, {
    config: options.config,
    // Cycles are the caller's (`tick`): one plan, carried out to its end, as `--once` does live.
    intervalMs: Number.MAX_SAFE_INTEGER,
    waveTimeoutMs: options.waveTimeoutMs,
    prices: options.prices,
    placement,
  });
  return {
    engine,
    cluster,
    workloads,
    descheduler,
    setNotReady(nodeName: string): void {
      const node = cluster.nodes.get(nodeName);
      if (node === undefined) throw new Error(`Cannot make node "${nodeName}" NotReady: no such node`);
      cluster.cordon(node, CordonReason.NotReady);
      for (const pod of [...node.pods]) lifecycle.markNotReady(pod);
    },
  };
}

function _missing(node: string, pod: string): never {
  throw new Error(`Cannot replay pod "${pod}": its node "${node}" is not in the snapshot`);
}
