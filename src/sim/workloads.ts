/**
 * Workloads and their controllers: long-running services (a Deployment with its ReplicaSet
 * controller, an HPA following a daily load cycle, and maybe a PodDisruptionBudget), batch jobs
 * (the Job controller), and the DaemonSet pods every node runs. Also the Eviction API, which is
 * where PDBs are enforced.
 *
 * The placement webhook's decision (spot or on-demand for each new pod) is taken at pod creation
 * with the shared placement policy, as the webhook would take it on pod CREATE.
 */
import type { NodeView, PdbView, PodView, SchedulingConstraints, WorkloadRef, WorkloadView } from '../core/model.js';
import { podDeletionCost } from '../policy/placement/decide.js';
import type { PlacementDecision } from '../policy/placement/decide.js';
import { applyPlacement, countedPod, pendingRequests, placeNewPod } from '../policy/placement/inputs.js';
import { DEFAULT_PLACEMENT_PATCH_OPTIONS } from '../policy/placement/patch.js';
import type { PlacementPatchOptions } from '../policy/placement/patch.js';
import { onDemandFloor } from '../policy/placement/floor.js';
import { resolvePlacementPolicy } from '../policy/placement/policy.js';
import type { PlacementPolicy } from '../policy/placement/policy.js';
import { pdbAllowance, pdbDesiredHealthy } from '../policy/deschedule/guards.js';
import { EvictionAnnotation } from '../policy/deschedule/evictable.js';
import type { Engine } from './engine.js';
import type { RandomSource, RandomStream } from './random.js';
import { drawLognormal } from './scenario.js';
import type { ServiceSpec, Scenario, UsageSpec } from './scenario.js';
import type { PodOwner, SimCluster, SimNode, SimPod, PodSpec } from './cluster.js';
import { DeletionCause } from './pods.js';
import type { PodLifecycle } from './pods.js';
import type { PodGroup } from './packing-bound.js';
import { rollingUpdateStep } from './rollout.js';
import type { RollingUpdateStrategy } from './rollout.js';

const _HOUR_MS = 3_600_000;
const _DAY_MS = 24 * _HOUR_MS;

/** What the workloads report to the metrics. */
export interface WorkloadListener {
  /** A service's Ready count or desired replicas changed. */
  onServiceChanged(service: Service): void;
  /** A service pod became Ready (the naive arm schedules its restart from here). */
  onServicePodReady?(service: Service, pod: SimPod): void;
  /** A Ready service pod stopped being Ready for `cause`; told before `onServiceChanged`. */
  onServicePodLost?(service: Service, pod: SimPod, cause: DeletionCause): void;
}

const _NO_CONSTRAINTS: SchedulingConstraints = Object.freeze({});

