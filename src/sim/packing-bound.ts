/**
 * The limit a saving reads against: what the requested pods would cost on the cheapest set of
 * nodes the catalogue offers, packed perfectly. Two figures per instant:
 *
 * - **LP bound** (a true lower bound): the linear relaxation of "cheapest multiset of nodes whose
 *   cpu, memory and pod slots cover the total requested" — nodes may be bought in fractions and
 *   pods split across them. No packing, however clever, costs less.
 * - **First-fit decreasing** (a feasible figure): the pods packed whole, largest first, onto nodes
 *   of one instance type, for the type that costs least; an upper bound of the perfect packing.
 *
 * Each node's room is its allocatable less what its DaemonSet pods request (they run on every
 * node). With a spot mix, the placement webhook's on-demand floor holds in both figures: the pods a
 * workload keeps on on-demand capacity (`PodGroup.onDemand`) count only against on-demand types,
 * so a spot arm reads against what a floor-keeping packing can reach, not against all-spot.
 * Pure: plain numbers in, $/h out.
 */

import { solve } from 'yalps';
import type { Model } from 'yalps';

/** One instance type (and capacity type) of the catalogue, as the bound sees it. */
export interface BinType {
  readonly name: string;
  /** Room for pods, in millicores, bytes and pod slots (allocatable less per-node DaemonSet requests). */
  readonly cpu: number;
  readonly memory: number;
  readonly pods: number;
  readonly hourlyPrice: number;
  /** Spot capacity does not hold the on-demand floor's pods; on-demand when not given. */
  readonly capacityType?: 'on-demand' | 'spot';
}

/** `count` pods requesting `cpu` millicores and `memory` bytes each. */
export interface PodGroup {
  readonly cpu: number;
  readonly memory: number;
  readonly count: number;
  /** How many of the `count` pods must run on on-demand capacity (the webhook's floor); none when not given. */
  readonly onDemand?: number;
}

/** The bound at one instant. */
export interface PackingFigures {
  /** $/h of the LP relaxation: a lower bound of any packing. */
  readonly lpUsdPerHour: number;
  /** $/h of first-fit decreasing on the cheapest single instance type; undefined when some pod fits no type. */
  readonly ffdUsdPerHour: number | undefined;
}

/** Scale of the dual variables' units, so cpu (cores), memory (GiB) and pod slots are of like size. */
const _CPU_UNIT = 1_000;
const _MEMORY_UNIT = 2 ** 30;
const _EPSILON = 1e-9;

/**
 * The perfect-packing bound over a fixed catalogue. The LP's dual has three variables (a price per
 * core, per GiB and per pod slot), so its feasible region's vertices are found once for the
 * catalogue; the bound for any demand is then the best of those vertices, a few dot products.
 *
 * @example
 * ```ts
 * const bound = new PackingBound([{ name: 'm5.large', cpu: 1_930, memory: 7.2 * 2 ** 30, pods: 28, hourlyPrice: 0.096 }]);
 * bound.figures([{ cpu: 500, memory: 2 ** 30, count: 10 }]); // { lpUsdPerHour: 0.25…, ffdUsdPerHour: 0.288 }
 * ```
 */
export class PackingBound {
  readonly #types: readonly BinType[];
  /** The on-demand types: the only ones that hold floor pods. */
  readonly #onDemand: readonly BinType[];
  /** Vertices of the dual feasible region: [$/core, $/GiB, $/pod slot]. */
  readonly #vertices: readonly (readonly [number, number, number])[];

  constructor(types: readonly BinType[]) {
    const usable = types.filter((t) => t.cpu > 0 && t.memory > 0 && t.pods > 0 && t.hourlyPrice >= 0);
    if (usable.length === 0) throw new RangeError('Cannot bound a packing without an instance type that has room for pods');
    this.#types = usable;
    this.#onDemand = usable.filter((t) => t.capacityType !== 'spot');
    this.#vertices = _dualVertices(usable);
  }

