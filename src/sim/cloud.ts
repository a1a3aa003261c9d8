/**
 * The cloud provider: node groups, instance launch and termination, per-second billing, and spot
 * reclaims with their 2-minute notice, correlated per pool (instance type × zone).
 *
 * Billing follows EC2 for Linux: per second from the instance's `running` state until
 * termination is requested (`pending` and `shutting-down` are not billed), at least 60 seconds;
 * a Spot Instance that EC2 interrupts within its first hour is not charged at all (EC2 User
 * Guide, "Instance lifecycle" and "Billing for interrupted Spot Instances").
 */
import type { Resources } from '../core/model.js';
import type { Engine } from './engine.js';
import type { RandomSource } from './random.js';
import type { InstanceTypeSpec, InterruptionBand, Scenario } from './scenario.js';
import { NodeLabel } from './cluster.js';
import type { SimCluster, SimNode } from './cluster.js';
import type { NodeGroup, SimCapacityType } from './node-group.js';

/** Hours in a month as AWS bills them (365 × 24 / 12). */
const _HOURS_PER_MONTH = 730;
const _HOUR_MS = 3_600_000;
/** EC2's minimum charge for a Linux instance. */
export const MINIMUM_BILLED_MS = 60_000;

/** An instance type's $/h for a capacity type, or undefined when unknown. */
export type PriceLookup = (instanceType: string, capacityType: SimCapacityType) => number | undefined;

const _MIB = 2 ** 20;

/**
 * Capacity and allocatable of a node of `type`, as the EKS-optimised AMI's bootstrap reserves
 * them: kube-reserved cpu 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of
 * the rest; kube-reserved memory 255Mi + 11Mi per max pod; hard eviction threshold 100Mi. Memory
 * capacity is the nominal size less ~3.5% the kernel and firmware keep (what `kubectl describe
 * node` shows on m5 instances).
 */
export function eksNodeResources(type: InstanceTypeSpec): { readonly capacity: Resources; readonly allocatable: Resources } {
  const cores = type.cpu / 1000;
  let reservedCpu = 0;
  const bands: readonly [number, number][] = [[1, 0.06], [1, 0.01], [2, 0.005], [Number.POSITIVE_INFINITY, 0.0025]];
  let left = cores;
  for (const [width, rate] of bands) {
    const take = Math.min(left, width);
    reservedCpu += take * rate * 1000;
    left -= take;
    if (left <= 0) break;
  }
  const memoryCapacity = Math.floor((type.memory * 0.965) / _MIB) * _MIB;
  const reservedMemory = (255 + 11 * type.pods) * _MIB + 100 * _MIB;
  return {
    capacity: { cpu: type.cpu, memory: memoryCapacity, pods: type.pods },
    allocatable: { cpu: Math.floor(type.cpu - reservedCpu), memory: memoryCapacity - reservedMemory, pods: type.pods },
  };
}

/** One group per instance type × zone × capacity type in `capacityTypes`. */
export function buildNodeGroups(scenario: Scenario, capacityTypes: readonly SimCapacityType[], prices: PriceLookup): readonly NodeGroup[] {
  const groups: NodeGroup[] = [];
  for (const type of scenario.cloud.instanceTypes) {
    const resources = eksNodeResources(type);
    for (const zone of scenario.cloud.zones) {
      for (const capacityType of capacityTypes) {
        const explicit = capacityType === 'spot' ? type.spot : type.onDemand;
        const price = explicit ?? prices(type.name, capacityType);
        if (price === undefined) {
          throw new Error(`Cannot price instance type "${type.name}" (${capacityType}): set cloud.instanceTypes[].${capacityType === 'spot' ? 'spot' : 'onDemand'} in the scenario`);
        }
        const id = `${type.name}/${zone}/${capacityType}`;
        groups.push({
          id,
          namePrefix: `${type.name.replace(/\./g, '-')}-${zone.slice(-1)}-${capacityType === 'spot' ? 'spot' : 'od'}`,
          instanceType: type,
          zone,
          capacityType,
          pool: `${type.name}/${zone}`,
          hourlyPrice: price,
          labels: {
            [NodeLabel.InstanceType]: type.name,
            [NodeLabel.Zone]: zone,
            'topology.kubernetes.io/region': zone.replace(/[a-z]$/, ''),
            [NodeLabel.Capacity]: capacityType,
            [NodeLabel.EksCapacityType]: capacityType === 'spot' ? 'SPOT' : 'ON_DEMAND',
            [NodeLabel.NodeGroup]: id,
            'kubernetes.io/os': 'linux',
          },
          taints: [],
          allocatable: resources.allocatable,
          capacity: resources.capacity,
          minSize: scenario.nodeGroups.minSize,
          maxSize: scenario.nodeGroups.maxSize,
        });
      }
    }
  }
  return groups;
}