/** One ReplicaSet of a service's Deployment: one per revision of its pod template. */
interface _ReplicaSet {
  readonly revision: number;
  readonly uid: string;
  /** Its pods' labels: the Deployment's, plus the revision's `pod-template-hash` after the first. */
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.replicas`, as the Deployment controller sets it. */
  replicas: number;
}

/** Rounds of the Deployment and ReplicaSet controllers in one reconcile before it must have settled. */
const _MAX_SYNC_ROUNDS = 16;

/**
 * A Deployment with its Deployment controller (rolling updates across ReplicaSets, see
 * `rollout.ts`), its ReplicaSet controller, its HPA and its PDB.
 */
export class Service implements PodOwner {
  readonly spec: ServiceSpec;
  readonly ref: WorkloadRef;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Pods not yet gone. */
  readonly pods = new Set<SimPod>();
  /** Ready pods not terminating. */
  ready = 0;
  /** CPU in use per Ready replica at the instant of the last `Workloads.cpuUsageAt`. */
  usageNow = 0;
  /** Surge-first moves in flight: old pod → its replacement. */
  readonly surges = new Map<SimPod, SimPod>();
  readonly #workloads: Workloads;
  readonly #annotations: Readonly<Record<string, string>>;
  #desired: number;
  /** The HPA's state in the run's bank and this service's position there, once the HPA is prepared. */
  #hpa: HpaBank | undefined;
  #hpaIndex = -1;
  /** The load `cpuUsagePerReadyPod` last computed, at which instant and noise. */
  #load = 1;
  #loadAt = Number.NaN;
  #loadNoise = Number.NaN;
  #view: WorkloadView | undefined;
  #newPod: PodView | undefined;
  #podSeq = 0;
  readonly #floors = new Map<number, number>();
  /** True while the ReplicaSet replaces a pod Stowage evicted. */
  #replacingStowageMove = false;
  /** The ReplicaSets, oldest first; the last is the current revision's. One unless a rollout is under way. */
  readonly #sets: _ReplicaSet[];
  readonly #strategy: RollingUpdateStrategy;
  /** True while the controllers reconcile: a pod event they cause does not start another round. */
  #syncing = false;

  constructor(spec: ServiceSpec, workloads: Workloads, index: number, rollingUpdate: RollingUpdateStrategy = { maxSurge: '25%', maxUnavailable: '25%' }) {
    this.spec = spec;
    this.ref = { kind: 'Deployment', namespace: spec.namespace, name: spec.name };
    this.uid = `rs-${index}`;
    this.labels = { app: spec.name };
    this.#desired = spec.replicas;
    this.#workloads = workloads;
    this.#sets = [{ revision: 0, uid: this.uid, labels: this.labels, replicas: spec.replicas }];
    this.#strategy = { maxSurge: spec.strategy?.maxSurge ?? rollingUpdate.maxSurge, maxUnavailable: spec.strategy?.maxUnavailable ?? rollingUpdate.maxUnavailable };
    const annotations: Record<string, string> = {};
    if (spec.safeToEvict === false) annotations[EvictionAnnotation.SafeToEvict] = 'false';
    if (spec.safeToEvict === true) annotations[EvictionAnnotation.SafeToEvict] = 'true';
    this.#annotations = annotations;
  }

  /** Desired replicas (spec.replicas as the HPA last set it). */
  get desired(): number {
    return this.#desired;
  }

  set desired(replicas: number) {
    this.#desired = replicas;
    if (this.#hpa !== undefined) this.#hpa.desired[this.#hpaIndex] = replicas;
  }

  /** The slow load noise's factor (1 without an HPA). */
  get #noiseFactor(): number {
    return this.#hpa === undefined ? 1 : (this.#hpa.noiseFactor[this.#hpaIndex] as number);
  }

  get key(): string {
    return `${this.spec.namespace}/${this.spec.name}`;
  }

  /** Pods that count for the ReplicaSets: not terminating, not a surge replacement still waiting. */
  get active(): number {
    let n = 0;
    for (const pod of this.pods) if (!pod.terminating && pod.surgeFor === undefined) n++;
    return n;
  }

  /** The current revision (the pod template new pods get). */
  get revision(): number {
    return (this.#sets[this.#sets.length - 1] as _ReplicaSet).revision;
  }

  /** Whether a rollout is under way: pods of an older revision are still wanted or still running. */
  get rollingOut(): boolean {
    return this.#sets.length > 1;
  }

  /** The ReplicaSets' revisions and replicas, oldest first, for tests and diagnostics. */
  replicaSets(): readonly { readonly revision: number; readonly uid: string; readonly replicas: number }[] {
    return this.#sets.map((s) => ({ revision: s.revision, uid: s.uid, replicas: s.replicas }));
  }

  /**
   * CPU (millicores) each Ready replica uses at an instant: the service's load (its requested CPU
   * at `spec.replicas` times its usage ratio, following its daily cycle and noise when it has an
   * HPA) shared by the Ready replicas, each capped at `burstLimit` times its request.
   */
  cpuUsagePerReadyPod(epochMs: number, usage: UsageSpec): number {
    // Asked for every Ready replica at each sample: the service's load is computed once per instant.
    if (epochMs !== this.#loadAt || this.#noiseFactor !== this.#loadNoise) {
      const hpa = this.spec.hpa;
      this.#load = hpa === undefined ? 1 : loadFactor(epochMs, hpa.amplitude, hpa.peakHour, hpa.weekendFactor) * this.#noiseFactor;
      this.#loadAt = epochMs;
      this.#loadNoise = this.#noiseFactor;
    }
    const s = this.spec;
    const total = s.cpu * (s.usageRatio ?? usage.defaultRatio) * s.replicas * this.#load;
    return Math.min(s.cpu * usage.burstLimit, total / Math.max(1, this.ready));
  }

  /** The workload view of a snapshot. */
  view(): WorkloadView {
    if (this.#view === undefined) {
      this.#view = { ref: this.ref, replicas: this.desired, selector: { matchLabels: this.labels }, annotations: this.spec.annotations ?? {}, labels: this.labels };
    }
    return this.#view;
  }

  /** A pod of this service about to be created, as the webhook sees it at admission (no node, no uid yet); one object per service. */
  newPodView(): PodView {
    if (this.#newPod === undefined) {
      const s = this.spec;
      this.#newPod = {
        namespace: s.namespace,
        name: '',
        uid: '',
        labels: this.labels,
        annotations: this.#annotations,
        requests: { cpu: s.cpu, memory: s.memory, pods: 1 },
        nodeName: '',
        phase: 'Pending',
        ready: false,
        priority: 0,
        priorityClassName: '',
        schedulerName: 'default-scheduler',
        owner: this.ref,
        controllerRef: { kind: 'ReplicaSet', name: this.ref.name, uid: this.uid },
        constraints: _NO_CONSTRAINTS,
        createdAt: 0,
        hasLocalStorage: s.localStorage,
        isMirror: false,
        pvcNames: [],
      };
    }
    return this.#newPod;
  }

  /** The PDB view with its status as the disruption controller computes it, or undefined without a PDB. */
  pdbView(): PdbView | undefined {
    const pdb = this.spec.pdb;
    if (pdb === undefined) return undefined;
    const base: PdbView = {
      namespace: this.spec.namespace,
      name: this.spec.name,
      selector: { matchLabels: this.labels },
      ...(pdb.minAvailable !== undefined ? { minAvailable: pdb.minAvailable } : { maxUnavailable: pdb.maxUnavailable ?? 1 }),
      disruptionsAllowed: Number.MAX_SAFE_INTEGER,
      currentHealthy: this.ready,
      desiredHealthy: 0,
      expectedPods: this.desired,
    };
    const podViews: PodView[] = [];
    for (const pod of this.pods) podViews.push(pod.view());
    const allowed = pdbAllowance(base, podViews, this.desired).computed;
    return { ...base, disruptionsAllowed: allowed, desiredHealthy: Math.max(0, this.ready - allowed) };
  }

  /**
   * Disruptions the PDB allows now (infinite without a PDB): `pdbView`'s, counted on the pods
   * themselves rather than on a view of each (the autoscaler asks this of every service on every
   * node it simulates removing, every scan). A pod's view carries its phase, readiness and
   * deletion as they are: views are rebuilt after each change.
   */
  disruptionsAllowed(): number {
    const pdb = this.spec.pdb;
    if (pdb === undefined) return Number.POSITIVE_INFINITY;
    let healthy = 0;
    for (const pod of this.pods) {
      if (pod.phase !== 'Succeeded' && pod.phase !== 'Failed' && pod.ready && pod.deletionRequestedAt === undefined) healthy++;
    }
    const budget = pdb.minAvailable !== undefined ? { minAvailable: pdb.minAvailable } : { maxUnavailable: pdb.maxUnavailable ?? 1 };
    return Math.max(0, healthy - pdbDesiredHealthy(budget, this.desired));
  }

  /**
   * The A2 floor: desired replicas minus the disruptions allowed when every replica is healthy.
   * With a PDB, the shared PDB rule at full health; without one, the Deployment's default
   * rolling-update budget (maxUnavailable 25%, rounded down), the disruption a rollout takes.
   */
  availabilityFloor(): number {
    const desired = this.desired;
    let floor = this.#floors.get(desired);
    if (floor === undefined) {
      if (this.spec.pdb === undefined) {
        floor = desired - Math.floor(desired / 4);
      } else {
        const healthy: PodView[] = [];
        for (let i = 0; i < desired; i++) healthy.push(_healthyPodStub);
        const pdb = this.pdbView() as PdbView;
        floor = desired - pdbAllowance({ ...pdb, disruptionsAllowed: Number.MAX_SAFE_INTEGER }, healthy, desired).computed;
      }
      this.#floors.set(desired, floor);
    }
    return floor;
  }

  // --- the ReplicaSet controller ---------------------------------------------------------------

  /**
   * The Deployment and ReplicaSet controllers: without a rollout, pods are created or deleted until
   * the active count matches the desired replicas; during one, each ReplicaSet's replicas follow
   * the rolling update (`rollingUpdateStep`) and its pods follow them, round after round, as the
   * controllers react to each other's changes, until nothing moves. Old ReplicaSets whose pods are
   * all gone are dropped: the rollout is complete.
   */
  reconcile(): void {
    if (this.#syncing) return;
    const sets = this.#sets;
    if (sets.length === 1) {
      // No rollout: the one ReplicaSet at the Deployment's replicas (the common path, kept lean).
      (sets[0] as _ReplicaSet).replicas = this.desired;
      const diff = this.desired - this.active;
      if (diff > 0) {
        for (let i = 0; i < diff; i++) this.createPod();
      } else if (diff < 0) {
        // Each deletion's pod event would reconcile again mid-loop, pick victims of its own and
        // recreate the surplus: the round that chose the victims deletes them, alone.
        this.#syncing = true;
        try {
          for (const pod of this.#scaleDownVictims(-diff, this.revision)) this.#workloads.lifecycle.delete(pod, DeletionCause.ScaleDown);
        } finally {
          this.#syncing = false;
        }
      }
      return;
    }
    this.#syncing = true;
    try {
      for (let round = 0; round < _MAX_SYNC_ROUNDS; round++) {
        if (!this.#rollingRound()) break;
      }
    } finally {
      this.#syncing = false;
    }
  }

  /** One round of a rollout: the ReplicaSets' replicas, then their pods; true when anything changed. */
  #rollingRound(): boolean {
    const sets = this.#sets;
    const counts = sets.map((set) => ({ replicas: set.replicas, available: 0, active: 0 }));
    const index = new Map<number, number>();
    sets.forEach((set, i) => index.set(set.revision, i));
    for (const pod of this.pods) {
      if (pod.terminating) continue;
      const c = counts[index.get(pod.spec.revision ?? 0) ?? -1];
      if (c === undefined || pod.surgeFor !== undefined) continue;
      c.active++;
      if (pod.ready) c.available++;
    }
    const next = rollingUpdateStep(this.desired, this.#strategy, counts);
    let changed = false;
    const current = sets.length - 1;
    sets.forEach((set, i) => {
      set.replicas = next[i] as number;
      const diff = set.replicas - (counts[i] as { active: number }).active;
      if (diff > 0) {
        for (let k = 0; k < diff; k++) this.createPod(undefined, set);
      } else if (diff < 0) {
        // The current ReplicaSet shrinks only when the Deployment does (the HPA); an old one, for the rollout.
        const cause = i === current ? DeletionCause.ScaleDown : DeletionCause.Rollout;
        for (const pod of this.#scaleDownVictims(-diff, set.revision)) this.#workloads.lifecycle.delete(pod, cause);
      }
      if (diff !== 0) changed = true;
    });
    // An old ReplicaSet at 0 replicas with no pod left running is done with.
    for (let i = current - 1; i >= 0; i--) {
      const set = sets[i] as _ReplicaSet;
      if (set.replicas === 0 && !this.#runsRevision(set.revision)) {
        sets.splice(i, 1);
        changed = true;
      }
    }
    return changed;
  }

  /** Whether a pod of `revision` is still running and not terminating (a surge replacement waiting included). */
  #runsRevision(revision: number): boolean {
    for (const pod of this.pods) if (!pod.terminating && (pod.spec.revision ?? 0) === revision) return true;
    return false;
  }

  /**
   * Starts a rollout: a new pod template, so a new ReplicaSet (revision), which the Deployment
   * controller scales up while it scales the old ones down.
   */
  startRollout(): void {
    const revision = this.revision + 1;
    this.#sets.push({ revision, uid: `${this.uid}-r${revision}`, labels: { ...this.labels, 'pod-template-hash': `r${revision}` }, replicas: 0 });
    this.reconcile();
  }

  /** Creates one pod of this service (of ReplicaSet `set`, the current one by default), placed by the webhook when the arm runs one. */
  createPod(surgeFor?: SimPod, set: _ReplicaSet = this.#sets[this.#sets.length - 1] as _ReplicaSet): SimPod {
    const w = this.#workloads;
    const placement = w.placementFor(this, surgeFor, set.revision);
    const stream = w.podStream;
    const s = this.spec;
    const startupMs = Math.round(Math.max(1_000, stream.lognormal(s.startupMs, 0.3)));
    const shutdownMs = Math.round(Math.min(s.gracePeriodMs, Math.max(500, stream.lognormal(s.shutdownMs, 0.3))));
    const spec: PodSpec = {
      name: `${s.name}-${(++this.#podSeq).toString(36)}`,
      namespace: s.namespace,
      owner: this,
      cpu: s.cpu,
      memory: s.memory,
      labels: set.labels,
      annotations: placement === undefined ? this.#annotations : { ...this.#annotations, ...placement.annotations },
      constraints: placement?.constraints ?? _NO_CONSTRAINTS,
      hasLocalStorage: s.localStorage,
      priority: 0,
      startupMs,
      shutdownMs,
      // The first revision's pods keep the shape they always had (no rollout, no change).
      ...(set.revision === 0 ? {} : { controllerUid: set.uid, revision: set.revision }),
    };
    const pod = w.lifecycle.create(spec);
    pod.surgeFor = surgeFor;
    pod.movedByStowage = surgeFor !== undefined || this.#replacingStowageMove;
    this.pods.add(pod);
    return pod;
  }