  /** The LP bound, $/h, for a total demand (millicores, bytes, pods), with no floor. */
  lpUsdPerHour(cpu: number, memory: number, pods: number): number {
    const c = cpu / _CPU_UNIT;
    const m = memory / _MEMORY_UNIT;
    let best = 0;
    for (const [y1, y2, y3] of this.#vertices) best = Math.max(best, c * y1 + m * y2 + pods * y3);
    return best;
  }

  /**
   * First-fit decreasing, $/h: without a floor, every pod on the single type that costs least;
   * with one, the floor's pods on the cheapest on-demand type and the rest on the cheapest type.
   * Undefined when some pod fits no type it may use.
   */
  ffdUsdPerHour(groups: readonly PodGroup[]): number | undefined {
    if (!this.#floorBinds(groups)) return _cheapestFfd(this.#types, groups);
    const floor: PodGroup[] = [];
    const rest: PodGroup[] = [];
    for (const g of groups) {
      const kept = Math.min(g.count, g.onDemand ?? 0);
      if (kept > 0) floor.push({ cpu: g.cpu, memory: g.memory, count: kept });
      if (g.count > kept) rest.push({ cpu: g.cpu, memory: g.memory, count: g.count - kept });
    }
    const onDemand = _cheapestFfd(this.#onDemand, floor);
    const any = _cheapestFfd(this.#types, rest);
    return onDemand === undefined || any === undefined ? undefined : onDemand + any;
  }

  /**
   * The LP bound, $/h, for the demand `groups`. Without a floor (or without spot types) it is the
   * best dual vertex, a few dot products. With one it is the LP "cover the total demand with any
   * type, and the floor's demand with on-demand types" (six constraints, a type a variable), solved
   * by the simplex method each time: a floor's on-demand nodes may hold other pods in the room the
   * floor leaves, which no split of the demand into two separate bounds sees.
   */
  lpOf(groups: readonly PodGroup[]): number {
    let cpu = 0;
    let memory = 0;
    let pods = 0;
    let floorCpu = 0;
    let floorMemory = 0;
    let floorPods = 0;
    for (const g of groups) {
      cpu += g.cpu * g.count;
      memory += g.memory * g.count;
      pods += g.count;
      const kept = Math.min(g.count, g.onDemand ?? 0);
      floorCpu += g.cpu * kept;
      floorMemory += g.memory * kept;
      floorPods += kept;
    }
    // No spot type: every packing keeps the floor. No on-demand type: none does, and the floorless
    // bound is still a lower bound of what the cluster pays.
    if (floorPods === 0 || this.#onDemand.length === this.#types.length || this.#onDemand.length === 0) return this.lpUsdPerHour(cpu, memory, pods);
    const model: Model = {
      direction: 'minimize',
      objective: 'cost',
      constraints: {
        cpu: { min: cpu / _CPU_UNIT },
        memory: { min: memory / _MEMORY_UNIT },
        pods: { min: pods },
        floorCpu: { min: floorCpu / _CPU_UNIT },
        floorMemory: { min: floorMemory / _MEMORY_UNIT },
        floorPods: { min: floorPods },
      },
      variables: Object.fromEntries(
        this.#types.map((t, i) => {
          const room = { cpu: t.cpu / _CPU_UNIT, memory: t.memory / _MEMORY_UNIT, pods: t.pods };
          const floor = t.capacityType === 'spot' ? {} : { floorCpu: room.cpu, floorMemory: room.memory, floorPods: room.pods };
          return [String(i), { cost: t.hourlyPrice, ...room, ...floor }];
        }),
      ),
    };
    const solution = solve(model);
    if (solution.status !== 'optimal') throw new RangeError(`Cannot bound a packing with an on-demand floor: the LP is ${solution.status}`);
    return solution.result;
  }

  /** Both figures for the demand `groups`. */
  figures(groups: readonly PodGroup[]): PackingFigures {
    return { lpUsdPerHour: this.lpOf(groups), ffdUsdPerHour: this.ffdUsdPerHour(groups) };
  }

  /** Whether a floor constrains the packing: some pod must be on on-demand, and some type is spot. */
  #floorBinds(groups: readonly PodGroup[]): boolean {
    if (this.#onDemand.length === this.#types.length) return false;
    return groups.some((g) => (g.onDemand ?? 0) > 0 && g.count > 0);
  }
}

/** First-fit decreasing on each single type of `types`, $/h of the cheapest; undefined when none holds every pod. */
function _cheapestFfd(types: readonly BinType[], groups: readonly PodGroup[]): number | undefined {
  let best: number | undefined;
  for (const type of types) {
    const nodes = firstFitDecreasing(type, groups);
    if (nodes === undefined) continue;
    const cost = nodes * type.hourlyPrice;
    if (best === undefined || cost < best) best = cost;
  }
  return best;
}

/**
 * Nodes of `type` that first-fit decreasing opens for `groups`: pods in decreasing order of their
 * larger share of the node (cpu or memory), each on the first node with room. Identical pods are
 * adjacent in that order, so a group fills the first node with room as far as it goes, then the
 * next: the same nodes as placing its pods one by one. Undefined when a pod fits no empty node.
 *
 * The first node with room is found in a tree of the nodes' largest free cpu, memory and slots
 * (every node not yet opened is empty), so a pod skips whole runs of nodes too full for it: about
 * log(nodes) steps where a scan from the first node took thousands once a cluster's worth of pods
 * is packed.
 */
export function firstFitDecreasing(type: BinType, groups: readonly PodGroup[]): number | undefined {
  const order = groups
    .filter((g) => g.count > 0)
    .map((g) => ({ g, size: Math.max(g.cpu / type.cpu, g.memory / type.memory) }))
    .sort((a, b) => b.size - a.size || b.g.cpu - a.g.cpu || b.g.memory - a.g.memory);
  if (order.length === 0) return 0;
  // A group opens a node only when no open node takes one more of its pods, and the node it opens
  // takes as many as an empty node holds, so it opens at most ceil(count / per empty node) nodes.
  let most = 0;
  for (const { g } of order) {
    if (g.cpu > type.cpu || g.memory > type.memory || type.pods < 1) return undefined;
    most += Math.ceil(g.count / _perNode(type.cpu, type.memory, type.pods, g, g.count));
  }
  const free = new _FreeTree(type, most);
  let opened = 0;
  for (const { g } of order) {
    let left = g.count;
    while (left > 0) {
      const b = free.first(g.cpu, g.memory);
      const fit = _perNode(free.cpuOf(b), free.memoryOf(b), free.slotsOf(b), g, left);
      free.take(b, fit * g.cpu, fit * g.memory, fit);
      left -= fit;
      if (b >= opened) opened = b + 1;
    }
  }
  return opened;
}

/** How many of `left` pods of `g` a node with this much free room takes. */
function _perNode(cpu: number, memory: number, slots: number, g: PodGroup, left: number): number {
  return Math.min(left, slots, g.cpu > 0 ? Math.floor(cpu / g.cpu) : left, g.memory > 0 ? Math.floor(memory / g.memory) : left);
}

/**
 * Free cpu, memory and pod slots of `size` nodes (all empty at first) in a segment tree of maxima,
 * to find the leftmost node with room for a pod without visiting the full ones before it.
 */
class _FreeTree {
  readonly #leaves: number;
  readonly #cpu: Float64Array;
  readonly #memory: Float64Array;
  readonly #slots: Float64Array;

  constructor(type: BinType, size: number) {
    let leaves = 1;
    while (leaves < size) leaves *= 2;
    this.#leaves = leaves;
    this.#cpu = new Float64Array(2 * leaves).fill(type.cpu);
    this.#memory = new Float64Array(2 * leaves).fill(type.memory);
    this.#slots = new Float64Array(2 * leaves).fill(type.pods);
  }

  cpuOf(node: number): number {
    return this.#cpu[this.#leaves + node] as number;
  }

  memoryOf(node: number): number {
    return this.#memory[this.#leaves + node] as number;
  }

  slotsOf(node: number): number {
    return this.#slots[this.#leaves + node] as number;
  }

  /** The leftmost node with at least `cpu`, `memory` and one slot free (the caller sized the tree so one exists). */
  first(cpu: number, memory: number): number {
    const found = this.#descend(1, cpu, memory);
    if (found < 0) throw new RangeError('Cannot find a node with room: the packing tree was sized too small');
    return found;
  }

  #descend(i: number, cpu: number, memory: number): number {
    if ((this.#cpu[i] as number) < cpu || (this.#memory[i] as number) < memory || (this.#slots[i] as number) < 1) return -1;
    if (i >= this.#leaves) return i - this.#leaves;
    const left = this.#descend(2 * i, cpu, memory);
    return left >= 0 ? left : this.#descend(2 * i + 1, cpu, memory);
  }

  /** Takes room off `node` and updates the maxima above it. */
  take(node: number, cpu: number, memory: number, slots: number): void {
    let i = this.#leaves + node;
    this.#cpu[i] = (this.#cpu[i] as number) - cpu;
    this.#memory[i] = (this.#memory[i] as number) - memory;
    this.#slots[i] = (this.#slots[i] as number) - slots;
    for (i >>= 1; i >= 1; i >>= 1) {
      this.#cpu[i] = Math.max(this.#cpu[2 * i] as number, this.#cpu[2 * i + 1] as number);
      this.#memory[i] = Math.max(this.#memory[2 * i] as number, this.#memory[2 * i + 1] as number);
      this.#slots[i] = Math.max(this.#slots[2 * i] as number, this.#slots[2 * i + 1] as number);
    }
  }
}

/**
 * The vertices of { y ≥ 0 : cpu_t·y1 + memory_t·y2 + pods_t·y3 ≤ price_t for every type t }: each
 * the solution of three of its constraints held as equalities, kept when it satisfies all. The
 * region is bounded (every type has room of each kind), so the LP's maximum is at one of them.
 */
function _dualVertices(types: readonly BinType[]): (readonly [number, number, number])[] {
  const planes: (readonly [number, number, number, number])[] = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    ...types.map((t) => [t.cpu / _CPU_UNIT, t.memory / _MEMORY_UNIT, t.pods, t.hourlyPrice] as const),
  ];
  const feasible = (y: readonly [number, number, number]): boolean => {
    if (y[0] < -_EPSILON || y[1] < -_EPSILON || y[2] < -_EPSILON) return false;
    for (const t of types) {
      const lhs = (t.cpu / _CPU_UNIT) * y[0] + (t.memory / _MEMORY_UNIT) * y[1] + t.pods * y[2];
      if (lhs > t.hourlyPrice * (1 + 1e-9) + _EPSILON) return false;
    }
    return true;
  };
  const vertices: (readonly [number, number, number])[] = [];
  const n = planes.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      for (let k = j + 1; k < n; k++) {
        const y = _solve3(planes[i] as readonly number[], planes[j] as readonly number[], planes[k] as readonly number[]);
        if (y === undefined || !feasible(y)) continue;
        const clamped = [Math.max(0, y[0]), Math.max(0, y[1]), Math.max(0, y[2])] as const;
        if (!vertices.some((v) => Math.abs(v[0] - clamped[0]) < 1e-12 && Math.abs(v[1] - clamped[1]) < 1e-12 && Math.abs(v[2] - clamped[2]) < 1e-12)) vertices.push(clamped);
      }
    }
  }
  return vertices;
}

/** Solves a·y = a[3], b·y = b[3], c·y = c[3] (Cramer's rule); undefined when the planes do not meet in one point. */
function _solve3(a: readonly number[], b: readonly number[], c: readonly number[]): [number, number, number] | undefined {
  const det = (m: readonly (readonly number[])[]): number => {
    const [r0, r1, r2] = m as [readonly number[], readonly number[], readonly number[]];
    return (
      (r0[0] as number) * ((r1[1] as number) * (r2[2] as number) - (r1[2] as number) * (r2[1] as number)) -
      (r0[1] as number) * ((r1[0] as number) * (r2[2] as number) - (r1[2] as number) * (r2[0] as number)) +
      (r0[2] as number) * ((r1[0] as number) * (r2[1] as number) - (r1[1] as number) * (r2[0] as number))
    );
  };
  const rows = [a, b, c];
  const d = det(rows);
  if (Math.abs(d) < 1e-12) return undefined;
  const column = (col: number): number => det(rows.map((r) => r.map((v, i) => (i === col ? (r[3] as number) : v))));
  return [column(0) / d, column(1) / d, column(2) / d];
}
