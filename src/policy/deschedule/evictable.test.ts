import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EVICTION_OPTIONS, evictionBlockers } from './evictable.js';
import { pod, workload } from './fixtures.test-helper.js';

const now = 3_600_000;
const codes = (...args: Parameters<typeof evictionBlockers>): string[] => evictionBlockers(...args).map((b) => `${b.kind}:${b.code}`);

test('an ordinary Deployment pod is evictable', () => {
  assert.deepEqual(evictionBlockers(pod('web-1', 'n1'), workload('web', 2), DEFAULT_EVICTION_OPTIONS, now), []);
});

test('DaemonSet, mirror and finished pods are ignored, not blocking', () => {
  assert.deepEqual(codes(pod('ds-1', 'n1', { owner: { kind: 'DaemonSet', namespace: 'default', name: 'ds' } }), undefined, DEFAULT_EVICTION_OPTIONS, now), ['ignored:DaemonSet']);
  assert.deepEqual(codes(pod('etcd-n1', 'n1', { isMirror: true, owner: { kind: 'None', namespace: 'kube-system', name: 'etcd-n1' } }), undefined, DEFAULT_EVICTION_OPTIONS, now), ['ignored:Mirror']);
  assert.deepEqual(codes(pod('job-1', 'n1', { phase: 'Succeeded' }), undefined, DEFAULT_EVICTION_OPTIONS, now), ['ignored:Finished']);
});

test('every blocking rule, with its reason', () => {
  const p = pod('web-1', 'n1', {
    owner: { kind: 'None', namespace: 'default', name: 'web-1' },
    hasLocalStorage: true,
    priority: 2_000_000_000,
    priorityClassName: 'system-cluster-critical',
    createdAt: now - 30_000,
    deletionRequestedAt: now - 1000,
    annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false', 'karpenter.sh/do-not-disrupt': 'true', 'stowage.io/do-not-move': 'true' },
  });
  assert.deepEqual(
    evictionBlockers(p, undefined, DEFAULT_EVICTION_OPTIONS, now).map((b) => b.reason),
    [
      'Pod "default/web-1" is terminating',
      'Pod "default/web-1" is annotated stowage.io/do-not-move="true"',
      'Pod "default/web-1" has no controller to recreate it',
      'Pod "default/web-1" has local storage (emptyDir or hostPath): annotate it stowage.io/evict-local-storage="true" to allow moving it',
      'Pod "default/web-1" is system-critical (priority 2000000000, class "system-cluster-critical")',
      'Pod "default/web-1" is annotated cluster-autoscaler.kubernetes.io/safe-to-evict="false"',
      'Pod "default/web-1" is annotated karpenter.sh/do-not-disrupt="true"',
      'Pod "default/web-1" is 30s old, younger than the minimum of 300s',
    ],
  );
});

test('the workload\'s opt-out, and local storage opted in', () => {
  const w = workload('web', 2, { annotations: { 'stowage.io/do-not-move': 'true' } });
  assert.deepEqual(codes(pod('web-1', 'n1'), w, DEFAULT_EVICTION_OPTIONS, now), ['blocking:StowageOptOut']);
  assert.deepEqual(codes(pod('web-1', 'n1', { hasLocalStorage: true }), undefined, { ...DEFAULT_EVICTION_OPTIONS, evictLocalStorage: true }, now), []);
  assert.deepEqual(codes(pod('web-1', 'n1', { hasLocalStorage: true, annotations: { 'stowage.io/evict-local-storage': 'true' } }), undefined, DEFAULT_EVICTION_OPTIONS, now), []);
  assert.deepEqual(codes(pod('web-1', 'n1', { annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true' } }), undefined, DEFAULT_EVICTION_OPTIONS, now), []);
});

test('descheduler.alpha.kubernetes.io/evict forces policy rules but not facts or Stowage\'s opt-out', () => {
  const forced = { 'descheduler.alpha.kubernetes.io/evict': '' };
  const p = pod('web-1', 'n1', { owner: { kind: 'None', namespace: 'default', name: 'web-1' }, hasLocalStorage: true, createdAt: now, annotations: { ...forced, 'karpenter.sh/do-not-disrupt': 'true' } });
  assert.deepEqual(codes(p, undefined, DEFAULT_EVICTION_OPTIONS, now), []);
  assert.deepEqual(codes(pod('web-1', 'n1', { annotations: { ...forced, 'stowage.io/do-not-move': 'true' } }), undefined, DEFAULT_EVICTION_OPTIONS, now), ['blocking:StowageOptOut']);
  assert.deepEqual(codes(pod('ds-1', 'n1', { annotations: forced, owner: { kind: 'DaemonSet', namespace: 'default', name: 'ds' } }), undefined, DEFAULT_EVICTION_OPTIONS, now), ['ignored:DaemonSet']);
  assert.deepEqual(codes(pod('web-1', 'n1', { annotations: forced, deletionRequestedAt: 1 }), undefined, DEFAULT_EVICTION_OPTIONS, now), ['blocking:Terminating']);
});
