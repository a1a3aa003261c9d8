import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeView, PodView, TopologySpreadConstraint } from '../../core/model.js';
import { nodeInfoOf, testNode, testPod, testSnapshot, threeZoneNodes, ZONE } from './fixtures.test-helper.js';
import { podTopologySpread, SPREAD_MISSING_LABEL_REASON, SPREAD_REASON } from './pod-topology-spread.js';
import { FitState } from './state.js';

const nodes: NodeView[] = threeZoneNodes();
const zoneSpread = (extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew: 1,
  topologyKey: ZONE,
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: { app: 'web' } },
  ...extra,
});
const web = (name: string, nodeName: string, extra: Partial<PodView> = {}): PodView => testPod(name, { nodeName, labels: { app: 'web' }, ...extra });
const incoming = (constraints: PodView['constraints']): PodView => testPod('web-new', { labels: { app: 'web' }, constraints });

function verdicts(state: FitState, pod: PodView, on: readonly NodeView[] = nodes): Record<string, string> {
  return Object.fromEntries(on.map((node) => {
    const result = podTopologySpread.filter(state, pod, nodeInfoOf(state, node));
    return [node.name, result.ok ? 'ok' : result.reason];
  }));
}

test('maxSkew 1 across 3 zones holding 2, 1 and 1 matching pods admits only the two emptier zones', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1'), web('w4', 'c1')]));
  assert.deepEqual(verdicts(state, incoming({ topologySpread: [zoneSpread()] })), { a1: SPREAD_REASON, a2: SPREAD_REASON, b1: 'ok', c1: 'ok' });
});

test('an empty zone is the global minimum, until the pod nodeSelector leaves it out of the domains', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, [web('w1', 'a1'), web('w2', 'b1')]));
  assert.deepEqual(verdicts(state, incoming({ topologySpread: [zoneSpread()] })), { a1: SPREAD_REASON, a2: SPREAD_REASON, b1: SPREAD_REASON, c1: 'ok' });
  const notC = incoming({
    topologySpread: [zoneSpread()],
    nodeAffinity: { required: [{ matchExpressions: [{ key: ZONE, operator: 'NotIn', values: ['zone-c'] }] }] },
  });
  assert.deepEqual(verdicts(state, notC, nodes.slice(0, 3)), { a1: 'ok', a2: 'ok', b1: 'ok' });
});

test('with fewer domains than minDomains the global minimum is 0', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, [web('w1', 'a1'), web('w2', 'b1'), web('w3', 'c1')]));
  assert.deepEqual(verdicts(state, incoming({ topologySpread: [zoneSpread({ minDomains: 3 })] })), { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok' });
  assert.deepEqual(Object.values(verdicts(state, incoming({ topologySpread: [zoneSpread({ minDomains: 4 })] }))), [
    SPREAD_REASON,
    SPREAD_REASON,
    SPREAD_REASON,
    SPREAD_REASON,
  ]);
});

test('terminating pods, pods of other namespaces and non-matching pods do not count', () => {
  const state = FitState.fromSnapshot(
    testSnapshot(nodes, [
      web('w1', 'a1', { deletionRequestedAt: 5 }),
      web('w2', 'a1', { namespace: 'shop' }),
      testPod('api', { nodeName: 'a1', labels: { app: 'api' } }),
      web('w3', 'b1'),
      web('w4', 'c1'),
    ]),
  );
  assert.deepEqual(verdicts(state, incoming({ topologySpread: [zoneSpread()] })), { a1: 'ok', a2: 'ok', b1: SPREAD_REASON, c1: SPREAD_REASON });
  // The terminating pod still takes room on its node.
  assert.equal(state.podCount('a1'), 3);
});

test('a node without the topology key is rejected; ScheduleAnyway constraints are not filters', () => {
  const bare = { ...testNode('bare'), labels: { 'kubernetes.io/hostname': 'bare' } };
  const state = FitState.fromSnapshot(testSnapshot([...nodes, bare], [web('w1', 'a1'), web('w2', 'a2')]));
  assert.deepEqual(podTopologySpread.filter(state, incoming({ topologySpread: [zoneSpread()] }), nodeInfoOf(state, bare)), {
    ok: false,
    plugin: 'PodTopologySpread',
    reason: SPREAD_MISSING_LABEL_REASON,
  });
  const soft = incoming({ topologySpread: [zoneSpread({ whenUnsatisfiable: 'ScheduleAnyway' })] });
  assert.deepEqual(verdicts(state, soft), { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok' });
});

test('assume updates the counts the next check sees', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes, []));
  const constraints = { topologySpread: [zoneSpread()] };
  const placed: string[] = [];
  for (let i = 0; i < 6; i++) {
    const pod = testPod(`w${i}`, { labels: { app: 'web' }, constraints });
    const node = nodes.find((n) => podTopologySpread.filter(state, pod, nodeInfoOf(state, n)).ok) as NodeView;
    state.assume(pod, node.name);
    placed.push(node.zone);
  }
  assert.deepEqual(placed, ['zone-a', 'zone-b', 'zone-c', 'zone-a', 'zone-b', 'zone-c']);
});
