/**
 * Leader election on a coordination.k8s.io Lease, as client-go's `leaderelection` package does
 * it, so that of several replicas of a controller exactly one acts:
 *
 * - A candidate tries to take the Lease every retry period (with jitter). It may when nobody holds
 *   it, or when the record has not changed for a whole lease duration *as measured on the
 *   candidate's own clock* since it last saw it change (clocks of replicas need not agree).
 * - The leader renews every retry period. If no renewal succeeds within the renew deadline, it
 *   has lost: the signal handed to its work aborts at once (the descheduler rolls back its
 *   drain), before any candidate may take over (renew deadline < lease duration).
 * - On a graceful stop the leader releases the Lease (empty holder, 1 s duration), so a standby
 *   takes over within a retry period instead of a lease duration.
 *
 * Every write carries the resourceVersion read just before: two candidates racing for the same
 * expired Lease cannot both win.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import { describeApiError } from '../../kube/errors.js';
import type { EventRecorder } from '../../kube/events.js';
import type { Logger } from '../../observability/log.js';

/** The timings and the Lease, named as kube components' `--leader-elect-*` flags name them. */
export interface LeaderElectionConfig {
  /** How long a candidate waits, after the record last changed, before taking the Lease. */
  readonly leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leading. */
  readonly renewDeadlineMs: number;
  /** Time between attempts to take or renew the Lease. */
  readonly retryPeriodMs: number;
  readonly name: string;
  readonly namespace: string;
  /** This replica's name in the Lease: unique among the replicas (hostname and a random part). */
  readonly identity: string;
}

/** client-go's JitterFactor: a candidate waits between 1 and 2.2 retry periods. */
const _JITTER = 1.2;

/** Why a configuration cannot work, or undefined; the rules client-go's NewLeaderElector checks. */
export function leaderElectionConfigError(config: LeaderElectionConfig): string | undefined {
  const s = (ms: number): string => `${ms / 1000}s`;
  if (config.leaseDurationMs < 1000) return `Invalid leader election: the lease duration (${s(config.leaseDurationMs)}) must be at least 1s`;
  if (config.leaseDurationMs <= config.renewDeadlineMs) return `Invalid leader election: the lease duration (${s(config.leaseDurationMs)}) must be greater than the renew deadline (${s(config.renewDeadlineMs)})`;
  if (config.retryPeriodMs <= 0) return `Invalid leader election: the retry period (${s(config.retryPeriodMs)}) must be greater than 0`;
  if (config.renewDeadlineMs <= _JITTER * config.retryPeriodMs) return `Invalid leader election: the renew deadline (${s(config.renewDeadlineMs)}) must be greater than ${_JITTER} times the retry period (${s(config.retryPeriodMs)})`;
  if (config.name === '' || config.namespace === '') return 'Invalid leader election: the lease needs a name and a namespace';
  if (config.identity === '') return 'Invalid leader election: the identity must not be empty';
  return undefined;
}