/** The monthly interruption probability of a Spot Instance Advisor band, per the scenario. */
export function bandMonthlyRate(scenario: Scenario, band: InterruptionBand): number {
  return scenario.cloud.spot.bandMonthlyRate[band];
}

/** Mean time between reclaim events of one pool, ms: per-node rate / share hit per event. */
export function poolReclaimMeanGapMs(monthlyProbability: number, reclaimShare: number): number {
  if (monthlyProbability <= 0) return Number.POSITIVE_INFINITY;
  const perNodePerHour = -Math.log(1 - Math.min(monthlyProbability, 0.999_999)) / _HOURS_PER_MONTH;
  return (_HOUR_MS * reclaimShare) / perNodePerHour;
}

interface _Instance {
  readonly node: SimNode;
  readonly runningAt: number;
  end: number | undefined;
  interruptedByEc2: boolean;
}

/** The bill: per-instance charges with EC2's rules, measured over a window of run time. */
export class Billing {
  readonly #open = new Set<_Instance>();
  readonly #byNode = new Map<SimNode, _Instance>();
  #closedUsd = 0;
  #closedHours: Record<SimCapacityType, number> = { 'on-demand': 0, spot: 0 };
  #windowStart = 0;
  #windowEnd = Number.POSITIVE_INFINITY;
  /** $/h of the instances running now. */
  #rate = 0;

  /** Measures only [start, end): the warm-up before is simulated but not billed in the result. */
  setWindow(start: number, end: number): void {
    this.#windowStart = start;
    this.#windowEnd = end;
  }

  /** $/h of the instances running now. */
  get hourlyRate(): number {
    return this.#rate;
  }

  /** The instance entered `running`: billing starts. */
  start(node: SimNode, now: number): void {
    const instance: _Instance = { node, runningAt: now, end: undefined, interruptedByEc2: false };
    this.#open.add(instance);
    this.#byNode.set(node, instance);
    this.#rate += node.group.hourlyPrice;
  }

  isBilled(node: SimNode): boolean {
    return this.#byNode.has(node) && this.#byNode.get(node)?.end === undefined;
  }

  /** Termination requested (by us, or by EC2 for a spot reclaim): billing stops. */
  stop(node: SimNode, now: number, interruptedByEc2: boolean): void {
    const instance = this.#byNode.get(node);
    if (instance === undefined || instance.end !== undefined) return;
    instance.end = now;
    instance.interruptedByEc2 = interruptedByEc2;
    this.#open.delete(instance);
    this.#rate -= node.group.hourlyPrice;
    this.#closedUsd += this.#windowCharge(instance, now);
    this.#closedHours[node.capacityType] += this.#windowOverlap(instance, now) / _HOUR_MS;
  }

