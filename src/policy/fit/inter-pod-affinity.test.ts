import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeView, PodAffinityTerm, PodView } from '../../core/model.js';
import { HOSTNAME, nodeInfoOf, testNode, testPod, testSnapshot, threeZoneNodes, ZONE } from './fixtures.test-helper.js';
import { AFFINITY_REASON, ANTI_AFFINITY_REASON, EXISTING_ANTI_AFFINITY_REASON, interPodAffinity } from './inter-pod-affinity.js';
import { FitState } from './state.js';

const nodes: NodeView[] = threeZoneNodes();

function verdicts(state: FitState, pod: PodView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const node of nodes) {
    const result = interPodAffinity.filter(state, pod, nodeInfoOf(state, node));
    out[node.name] = result.ok ? 'ok' : result.reason;
  }
  return out;
}

const web = (topologyKey: string): PodAffinityTerm => ({ labelSelector: { matchLabels: { app: 'web' } }, topologyKey });

test('required anti-affinity on hostname keeps a pod off nodes running a matching pod', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, [testPod('web-1', { nodeName: 'a1', labels: { app: 'web' } })]));
  const pod = testPod('web-2', { labels: { app: 'web' }, constraints: { podAntiAffinity: { required: [web(HOSTNAME)] } } });
  assert.deepEqual(verdicts(state, pod), { a1: ANTI_AFFINITY_REASON, a2: 'ok', b1: 'ok', c1: 'ok' });
});

test('required anti-affinity on zone keeps a pod out of the whole zone', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, [testPod('web-1', { nodeName: 'a1', labels: { app: 'web' } })]));
  const pod = testPod('web-2', { labels: { app: 'web' }, constraints: { podAntiAffinity: { required: [web(ZONE)] } } });
  assert.deepEqual(verdicts(state, pod), { a1: ANTI_AFFINITY_REASON, a2: ANTI_AFFINITY_REASON, b1: 'ok', c1: 'ok' });
});

test("a placed pod's required anti-affinity repels a pod it selects, in its namespaces only", () => {
  const guard = testPod('guard', { nodeName: 'b1', constraints: { podAntiAffinity: { required: [web(ZONE)] } } });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [guard]));
  const incoming = testPod('web-1', { labels: { app: 'web' } });
  assert.deepEqual(verdicts(state, incoming), { a1: 'ok', a2: 'ok', b1: EXISTING_ANTI_AFFINITY_REASON, c1: 'ok' });
  const elsewhere = testPod('web-1', { namespace: 'shop', labels: { app: 'web' } });
  assert.deepEqual(verdicts(state, elsewhere), { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok' });
  const namespaced = testPod('guard-2', {
    namespace: 'ops',
    nodeName: 'a1',
    constraints: { podAntiAffinity: { required: [{ ...web(HOSTNAME), namespaces: ['shop'] }] } },
  });
  state.assume(namespaced, 'a1');
  assert.deepEqual(verdicts(state, elsewhere), { a1: EXISTING_ANTI_AFFINITY_REASON, a2: 'ok', b1: 'ok', c1: 'ok' });
  state.forget(namespaced);
  assert.deepEqual(verdicts(state, elsewhere), { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok' });
});

test('required affinity needs a matching pod in the same domain, in the term namespaces', () => {
  const cache = testPod('cache-1', { nodeName: 'b1', labels: { app: 'cache' } });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [cache]));
  const term: PodAffinityTerm = { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: ZONE };
  const pod = testPod('api', { constraints: { podAffinity: { required: [term] } } });
  assert.deepEqual(verdicts(state, pod), { a1: AFFINITY_REASON, a2: AFFINITY_REASON, b1: 'ok', c1: AFFINITY_REASON });
  const otherNamespace = testPod('api', { namespace: 'shop', constraints: { podAffinity: { required: [term] } } });
  assert.deepEqual(Object.values(verdicts(state, otherNamespace)), [AFFINITY_REASON, AFFINITY_REASON, AFFINITY_REASON, AFFINITY_REASON]);
});

