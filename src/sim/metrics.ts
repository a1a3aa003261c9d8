/**
 * What one run measures, over its measured window (after the warm-up): cost, node-hours,
 * requested utilisation, per-service availability, disruptions and pending times, plus the time
 * series for the report's charts.
 *
 * Availability definitions (per service, as shares of the window):
 * - **A1**: at least one Ready replica.
 * - **A2**: at least `desired − allowed disruptions` Ready replicas, where the allowed
 *   disruptions are the PDB's at full health, or the Deployment's default rolling-update budget
 *   (25%, rounded down) for a service without a PDB; see `Service.availabilityFloor`.
 * - **Outage**: an interval with no Ready replica; counted when it starts in the window.
 */
import type { ArmSeries } from './result.js';
import type { Billing } from './cloud.js';
import type { SimCluster, SimPod } from './cluster.js';
import type { Engine } from './engine.js';
import type { PackingFigures } from './packing-bound.js';
import { DeletionCause } from './pods.js';
import { percentile } from './stats.js';
import type { Service } from './workloads.js';

/**
 * What took a service's Ready replicas down, for outages and A2 dips. Stowage's share is the one
 * that must stay at zero: its evictions and surges, and pods it moved that the autoscaler then
 * took down with their node (it moved them onto a node about to go).
 */
export const OutageCause = {
  SpotReclaim: 'spot-reclaim',
  AutoscalerDrain: 'autoscaler-drain',
  Stowage: 'stowage',
  NaiveRestart: 'naive-restart',
  ScaleDown: 'scale-down',
  /** A Deployment rollout replaced the replicas (its maxUnavailable, or new pods slow to become Ready). */
  Rollout: 'rollout',
  /** Replicas missing with no pod lost: pending pods waiting for capacity (a scale-up, a new node). */
  NoCapacity: 'no-capacity',
} as const;
/** One of {@link OutageCause}. */
export type OutageCause = (typeof OutageCause)[keyof typeof OutageCause];

/**
 * A pod Stowage moved and the autoscaler took down within this time counts as Stowage's: the
 * autoscaler removes a node after 10 minutes unneeded and a drain of up to a few minutes, so a
 * pod lost that soon after its move was moved onto a node already on its way out. Unless, since
 * the move, a rollout or a scale-down took pods off that node: what held the node above the
 * autoscaler's threshold left by a controller's choice no planner can foresee, and the removal is
 * the autoscaler's, as it would be for a pod the scheduler had placed there.
 */
const _STOWAGE_PLACEMENT_BLAME_MS = 30 * 60_000;

/** A node with more than this share of its allocatable CPU in use runs hot. */
const _HOT_NODE_SHARE = 0.8;

/** Deletions that count as evictions: disruptions a controller chose, not scale-down. */
const _EVICTION_CAUSES: ReadonlySet<DeletionCause> = new Set([DeletionCause.AutoscalerDrain, DeletionCause.Descheduler, DeletionCause.SpotDrain, DeletionCause.NaiveRestart]);

/** One service's availability over a run. */
export interface ServiceRunMetrics {
  readonly service: string;
  readonly a1: number;
  readonly a2: number;
  readonly outages: number;
  readonly outageSeconds: number;
}

/** Everything one (scenario, arm, seed) run measured. Plain numbers. */
export interface RunMetrics {
  readonly totalUsd: number;
  readonly usdPerDay: number;
  readonly nodeHoursOnDemand: number;
  readonly nodeHoursSpot: number;
  readonly meanRequestedUtilisation: number;
  readonly uptimeA1: number;
  readonly uptimeA2: number;
  readonly worstServiceA1: number;
  readonly worstServiceA2: number;
  readonly outages: number;
  readonly outageSeconds: number;
  readonly evictions: number;
  readonly evictionsByCause: Readonly<Record<string, number>>;
  /** Outages (see `outages`) by the cause of the lost replicas, see {@link OutageCause}. */
  readonly outagesByCause: Readonly<Record<string, number>>;
  /** A2 dips (intervals below the availability floor, started in the window) by cause. */
  readonly a2DipsByCause: Readonly<Record<string, number>>;
  readonly spotInterruptions: number;
  /** Nodes that joined Ready in the window: what the autoscaler (or a consolidation) launched. */
  readonly nodeLaunches: number;
  /**
   * The perfect-packing lower bound (LP relaxation) of the cost, $/day: the mean over samples of
   * the cheapest fractional set of the arm's node types holding the requested pods.
   */
  readonly boundUsdPerDay: number;
  /**
   * First-fit decreasing of the requested pods on the cheapest single node type, $/day: a feasible
   * packing (recomputed once a simulated hour, held between samples).
   */
  readonly ffdUsdPerDay: number;
  readonly pendingP50Seconds: number;
  readonly pendingP99Seconds: number;
  readonly perService: readonly ServiceRunMetrics[];
  readonly series: ArmSeries;
  /** CPU in use over allocatable CPU of the Ready nodes, over the samples (what `kubectl top` shows, not requests). */
  readonly meanUsageUtilisation: number;
  /** Evenness: the standard deviation of the nodes' CPU usage shares at a sample, averaged over the samples (0 = perfectly even). */
  readonly nodeUsageSpread: number;
  /** Share of node samples with more than 80% of allocatable CPU in use: time nodes run hot. */
  readonly hotNodeShare: number;
}

