/**
 * The default scheduler, modelled on kube-scheduler: a queue ordered by priority then arrival;
 * per pod, the Filter phase over a sample of nodes (percentageOfNodesToScore, from a rotating
 * start), the Score phase with a profile (LeastAllocated by default, MostAllocated as an option),
 * the best node with ties broken at random, and a bind. Pods that fit nowhere are marked
 * Unschedulable (the autoscaler reads that) and retried with exponential backoff after the
 * cluster changes, or after 5 minutes at the latest.
 *
 * Filtering and scoring are the shared fit policy's (`src/policy/fit`), run on the cluster's
 * long-lived `FitState`: the scheduler model only decides which nodes to ask about and when.
 */
import { activeFilters, bestScoredNodes, passesFilters, ScoreScratch } from '../policy/fit/index.js';
import type { PodView } from '../core/model.js';
import type { NodeInfo, SchedulingProfile } from '../policy/fit/index.js';
import { numFeasibleNodesToFind } from '../policy/schedule/framework.js';
import type { Engine } from './engine.js';
import type { RandomStream } from './random.js';
import type { Scenario } from './scenario.js';
import { schedulingClass } from './cluster.js';
import type { SchedulableRoom, SimCluster, SimNode, SimPod } from './cluster.js';
import type { PodLifecycle } from './pods.js';

/** kube-scheduler's podMaxInUnschedulablePodsDuration: an unschedulable pod is retried at least this often. */
const _UNSCHEDULABLE_FLUSH_MS = 5 * 60_000;
/** Nodes with room filtered per chunk: once enough are found, the search stops at a chunk's end. */
const _CHUNK = 64;

/** Counters the benchmark and tests read. */
export interface SchedulerStats {
  attempts: number;
  binds: number;
  failures: number;
}

/** The simulated kube-scheduler. */
export class DefaultScheduler {
  readonly stats: SchedulerStats = { attempts: 0, binds: 0, failures: 0 };
  readonly #engine: Engine;
  readonly #cluster: SimCluster;
  readonly #random: RandomStream;
  readonly #profile: SchedulingProfile;
  readonly #config: Scenario['scheduler'];
  #lifecycle: PodLifecycle | undefined;
  #active: SimPod[] = [];
  readonly #unschedulable = new Map<SimPod, { readonly at: number; readonly changeSeq: number }>();
  #changeSeq = 0;
  #cycleAt = Number.POSITIVE_INFINITY;
  #nextStart = 0;
  /** The feasible nodes of the pod being scheduled, reused from pod to pod (scoring does not keep it). */
  readonly #feasible: NodeInfo[] = [];
  /** The score phase's buffers, reused from pod to pod. */
  readonly #scratch = new ScoreScratch();

  constructor(engine: Engine, cluster: SimCluster, random: RandomStream, profile: SchedulingProfile, config: Scenario['scheduler']) {
    this.#engine = engine;
    this.#cluster = cluster;
    this.#random = random;
    this.#profile = profile;
    this.#config = config;
  }

  /** Wired after construction: the lifecycle and the scheduler refer to each other. */
  setLifecycle(lifecycle: PodLifecycle): void {
    this.#lifecycle = lifecycle;
  }

  get profileName(): string {
    return this.#profile.name;
  }

  /** Pods waiting in the queue or marked unschedulable. */
  get queued(): number {
    return this.#active.length + this.#unschedulable.size;
  }

  /** A new pod to schedule. */
  enqueue(pod: SimPod): void {
    this.#active.push(pod);
    this.#ensureCycle(this.#engine.now + this.#config.cycle);
  }

  /** Something happened that may let unschedulable pods fit (a node joined, a pod left). */
  onClusterChange(): void {
    this.#changeSeq++;
    if (this.#unschedulable.size > 0) this.#ensureCycle(this.#engine.now + this.#config.cycle);
  }

  #ensureCycle(at: number): void {
    if (at >= this.#cycleAt) return;
    this.#cycleAt = at;
    this.#engine.at(at, () => {
      if (this.#cycleAt !== at) return;
      this.#cycleAt = Number.POSITIVE_INFINITY;
      this.#cycle();
    });
  }