export interface LeaderElectorOptions {
  readonly log: Logger;
  readonly registry?: Registry;
  /** LeaderElection Events on the Lease ("X became leader"), as client-go records them. */
  readonly events?: EventRecorder;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** The record as last read, and when (on this replica's clock) it was seen to change. */
interface _Observed {
  readonly holder: string;
  readonly renewTime: string;
  readonly at: number;
}

/** See the module comment. */
export class LeaderElector {
  readonly #api: CoordinationV1Api;
  readonly #config: LeaderElectionConfig;
  readonly #o: LeaderElectorOptions;
  readonly #now: () => number;
  readonly #gauge: Gauge<'name'> | undefined;
  #observed: _Observed | undefined;
  #leading = false;
  #lastReportedHolder = '';

  constructor(api: CoordinationV1Api, config: LeaderElectionConfig, options: LeaderElectorOptions) {
    const error = leaderElectionConfigError(config);
    if (error !== undefined) throw new Error(error);
    this.#api = api;
    this.#config = config;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#gauge = options.registry === undefined ? undefined : new Gauge({ name: 'stowage_leader_election_master_status', help: 'Whether this replica leads (1) or stands by (0), as client-go\'s leader_election_master_status', labelNames: ['name'] as const, registers: [options.registry] });
    this.#gauge?.set({ name: config.name }, 0);
  }

  /** True while this replica holds the Lease and its work runs. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Campaigns until `signal` aborts. Each time this replica wins, runs `lead` with a signal that
   * aborts when the lease is lost or `signal` aborts; when `lead` returns after a loss, campaigns
   * again. Returns when `signal` aborts or `lead` returns on its own (a one-shot run), and throws
   * what `lead` throws when not stopped, having released the Lease if it held it.
   */
  async run(lead: (signal: AbortSignal) => Promise<void>, signal: AbortSignal): Promise<void> {
    const log = this.#o.log.child({ lease: `${this.#config.namespace}/${this.#config.name}`, identity: this.#config.identity });
    while (!signal.aborted) {
      log.info('Campaigning for leadership');
      if (!(await this.#acquire(signal, log))) break;
      const term = new AbortController();
      const stop = (): void => term.abort(new Error('Stopping'));
      signal.addEventListener('abort', stop, { once: true });
      this.#setLeading(true);
      log.info('Became leader');
      await this.#o.events?.record(this.#leaseRef(), 'Normal', 'LeaderElection', `${this.#config.identity} became leader`);
      let lost = false;
      const renewing = this.#renew(term.signal, log).then((kept) => {
        if (kept || term.signal.aborted) return;
        lost = true;
        log.error(`Lost leadership: no renewal within ${this.#config.renewDeadlineMs / 1000}s; stopping work`);
        term.abort(new Error('Leadership lost'));
      });
      let finished = false;
      let failure: Error | undefined;
      try {
        await lead(term.signal);
        finished = !term.signal.aborted;
      } catch (error) {
        // Work that failed on its own (not because it was stopped) fails the run, as without election.
        if (!term.signal.aborted) failure = error instanceof Error ? error : new Error(`Work failed while leading: ${JSON.stringify(error)}`);
      } finally {
        signal.removeEventListener('abort', stop);
        if (!term.signal.aborted) term.abort(new Error('Work done'));
        await renewing;
        this.#setLeading(false);
      }
      if (!lost) {
        await this.#release(log);
        if (failure !== undefined) throw failure;
        if (finished) return;
      } else {
        await this.#o.events?.record(this.#leaseRef(), 'Normal', 'LeaderElection', `${this.#config.identity} stopped leading`);
      }
    }
  }

  /** Tries until it holds the Lease (true) or `signal` aborts (false). */
  async #acquire(signal: AbortSignal, log: Logger): Promise<boolean> {
    const random = this.#o.random ?? Math.random;
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(log)) return true;
      const wait = this.#config.retryPeriodMs * (1 + random() * _JITTER);
      if (!(await _pause(wait, signal))) return false;
    }
    return false;
  }

  /**
   * Renews every retry period while `signal` lets it; resolves false when a renewal deadline
   * passed without success (or another replica holds the Lease), true when `signal` aborted.
   */
  async #renew(signal: AbortSignal, log: Logger): Promise<boolean> {
    let lastRenew = this.#now();
    while (!signal.aborted) {
      if (!(await _pause(this.#config.retryPeriodMs, signal))) return true;
      const deadline = lastRenew + this.#config.renewDeadlineMs;
      const remaining = deadline - this.#now();
      if (remaining <= 0) return false;
      const renewed = await _within(this.#tryAcquireOrRenew(log), remaining).catch(() => false);
      if (signal.aborted) return true;
      if (renewed) lastRenew = this.#now();
      else if (this.#observed !== undefined && this.#observed.holder !== this.#config.identity && this.#observed.holder !== '') return false;
      else if (this.#now() >= deadline) return false;
    }
    return true;
  }

  /** One attempt, as client-go's tryAcquireOrRenew: true when this replica holds the Lease after it. */
  async #tryAcquireOrRenew(log: Logger): Promise<boolean> {
    const { name, namespace, identity } = this.#config;
    const now = this.#now();
    const spec = (acquireTime: V1MicroTime, transitions: number): V1Lease['spec'] => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#config.leaseDurationMs / 1000),
      acquireTime,
      renewTime: new V1MicroTime(now),
      leaseTransitions: transitions,
    });
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (error) {
      const info = describeApiError(error);
      if (info.status !== 404) {
        log.warn({ error: info.message, status: info.status }, 'Cannot read the leader election lease');
        return false;
      }
      try {
        await this.#api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: spec(new V1MicroTime(now), 0) } });
        this.#observed = { holder: identity, renewTime: String(now), at: now };
        return true;
      } catch (createError) {
        // 409: another candidate created it first; it leads.
        log.debug({ error: describeApiError(createError).message }, 'Cannot create the leader election lease');
        return false;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = _timeText(lease.spec?.renewTime);
    if (this.#observed === undefined || this.#observed.holder !== holder || this.#observed.renewTime !== renewTime) {
      this.#observed = { holder, renewTime, at: now };
    }
    const durationMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.#config.leaseDurationMs / 1000)) * 1000;
    if (holder !== '' && holder !== identity && this.#observed.at + durationMs > now) {
      if (holder !== this.#lastReportedHolder) {
        this.#lastReportedHolder = holder;
        log.info({ holder }, `The lease is held by "${holder}": standing by`);
      }
      return false;
    }
    const keeps = holder === identity;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (keeps ? 0 : 1);
    const acquireTime = keeps && lease.spec?.acquireTime !== undefined ? new V1MicroTime(new Date(lease.spec.acquireTime).getTime()) : new V1MicroTime(now);
    try {
      await this.#api.replaceNamespacedLease({ name, namespace, body: { metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion ?? '' }, spec: spec(acquireTime, transitions) } });
    } catch (error) {
      const info = describeApiError(error);
      // 409: someone else wrote the Lease since we read it; the next attempt reads it again.
      if (info.status !== 409) log.warn({ error: info.message, status: info.status }, 'Cannot update the leader election lease');
      return false;
    }
    this.#observed = { holder: identity, renewTime: String(now), at: now };
    if (!keeps && holder !== '') log.info({ previous: holder }, `Took over the lease from "${holder}", silent for ${Math.round(durationMs / 1000)}s or more`);
    return true;
  }

  /** Gives the Lease up so a standby need not wait a lease duration; best effort. */
  async #release(log: Logger): Promise<void> {
    const { name, namespace, identity } = this.#config;
    try {
      const lease = await _within(this.#api.readNamespacedLease({ name, namespace }), this.#config.renewDeadlineMs);
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(this.#now());
      await _within(
        this.#api.replaceNamespacedLease({
          name,
          namespace,
          body: { metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion ?? '' }, spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec.leaseTransitions ?? 0 } },
        }),
        this.#config.renewDeadlineMs,
      );
      log.info('Released the lease');
    } catch (error) {
      log.warn({ error: describeApiError(error).message }, 'Cannot release the lease: a standby takes over when it expires');
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#gauge?.set({ name: this.#config.name }, leading ? 1 : 0);
  }

  #leaseRef(): { kind: string; name: string; namespace: string; apiVersion: string } {
    return { kind: 'Lease', name: this.#config.name, namespace: this.#config.namespace, apiVersion: 'coordination.k8s.io/v1' };
  }
}

/** Waits `ms`; false when `signal` aborted first. */
async function _pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** `promise`, or a rejection after `ms`: a hung request must not outlast the renew deadline. */
function _within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A MicroTime as the client gives it back (a string, or a Date), as comparable text. */
function _timeText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : '';
}
