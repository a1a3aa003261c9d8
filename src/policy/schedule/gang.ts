/**
 * Gang scheduling, after scheduler-plugins' Coscheduling (KEP 42, PodGroup CRD) and with the same
 * conventions: a PodGroup (`scheduling.x-k8s.io/v1alpha1`) names `minMember` and
 * `scheduleTimeoutSeconds`, and a pod joins it with the label `scheduling.x-k8s.io/pod-group`.
 * All of it pure: the caller passes the time in and carries the outcomes out.
 *
 * - **QueueSort** (`gangOrder`): members of one group sort together, groups by priority, then the
 *   group's creation time, then its key: the deterministic order between groups.
 * - **PreFilter** (`gangPreFilter`): a member of a group that has fewer pods than `minMember`, or
 *   that is backing off after a timeout, is rejected at once; before the first member of a group
 *   reserves anything, the whole group is tried on the state (`gangFits`), so a group that cannot
 *   fit whole reserves nothing.
 * - **Permit** (`GangPermits`): a reserved member waits, holding its reservation, until the group's
 *   placed members (bound, and waiting) reach `minMember`; then every waiting member is allowed
 *   and bound. A group waiting longer than its timeout is rejected whole: every reservation is
 *   released and the group backs off as one.
 * - **No deadlock**: a member that fits nowhere while another group waits with reservations makes
 *   that group yield (`yieldingGroups`) when it comes later in the order: its reservations go back
 *   and it backs off, so of two groups competing for the same room, the first in order completes.
 *
 * Never a partially bound gang: members are bound only when `minMember` of them hold room together.
 */
import type { PodView } from '../../core/model.js';
import type { FitState } from '../fit/index.js';
import { scheduleOne, type CycleContext, type SchedulerProfile } from './framework.js';

/** The pod label naming a pod's PodGroup (in the pod's namespace). */
export const POD_GROUP_LABEL = 'scheduling.x-k8s.io/pod-group';

/** A PodGroup as gang scheduling reads it. */
export interface PodGroupSpec {
  readonly namespace: string;
  readonly name: string;
  readonly minMember: number;
  /** `scheduleTimeoutSeconds` in ms: how long members may wait at Permit for the rest. */
  readonly scheduleTimeoutMs: number;
  /** Milliseconds since the epoch: orders groups of equal priority. */
  readonly createdAt: number;
}

/** scheduler-plugins' default when `scheduleTimeoutSeconds` is unset: 60 s. */
export const DEFAULT_GANG_TIMEOUT_MS = 60_000;

/** The key of the pod's group, `namespace/name`, or undefined for a pod in no group. */
export function podGroupKeyOf(pod: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> }): string | undefined {
  const name = pod.labels[POD_GROUP_LABEL];
  return name === undefined || name === '' ? undefined : `${pod.namespace}/${name}`;
}

/** What orders a pod in the queue: its group's creation time and key when it has one. */
export interface GangOrderKey {
  readonly priority: number;
  /** The group's creation time, or the pod's own arrival. */
  readonly createdAt: number;
  /** The group's key, or the pod's. */
  readonly key: string;
}

/** Coscheduling's QueueSort as a comparison: true when `a` goes before `b`. */
export function gangOrderBefore(a: GangOrderKey, b: GangOrderKey): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.key < b.key;
}

/** Why a member may not be scheduled now. */
export interface GangRejection {
  readonly code: 'PodGroupNotFound' | 'NotEnoughMembers' | 'GroupBackoff' | 'GroupDoesNotFit';
  readonly message: string;
}

/**
 * PreFilter: `members` is how many pods of the group exist (not terminating, not finished);
 * `backoffUntil` the end of the group's backoff after a rejection, if any.
 */
export function gangPreFilter(groupKey: string, group: PodGroupSpec | undefined, members: number, backoffUntil: number | undefined, now: number): GangRejection | undefined {
  if (group === undefined) return { code: 'PodGroupNotFound', message: `PodGroup "${groupKey}" does not exist` };
  if (members < group.minMember) return { code: 'NotEnoughMembers', message: `PodGroup "${groupKey}" has ${members} pod(s), fewer than its minMember ${group.minMember}` };
  if (backoffUntil !== undefined && now < backoffUntil) return { code: 'GroupBackoff', message: `PodGroup "${groupKey}" is backing off after a failed attempt (${Math.ceil((backoffUntil - now) / 1000)}s left)` };
  return undefined;
}

/**
 * Whether `pods` (the group's members not yet placed, in queue order) can all be placed together
 * now, each by the same cycle the scheduler runs (without preemption), `needed` of them at least.
 * The state is restored before returning. The rejection names the first member that fits nowhere.
 */