  /** Dollars billed inside the window up to `now`, counting running instances as if stopped now. */
  totalUsd(now: number): number {
    let usd = this.#closedUsd;
    for (const instance of this.#open) usd += this.#windowCharge(instance, now);
    return usd;
  }

  /** Instance-hours inside the window up to `now`, by capacity type. */
  nodeHours(now: number): Record<SimCapacityType, number> {
    const hours = { ...this.#closedHours };
    for (const instance of this.#open) hours[instance.node.capacityType] += this.#windowOverlap(instance, now) / _HOUR_MS;
    return hours;
  }

  /**
   * The instance's whole charge under EC2's rules, attributed to the window in proportion to the
   * billed time that falls inside it (so the 60-second minimum is not charged twice when an
   * instance straddles the window's start).
   */
  #windowCharge(instance: _Instance, now: number): number {
    const end = instance.end ?? now;
    const billedMs = end - instance.runningAt;
    if (billedMs <= 0) return 0;
    const overlap = this.#windowOverlap(instance, now);
    if (overlap <= 0) return 0;
    if (instance.interruptedByEc2 && instance.node.capacityType === 'spot' && billedMs < _HOUR_MS) return 0;
    const charge = (instance.node.group.hourlyPrice * Math.max(MINIMUM_BILLED_MS, billedMs)) / _HOUR_MS;
    return (charge * overlap) / billedMs;
  }

  #windowOverlap(instance: _Instance, now: number): number {
    const end = Math.min(instance.end ?? now, this.#windowEnd);
    return Math.max(0, end - Math.max(instance.runningAt, this.#windowStart));
  }
}

/** Callbacks the cloud reports to. */
export interface CloudEvents {
  /** A launched node registered and is Ready. */
  readonly onNodeReady: (node: SimNode) => void;
  /** A launch failed (no spot capacity in the pool); the node never appeared. */
  readonly onLaunchFailed: (group: NodeGroup) => void;
  /** EC2 sent a spot interruption notice; the instance is terminated `noticeMs` later. */
  readonly onSpotNotice: (node: SimNode) => void;
  /** The instance is gone; every pod still on it died with it. */
  readonly onNodeGone: (node: SimNode, interrupted: boolean) => void;
}

interface _Pool {
  readonly key: string;
  readonly instanceType: string;
  readonly meanGapMs: number;
  readonly nodes: Set<SimNode>;
  /** Launches fail until this run time. */
  noCapacityUntil: number;
}

/** Launches and terminates instances, bills them, and reclaims spot ones. */
export class Cloud {
  readonly billing = new Billing();
  readonly #engine: Engine;
  readonly #random: RandomSource;
  readonly #scenario: Scenario;
  readonly #cluster: SimCluster;
  readonly #events: CloudEvents;
  readonly #pools = new Map<string, _Pool>();
  /** Nodes launched per group and not yet gone (including provisioning). */
  readonly #groupSize = new Map<NodeGroup, number>();
  /** Launches in flight per group: asked for, not yet Ready or failed. */
  readonly #upcoming = new Map<NodeGroup, number>();
  #live = 0;
  #interruptions = 0;

  constructor(engine: Engine, random: RandomSource, scenario: Scenario, cluster: SimCluster, groups: readonly NodeGroup[], events: CloudEvents) {
    this.#engine = engine;
    this.#random = random;
    this.#scenario = scenario;
    this.#cluster = cluster;
    this.#events = events;
    const spot = scenario.cloud.spot;
    for (const g of groups) {
      this.#groupSize.set(g, 0);
      this.#upcoming.set(g, 0);
      if (g.capacityType !== 'spot' || this.#pools.has(g.pool)) continue;
      const pool: _Pool = {
        key: g.pool,
        instanceType: g.instanceType.name,
        meanGapMs: poolReclaimMeanGapMs(bandMonthlyRate(scenario, g.instanceType.interruption), spot.reclaimShare),
        nodes: new Set(),
        noCapacityUntil: 0,
      };
      this.#pools.set(g.pool, pool);
      this.#scheduleReclaim(pool);
    }
  }

  /** Nodes of the group not yet gone, provisioning included (the ASG's current size). */
  groupSize(group: NodeGroup): number {
    return this.#groupSize.get(group) ?? 0;
  }

  /** Launches of the group not yet Ready (CA's "upcoming" nodes). */
  upcoming(group: NodeGroup): number {
    return this.#upcoming.get(group) ?? 0;
  }

  /** Nodes not yet gone, all groups. */
  get liveNodes(): number {
    return this.#live;
  }

  /** Spot instances reclaimed so far (counted at the notice). */
  get interruptions(): number {
    return this.#interruptions;
  }

  /**
   * Asks for one instance of `group`. It becomes Ready after the provisioning delay, or the launch
   * fails (spot out of capacity: no node, undefined).
   */
  launch(group: NodeGroup): SimNode | undefined {
    const now = this.#engine.now;
    const stream = this.#random.stream('provisioning');
    const p = this.#scenario.cloud.provisioning;
    const b = this.#scenario.cloud.billingStartsAfter;
    const readyAfter = stream.uniform(p.min, p.max);
    const runningAfter = Math.min(readyAfter, stream.uniform(b.min, b.max));
    this.#upcoming.set(group, this.upcoming(group) + 1);
    const pool = this.#pools.get(group.pool);
    if (group.capacityType === 'spot' && pool !== undefined && pool.noCapacityUntil > now) {
      // InsufficientInstanceCapacity: the ASG reports the failed launch; no instance, no bill.
      this.#engine.after(this.#scenario.cloud.spot.launchFailureAfter, () => {
        this.#upcoming.set(group, this.upcoming(group) - 1);
        this.#events.onLaunchFailed(group);
      });
      return undefined;
    }
    const node = this.#cluster.addNode(group, now);
    this.#groupSize.set(group, this.groupSize(group) + 1);
    this.#live++;
    // An on-demand group shares its pool key (type/zone) with the spot group of that type: only spot nodes are EC2's to reclaim.
    if (group.capacityType === 'spot') pool?.nodes.add(node);
    this.#engine.after(runningAfter, () => {
      if (node.state !== 'gone') this.billing.start(node, this.#engine.now);
    });
    this.#engine.after(readyAfter, () => {
      this.#upcoming.set(group, this.upcoming(group) - 1);
      if (node.state !== 'provisioning') return;
      this.#cluster.markReady(node, this.#engine.now);
      this.#events.onNodeReady(node);
    });
    return node;
  }

