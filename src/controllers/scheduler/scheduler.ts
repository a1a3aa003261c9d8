/**
 * `stowage scheduler`'s loop, as kube-scheduler's scheduleOne: driven by the cluster cache's watch
 * events (no polling), it pops the next pod from the scheduling queue, runs one pure scheduling
 * cycle (`src/policy/schedule/framework.ts`) on the incrementally kept fit state, reserves the
 * pod on the chosen node (assume) and goes on to the next pod at once while the bind runs in the
 * background, a bounded number at a time. A failed bind forgets the reservation and the pod backs
 * off. A pod that fits nowhere gets the PodScheduled=False condition and a FailedScheduling Event
 * in kube-scheduler's words, and, when lower-priority pods stand in its way, preempts them: its
 * `status.nominatedNodeName` is set, the victims are deleted with their grace period, and room is
 * held for it on that node until it is bound.
 *
 * Only pods whose `spec.schedulerName` names one of the profiles are touched.
 */
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions, type CoreV1Api } from '@kubernetes/client-node';
import type { KubePod } from '../../core/from-kube.js';
import type { PodView } from '../../core/model.js';
import type { SchedulerConfig } from '../../config/scheduler-config.js';
import type { ClusterCache } from '../../kube/cluster-cache.js';
import { describeApiError } from '../../kube/errors.js';
import type { EventRecorder, EventType } from '../../kube/events.js';
import { objectKey } from '../../kube/informer-store.js';
import type { TokenBucket } from '../../kube/rate-limit.js';
import { withRetry } from '../../kube/retry.js';
import type { Logger } from '../../observability/log.js';
import { scheduleOne, type SchedulerProfile } from '../../policy/schedule/framework.js';
import type { PreemptionCandidate } from '../../policy/schedule/preemption.js';
import { GangPermits, gangFits, gangPreFilter, podGroupKeyOf, POD_GROUP_LABEL, type GangOrderKey } from '../../policy/schedule/gang.js';
import { SchedulingQueue, type QueuedPodInfo } from '../../policy/schedule/queue.js';
import type { PodGroups } from './pod-groups.js';
import type { LiveFitState } from './live-state.js';
import type { SchedulerMetrics } from './metrics.js';

/** A pod in the queue: its key and priority, and the object as last seen. */
interface _Queued extends QueuedPodInfo {
  readonly pod: KubePod;
}