export function gangFits(state: FitState, groupKey: string, pods: readonly PodView[], needed: number, profile: SchedulerProfile, context: CycleContext): GangRejection | undefined {
  const placed: PodView[] = [];
  const trial: SchedulerProfile = { ...profile, preemption: false };
  let startIndex = context.startIndex;
  let failure: string | undefined;
  try {
    for (const pod of pods) {
      const { decision, nextStartIndex } = scheduleOne(state, pod, trial, { ...context, startIndex });
      startIndex = nextStartIndex;
      if (!decision.ok) {
        failure ??= `pod "${pod.namespace}/${pod.name}": ${decision.reason.message}`;
        continue;
      }
      state.assume(pod, decision.nodeName);
      placed.push(pod);
      if (placed.length >= needed) return undefined;
    }
  } finally {
    for (const pod of placed) state.forget(pod);
  }
  return { code: 'GroupDoesNotFit', message: `PodGroup "${groupKey}" cannot place ${needed} member(s) together (${placed.length} fit): ${failure ?? 'no member left to place'}` };
}

/** A member waiting at Permit with its reservation. */
export interface WaitingMember {
  readonly podKey: string;
  readonly nodeName: string;
}

/** Permit's verdict for a reserved member. */
export type PermitVerdict = { readonly kind: 'wait' } | { readonly kind: 'allow'; readonly members: readonly WaitingMember[] };

interface _WaitingGroup {
  readonly since: number;
  readonly deadline: number;
  readonly order: GangOrderKey;
  readonly members: Map<string, string>;
}

/** Members waiting at Permit, by group; see the module comment. */
export class GangPermits {
  readonly #groups = new Map<string, _WaitingGroup>();

  /**
   * Permit for a member just reserved on `nodeName`: `bound` is how many members of its group are
   * bound already. Allowed when bound + waiting (this one included) reach `minMember`: then every
   * waiting member of the group is returned to be bound, and the group no longer waits.
   */
  permit(groupKey: string, group: PodGroupSpec, order: GangOrderKey, member: WaitingMember, bound: number, now: number): PermitVerdict {
    let waiting = this.#groups.get(groupKey);
    if (waiting === undefined) {
      waiting = { since: now, deadline: now + group.scheduleTimeoutMs, order, members: new Map() };
      this.#groups.set(groupKey, waiting);
    }
    waiting.members.set(member.podKey, member.nodeName);
    if (bound + waiting.members.size < group.minMember) return { kind: 'wait' };
    this.#groups.delete(groupKey);
    return { kind: 'allow', members: [...waiting.members].map(([podKey, nodeName]) => ({ podKey, nodeName })) };
  }

  /** Whether the pod waits at Permit. */
  isWaiting(groupKey: string, podKey: string): boolean {
    return this.#groups.get(groupKey)?.members.has(podKey) ?? false;
  }

  /** How many members of the group wait. */
  waitingCount(groupKey: string): number {
    return this.#groups.get(groupKey)?.members.size ?? 0;
  }

  /** Rejects the group: its waiting members are returned (their reservations to release), and it waits no more. */
  reject(groupKey: string): WaitingMember[] {
    const waiting = this.#groups.get(groupKey);
    if (waiting === undefined) return [];
    this.#groups.delete(groupKey);
    return [...waiting.members].map(([podKey, nodeName]) => ({ podKey, nodeName }));
  }

  /** A waiting member is gone (deleted): it no longer counts. */
  drop(groupKey: string, podKey: string): void {
    const waiting = this.#groups.get(groupKey);
    if (waiting === undefined) return;
    waiting.members.delete(podKey);
    if (waiting.members.size === 0) this.#groups.delete(groupKey);
  }

  /** The groups whose wait is over at `now`, in group order. */
  expired(now: number): string[] {
    return [...this.#groups].filter(([, w]) => w.deadline <= now).sort(([, a], [, b]) => (gangOrderBefore(a.order, b.order) ? -1 : 1)).map(([key]) => key);
  }

  /** The earliest deadline of a waiting group, for the caller's timer. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const w of this.#groups.values()) if (next === undefined || w.deadline < next) next = w.deadline;
    return next;
  }

  /**
   * The waiting groups that must yield to `order` (a member that fits nowhere): those after it in
   * the group order, other than its own group. Their reservations may be what it lacks.
   */
  yieldingGroups(groupKey: string | undefined, order: GangOrderKey): string[] {
    return [...this.#groups].filter(([key, w]) => key !== groupKey && gangOrderBefore(order, w.order)).map(([key]) => key);
  }
}