interface _ServiceState {
  lastAt: number;
  ready: number;
  floor: number;
  a1DownMs: number;
  a2DownMs: number;
  outages: number;
  outageMs: number;
  /** Causes of the Ready replicas lost since the service was last fully Ready, oldest first. */
  losses: OutageCause[];
}

/** Collects a run's metrics from the models' events. */
export class RunRecorder {
  readonly #engine: Engine;
  readonly #windowStart: number;
  readonly #windowEnd: number;
  readonly #services = new Map<Service, _ServiceState>();
  readonly #evictions = new Map<string, number>();
  readonly #outageCauses = new Map<OutageCause, number>();
  readonly #dipCauses = new Map<OutageCause, number>();
  #pending: number[] = [];
  #spotInterruptions = 0;
  #nodeLaunches = 0;
  #boundSamples = 0;
  #lpUsdPerHour = 0;
  #ffdSamples = 0;
  #ffdUsdPerHour = 0;
  readonly #series: {
    usdPerHour: number[];
    cumulativeUsd: number[];
    nodesOnDemand: number[];
    nodesSpot: number[];
    readyShare: number[];
    pendingPods: number[];
  } = { usdPerHour: [], cumulativeUsd: [], nodesOnDemand: [], nodesSpot: [], readyShare: [], pendingPods: [] };
  readonly #stepMs: number;
  /** Usage sums over the samples: in-use and allocatable CPU, spread sum, node samples, hot node samples. */
  #usedCpu = 0;
  #allocCpu = 0;
  #spreadSum = 0;
  #usageSamples = 0;
  #nodeSamples = 0;
  #hotNodeSamples = 0;

  constructor(engine: Engine, windowStart: number, windowEnd: number, stepMs: number) {
    this.#engine = engine;
    this.#windowStart = windowStart;
    this.#windowEnd = windowEnd;
    this.#stepMs = stepMs;
  }

  /** A service's Ready count or desired replicas changed: close the interval in the old state. */
  serviceChanged(service: Service): void {
    const now = this.#engine.now;
    let state = this.#services.get(service);
    if (state === undefined) {
      state = { lastAt: now, ready: service.ready, floor: service.availabilityFloor(), a1DownMs: 0, a2DownMs: 0, outages: 0, outageMs: 0, losses: [] };
      this.#services.set(service, state);
      return;
    }
    this.#accrue(state, now);
    const floor = service.availabilityFloor();
    if (now >= this.#windowStart && now < this.#windowEnd) {
      if (state.ready > 0 && service.ready === 0) {
        state.outages++;
        _count(this.#outageCauses, _attribute(state.losses));
      }
      if (state.ready >= state.floor && service.ready < floor) _count(this.#dipCauses, _attribute(state.losses));
    }
    state.ready = service.ready;
    state.floor = floor;
    if (service.ready >= service.desired) state.losses.length = 0;
  }

  /** A Ready pod of the service was lost for `cause`: remembered until the service is fully Ready again. */
  servicePodLost(service: Service, pod: SimPod, cause: DeletionCause): void {
    const state = this.#services.get(service);
    if (state === undefined) return;
    state.losses.push(_outageCause(pod, cause, this.#engine.now));
  }

  #accrue(state: _ServiceState, now: number): void {
    const from = Math.max(state.lastAt, this.#windowStart);
    const to = Math.min(now, this.#windowEnd);
    if (to > from) {
      if (state.ready < 1) {
        state.a1DownMs += to - from;
        state.outageMs += to - from;
      }
      if (state.ready < state.floor) state.a2DownMs += to - from;
    }
    state.lastAt = now;
  }

  /** The window opens: services already out count as an outage in progress, and those below their floor as a dip. */
  openWindow(): void {
    for (const state of this.#services.values()) {
      this.#accrue(state, this.#engine.now);
      if (state.ready === 0) {
        state.outages++;
        _count(this.#outageCauses, _attribute(state.losses));
      }
      if (state.ready < state.floor) _count(this.#dipCauses, _attribute(state.losses));
    }
  }

  podBound(pod: SimPod): void {
    if (pod.owner.ref.kind === 'DaemonSet' || pod.createdAt < this.#windowStart || pod.createdAt >= this.#windowEnd) return;
    this.#pending.push(((pod.boundAt ?? this.#engine.now) - pod.createdAt) / 1_000);
  }

  podDeleted(cause: DeletionCause): void {
    const now = this.#engine.now;
    if (now < this.#windowStart || now >= this.#windowEnd) return;
    this.#evictions.set(cause, (this.#evictions.get(cause) ?? 0) + 1);
  }

  spotInterrupted(): void {
    const now = this.#engine.now;
    if (now >= this.#windowStart && now < this.#windowEnd) this.#spotInterruptions++;
  }

  /** A launched node joined Ready. */
  nodeLaunched(): void {
    const now = this.#engine.now;
    if (now >= this.#windowStart && now < this.#windowEnd) this.#nodeLaunches++;
  }

  /**
   * Samples the time series; call every `stepMs` over the window. `bound` is the perfect-packing
   * bound at this instant; `cpuUsage` gives a pod's CPU in use now (millicores), for the usage and
   * evenness figures (without it they stay 0).
   */
  sample(cluster: SimCluster, billing: Billing, services: readonly Service[], extras: { readonly bound?: PackingFigures; readonly cpuUsage?: (pod: SimPod) => number } = {}): void {
    const { bound, cpuUsage } = extras;
    if (cpuUsage !== undefined) this.#sampleUsage(cluster, cpuUsage);
    if (bound !== undefined) {
      this.#boundSamples++;
      this.#lpUsdPerHour += bound.lpUsdPerHour;
      if (bound.ffdUsdPerHour !== undefined) {
        this.#ffdSamples++;
        this.#ffdUsdPerHour += bound.ffdUsdPerHour;
      }
    }
    const s = this.#series;
    s.usdPerHour.push(_round(billing.hourlyRate, 4));
    s.cumulativeUsd.push(_round(billing.totalUsd(this.#engine.now), 4));
    let od = 0;
    let spot = 0;
    for (const node of cluster.nodes.values()) {
      if (node.capacityType === 'spot') spot++;
      else od++;
    }
    s.nodesOnDemand.push(od);
    s.nodesSpot.push(spot);
    let ready = 0;
    let desired = 0;
    for (const svc of services) {
      ready += Math.min(svc.ready, svc.desired);
      desired += svc.desired;
    }
    s.readyShare.push(desired > 0 ? _round(ready / desired, 5) : 1);
    let pending = 0;
    for (const pod of cluster.pending) if (!pod.terminating) pending++;
    s.pendingPods.push(pending);
  }

  #sampleUsage(cluster: SimCluster, cpuUsage: (pod: SimPod) => number): void {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (const node of cluster.readyNodes) {
      const alloc = node.allocatableCpu;
      if (alloc <= 0) continue;
      let used = 0;
      for (const pod of node.pods) used += cpuUsage(pod);
      const share = used / alloc;
      this.#usedCpu += used;
      this.#allocCpu += alloc;
      n++;
      sum += share;
      sumSq += share * share;
      if (share > _HOT_NODE_SHARE) this.#hotNodeSamples++;
    }
    if (n === 0) return;
    const mean = sum / n;
    this.#spreadSum += Math.sqrt(Math.max(0, sumSq / n - mean * mean));
    this.#usageSamples++;
    this.#nodeSamples += n;
  }

  /** Closes the window and returns the run's metrics. */
  finish(cluster: SimCluster, billing: Billing): RunMetrics {
    const end = this.#windowEnd;
    const span = end - this.#windowStart;
    const perService: ServiceRunMetrics[] = [];
    for (const [service, state] of this.#services) {
      this.#accrue(state, end);
      perService.push({
        service: service.key,
        a1: 1 - state.a1DownMs / span,
        a2: 1 - state.a2DownMs / span,
        outages: state.outages,
        outageSeconds: state.outageMs / 1_000,
      });
    }
    perService.sort((a, b) => (a.service < b.service ? -1 : 1));
    for (const pod of cluster.pending) {
      if (pod.owner.ref.kind !== 'DaemonSet' && pod.createdAt >= this.#windowStart && !pod.terminating) this.#pending.push((end - pod.createdAt) / 1_000);
    }
    const pending = Float64Array.from(this.#pending).sort();
    const hours = billing.nodeHours(end);
    const totalUsd = billing.totalUsd(end);
    const days = span / 86_400_000;
    let evictions = 0;
    for (const [cause, n] of this.#evictions) if (_EVICTION_CAUSES.has(cause as DeletionCause)) evictions += n;
    const a1 = perService.map((s) => s.a1);
    const a2 = perService.map((s) => s.a2);
    return {
      totalUsd,
      usdPerDay: totalUsd / days,
      nodeHoursOnDemand: hours['on-demand'],
      nodeHoursSpot: hours.spot,
      meanRequestedUtilisation: cluster.meanUtilisation(end),
      uptimeA1: _mean(a1),
      uptimeA2: _mean(a2),
      worstServiceA1: a1.length === 0 ? 1 : Math.min(...a1),
      worstServiceA2: a2.length === 0 ? 1 : Math.min(...a2),
      outages: perService.reduce((n, s) => n + s.outages, 0),
      outageSeconds: perService.reduce((n, s) => n + s.outageSeconds, 0),
      evictions,
      evictionsByCause: _sorted(this.#evictions),
      outagesByCause: _sorted(this.#outageCauses),
      a2DipsByCause: _sorted(this.#dipCauses),
      spotInterruptions: this.#spotInterruptions,
      nodeLaunches: this.#nodeLaunches,
      boundUsdPerDay: this.#boundSamples === 0 ? Number.NaN : (this.#lpUsdPerHour / this.#boundSamples) * 24,
      ffdUsdPerDay: this.#ffdSamples === 0 ? Number.NaN : (this.#ffdUsdPerHour / this.#ffdSamples) * 24,
      pendingP50Seconds: pending.length === 0 ? 0 : percentile(pending, 50),
      pendingP99Seconds: pending.length === 0 ? 0 : percentile(pending, 99),
      perService,
      series: { stepSeconds: this.#stepMs / 1_000, ...this.#series },
      meanUsageUtilisation: this.#allocCpu > 0 ? this.#usedCpu / this.#allocCpu : 0,
      nodeUsageSpread: this.#usageSamples > 0 ? this.#spreadSum / this.#usageSamples : 0,
      hotNodeShare: this.#nodeSamples > 0 ? this.#hotNodeSamples / this.#nodeSamples : 0,
    };
  }
}

function _sorted(counts: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function _count(counts: Map<OutageCause, number>, cause: OutageCause): void {
  counts.set(cause, (counts.get(cause) ?? 0) + 1);
}

/** The cause of one lost Ready pod. */
function _outageCause(pod: SimPod, cause: DeletionCause, now: number): OutageCause {
  switch (cause) {
    case DeletionCause.Descheduler:
    case DeletionCause.SurgeAbort:
      return OutageCause.Stowage;
    case DeletionCause.AutoscalerDrain:
    case DeletionCause.NodeRemoved:
      return pod.movedByStowage && now - pod.createdAt < _STOWAGE_PLACEMENT_BLAME_MS && !((pod.node?.controllerDeletedAt ?? -Infinity) > pod.createdAt) ? OutageCause.Stowage : OutageCause.AutoscalerDrain;
    case DeletionCause.SpotDrain:
    case DeletionCause.SpotReclaim:
      return OutageCause.SpotReclaim;
    case DeletionCause.NaiveRestart:
      return OutageCause.NaiveRestart;
    case DeletionCause.ScaleDown:
      return OutageCause.ScaleDown;
    case DeletionCause.Rollout:
      return OutageCause.Rollout;
  }
}

/**
 * The cause of an outage or dip from the losses behind it: Stowage's whenever one of them is
 * (it must never contribute, even alongside a spot reclaim), else the loss that took the last
 * replica (or the floor's last one); none at all means replicas that never came (no capacity).
 */
/**
 * The cause of an outage or dip from the losses since the service was last fully Ready: Stowage's
 * when any of them is (it spent the disruption the others then went past), else the last one. A
 * rollout that takes the last Ready replica is the cause whatever came before: the Deployment
 * controller deletes an old pod only while its maxUnavailable allows, so it reaches zero Ready
 * only when the strategy accepts zero (`maxUnavailable: 100%`), with or without earlier losses.
 */
function _attribute(losses: readonly OutageCause[]): OutageCause {
  if (losses[losses.length - 1] === OutageCause.Rollout) return OutageCause.Rollout;
  if (losses.includes(OutageCause.Stowage)) return OutageCause.Stowage;
  return losses[losses.length - 1] ?? OutageCause.NoCapacity;
}

function _mean(values: readonly number[]): number {
  if (values.length === 0) return 1;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function _round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
