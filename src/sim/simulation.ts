/**
 * One simulation run: a scenario, an arm and a seed in, the run's metrics out. Wires the engine,
 * the cloud, the cluster, the scheduler, the autoscaler, the workloads and the arm's Stowage
 * components together, runs the warm-up and the measured window, and reads the recorder.
 *
 * Deterministic: the same (scenario, arm, seed) gives the same numbers, because every random
 * draw comes from the seeded streams and every event is ordered by (time, sequence).
 */
import type { NodeView } from '../core/model.js';
import { DEFAULT_PRICE_TABLE, mergePriceTables, PriceTable } from '../core/pricing.js';
import type { PriceEntry } from '../core/pricing.js';
import { DEFAULT_PLACEMENT_POLICY } from '../policy/placement/policy.js';
import type { PlacementPolicy } from '../policy/placement/policy.js';
import { deschedulingConfigOf } from './arms.js';
import type { ArmConfig } from './arms.js';
import { ClusterAutoscaler } from './autoscaler.js';
import type { AutoscalerStats } from './autoscaler.js';
import { buildNodeGroups, Cloud } from './cloud.js';
import { fitNodeView, SimCluster } from './cluster.js';
import { DeschedulerModel } from './descheduler.js';
import type { DeschedulerStats } from './descheduler.js';
import { Engine } from './engine.js';
import { InterruptionHandler } from './interruption-handler.js';
import { RunRecorder } from './metrics.js';
import type { RunMetrics } from './metrics.js';
import { NaiveRestarter } from './naive.js';
import type { NodeGroup } from './node-group.js';
import { PackingBound } from './packing-bound.js';
import type { BinType } from './packing-bound.js';
import { DeletionCause, PodLifecycle } from './pods.js';
import { RandomSource } from './random.js';
import type { Scenario } from './scenario.js';
import { DefaultScheduler } from './scheduler.js';
import type { SchedulerStats } from './scheduler.js';
import { Workloads } from './workloads.js';

/** What to run. */
export interface RunSpec {
  readonly scenario: Scenario;
  readonly arm: ArmConfig;
  readonly seed: number;
}

/** How the model behaved, for the benchmark and for debugging a surprising number. */
export interface RunDiagnostics {
  readonly events: number;
  readonly simulatedSeconds: number;
  readonly maxNodes: number;
  readonly maxPods: number;
  readonly podsCreated: number;
  /** Deployment rollouts started, warm-up included. */
  readonly rollouts: number;
  readonly scheduler: SchedulerStats;
  readonly autoscaler: AutoscalerStats;
  readonly descheduler?: DeschedulerStats;
}

/** One run's metrics and diagnostics. */
export interface RunOutput {
  readonly arm: string;
  readonly seed: number;
  readonly metrics: RunMetrics;
  readonly diagnostics: RunDiagnostics;
}

/** Options of {@link runSimulation}. */
export interface RunOptions {
  /** Called with the simulated share done (0..1), about once per simulated hour. */
  readonly onProgress?: (fraction: number) => void;
  /** Wall-clock reader for diagnostics only (planning time); never feeds the model. */
  readonly wallClock?: () => number;
}

/** The price table of a run: the default table with the scenario's own prices over it. */
export function scenarioPriceTable(scenario: Scenario): PriceTable {
  const entries: Record<string, PriceEntry> = {};
  for (const t of scenario.cloud.instanceTypes) {
    const onDemand = t.onDemand ?? DEFAULT_PRICE_TABLE.priceOf(t.name, 'on-demand');
    if (onDemand === undefined) continue;
    entries[t.name] = t.spot === undefined ? { onDemand } : { onDemand, spot: t.spot };
  }
  return mergePriceTables(DEFAULT_PRICE_TABLE, PriceTable.create({ instanceTypes: entries }));
}

/** The placement webhook's policy for the scenario: its floor, the webhook's default fallbacks. */
export function scenarioPlacementPolicy(scenario: Scenario): PlacementPolicy {
  return { ...DEFAULT_PLACEMENT_POLICY, base: scenario.stowage.placement.base, percent: scenario.stowage.placement.percent };
}

/** How often the first-fit decreasing packing of the demand is recomputed (held in between). */
const _FFD_EVERY_MS = 3_600_000;

/**
 * The node types the perfect-packing bound may buy: one per instance type and capacity type of the
 * arm's node groups (zones cost the same), at its cheapest price, with the room its DaemonSet pod
 * leaves.
 */