  /**
   * Which pods the ReplicaSet controller deletes on scale-down, in its ranking order
   * (`controller.ActivePodsWithRanks`): unscheduled first, then pending, then not Ready, then lower
   * pod-deletion-cost, then pods doubled up on a node with more replicas, then the most recently
   * Ready, then the newest.
   */
  #scaleDownVictims(count: number, revision: number): SimPod[] {
    const candidates = [...this.pods].filter((p) => !p.terminating && p.surgeFor === undefined && (p.spec.revision ?? 0) === revision);
    const perNode = new Map<SimNode, number>();
    for (const p of candidates) if (p.node !== undefined) perNode.set(p.node, (perNode.get(p.node) ?? 0) + 1);
    const rank = (p: SimPod): readonly number[] => [
      p.node === undefined ? 0 : 1,
      p.phase === 'Pending' ? 0 : 1,
      p.ready ? 1 : 0,
      podDeletionCost(p.spec.annotations),
      -(p.node === undefined ? 0 : (perNode.get(p.node) ?? 0)),
      // Later Ready ranks first (less time Ready); upstream buckets this logarithmically.
      -Math.floor(Math.log2(1 + Math.max(0, (p.readyAt ?? 0)) / 1_000)),
      -p.createdAt,
    ];
    return candidates
      .map((p) => ({ p, r: rank(p) }))
      .sort((a, b) => {
        for (let i = 0; i < a.r.length; i++) {
          const d = (a.r[i] as number) - (b.r[i] as number);
          if (d !== 0) return d;
        }
        return a.p.uid < b.p.uid ? -1 : 1;
      })
      .slice(0, count)
      .map((x) => x.p);
  }

  // --- pod events (PodOwner) -------------------------------------------------------------------

  onPodReady(pod: SimPod): void {
    this.ready++;
    const old = pod.surgeFor;
    if (old !== undefined) {
      // Make before break: the replacement is Ready, so it joins the ReplicaSet and the old pod goes.
      pod.surgeFor = undefined;
      this.surges.delete(old);
      this.#workloads.lifecycle.delete(old, DeletionCause.Descheduler);
    }
    this.#workloads.listener.onServiceChanged(this);
    this.#workloads.listener.onServicePodReady?.(this, pod);
    // A rollout moves on as its new pods become available: old ones may go, new ones may follow.
    if (this.#sets.length > 1) this.reconcile();
  }

  /** A Ready pod stopped being Ready without being deleted (its node went NotReady). */
  onPodUnready(): void {
    this.ready--;
    this.#workloads.listener.onServiceChanged(this);
    if (this.#sets.length > 1) this.reconcile();
  }

  onPodDeleting(pod: SimPod, wasReady: boolean, cause: DeletionCause): void {
    if (wasReady) {
      this.ready--;
      this.#workloads.listener.onServicePodLost?.(this, pod, cause);
    }
    const replacement = this.surges.get(pod);
    if (replacement !== undefined) {
      // The old pod went before its replacement was Ready: the replacement simply stays.
      this.surges.delete(pod);
      replacement.surgeFor = undefined;
    }
    if (pod.surgeFor !== undefined) {
      this.surges.delete(pod.surgeFor);
      pod.surgeFor = undefined;
    } else {
      // The replacement of a pod Stowage evicted runs where Stowage's move put it.
      this.#replacingStowageMove = cause === DeletionCause.Descheduler;
      this.reconcile();
      this.#replacingStowageMove = false;
    }
    if (wasReady) this.#workloads.listener.onServiceChanged(this);
  }

  onPodGone(pod: SimPod): void {
    this.pods.delete(pod);
  }

  /**
   * Starts a surge-first move of `old`: a replacement is created now, and `old` is deleted when
   * the replacement is Ready. Returns false when a move of this pod is already under way, or when
   * the pod is of an older revision (a rollout replaces it anyway).
   */
  surge(old: SimPod): boolean {
    // A pod of an older revision is being replaced by a rollout already: nothing to move.
    if (old.terminating || this.surges.has(old) || (old.spec.revision ?? 0) !== this.revision) return false;
    const replacement = this.createPod(old);
    this.surges.set(old, replacement);
    return true;
  }

  // --- the HPA ---------------------------------------------------------------------------------

  /** Joins the run's HPA bank at `index` (the HPA syncs from there); called once before the first sync. */
  joinHpa(bank: HpaBank, index: number): void {
    this.#hpa = bank;
    this.#hpaIndex = index;
  }

  setDesired(replicas: number): void {
    this.desired = replicas;
    this.#view = undefined;
    this.reconcile();
    this.#workloads.listener.onServiceChanged(this);
  }
}

/** A service's `usageNow`, as `cpuUsageAt` reads it for every Ready replica. */
function _usageNow(service: Service): number {
  return service.usageNow;
}

const _healthyPodStub = { phase: 'Running', ready: true } as PodView;

/**
 * The HPAs of a run's autoscaled services, their state in flat arrays by position: a sync of
 * 2,000 services walks these arrays in order rather than three objects per service scattered
 * over the heap (at 15-s syncs that walk is most of what the HPA costs). Same arithmetic, same
 * order as one service at a time.
 */
export class HpaBank {
  readonly services: readonly Service[];
  readonly #amplitude: Float64Array;
  readonly #cosPeak: Float64Array;
  readonly #sinPeak: Float64Array;
  readonly #weekendFactor: Float64Array;
  readonly #replicas: Float64Array;
  readonly #minReplicas: Float64Array;
  readonly #maxReplicas: Float64Array;
  readonly #sigma: Float64Array;
  readonly #noise: Float64Array;
  /** Each service's slow-noise load factor, exp of its noise. */
  readonly noiseFactor: Float64Array;
  /** Each service's desired replicas, kept equal to `Service.desired` by its setter. */
  readonly desired: Float64Array;
  /** Stabilisation-window slots (syncs). */
  readonly #window: number;
  /** Recommendations of the window, slot-major (`slot × services + service`): one sync writes one contiguous row. */
  readonly #recs: Int32Array;

  /** `services` must each have an HPA. */
  constructor(services: readonly Service[], config: Scenario['hpa']) {
    const n = services.length;
    this.services = services;
    this.#amplitude = new Float64Array(n);
    this.#cosPeak = new Float64Array(n);
    this.#sinPeak = new Float64Array(n);
    this.#weekendFactor = new Float64Array(n);
    this.#replicas = new Float64Array(n);
    this.#minReplicas = new Float64Array(n);
    this.#maxReplicas = new Float64Array(n);
    this.#sigma = new Float64Array(n);
    this.#noise = new Float64Array(n);
    this.noiseFactor = new Float64Array(n).fill(1);
    this.desired = new Float64Array(n);
    this.#window = Math.max(1, Math.ceil(config.downscaleStabilization / config.syncPeriod) + 1);
    // Slots start at 0 (no recommendation), which never raises the window's highest.
    this.#recs = new Int32Array(this.#window * n);
    services.forEach((service, i) => {
      const hpa = service.spec.hpa;
      if (hpa === undefined) throw new Error(`Cannot run the HPA of service "${service.key}": it has none`);
      this.#amplitude[i] = hpa.amplitude;
      this.#cosPeak[i] = Math.cos((2 * Math.PI * hpa.peakHour) / 24);
      this.#sinPeak[i] = Math.sin((2 * Math.PI * hpa.peakHour) / 24);
      this.#weekendFactor[i] = hpa.weekendFactor;
      this.#replicas[i] = service.spec.replicas;
      this.#minReplicas[i] = hpa.minReplicas;
      this.#maxReplicas[i] = hpa.maxReplicas;
      this.#sigma[i] = hpa.noise ?? 0;
      this.desired[i] = service.desired;
      service.joinHpa(this, i);
    });
  }

  /**
   * One HPA sync of every service, in order: the replicas the load asks for, with tolerance and
   * scale-down stabilisation. `clock` carries what every service shares at this instant.
   */
  sync(clock: HpaClock, config: Scenario['hpa']): void {
    const n = this.services.length;
    const window = this.#window;
    const recs = this.#recs;
    const row = (clock.tick % window) * n;
    const { cosHour, sinHour, weekend } = clock;
    const tolerance = config.tolerance;
    for (let i = 0; i < n; i++) {
      // cos(h − peak) = cos h cos peak + sin h sin peak: one cosine per sync, not per service.
      const cycle = 1 + (this.#amplitude[i] as number) * (cosHour * (this.#cosPeak[i] as number) + sinHour * (this.#sinPeak[i] as number));
      const load = (weekend ? (this.#weekendFactor[i] as number) : 1) * cycle * (this.noiseFactor[i] as number);
      const current = this.desired[i] as number;
      let recommended = Math.ceil((this.#replicas[i] as number) * load);
      if (Math.abs(recommended / current - 1) <= tolerance) recommended = current;
      recommended = Math.min(this.#maxReplicas[i] as number, Math.max(this.#minReplicas[i] as number, recommended));
      recs[row + i] = recommended;
      // Scale down only to the highest recommendation of the stabilisation window.
      let next = recommended;
      if (recommended < current) {
        let highest = recommended;
        for (let slot = i; slot < recs.length; slot += n) highest = Math.max(highest, recs[slot] as number);
        next = Math.min(current, highest);
      }
      if (next !== current) (this.services[i] as Service).setDesired(next);
    }
  }

  /** Advances every service's slow load noise (an Ornstein–Uhlenbeck process with a 1-hour memory), in order. */
  stepNoise(stream: RandomStream, intervalMs: number): void {
    const rho = Math.exp(-intervalMs / _HOUR_MS);
    for (let i = 0; i < this.services.length; i++) {
      const sigma = this.#sigma[i] as number;
      if (sigma === 0) continue;
      const noise = rho * (this.#noise[i] as number) + sigma * Math.sqrt(1 - rho * rho) * stream.normal();
      this.#noise[i] = noise;
      this.noiseFactor[i] = Math.exp(noise);
    }
  }
}


/** What every service's HPA sync shares at one instant. */
export interface HpaClock {
  /** Sync number since the start, indexing the stabilisation ring. */
  readonly tick: number;
  readonly cosHour: number;
  readonly sinHour: number;
  readonly weekend: boolean;
}

/** The HPA clock at an epoch instant: hour of day (UTC) as an angle, and whether it is a weekend. */
export function hpaClock(epochMs: number, tick: number): HpaClock {
  const hour = (((epochMs % _DAY_MS) + _DAY_MS) % _DAY_MS) / _HOUR_MS;
  const weekday = Math.floor(epochMs / _DAY_MS + 4) % 7; // 1970-01-01 was a Thursday (4)
  const angle = (2 * Math.PI * hour) / 24;
  return { tick, cosHour: Math.cos(angle), sinHour: Math.sin(angle), weekend: weekday === 0 || weekday === 6 };
}

/**
 * The daily load multiplier at an instant: `1 + amplitude × cos(2π (hour − peakHour) / 24)`,
 * times `weekendFactor` on Saturdays and Sundays (UTC).
 */
export function loadFactor(epochMs: number, amplitude: number, peakHour: number, weekendFactor: number): number {
  const hour = (((epochMs % _DAY_MS) + _DAY_MS) % _DAY_MS) / _HOUR_MS;
  const weekday = Math.floor(epochMs / _DAY_MS + 4) % 7; // 1970-01-01 was a Thursday (4)
  const weekend = weekday === 0 || weekday === 6 ? weekendFactor : 1;
  return weekend * (1 + amplitude * Math.cos((2 * Math.PI * (hour - peakHour)) / 24));
}


/** A batch Job: `parallelism` pods, each with its own work; a killed pod starts its work over. */
class Job implements PodOwner {
  readonly ref: WorkloadRef;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly #workloads: Workloads;
  readonly #work: readonly number[];
  readonly #cpu: number;
  readonly #memory: number;
  readonly #annotations: Readonly<Record<string, string>>;
  readonly #startup: number;
  /** Pod → the index of the work it does. */
  readonly #index = new Map<SimPod, number>();
  #done = 0;
  #seq = 0;

  constructor(workloads: Workloads, id: number, work: readonly number[], cpu: number, memory: number, safeToEvictFalse: boolean, startupMs: number) {
    this.ref = { kind: 'Job', namespace: 'batch', name: `job-${id}` };
    this.uid = `job-${id}`;
    this.labels = { 'job-name': this.ref.name };
    this.#workloads = workloads;
    this.#work = work;
    this.#cpu = cpu;
    this.#memory = memory;
    this.#annotations = safeToEvictFalse ? { [EvictionAnnotation.SafeToEvict]: 'false' } : {};
    this.#startup = startupMs;
  }

  start(): void {
    for (let i = 0; i < this.#work.length; i++) this.#create(i);
  }

  view(): WorkloadView {
    return { ref: this.ref, selector: { matchLabels: this.labels }, annotations: {}, labels: this.labels };
  }

  #create(index: number): void {
    const pod = this.#workloads.lifecycle.create({
      name: `${this.ref.name}-${(++this.#seq).toString(36)}`,
      namespace: this.ref.namespace,
      owner: this,
      cpu: this.#cpu,
      memory: this.#memory,
      labels: this.labels,
      annotations: this.#annotations,
      constraints: _NO_CONSTRAINTS,
      hasLocalStorage: false,
      priority: 0,
      startupMs: this.#startup,
      shutdownMs: 1_000,
      runMs: this.#work[index],
    });
    this.#index.set(pod, index);
  }

  onPodReady(): void {}

  /** The pods this Job still runs or will run (its work not done), with their requests. */
  demand(): PodGroup {
    return { cpu: this.#cpu, memory: this.#memory, count: this.#index.size };
  }

  onPodSucceeded(pod: SimPod): void {
    this.#index.delete(pod);
    this.#done++;
    if (this.#done === this.#work.length) this.#workloads.jobFinished(this);
  }

  onPodDeleting(pod: SimPod): void {
    // The Job controller replaces a pod that failed or was evicted; its work starts over.
    const index = this.#index.get(pod);
    if (index === undefined) return;
    this.#index.delete(pod);
    this.#create(index);
  }

  onPodGone(): void {}
}

/** The DaemonSet pods of a node (one pod with their summed requests), bound directly to it. */
class DaemonSet implements PodOwner {
  readonly ref: WorkloadRef = { kind: 'DaemonSet', namespace: 'kube-system', name: 'node-agents' };
  readonly uid = 'ds-node-agents';
  readonly labels = { app: 'node-agents' } as const;
  onPodReady(): void {}
  onPodDeleting(): void {}
  onPodGone(): void {}
}

/** system-node-critical, as node agents run. */
const _DAEMONSET_PRIORITY = 2_000_001_000;
const _DAEMONSET_TOLERATIONS: SchedulingConstraints = Object.freeze({ tolerations: Object.freeze([{ operator: 'Exists' as const }]) });

/** The placement webhook as the arm runs it. */
export interface PlacementConfig {
  /** The webhook's default policy; a Deployment's annotations override it field by field, as live. */
  readonly policy: PlacementPolicy;
  /** Namespaces whose pods the webhook never places. */
  readonly optOutNamespaces?: readonly string[];
  /**
   * The nodes the autoscaler can add now: a template of each node group that can grow (see
   * `RoomOptions.growable`). In an autoscaled cluster "no node has room now" is transient: a pod
   * that fits a template of its type is not stuck Pending, so the fallback need not apply.
   */
  readonly growable?: () => readonly NodeView[];
}

/** A service pod's placement: the constraints and annotations the webhook's patch adds. */
interface _Placement {
  readonly constraints: SchedulingConstraints;
  readonly annotations: Readonly<Record<string, string>>;
}

/** All workloads of a run and their controllers. */
export class Workloads {
  readonly services: readonly Service[];
  readonly lifecycle: PodLifecycle;
  readonly listener: WorkloadListener;
  readonly podStream: RandomStream;
  readonly #engine: Engine;
  readonly #random: RandomSource;
  readonly #scenario: Scenario;
  readonly #cluster: SimCluster;
  readonly #placement: PlacementConfig | undefined;
  readonly #placementCache = new Map<string, _Placement>();
  /** Each service's resolved placement policy, undefined when the webhook does not place it. */
  readonly #policies = new Map<Service, PlacementPolicy | undefined>();
  readonly #jobs = new Set<Job>();
  readonly #daemonSet = new DaemonSet();
  readonly #daemonTemplates = new Map<string, PodView>();
  #jobSeq = 0;
  /** Rollouts started so far (in the warm-up too), for the diagnostics. */
  rolloutsStarted = 0;

  constructor(engine: Engine, random: RandomSource, scenario: Scenario, cluster: SimCluster, lifecycle: PodLifecycle, listener: WorkloadListener, placement: PlacementConfig | undefined) {
    this.#engine = engine;
    this.#random = random;
    this.#scenario = scenario;
    this.#cluster = cluster;
    this.lifecycle = lifecycle;
    this.listener = listener;
    this.#placement = placement;
    this.podStream = random.stream('pods');
    this.services = scenario.services.map((spec, i) => new Service(spec, this, i, scenario.rollouts));
  }

  /**
   * CPU (millicores) a pod uses now, as `kubectl top pod` would show it: a Ready service replica
   * its share of the service's load, a running batch pod or node agent a fixed share of its
   * request, a pod starting or stopping nothing.
   */
  cpuUsage(pod: SimPod, epochMs: number): number {
    return this.#cpuUsage(pod, (service) => service.cpuUsagePerReadyPod(epochMs, this.#scenario.usage));
  }

  /**
   * `cpuUsage` at one instant, for reading many pods (the usage samples read every pod of every
   * Ready node): each service's use per Ready replica is computed once, up front, not per replica.
   */
  cpuUsageAt(epochMs: number): (pod: SimPod) => number {
    const usage = this.#scenario.usage;
    for (const service of this.services) service.usageNow = service.cpuUsagePerReadyPod(epochMs, usage);
    return (pod) => this.#cpuUsage(pod, _usageNow);
  }

  #cpuUsage(pod: SimPod, perReadyReplica: (service: Service) => number): number {
    if (pod.phase !== 'Running' || pod.terminating) return 0;
    const owner = pod.owner;
    if (owner instanceof Service) return pod.ready ? perReadyReplica(owner) : 0;
    const usage = this.#scenario.usage;
    return pod.spec.cpu * (owner === this.#daemonSet ? usage.daemonSetRatio : usage.jobRatio);
  }

  /** Epoch ms at run time `now`. */
  epoch(now: number): number {
    return this.#cluster.epochOffset + now;
  }

  /** Creates every service's pods and starts the HPA, the load noise and the job arrivals. */
  start(): void {
    const epoch = this.epoch(0);
    for (const s of this.services) {
      const hpa = s.spec.hpa;
      if (hpa !== undefined) s.desired = Math.min(hpa.maxReplicas, Math.max(hpa.minReplicas, Math.ceil(s.spec.replicas * loadFactor(epoch, hpa.amplitude, hpa.peakHour, hpa.weekendFactor))));
      s.reconcile();
      this.listener.onServiceChanged(s);
    }
    const config = this.#scenario.hpa;
    const noise = this.#random.stream('load-noise');
    const bank = new HpaBank(
      this.services.filter((s) => s.spec.hpa !== undefined),
      config,
    );
    this.#engine.every(config.noiseInterval, config.noiseInterval, () => bank.stepNoise(noise, config.noiseInterval));
    let tick = 0;
    this.#engine.every(config.syncPeriod, config.syncPeriod, () => bank.sync(hpaClock(this.epoch(this.#engine.now), tick++), config));
    if (this.#scenario.jobs.arrivalsPerHour > 0) this.#scheduleJobArrival();
    if (this.#scenario.rollouts.perServicePerDay > 0 && this.services.length > 0) this.#scheduleRollout(this.#random.stream('rollouts'));
  }

  /**
   * The next rollout of some service: one Poisson stream for all services at the rate of the
   * working hours, thinned to zero outside them and to `weekendFactor` on weekends (Lewis–Shedler,
   * as job arrivals), the service drawn uniformly. One event pending at a time, whatever the count
   * of services. Each weekday a service rolls out `perServicePerDay` times on average.
   */
  #scheduleRollout(stream: RandomStream): void {
    const r = this.#scenario.rollouts;
    const hours = r.hours.max - r.hours.min;
    const perDay = this.services.length * r.perServicePerDay * (24 / hours);
    this.#engine.after(stream.exponential(_DAY_MS / perDay), () => {
      const epoch = this.epoch(this.#engine.now);
      const hour = (((epoch % _DAY_MS) + _DAY_MS) % _DAY_MS) / _HOUR_MS;
      const weekday = Math.floor(epoch / _DAY_MS + 4) % 7; // 1970-01-01 was a Thursday (4)
      const keep = (hour >= r.hours.min && hour < r.hours.max ? 1 : 0) * (weekday === 0 || weekday === 6 ? r.weekendFactor : 1);
      // Both draws every time, so the stream's sequence does not depend on which candidates are kept.
      const pick = stream.int(0, this.services.length - 1);
      if (stream.next() < keep) {
        this.rolloutsStarted++;
        (this.services[pick] as Service).startRollout();
      }
      this.#scheduleRollout(stream);
    });
  }

  /** Views of every workload, for a snapshot. */
  workloadViews(): WorkloadView[] {
    const views: WorkloadView[] = this.services.map((s) => s.view());
    for (const job of this.#jobs) views.push(job.view());
    return views;
  }

  /**
   * The pods the controllers want running now, by shape: each service's desired replicas and each
   * Job's unfinished pods (DaemonSet pods aside: they come with every node). What the
   * perfect-packing bound packs; with a webhook, each service's on-demand floor for its desired
   * replicas is the part it must keep on on-demand capacity.
   */
  demand(): PodGroup[] {
    const groups: PodGroup[] = this.services.map((s) => {
      const floor = this.#policyOf(s);
      return { cpu: s.spec.cpu, memory: s.spec.memory, count: s.desired, ...(floor === undefined ? {} : { onDemand: onDemandFloor(s.desired, floor) }) };
    });
    for (const job of this.#jobs) groups.push(job.demand());
    return groups;
  }

  pdbViews(): PdbView[] {
    const views: PdbView[] = [];
    for (const s of this.services) {
      const v = s.pdbView();
      if (v !== undefined) views.push(v);
    }
    return views;
  }

  /**
   * The DaemonSet pod a node of the slot `nodeName` will run once Ready, as Cluster Autoscaler
   * adds DaemonSet pods to its node-group templates and upcoming nodes: without it, a pod that fits
   * the bare template but not a real node would launch node after node. Undefined when the
   * DaemonSets request nothing.
   */
  daemonPodTemplate(nodeName: string): PodView | undefined {
    const ds = this.#scenario.daemonSet;
    if (ds.cpu <= 0 && ds.memory <= 0) return undefined;
    let view = this.#daemonTemplates.get(nodeName);
    if (view === undefined) {
      const owner = this.#daemonSet;
      view = {
        namespace: owner.ref.namespace,
        name: `node-agents-${nodeName}`,
        uid: `ds-template-${nodeName}`,
        labels: owner.labels,
        annotations: {},
        requests: { cpu: ds.cpu, memory: ds.memory, pods: 1 },
        nodeName,
        phase: 'Pending',
        ready: false,
        priority: _DAEMONSET_PRIORITY,
        priorityClassName: '',
        schedulerName: 'default-scheduler',
        owner: owner.ref,
        controllerRef: { kind: 'DaemonSet', name: owner.ref.name, uid: owner.uid },
        constraints: _DAEMONSET_TOLERATIONS,
        createdAt: 0,
        hasLocalStorage: false,
        isMirror: false,
        pvcNames: [],
      };
      this.#daemonTemplates.set(nodeName, view);
    }
    return view;
  }

  /** Creates the DaemonSet pod of a node that just became Ready and binds it there. */
  startDaemonPod(node: SimNode): void {
    const ds = this.#scenario.daemonSet;
    const pod = this.lifecycle.create({
      name: `node-agents-${node.name}`,
      namespace: 'kube-system',
      owner: this.#daemonSet,
      cpu: ds.cpu,
      memory: ds.memory,
      labels: this.#daemonSet.labels,
      annotations: {},
      constraints: _DAEMONSET_TOLERATIONS,
      hasLocalStorage: false,
      priority: _DAEMONSET_PRIORITY,
      startupMs: 5_000,
      shutdownMs: 1_000,
    });
    this.lifecycle.bind(pod, node);
  }

  /**
   * The Eviction API: deletes the pod unless its PodDisruptionBudget allows no disruption now
   * (the apiserver answers 429). Returns whether the pod was evicted.
   */
  evict(pod: SimPod, cause: DeletionCause): boolean {
    if (pod.terminating) return false;
    const owner = pod.owner;
    if (owner instanceof Service && owner.spec.pdb !== undefined && pod.ready && owner.disruptionsAllowed() < 1) return false;
    return this.lifecycle.delete(pod, cause);
  }

  /**
   * Takes over a pod that already runs on `node` (a live cluster's, replayed): bound and Ready
   * now, with the pod's own name, labels, annotations, constraints and creation time, counted by
   * its service's ReplicaSet as one of its replicas.
   */
  adoptPod(service: Service, view: PodView, node: SimNode): SimPod {
    const s = service.spec;
    const now = this.#engine.now;
    const pod = this.#cluster.createPod(
      {
        name: view.name,
        namespace: view.namespace,
        owner: service,
        cpu: view.requests['cpu'] ?? s.cpu,
        memory: view.requests['memory'] ?? s.memory,
        labels: service.labels,
        annotations: view.annotations,
        constraints: view.constraints,
        hasLocalStorage: view.hasLocalStorage,
        priority: view.priority,
        startupMs: s.startupMs,
        shutdownMs: s.shutdownMs,
      },
      view.createdAt - this.#cluster.epochOffset,
    );
    this.#cluster.bind(pod, node, now);
    pod.phase = 'Running';
    pod.ready = view.ready;
    pod.readyAt = view.ready ? now : undefined;
    pod.invalidate();
    service.pods.add(pod);
    if (view.ready) service.ready++;
    return pod;
  }

  jobFinished(job: Job): void {
    this.#jobs.delete(job);
  }

  /**
   * The webhook's decision for a new pod of `service`, as constraints and annotations, or
   * undefined without a webhook: the shared placement inputs (counts, room with the full fit
   * rules on the cluster's fit state, the patch) as the live webhook computes them. The pod is
   * counted with the pods of its own revision (ReplicaSet), as the webhook counts a Deployment's
   * pods (`placementGroup`): a rollout's new revision gets its own floor instead of leaning on old
   * pods about to go. A surge replacement is counted apart from the pod it replaces likewise.
   */
  placementFor(service: Service, replacing?: SimPod, revision: number = service.revision): _Placement | undefined {
    const config = this.#placement;
    const policy = this.#policyOf(service);
    if (config === undefined || policy === undefined) return undefined;
    const options = this.#patchOptions(config);
    const members = [];
    for (const pod of service.pods) if (pod !== replacing && (pod.spec.revision ?? 0) === revision) members.push(countedPod(pod.view(), options.capacityLabel));
    const growable = config.growable?.();
    // Room the pods not bound yet will take: read only when a type has no group that can grow.
    const pending = [];
    if (growable === undefined || !growable.some((n) => n.capacityType === 'on-demand') || !growable.some((n) => n.capacityType === 'spot')) {
      for (const pod of this.#cluster.pending) pending.push({ ...countedPod(pod.view(), options.capacityLabel), requests: pod.view().requests });
    }
    const { decision } = placeNewPod({
      pod: service.newPodView(),
      workload: { ...service.ref, kind: 'Deployment' },
      replicas: service.desired,
      members,
      policy,
      state: this.#cluster.fit,
      options: { ...options, reserved: pendingRequests(pending), ...(growable === undefined ? {} : { growable }) },
    });
    // The pod `placeNewPod` returns is the same for every pod of a variant: shared, not rebuilt.
    return this.#placementOf(decision, options);
  }

  /**
   * The webhook's policy for `service`, resolved as the webhook resolves it (the Deployment's
   * annotations over the defaults; the simulator has no namespace annotations); undefined when the
   * webhook does not place it. Resolved once: a service's annotations never change in a run.
   */
  #policyOf(service: Service): PlacementPolicy | undefined {
    if (this.#policies.has(service)) return this.#policies.get(service);
    const config = this.#placement;
    let policy: PlacementPolicy | undefined;
    if (config !== undefined && config.optOutNamespaces?.includes(service.spec.namespace) !== true) {
      const resolved = service.spec.annotations === undefined ? { optOut: false as const, policy: config.policy } : resolvePlacementPolicy(service.spec.annotations, undefined, config.policy);
      if (!resolved.optOut) policy = resolved.policy;
    }
    this.#policies.set(service, policy);
    return policy;
  }

  #patchOptions(config: PlacementConfig): PlacementPatchOptions {
    const toleration = config.policy.spotToleration;
    return toleration === undefined ? DEFAULT_PLACEMENT_PATCH_OPTIONS : { ...DEFAULT_PLACEMENT_PATCH_OPTIONS, spotToleration: toleration };
  }

  /** The webhook's patch applied to a pod with no constraints of its own; one object per variant. */
  #placementOf(decision: PlacementDecision, options: PlacementPatchOptions): _Placement {
    const key = `${decision.capacityType}|${decision.required}`;
    let placement = this.#placementCache.get(key);
    if (placement === undefined) {
      const placed = applyPlacement({ constraints: _NO_CONSTRAINTS, annotations: {} }, decision, options);
      placement = { constraints: Object.freeze(placed.constraints), annotations: placed.annotations };
      this.#placementCache.set(key, placement);
    }
    return placement;
  }

  #scheduleJobArrival(): void {
    const jobs = this.#scenario.jobs;
    const stream = this.#random.stream('jobs');
    const peakRate = jobs.arrivalsPerHour * (1 + jobs.dailyAmplitude);
    // Thinning (Lewis–Shedler): candidates at the peak rate, kept with probability rate(t)/peak.
    const gap = stream.exponential(_HOUR_MS / peakRate);
    this.#engine.after(gap, () => {
      const rate = jobs.arrivalsPerHour * loadFactor(this.epoch(this.#engine.now), jobs.dailyAmplitude, jobs.peakHour, 1);
      if (stream.next() < rate / peakRate) this.#startJob(stream);
      this.#scheduleJobArrival();
    });
  }

  #startJob(stream: RandomStream): void {
    const jobs = this.#scenario.jobs;
    const parallelism = stream.int(jobs.parallelism.min, jobs.parallelism.max);
    const work: number[] = [];
    for (let i = 0; i < parallelism; i++) work.push(Math.round(drawLognormal(stream, jobs.durationMs)));
    const cpu = Math.max(10, Math.round(drawLognormal(stream, jobs.cpu) / 10) * 10);
    const memory = Math.round(((cpu / 1000) * drawLognormal(stream, jobs.memoryPerCpu)) / 2 ** 24) * 2 ** 24;
    const safeToEvictFalse = stream.bernoulli(jobs.safeToEvictFalseShare);
    const startup = Math.round(drawLognormal(stream, jobs.startupMs));
    const job = new Job(this, ++this.#jobSeq, work, cpu, Math.max(64 * 2 ** 20, memory), safeToEvictFalse, startup);
    this.#jobs.add(job);
    job.start();
  }
}