/** What {@link LiveScheduler} works with; the cache must be started and synced. */
export interface LiveSchedulerOptions {
  readonly core: CoreV1Api;
  readonly cache: ClusterCache;
  readonly state: LiveFitState;
  readonly config: SchedulerConfig;
  readonly log: Logger;
  readonly metrics: SchedulerMetrics;
  /** One recorder per profile: Events name the scheduler (`source.component`) as kube-scheduler's do. */
  readonly events: (schedulerName: string) => EventRecorder;
  /** The client budget of binds, deletes and status writes (`--kube-api-qps`, `--kube-api-burst`). */
  readonly limiter: TokenBucket;
  /** Events have their own budget, as kube-scheduler's event client. */
  readonly eventLimiter: TokenBucket;
  /** PodGroups, when the CRD is served; without it a pod with the pod-group label is never scheduled (its group cannot be read). */
  readonly podGroups?: PodGroups;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** A gang member reserved on a node and waiting at Permit for the rest of its group. */
interface _Waiting {
  readonly item: _Queued;
  readonly view: PodView;
  readonly nodeName: string;
  readonly profile: SchedulerProfile;
}

/** kube-scheduler's flushUnschedulablePodsLeftover period. */
const _FLUSH_INTERVAL_MS = 30_000;
/** Status writes and victim deletes waiting beyond this are dropped (counted). */
const _MAX_PENDING_WRITES = 5_000;
const _WRITE_CONCURRENCY = 8;
/**
 * Events are written two at a time, at most 1,000 waiting (client-go's maxQueuedEvents; beyond
 * that they are dropped and counted), as kube-scheduler's events broadcaster writes them one at a
 * time from a bounded queue: they explain, they do not decide, and they must not take the
 * apiserver's capacity from binds. Eight at a time once made a third of the scheduler's requests
 * Events and halved its binds per second in `npm run bench:scheduler --backlog`.
 */
const _EVENT_CONCURRENCY = 2;
const _MAX_PENDING_EVENTS = 1_000;
/** On stop, Events still waiting this long after the last bind are dropped (counted), not awaited. */
const _EVENT_GRACE_MS = 2_000;

/** See the module comment. */
export class LiveScheduler {
  readonly metrics: SchedulerMetrics;
  readonly #o: LiveSchedulerOptions;
  readonly #profiles: ReadonlyMap<string, SchedulerProfile>;
  readonly #queue: SchedulingQueue<_Queued>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #bindSlots: _Semaphore;
  readonly #writes: _BoundedWork;
  readonly #eventWrites: _BoundedWork;
  /** key → when the pod first entered the queue, for the end-to-end latency. */
  readonly #firstSeen = new Map<string, number>();
  /** uid → the last unschedulable message written to its PodScheduled condition. */
  readonly #lastMessage = new Map<string, string>();
  readonly #binds = new Set<Promise<void>>();
  readonly #permits = new GangPermits();
  /** Gang members waiting at Permit, by pod key. */
  readonly #waiting = new Map<string, _Waiting>();
  /** Per group: failed attempts, and the end of its backoff (the group backs off as one). */
  readonly #gangBackoff = new Map<string, { attempts: number; until: number }>();
  #startIndex = 0;
  #wake: (() => void) | undefined;
  #signal: AbortSignal | undefined;