export function packingCatalogue(groups: readonly NodeGroup[], daemonSet: { readonly cpu: number; readonly memory: number }): BinType[] {
  const byName = new Map<string, BinType>();
  for (const g of groups) {
    const name = `${g.instanceType.name}/${g.capacityType}`;
    const a = g.allocatable;
    const type: BinType = { name, cpu: (a['cpu'] ?? 0) - daemonSet.cpu, memory: (a['memory'] ?? 0) - daemonSet.memory, pods: (a['pods'] ?? 110) - 1, hourlyPrice: g.hourlyPrice, capacityType: g.capacityType };
    const known = byName.get(name);
    if (known === undefined || type.hourlyPrice < known.hourlyPrice) byName.set(name, type);
  }
  return [...byName.values()];
}

/** Every model of one run, wired together: what `runSimulation` drives and what tests poke at. */
export interface World {
  readonly engine: Engine;
  readonly random: RandomSource;
  readonly cluster: SimCluster;
  readonly cloud: Cloud;
  readonly scheduler: DefaultScheduler;
  readonly autoscaler: ClusterAutoscaler;
  readonly lifecycle: PodLifecycle;
  readonly workloads: Workloads;
  readonly recorder: RunRecorder;
  readonly descheduler: DeschedulerModel | undefined;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Starts the controllers and the workloads (creates the initial pods). */
  start(): void;
  /** Closes the measured window and returns the run's metrics and diagnostics. */
  finish(): RunOutput;
}

