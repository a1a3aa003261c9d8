/**
 * Why a pod may not be moved. Each rule returns a reason a person can act on, so a skipped node
 * says which pod held it and why; nothing here looks at where the pod could go (that is fit) or
 * at its workload's availability (that is `./guards.ts`).
 */
import type { PodView, WorkloadView } from '../../core/model.js';

/** Annotations the descheduler reads on pods (and, for Stowage's own, on their workloads). */
export const EvictionAnnotation = {
  /** Cluster Autoscaler's: `"false"` keeps the pod where it is. */
  SafeToEvict: 'cluster-autoscaler.kubernetes.io/safe-to-evict',
  /** Karpenter's: `"true"` keeps the pod where it is. */
  DoNotDisrupt: 'karpenter.sh/do-not-disrupt',
  /** The upstream descheduler's: present means evictable, whatever the other rules say. */
  DeschedulerEvict: 'descheduler.alpha.kubernetes.io/evict',
  /** Stowage's own opt-out, on a pod or its workload: `"true"` keeps the pod where it is. */
  StowageDoNotMove: 'stowage.io/do-not-move',
  /** Stowage's per-pod opt-in for pods with local storage: `"true"` lets them move (their emptyDir is lost). */
  StowageEvictLocalStorage: 'stowage.io/evict-local-storage',
} as const;

/** Priority at and above which a pod is system-critical, as `scheduling.SystemCriticalPriority`. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/** The built-in critical priority classes. */
const _CRITICAL_CLASSES: ReadonlySet<string> = new Set(['system-cluster-critical', 'system-node-critical']);

/**
 * Why a pod can't be moved. `kind` says how a drain treats it: `ignored` pods stay and do not
 * hold a drain back (DaemonSet and mirror pods are bound to their node, finished pods hold
 * nothing); `blocking` pods hold the whole node.
 */
export interface EvictionBlock {
  readonly code: EvictionBlockCode;
  readonly kind: 'ignored' | 'blocking';
  readonly reason: string;
}

/** A stable name per rule, for metrics and tests. */
export type EvictionBlockCode =
  | 'Finished'
  | 'DaemonSet'
  | 'Mirror'
  | 'Terminating'
  | 'StowageOptOut'
  | 'NoController'
  | 'LocalStorage'
  | 'SystemCritical'
  | 'SafeToEvictFalse'
  | 'DoNotDisrupt'
  | 'TooYoung'
  | 'JobPod';

/** How strict eviction is; from the descheduler's config file. */
export interface EvictionOptions {
  /** A pod younger than this (by creation) stays, so a fresh replacement is not moved again at once. */
  readonly minPodAgeMs: number;
  /** Move pods with emptyDir or hostPath volumes anyway (their data is lost). */
  readonly evictLocalStorage: boolean;
  /** Move pods of Jobs anyway: an evicted Job pod starts its work over, so moving it costs the work done. */
  readonly evictJobPods: boolean;
}

/** Five minutes' minimum age; local storage and Job pods are not moved. */
export const DEFAULT_EVICTION_OPTIONS: EvictionOptions = { minPodAgeMs: 5 * 60_000, evictLocalStorage: false, evictJobPods: false };

function _block(code: EvictionBlockCode, kind: EvictionBlock['kind'], reason: string): EvictionBlock {
  return { code, kind, reason };
}

/**
 * Every reason `pod` may not be moved, in a fixed order; empty when it may.
 *
 * `descheduler.alpha.kubernetes.io/evict` overrides the policy rules (no controller, local
 * storage, system-critical, safe-to-evict, do-not-disrupt, age), as upstream. It does not override
 * facts that make a move meaningless (DaemonSet, mirror, finished or terminating pods) nor
 * Stowage's own opt-out, the one annotation addressed to Stowage by name.
 *
 * @example
 * evictionBlockers(pod, workload, DEFAULT_EVICTION_OPTIONS, now);
 * // [{ code: 'DoNotDisrupt', kind: 'blocking', reason: 'Pod "shop/cart-1" is annotated karpenter.sh/do-not-disrupt="true"' }]
 */
export function evictionBlockers(pod: PodView, workload: WorkloadView | undefined, options: EvictionOptions, now: number): readonly EvictionBlock[] {
  const who = `Pod "${pod.namespace}/${pod.name}"`;
  const a = pod.annotations;
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return [_block('Finished', 'ignored', `${who} has finished (${pod.phase})`)];
  if (pod.owner.kind === 'DaemonSet') return [_block('DaemonSet', 'ignored', `${who} belongs to DaemonSet "${pod.owner.name}"`)];
  if (pod.isMirror) return [_block('Mirror', 'ignored', `${who} is a static (mirror) pod`)];
  const blocks: EvictionBlock[] = [];
  if (pod.deletionRequestedAt !== undefined) blocks.push(_block('Terminating', 'blocking', `${who} is terminating`));
  if (_isTrue(a[EvictionAnnotation.StowageDoNotMove])) blocks.push(_block('StowageOptOut', 'blocking', `${who} is annotated ${EvictionAnnotation.StowageDoNotMove}="true"`));
  else if (workload && _isTrue(workload.annotations[EvictionAnnotation.StowageDoNotMove])) {
    blocks.push(_block('StowageOptOut', 'blocking', `${who}: its ${workload.ref.kind} "${workload.ref.name}" is annotated ${EvictionAnnotation.StowageDoNotMove}="true"`));
  }
  if (a[EvictionAnnotation.DeschedulerEvict] !== undefined) return blocks;

  if (pod.owner.kind === 'None') blocks.push(_block('NoController', 'blocking', `${who} has no controller to recreate it`));
  if (pod.hasLocalStorage && !options.evictLocalStorage && !_isTrue(a[EvictionAnnotation.StowageEvictLocalStorage])) {
    blocks.push(_block('LocalStorage', 'blocking', `${who} has local storage (emptyDir or hostPath): annotate it ${EvictionAnnotation.StowageEvictLocalStorage}="true" to allow moving it`));
  }
  if (pod.owner.kind === 'Job' && !options.evictJobPods) {
    blocks.push(_block('JobPod', 'blocking', `${who} belongs to Job "${pod.owner.name}", whose evicted pods start their work over: set eviction.evictJobPods to move it`));
  }
  if (pod.priority >= SYSTEM_CRITICAL_PRIORITY || _CRITICAL_CLASSES.has(pod.priorityClassName)) {
    blocks.push(_block('SystemCritical', 'blocking', `${who} is system-critical (priority ${pod.priority}${pod.priorityClassName ? `, class "${pod.priorityClassName}"` : ''})`));
  }
  if (a[EvictionAnnotation.SafeToEvict]?.trim().toLowerCase() === 'false') {
    blocks.push(_block('SafeToEvictFalse', 'blocking', `${who} is annotated ${EvictionAnnotation.SafeToEvict}="false"`));
  }
  if (_isTrue(a[EvictionAnnotation.DoNotDisrupt])) blocks.push(_block('DoNotDisrupt', 'blocking', `${who} is annotated ${EvictionAnnotation.DoNotDisrupt}="true"`));
  const age = now - pod.createdAt;
  if (age < options.minPodAgeMs) {
    blocks.push(_block('TooYoung', 'blocking', `${who} is ${_seconds(age)} old, younger than the minimum of ${_seconds(options.minPodAgeMs)}`));
  }
  return blocks;
}

function _isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function _seconds(ms: number): string {
  return `${Math.max(0, Math.floor(ms / 1000))}s`;
}