  #cycle(): void {
    const now = this.#engine.now;
    let nextRetry = Number.POSITIVE_INFINITY;
    const unschedulable = this.#unschedulable;
    const active = this.#active;
    const changeSeq = this.#changeSeq;
    // forEach, not for-of: thousands of pods may wait, and destructuring each entry made an array per pod per cycle.
    unschedulable.forEach((failed, pod) => {
      if (pod.node !== undefined || pod.terminating || !this.#cluster.pods.has(pod.uid)) {
        unschedulable.delete(pod);
        return;
      }
      const changed = failed.changeSeq < changeSeq;
      const flush = now - failed.at >= _UNSCHEDULABLE_FLUSH_MS;
      if ((changed && pod.backoffUntil <= now) || flush) {
        unschedulable.delete(pod);
        active.push(pod);
      } else {
        nextRetry = Math.min(nextRetry, changed ? pod.backoffUntil : failed.at + _UNSCHEDULABLE_FLUSH_MS);
      }
    });
    const queue = this.#active;
    this.#active = [];
    // PrioritySort: higher priority first, then the earlier pod.
    queue.sort((a, b) => b.spec.priority - a.spec.priority || a.createdAt - b.createdAt || (a.uid < b.uid ? -1 : 1));
    // Within a cycle only binds happen, which change no node's schedulability.
    const nodes = this.#cluster.schedulableNodes;
    const bound = _freeBound(this.#cluster.schedulableRoom);
    const failedClasses = new Set<string>();
    for (const pod of queue) {
      if (pod.node !== undefined || pod.terminating || !this.#cluster.pods.has(pod.uid)) continue;
      // Pods of one workload with the same constraints are one equivalence class: after one
      // failed this cycle, the others (the cluster only filled up since) fail too.
      const cls = schedulingClass(pod);
      if (failedClasses.has(cls) || pod.spec.cpu > bound.cpu || pod.spec.memory > bound.memory || !this.#scheduleOne(pod, nodes)) {
        failedClasses.add(cls);
        this.#markUnschedulable(pod, now);
        nextRetry = Math.min(nextRetry, pod.backoffUntil);
      }
    }
    if (Number.isFinite(nextRetry)) this.#ensureCycle(Math.max(nextRetry, now + this.#config.cycle));
  }

  #markUnschedulable(pod: SimPod, now: number): void {
    this.stats.failures++;
    pod.attempts++;
    pod.unschedulable = true;
    const backoff = Math.min(this.#config.podMaxBackoff, this.#config.podInitialBackoff * 2 ** Math.min(20, pod.attempts - 1));
    pod.backoffUntil = now + backoff;
    this.#unschedulable.set(pod, { at: now, changeSeq: this.#changeSeq });
  }

  #scheduleOne(pod: SimPod, nodes: readonly SimNode[]): boolean {
    this.stats.attempts++;
    const lifecycle = this.#lifecycle;
    if (lifecycle === undefined) throw new Error('Cannot schedule: the scheduler has no pod lifecycle wired');
    const n = nodes.length;
    if (n === 0) return false;
    const fit = this.#cluster.fit;
    const view = pod.view();
    const feasible = this.#feasible;
    const found = fit.withoutPod(view, () => this.#filter(pod, view, nodes, feasible));
    if (found === 0) return false;
    // Written by index and cut to length only here: emptying an array drops its storage.
    feasible.length = found;
    const ties = bestScoredNodes(fit, view, this.#profile, feasible, this.#scratch);
    // selectHost picks uniformly among the best-scored nodes.
    const chosen = ties.length === 1 ? (ties[0] as string) : this.#random.pick(ties);
    const node = this.#cluster.nodes.get(chosen);
    if (node === undefined) throw new Error(`Cannot bind pod "${pod.spec.name}": node "${chosen}" is not in the cluster`);
    lifecycle.bind(pod, node);
    this.stats.binds++;
    return true;
  }

  /**
   * The Filter phase from the rotating start: writes the first feasible nodes, up to
   * numFeasibleNodesToFind, into `feasible` from position 0 and returns how many. Nodes are taken
   * in chunks of `_CHUNK` nodes with room (the search, like kube-scheduler's parallel one, ends
   * at a chunk's end), and the next search starts after the last node taken.
   */
  #filter(pod: SimPod, view: PodView, nodes: readonly SimNode[], feasible: NodeInfo[]): number {
    const n = nodes.length;
    const want = numFeasibleNodesToFind(n, this.#config.percentageOfNodesToScore);
    const fit = this.#cluster.fit;
    const active = activeFilters(fit, view);
    const { cpu, memory } = pod.spec;
    const { cpu: roomCpu, memory: roomMemory, pods: roomPods } = this.#cluster.schedulableRoom;
    const start = this.#nextStart % n;
    let found = 0;
    let taken = 0;
    let processed = 0;
    while (processed < n) {
      let at = start + processed;
      if (at >= n) at -= n;
      processed++;
      // A necessary condition of NodeResourcesFit, checked on plain numbers first: most full
      // nodes are passed over without touching the node or the filters.
      if (!((roomCpu[at] as number) >= cpu && (roomMemory[at] as number) >= memory && (roomPods[at] as number) >= 1)) continue;
      taken++;
      if (found < want) {
        const node = nodes[at] as SimNode;
        const info = node.fitInfo(fit);
        if (info === undefined) throw new Error(`Cannot schedule pod "${pod.spec.name}": node "${node.name}" is not in the fit state`);
        if (passesFilters(active, fit, view, info)) feasible[found++] = info;
      }
      // Enough found: the search still ends where its chunk ends.
      if (found >= want && taken % _CHUNK === 0) break;
    }
    this.#nextStart = (start + processed) % n;
    return found;
  }
}

/** The most free cpu and memory on any schedulable node: a pod asking more fits nowhere. */
function _freeBound(room: SchedulableRoom): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (let i = 0; i < room.cpu.length; i++) {
    cpu = Math.max(cpu, room.cpu[i] as number);
    memory = Math.max(memory, room.memory[i] as number);
  }
  return { cpu, memory };
}