/** Builds the models of one run without starting them. */
export function createWorld(spec: RunSpec, options: RunOptions = {}): World {
  const { scenario, arm, seed } = spec;
  const engine = new Engine();
  const random = new RandomSource(seed);
  const prices = scenarioPriceTable(scenario);
  const groups = buildNodeGroups(scenario, arm.capacityTypes, (type, capacity) => prices.priceOf(type, capacity));
  // One empty template node per group, named by its prefix (no node of the group has that name):
  // what the webhook's room check and a replacement's offer try a pod on.
  const templates = new Map(groups.map((g) => [g, fitNodeView(g.namePrefix, g)]));
  const templateOf = (g: NodeGroup): NodeView => templates.get(g) as NodeView;
  const windowStart = scenario.warmUpMs;
  const windowEnd = scenario.warmUpMs + scenario.durationMs;
  const cluster = new SimCluster({ epochOffset: scenario.startEpochMs - scenario.warmUpMs, prices });
  const recorder = new RunRecorder(engine, windowStart, windowEnd, scenario.sampleEveryMs);
  const scheduler = new DefaultScheduler(engine, cluster, random.stream('scheduler'), arm.profile, scenario.scheduler);
  let podsCreated = 0;
  let maxPods = 0;
  const lifecycle = new PodLifecycle(engine, cluster, {
    onPodCreated: (pod) => {
      podsCreated++;
      if (cluster.pods.size > maxPods) maxPods = cluster.pods.size;
      scheduler.enqueue(pod);
    },
    onPodBound: (pod) => recorder.podBound(pod),
    onCapacityFreed: () => scheduler.onClusterChange(),
    onPodDeleted: (_pod, cause) => recorder.podDeleted(cause),
  });
  scheduler.setLifecycle(lifecycle);
  const naive = arm.naiveRestart ? new NaiveRestarter(engine, lifecycle, random.stream('naive'), scenario.stowage.naive.interval) : undefined;
  const placement = arm.placement ? scenarioPlacementPolicy(scenario) : undefined;
  // The autoscaler needs the cloud and the cloud reports to the autoscaler: wired once both exist.
  const late: { autoscaler?: ClusterAutoscaler } = {};
  const workloads = new Workloads(
    engine,
    random,
    scenario,
    cluster,
    lifecycle,
    {
      onServiceChanged: (service) => recorder.serviceChanged(service),
      onServicePodLost: (service, pod, cause) => recorder.servicePodLost(service, pod, cause),
      ...(naive !== undefined ? { onServicePodReady: (_service, pod) => naive.onPodReady(pod) } : {}),
    },
    placement === undefined ? undefined : { policy: placement, growable: () => groups.filter((g) => late.autoscaler?.canGrow(g) === true).map(templateOf) },
  );
  cluster.setWorkloadViews({ workloads: () => workloads.workloadViews(), pdbs: () => workloads.pdbViews() });
  const handler = new InterruptionHandler(engine, cluster, workloads, scenario.interruptionHandler);
  let maxNodes = 0;
  const cloud = new Cloud(engine, random, scenario, cluster, groups, {
    onNodeReady: (node) => {
      recorder.nodeLaunched();
      maxNodes = Math.max(maxNodes, cluster.readyNodes.length);
      workloads.startDaemonPod(node);
      late.autoscaler?.onNodeReady(node);
      scheduler.onClusterChange();
    },
    onLaunchFailed: (group) => late.autoscaler?.onLaunchFailed(group),
    onSpotNotice: (node) => {
      recorder.spotInterrupted();
      handler.onNotice(node);
    },
    onNodeGone: (node) => {
      // A node goes either reclaimed by EC2 after its notice or terminated by the autoscaler.
      const cause = node.noticeAt !== undefined ? DeletionCause.SpotReclaim : DeletionCause.NodeRemoved;
      for (const pod of [...node.pods]) lifecycle.kill(pod, cause);
      late.autoscaler?.onNodeGone(node);
    },
  });
  cloud.billing.setWindow(windowStart, windowEnd);
  const bound = new PackingBound(packingCatalogue(groups, scenario.daemonSet));
  const autoscaler = new ClusterAutoscaler(engine, cluster, cloud, groups, scenario, random.stream('autoscaler'), workloads);
  late.autoscaler = autoscaler;
  const descheduler =
    arm.deschedule.length === 0
      ? undefined
      : new DeschedulerModel(engine, cluster, workloads, {
          config: deschedulingConfigOf(arm, scenario.autoscaler, scenario.scheduler),
          intervalMs: scenario.stowage.descheduler.interval,
          waveTimeoutMs: scenario.stowage.descheduler.surgeTimeout,
          prices,
          placement: placement === undefined ? undefined : { defaults: placement },
          // As Karpenter deletes a node (or CA's DeleteNodes with a lower desired size): only above the group's minimum.
          deleteNode: (node) => {
            if (cloud.groupSize(node.group) <= node.group.minSize) return false;
            // Still tainted by the drain, so nothing lands on it; gone at the next instant, as the autoscaler deletes.
            engine.after(0, () => cloud.terminate(node));
            return true;
          },
          // A replacement goes through the cloud's launch path, as the autoscaler's nodes do: of an on-demand group that can grow.
          offers: () => groups.filter((g) => g.capacityType === 'on-demand' && autoscaler.canGrow(g)).map((g) => ({ id: g.id, usdPerHour: g.hourlyPrice, node: templateOf(g) })),
          launchNode: (id) => {
            const group = groups.find((g) => g.id === id);
            if (group === undefined || !autoscaler.canGrow(group)) return undefined;
            return cloud.launch(group)?.name;
          },
          // A replacement not Ready in time is terminated, as the live descheduler deletes its NodeClaim.
          cancelLaunch: (name) => {
            const node = cluster.nodes.get(name);
            if (node !== undefined) cloud.terminate(node);
          },
          ...(options.wallClock !== undefined ? { wallClock: options.wallClock } : {}),
        });

  return {
    engine,
    random,
    cluster,
    cloud,
    scheduler,
    autoscaler,
    lifecycle,
    workloads,
    recorder,
    descheduler,
    windowStart,
    windowEnd,
    start(): void {
      workloads.start();
      autoscaler.start();
      descheduler?.start();
      engine.at(windowStart, () => {
        cluster.resetUtilisation(windowStart);
        recorder.openWindow();
      });
      // First-fit decreasing packs every pod (milliseconds on 1,000 nodes, a tenth of a week's run
      // if done every sample): recomputed once a simulated hour and held in between. The LP bound
      // is a few dot products: every sample.
      let ffdUsdPerHour: number | undefined;
      let ffdDue = windowStart;
      engine.every(scenario.sampleEveryMs, windowStart, () => {
        if (engine.now >= windowEnd) return false;
        const epoch = workloads.epoch(engine.now);
        const demand = workloads.demand();
        if (engine.now >= ffdDue) {
          ffdUsdPerHour = bound.ffdUsdPerHour(demand);
          ffdDue = engine.now + _FFD_EVERY_MS;
        }
        recorder.sample(cluster, cloud.billing, workloads.services, { bound: { lpUsdPerHour: bound.lpOf(demand), ffdUsdPerHour }, cpuUsage: workloads.cpuUsageAt(epoch) });
        return true;
      });
    },
    finish(): RunOutput {
      const metrics = recorder.finish(cluster, cloud.billing);
      return {
        arm: arm.name,
        seed,
        metrics,
        diagnostics: {
          events: engine.processed,
          simulatedSeconds: windowEnd / 1_000,
          maxNodes,
          maxPods,
          podsCreated,
          rollouts: workloads.rolloutsStarted,
          scheduler: { ...scheduler.stats },
          autoscaler: { ...autoscaler.stats },
          ...(descheduler !== undefined ? { descheduler: { ...descheduler.stats } } : {}),
        },
      };
    },
  };
}

/** Runs one (scenario, arm, seed) from the warm-up to the end of the measured window. */
export function runSimulation(spec: RunSpec, options: RunOptions = {}): RunOutput {
  const world = createWorld(spec, options);
  world.start();
  const step = 3_600_000;
  for (let t = Math.min(step, world.windowEnd); ; t = Math.min(t + step, world.windowEnd)) {
    world.engine.run(t);
    options.onProgress?.(t / world.windowEnd);
    if (t >= world.windowEnd) break;
  }
  return world.finish();
}