  constructor(options: LiveSchedulerOptions) {
    this.#o = options;
    this.#profiles = new Map(options.config.profiles.map((p) => [p.schedulerName, p]));
    this.#queue = new SchedulingQueue<_Queued>({ initialBackoffMs: options.config.podInitialBackoffMs, maxBackoffMs: options.config.podMaxBackoffMs });
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#bindSlots = new _Semaphore(options.config.bindConcurrency);
    this.metrics = options.metrics;
    this.metrics.watchQueue(() => this.#queue.lengths());
    const onDrop = (kind: string, count = 1): void => this.metrics.dropped.inc({ kind }, count);
    this.#writes = new _BoundedWork(_WRITE_CONCURRENCY, _MAX_PENDING_WRITES, onDrop);
    this.#eventWrites = new _BoundedWork(_EVENT_CONCURRENCY, _MAX_PENDING_EVENTS, onDrop);
  }

  /** How many pods the queue holds, in flight included. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Schedules until `signal` aborts, then waits for the binds in flight. */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    const { cache, state } = this.#o;
    const unsubscribe = [
      cache.on('pods', (event, pod) => this.#onPod(event, pod)),
      cache.on('nodes', (event, node) => {
        if (state.applyNode(event, node) === 'room') this.#moveAll();
      }),
      ...(['replicasets', 'statefulsets', 'services', 'jobs'] as const).map((kind) => cache.on(kind, () => state.invalidate('owners'))),
      cache.on('poddisruptionbudgets', () => state.invalidate('pdbs')),
    ];
    // A PodGroup created or changed (minMember lowered) may let its members through.
    this.#o.podGroups?.onChange(() => this.#moveAll());
    for (const pod of cache.list('pods')) if (this.#wants(pod)) this.#enqueue(pod);
    const flush = setInterval(() => {
      this.#queue.flushUnschedulable(this.#now());
      this.#kick();
    }, _FLUSH_INTERVAL_MS);
    const onAbort = (): void => this.#kick();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#o.log.info({ profiles: [...this.#profiles.keys()], nodes: state.fit.nodeNames.length, queued: this.#queue.size }, 'Scheduler started');
    try {
      while (!signal.aborted) {
        this.#expireGangs();
        await this.#bindSlots.acquire();
        const item = this.#queue.pop(this.#now());
        if (item === undefined) {
          this.#bindSlots.release();
          await this.#idle(signal);
          continue;
        }
        try {
          this.#cycle(item);
        } catch (error) {
          // A bug or a malformed pod: the pod backs off rather than stopping every other.
          this.#bindSlots.release();
          this.#o.log.error({ pod: item.key, error: (error as Error).message }, 'Scheduling cycle failed');
          this.metrics.attempts.inc({ result: 'error', profile: item.pod.spec?.schedulerName ?? '' });
          this.#queue.requeueBackoff(item.key, this.#now());
        }
        // Let watch events in between pods: the state stays as current as the cache.
        await yieldToEvents();
      }
    } finally {
      clearInterval(flush);
      signal.removeEventListener('abort', onAbort);
      for (const off of unsubscribe) off();
      await Promise.allSettled([...this.#binds]);
      await this.#writes.drain();
      // Events left over are explanations of work already done: a short grace, then dropped.
      const grace = setTimeout(() => this.#eventWrites.discardPending(), _EVENT_GRACE_MS);
      await this.#eventWrites.drain();
      clearTimeout(grace);
    }
  }

  #wants(pod: KubePod): boolean {
    const spec = pod.spec;
    if (spec === undefined || (spec.nodeName ?? '') !== '' || pod.metadata?.deletionTimestamp != null) return false;
    if (!this.#profiles.has(spec.schedulerName ?? 'default-scheduler')) return false;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return false;
    // Upstream's SchedulingGates PreEnqueue: a gated pod waits outside the queue.
    return ((spec as { schedulingGates?: readonly unknown[] }).schedulingGates ?? []).length === 0;
  }

  #enqueue(pod: KubePod): void {
    const key = objectKey(pod as { metadata?: { name?: string; namespace?: string } });
    const now = this.#now();
    if (!this.#firstSeen.has(key)) this.#firstSeen.set(key, now);
    const gangKey = podGroupKeyOf({ namespace: pod.metadata?.namespace ?? '', labels: pod.metadata?.labels ?? {} });
    const gang = gangKey === undefined ? undefined : { key: gangKey, createdAt: this.#o.podGroups?.get(gangKey)?.createdAt ?? 0 };
    this.#queue.add({ key, priority: pod.spec?.priority ?? 0, pod, ...(gang === undefined ? {} : { gang }) }, now);
    this.#kick();
  }

  #onPod(event: 'add' | 'update' | 'delete', pod: KubePod): void {
    const change = this.#o.state.applyPod(event, pod);
    const key = objectKey(pod as { metadata?: { name?: string; namespace?: string } });
    if (event !== 'delete' && this.#wants(pod)) {
      this.#enqueue(pod);
      // A new member may be what its group lacked (Coscheduling requeues the group on a pod add).
      if (event === 'add' && (pod.metadata?.labels?.[POD_GROUP_LABEL] ?? '') !== '') this.#moveAll();
    } else if (this.#queue.locationOf(key) !== undefined) {
      this.#queue.delete(key);
      this.#firstSeen.delete(key);
    }
    if (event === 'delete') {
      this.#lastMessage.delete(pod.metadata?.uid ?? '');
      const waiting = this.#waiting.get(key);
      if (waiting !== undefined) {
        this.#waiting.delete(key);
        this.#permits.drop(waiting.item.gang?.key ?? '', key);
      }
    }
    if (change === 'room') this.#moveAll();
  }

  /** A cluster event that may let unschedulable pods fit: they go back to be tried. */
  #moveAll(): void {
    if (this.#queue.moveAllToActiveOrBackoff(this.#now()) > 0) this.#kick();
  }

  #kick(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits for a pod to schedule: a queue change, the end of a backoff, or the stop signal. */
  async #idle(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const now = this.#now();
    const queued = this.#queue.nextWakeAt(now);
    const deadline = this.#permits.nextDeadline();
    const at = queued === undefined ? deadline : deadline === undefined ? queued : Math.min(queued, deadline);
    if (at !== undefined && at <= now) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(_FLUSH_INTERVAL_MS, at === undefined ? _FLUSH_INTERVAL_MS : at - now));
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One scheduling cycle: decide, then reserve and bind, or report and maybe preempt. */
  #cycle(item: _Queued): void {
    const { state } = this.#o;
    const metrics = this.metrics;
    const pod = item.pod;
    const profile = this.#profiles.get(pod.spec?.schedulerName ?? '') as SchedulerProfile;
    const view = state.podView(pod);
    if (item.gang !== undefined) {
      this.#gangCycle(item, view, profile, item.gang.key, this.#o.podGroups);
      return;
    }
    const started = performance.now();
    const nominated = state.nominatedNode(view.uid) ?? (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName;
    const { decision, nextStartIndex } = scheduleOne(state.fit, view, profile, {
      pdbs: state.pdbs(),
      percentageOfNodesToScore: this.#o.config.percentageOfNodesToScore,
      random: this.#random,
      startIndex: this.#startIndex,
      ...(nominated === undefined ? {} : { nominatedNodeName: nominated }),
    });
    this.#startIndex = nextStartIndex;
    const seconds = (performance.now() - started) / 1000;
    const result = decision.ok ? 'scheduled' : 'unschedulable';
    metrics.attempts.inc({ result, profile: profile.schedulerName });
    metrics.attemptSeconds.observe({ result, profile: profile.schedulerName }, seconds);
    if (decision.ok) {
      state.assume(view, decision.nodeName);
      this.#startBind(item, view, decision.nodeName, profile, true);
      return;
    }
    this.#bindSlots.release();
    this.#queue.requeueUnschedulable(item.key, this.#now());
    this.#o.log.debug({ pod: item.key, reason: decision.reason.message }, 'Pod is unschedulable');
    if (decision.preemption !== undefined) this.#preempt(view, decision.preemption, profile);
    this.#reportUnschedulable(pod, profile, decision.reason.message, decision.preemption?.nodeName);
  }

  /** Binds in the background; a bind that does not hold a slot yet (a gang member let through) waits for one. */
  #startBind(item: _Queued, view: PodView, nodeName: string, profile: SchedulerProfile, holdsSlot: boolean): void {
    const bind = (async () => {
      if (!holdsSlot) await this.#bindSlots.acquire();
      try {
        await this.#bind(item, view, nodeName, profile);
      } finally {
        this.#bindSlots.release();
        this.#kick();
      }
    })().finally(() => this.#binds.delete(bind));
    this.#binds.add(bind);
  }

  /**
   * A gang member's cycle (see `src/policy/schedule/gang.ts`): PreFilter (the group exists, has
   * minMember pods, is not backing off); before the group's first reservation, the whole group
   * tried on the state; then the member's own cycle without preemption; a member that fits nowhere
   * makes later-ordered waiting groups yield; a reserved member waits at Permit until minMember
   * hold room, and then all of them are bound.
   */
  #gangCycle(item: _Queued, view: PodView, profile: SchedulerProfile, gangKey: string, podGroups: PodGroups | undefined): void {
    const { state, cache } = this.#o;
    const now = this.#now();
    const started = performance.now();
    const group = podGroups?.get(gangKey);
    const groupName = gangKey.slice(view.namespace.length + 1);
    const members = cache.list('pods', view.namespace).filter((p) => p.metadata?.labels?.[POD_GROUP_LABEL] === groupName && p.metadata?.deletionTimestamp == null && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    // Bound, or let through and binding (assumed, no longer waiting at Permit).
    const bound = members.filter((p) => (p.spec?.nodeName ?? '') !== '' || (state.isAssumed(p.metadata?.uid ?? '') && !this.#waiting.has(`${view.namespace}/${p.metadata?.name ?? ''}`))).length;
    const order: GangOrderKey = { priority: view.priority, createdAt: group?.createdAt ?? 0, key: gangKey };
    const context = { pdbs: [], percentageOfNodesToScore: this.#o.config.percentageOfNodesToScore, random: this.#random, startIndex: this.#startIndex };
    const fail = (message: string, backoff: boolean): void => {
      this.#bindSlots.release();
      this.metrics.attempts.inc({ result: 'unschedulable', profile: profile.schedulerName });
      this.metrics.attemptSeconds.observe({ result: 'unschedulable', profile: profile.schedulerName }, (performance.now() - started) / 1000);
      if (backoff) this.#queue.requeueBackoff(item.key, now);
      else this.#queue.requeueUnschedulable(item.key, now);
      this.#reportUnschedulable(item.pod, profile, message, undefined);
    };
    const rejection = gangPreFilter(gangKey, group, members.length, this.#gangBackoff.get(gangKey)?.until, now);
    if (rejection !== undefined || group === undefined) {
      const message = rejection?.message ?? `PodGroup "${gangKey}" does not exist`;
      if (rejection?.code !== 'GroupBackoff') void podGroups?.report(gangKey, { phase: 'Pending', reason: { code: rejection?.code ?? 'PodGroupNotFound', message } });
      fail(message, rejection?.code === 'GroupBackoff');
      return;
    }
    if (this.#permits.waitingCount(gangKey) === 0 && bound < group.minMember) {
      const unplaced = members
        .filter((p) => (p.spec?.nodeName ?? '') === '' && !state.isAssumed(p.metadata?.uid ?? ''))
        .map((p) => state.podView(p))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const whole = gangFits(state.fit, gangKey, unplaced, group.minMember - bound, profile, context);
      if (whole !== undefined) {
        this.#rejectGang(gangKey, whole, now);
        fail(whole.message, true);
        return;
      }
    }
    const { decision, nextStartIndex } = scheduleOne(state.fit, view, { ...profile, preemption: false }, context);
    this.#startIndex = nextStartIndex;
    if (!decision.ok) {
      // Room held by a group later in the order may be what this one lacks: that group yields.
      for (const key of this.#permits.yieldingGroups(gangKey, order)) {
        this.#rejectGang(key, { code: 'Yielded', message: `PodGroup "${key}" released its reservations for PodGroup "${gangKey}", which comes first` }, now);
      }
      fail(decision.reason.message, false);
      return;
    }
    state.assume(view, decision.nodeName);
    this.metrics.attempts.inc({ result: 'scheduled', profile: profile.schedulerName });
    this.metrics.attemptSeconds.observe({ result: 'scheduled', profile: profile.schedulerName }, (performance.now() - started) / 1000);
    const verdict = this.#permits.permit(gangKey, group, order, { podKey: item.key, nodeName: decision.nodeName }, bound, now);
    if (verdict.kind === 'wait') {
      // The reservation stays; the bind slot does not (a group may be larger than the bind concurrency).
      this.#waiting.set(item.key, { item, view, nodeName: decision.nodeName, profile });
      this.#bindSlots.release();
      void podGroups?.report(gangKey, { phase: 'Scheduling', scheduled: bound, reason: { code: 'WaitingForMembers', message: `${bound + this.#permits.waitingCount(gangKey)} of ${group.minMember} member(s) hold room; waiting for the rest` } });
      return;
    }
    this.#gangBackoff.delete(gangKey);
    for (const member of verdict.members) {
      if (member.podKey === item.key) {
        this.#startBind(item, view, decision.nodeName, profile, true);
        continue;
      }
      const waiting = this.#waiting.get(member.podKey);
      this.#waiting.delete(member.podKey);
      if (waiting !== undefined) this.#startBind(waiting.item, waiting.view, waiting.nodeName, waiting.profile, false);
    }
    this.metrics.gangOutcomes.inc({ outcome: 'admitted' });
    this.#o.log.info({ podGroup: gangKey, members: verdict.members.length, bound }, 'PodGroup admitted: binding its members');
    void podGroups?.report(gangKey, { phase: 'Scheduled', scheduled: bound + verdict.members.length });
  }

  /**
   * Rejects a group: every waiting member's reservation is released and it backs off, and the
   * group backs off as one (1 s doubling to 10 s, as a pod), with the reason on the PodGroup.
   */
  #rejectGang(gangKey: string, reason: { readonly code: string; readonly message: string }, now: number): void {
    const { state } = this.#o;
    const released = this.#permits.reject(gangKey);
    for (const member of released) {
      const waiting = this.#waiting.get(member.podKey);
      this.#waiting.delete(member.podKey);
      if (waiting === undefined) continue;
      state.forget(waiting.view.uid);
      this.#queue.requeueBackoff(member.podKey, now);
    }
    this.metrics.gangOutcomes.inc({ outcome: reason.code });
    const attempts = (this.#gangBackoff.get(gangKey)?.attempts ?? 0) + 1;
    this.#gangBackoff.set(gangKey, { attempts, until: now + this.#queue.backoffMs(attempts) });
    this.#o.log.info({ podGroup: gangKey, code: reason.code }, `PodGroup rejected: ${reason.message}`);
    void this.#o.podGroups?.report(gangKey, { phase: 'Pending', scheduled: 0, reason });
    // Released room may let others fit.
    if (released.length > 0) this.#moveAll();
  }

  /** Groups waiting at Permit past their scheduleTimeoutSeconds are rejected whole. */
  #expireGangs(): void {
    const now = this.#now();
    for (const key of this.#permits.expired(now)) {
      const group = this.#o.podGroups?.get(key);
      const waiting = this.#permits.waitingCount(key);
      const timeout = (group?.scheduleTimeoutMs ?? 0) / 1000;
      this.#rejectGang(key, { code: 'Timeout', message: `PodGroup "${key}": only ${waiting} of ${group?.minMember ?? '?'} member(s) held room within ${timeout}s; every reservation released` }, now);
    }
  }

  async #bind(item: _Queued, view: PodView, nodeName: string, profile: SchedulerProfile): Promise<void> {
    const { core, state, log } = this.#o;
    const metrics = this.metrics;
    const started = performance.now();
    const signal = this.#signal;
    try {
      await this.#o.limiter.take(signal);
      await withRetry(
        `bind pod "${item.key}" to node "${nodeName}"`,
        () =>
          core.createNamespacedPodBinding({
            name: view.name,
            namespace: view.namespace,
            body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: view.name, namespace: view.namespace, uid: view.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
          }),
        { attempts: 4, baseMs: 100, maxMs: 2_000, ...(signal === undefined ? {} : { signal }) },
      );
      metrics.bindSeconds.observe((performance.now() - started) / 1000);
      metrics.binds.inc({ result: 'bound' });
      const attempts = this.#queue.attemptsOf(item.key) + 1;
      const first = this.#firstSeen.get(item.key);
      if (first !== undefined) metrics.podSchedulingSeconds.observe({ attempts: attempts >= 15 ? '15+' : String(attempts) }, (this.#now() - first) / 1000);
      this.#queue.done(item.key);
      this.#firstSeen.delete(item.key);
      this.#lastMessage.delete(view.uid);
      this.#event(profile, view, 'Normal', 'Scheduled', `Successfully assigned ${view.namespace}/${view.name} to ${nodeName}`);
    } catch (error) {
      const info = describeApiError((error as { cause?: unknown }).cause ?? error);
      // Unreserve: the room goes back, and pods waiting for room may take it.
      if (state.forget(view.uid)) this.#moveAll();
      if (info.status === 404) {
        // Deleted mid-cycle: nothing to schedule.
        metrics.binds.inc({ result: 'gone' });
        this.#queue.delete(item.key);
        this.#firstSeen.delete(item.key);
        return;
      }
      metrics.binds.inc({ result: info.status === 409 ? 'conflict' : 'error' });
      metrics.attempts.inc({ result: 'error', profile: profile.schedulerName });
      // A conflict is usually a pod bound meanwhile (the watch then drops it from the queue) or
      // replaced by a namesake; anything else is passing. Either way the pod backs off.
      this.#queue.requeueBackoff(item.key, this.#now());
      log.warn({ pod: item.key, node: nodeName, status: info.status, error: info.message }, 'Bind failed: the pod backs off');
      if (info.status !== 409) this.#event(profile, view, 'Warning', 'FailedScheduling', `Binding rejected: ${info.message}`);
      this.#kick();
    }
  }

  /**
   * Carries out a preemption: the preemptor is nominated (room held for it in the state, and
   * `status.nominatedNodeName` set), each victim gets the DisruptionTarget condition and is
   * deleted with its own grace period. A victim that is itself only nominated there (a pending
   * pod) loses its nomination instead: there is nothing to delete.
   */
  #preempt(view: PodView, candidate: PreemptionCandidate, profile: SchedulerProfile): void {
    const { state, log } = this.#o;
    const metrics = this.metrics;
    const victims: PodView[] = [];
    for (const victim of candidate.victims) {
      if (!state.unnominate(victim.uid)) victims.push(victim);
    }
    state.nominate(view, candidate.nodeName);
    metrics.preemptionAttempts.inc();
    metrics.preemptionVictims.inc(victims.length);
    log.info({ pod: `${view.namespace}/${view.name}`, node: candidate.nodeName, victims: victims.map((v) => `${v.namespace}/${v.name}`) }, 'Preempting lower-priority pods');
    this.#event(profile, view, 'Normal', 'Preempting', `Preempting ${victims.length} lower-priority pod(s) on node ${candidate.nodeName}: ${victims.map((v) => `${v.namespace}/${v.name}`).join(', ')}`);
    for (const victim of victims) {
      this.#write('delete', async () => {
        const ref = { name: victim.name, namespace: victim.namespace };
        try {
          await this.#o.limiter.take(this.#signal);
          await this.#o.core.patchNamespacedPodStatus(
            { ...ref, body: { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: `${profile.schedulerName}: preempting to accommodate a higher priority pod`, lastTransitionTime: new Date() }] } } },
            setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
          );
        } catch (error) {
          log.debug({ pod: `${victim.namespace}/${victim.name}`, error: describeApiError(error).message }, 'Cannot set the DisruptionTarget condition');
        }
        try {
          await this.#o.limiter.take(this.#signal);
          await withRetry(`delete preempted pod "${victim.namespace}/${victim.name}"`, () => this.#o.core.deleteNamespacedPod({ ...ref, body: { preconditions: { uid: victim.uid } } }), this.#signal === undefined ? {} : { signal: this.#signal });
          this.#event(profile, victim, 'Normal', 'Preempted', `Preempted by pod ${view.uid} on node ${candidate.nodeName}`);
        } catch (error) {
          const info = describeApiError((error as { cause?: unknown }).cause ?? error);
          // Gone already, or replaced by a namesake: either way it no longer stands in the way.
          if (info.status !== 404 && info.status !== 409) log.warn({ pod: `${victim.namespace}/${victim.name}`, error: info.message }, 'Cannot delete a preempted pod');
        }
      });
    }
  }

  /** The PodScheduled=False condition (when its message changed) and a FailedScheduling Event. */
  #reportUnschedulable(pod: KubePod, profile: SchedulerProfile, message: string, nominatedNodeName: string | undefined): void {
    const uid = pod.metadata?.uid ?? '';
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const view = { name, namespace, uid };
    this.#event(profile, view, 'Warning', 'FailedScheduling', message);
    const conditions = (pod.status?.conditions ?? []) as readonly { readonly type?: string; readonly status?: string; readonly message?: string }[];
    const current = conditions.find((c) => c.type === 'PodScheduled');
    const nominatedBefore = (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName;
    const nominationChanges = nominatedNodeName !== undefined && nominatedNodeName !== nominatedBefore;
    const written = this.#lastMessage.get(uid) ?? (current?.status === 'False' ? current.message : undefined);
    if (written === message && !nominationChanges) return;
    this.#lastMessage.set(uid, message);
    this.#write('status', async () => {
      try {
        await this.#o.limiter.take(this.#signal);
        await this.#o.core.patchNamespacedPodStatus(
          {
            name,
            namespace,
            body: {
              status: {
                conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: new Date(), lastProbeTime: null }],
                ...(nominationChanges ? { nominatedNodeName } : {}),
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
      } catch (error) {
        this.#lastMessage.delete(uid);
        const info = describeApiError(error);
        if (info.status !== 404) this.#o.log.warn({ pod: `${namespace}/${name}`, error: info.message }, 'Cannot update the PodScheduled condition');
      }
    });
  }

  #event(profile: SchedulerProfile, pod: { readonly name: string; readonly namespace: string; readonly uid: string }, type: EventType, reason: string, message: string): void {
    const recorder = this.#o.events(profile.schedulerName);
    this.#write('event', async () => {
      await this.#o.eventLimiter.take(this.#signal);
      await recorder.record({ kind: 'Pod', apiVersion: 'v1', name: pod.name, namespace: pod.namespace, uid: pod.uid }, type, reason, message);
    });
  }

  #write(kind: string, work: () => Promise<void>): void {
    (kind === 'event' ? this.#eventWrites : this.#writes).run(kind, async () => {
      try {
        await work();
      } catch (error) {
        // Aborted on stop, or a write that retried out: logged, never fatal.
        if (this.#signal?.aborted !== true) this.#o.log.debug({ kind, error: (error as Error).message }, 'A background write failed');
      }
    });
  }
}