  /**
   * Terminates the instance now: billing stops, pods still on it die (the caller removes them
   * through `onNodeGone`), and the node object leaves the cluster after the kubelet's delay.
   */
  terminate(node: SimNode, interruptedByEc2 = false): void {
    if (node.state === 'gone') return;
    const now = this.#engine.now;
    if (node.state === 'provisioning') this.#upcoming.set(node.group, this.upcoming(node.group) - 1);
    this.billing.stop(node, now, interruptedByEc2);
    this.#groupSize.set(node.group, this.groupSize(node.group) - 1);
    this.#live--;
    this.#pools.get(node.group.pool)?.nodes.delete(node);
    this.#events.onNodeGone(node, interruptedByEc2);
    this.#cluster.removeNode(node, now);
  }

  #scheduleReclaim(pool: _Pool): void {
    if (!Number.isFinite(pool.meanGapMs)) return;
    // Event times come from their own stream, so every arm of a seed sees the same reclaims.
    const gap = this.#random.stream(`spot-reclaims:${pool.key}`).exponential(pool.meanGapMs);
    this.#engine.after(gap, () => {
      this.#reclaim(pool);
      this.#scheduleReclaim(pool);
    });
  }

  /** A reclaim event in the spot pool `key` (`m5.xlarge/us-east-1a`) now, as the scheduled ones; false when the run has no such pool. */
  reclaimPool(key: string): boolean {
    const pool = this.#pools.get(key);
    if (pool !== undefined) this.#reclaim(pool);
    return pool !== undefined;
  }

  #reclaim(pool: _Pool): void {
    const spot = this.#scenario.cloud.spot;
    const now = this.#engine.now;
    const until = now + this.#random.stream(`spot-capacity:${pool.key}`).exponential(spot.capacityGap);
    for (const hit of this.#pools.values()) {
      const inScope = hit === pool || spot.capacityGapScope === 'region' || (spot.capacityGapScope === 'instance-type' && hit.instanceType === pool.instanceType);
      if (inScope) hit.noCapacityUntil = Math.max(hit.noCapacityUntil, until);
    }
    const victims = this.#random.stream(`spot-victims:${pool.key}`);
    const nodes = [...pool.nodes].sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const node of nodes) {
      if (!victims.bernoulli(spot.reclaimShare)) continue;
      const offset = victims.uniform(0, spot.reclaimSpread);
      this.#engine.after(offset, () => this.sendSpotNotice(node));
    }
  }

  /** EC2 reclaims the instance: the 2-minute notice now, termination when it runs out. */
  sendSpotNotice(node: SimNode): void {
    if (node.state === 'gone' || node.noticeAt !== undefined) return;
    node.noticeAt = this.#engine.now;
    this.#interruptions++;
    this.#events.onSpotNotice(node);
    this.#engine.after(this.#scenario.cloud.spot.notice, () => this.terminate(node, true));
  }
}