test('a placed pod counts for affinity only when it matches all the terms', () => {
  const state = FitState.fromSnapshot(
    testSnapshot(nodes, [
      testPod('cache-1', { nodeName: 'a1', labels: { app: 'cache' } }),
      testPod('both-1', { nodeName: 'b1', labels: { app: 'cache', tier: 'hot' } }),
    ]),
  );
  const pod = testPod('api', {
    constraints: {
      podAffinity: {
        required: [
          { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: ZONE },
          { labelSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['hot'] }] }, topologyKey: HOSTNAME },
        ],
      },
    },
  });
  assert.deepEqual(verdicts(state, pod), { a1: AFFINITY_REASON, a2: AFFINITY_REASON, b1: 'ok', c1: AFFINITY_REASON });
});

test('the first pod of a self-affine group may go wherever the topology key exists', () => {
  const unlabelled = testNode('bare', { labels: {} });
  const bare = { ...unlabelled, labels: { [HOSTNAME]: 'bare' } };
  const state = FitState.fromSnapshot(testSnapshot([...nodes, bare]));
  const term: PodAffinityTerm = { labelSelector: { matchLabels: { app: 'etcd' } }, topologyKey: ZONE };
  const first = testPod('etcd-0', { labels: { app: 'etcd' }, constraints: { podAffinity: { required: [term] } } });
  assert.deepEqual(verdicts(state, first), { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok' });
  assert.deepEqual(interPodAffinity.filter(state, first, nodeInfoOf(state, bare)), { ok: false, plugin: 'InterPodAffinity', reason: AFFINITY_REASON });
  state.assume(first, 'c1');
  const second = testPod('etcd-1', { labels: { app: 'etcd' }, constraints: { podAffinity: { required: [term] } } });
  assert.deepEqual(verdicts(state, second), { a1: AFFINITY_REASON, a2: AFFINITY_REASON, b1: AFFINITY_REASON, c1: 'ok' });
});

test('a term without a label selector selects nothing', () => {
  const noSelector: PodAffinityTerm = { topologyKey: HOSTNAME };
  const guard = testPod('guard', { nodeName: 'a1', constraints: { podAntiAffinity: { required: [noSelector] } } });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [guard, testPod('x', { nodeName: 'a2' })]));
  const pod = testPod('p', { constraints: { podAntiAffinity: { required: [noSelector] } } });
  assert.deepEqual(verdicts(state, pod), { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok' });
  const everything = testPod('q', { constraints: { podAntiAffinity: { required: [{ labelSelector: {}, topologyKey: HOSTNAME }] } } });
  assert.deepEqual(verdicts(state, everything), { a1: ANTI_AFFINITY_REASON, a2: ANTI_AFFINITY_REASON, b1: 'ok', c1: 'ok' });
});

test('a namespaceSelector selects namespaces by label: {} is every namespace, others need the namespace labels', () => {
  const everywhere = testPod('guard', { nodeName: 'a1', constraints: { podAntiAffinity: { required: [{ ...web(HOSTNAME), namespaceSelector: {} }] } } });
  const team = testPod('team-guard', {
    nodeName: 'b1',
    constraints: { podAntiAffinity: { required: [{ ...web(HOSTNAME), namespaceSelector: { matchLabels: { team: 'shop' } } }] } },
  });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [everywhere, team]), { namespaceLabels: { shop: { team: 'shop' } } });
  const inShop = testPod('web-1', { namespace: 'shop', labels: { app: 'web' } });
  assert.deepEqual(verdicts(state, inShop), { a1: EXISTING_ANTI_AFFINITY_REASON, a2: 'ok', b1: EXISTING_ANTI_AFFINITY_REASON, c1: 'ok' });
  const inOps = testPod('web-2', { namespace: 'ops', labels: { app: 'web' } });
  assert.deepEqual(verdicts(state, inOps), { a1: EXISTING_ANTI_AFFINITY_REASON, a2: 'ok', b1: 'ok', c1: 'ok' });
  assert.deepEqual(state.namespaceLabels('shop'), { team: 'shop', 'kubernetes.io/metadata.name': 'shop' });
  const byName = testPod('api', {
    constraints: {
      podAffinity: { required: [{ ...web(ZONE), namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }] },
    },
  });
  state.assume(inShop, 'c1');
  assert.deepEqual(verdicts(state, byName), { a1: AFFINITY_REASON, a2: AFFINITY_REASON, b1: AFFINITY_REASON, c1: 'ok' });
});