/** Counts slots; `acquire` waits for a free one. */
class _Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}

/** Runs background work a few at a time; beyond `maxPending` waiting, new work is dropped. */
class _BoundedWork {
  readonly #concurrency: number;
  readonly #maxPending: number;
  readonly #onDrop: (kind: string, count?: number) => void;
  readonly #pending: { readonly kind: string; readonly work: () => Promise<void> }[] = [];
  #running = 0;
  readonly #idle = new Set<() => void>();

  constructor(concurrency: number, maxPending: number, onDrop: (kind: string, count?: number) => void) {
    this.#concurrency = concurrency;
    this.#maxPending = maxPending;
    this.#onDrop = onDrop;
  }

  run(kind: string, work: () => Promise<void>): void {
    if (this.#pending.length >= this.#maxPending) {
      this.#onDrop(kind);
      return;
    }
    this.#pending.push({ kind, work });
    this.#next();
  }

  /** Drops the work still waiting (counted); what runs finishes. */
  discardPending(): void {
    const counts = new Map<string, number>();
    for (const { kind } of this.#pending.splice(0)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    for (const [kind, count] of counts) this.#onDrop(kind, count);
    this.#settled();
  }

  /** Resolves once nothing runs or waits. */
  drain(): Promise<void> {
    if (this.#running === 0 && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #next(): void {
    while (this.#running < this.#concurrency && this.#pending.length > 0) {
      const { work } = this.#pending.shift() as { readonly work: () => Promise<void> };
      this.#running++;
      void work().finally(() => {
        this.#running--;
        this.#next();
        this.#settled();
      });
    }
  }

  #settled(): void {
    if (this.#running === 0 && this.#pending.length === 0) {
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    }
  }
}
