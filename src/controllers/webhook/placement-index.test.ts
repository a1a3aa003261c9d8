import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAPACITY_TYPE_ANNOTATION } from '../../policy/placement/patch.js';
import { deployment, node, NS, replicaSet, rsPod, statefulSet, stsPod, barePod, twoByTwo } from './fixtures.test-helper.js';
import { RESERVATION_ANNOTATION } from './ledger.js';
import { placementGroup } from './placement-index.js';
import { testPod } from '../../core/fixtures.test-helper.js';
import type { PodView, Resources, SchedulingConstraints } from '../../core/model.js';

const cart = { kind: 'Deployment', namespace: NS, name: 'cart' } as const;
const rev1 = placementGroup(cart, 'rs-cart-aaa');
const rev2 = placementGroup(cart, 'rs-cart-bbb');
const noConstraints = {};
const nothingInFlight = { 'on-demand': {}, spot: {} };
/** A pod at admission: no node, no uid yet. */
const newPod = (requests: Resources, constraints: SchedulingConstraints): PodView => testPod('new', { uid: '', namespace: NS, requests, constraints });

test('pods count per revision by the capacity type of their node, or of their pin while unbound', () => {
  const index = twoByTwo();
  index.upsertReplicaSet(replicaSet('cart', 'aaa'));
  index.upsertPod(rsPod('cart', 'aaa', 'a1', { nodeName: 'od-1' }));
  index.upsertPod(rsPod('cart', 'aaa', 'a2', { nodeName: 'spot-1' }));
  index.upsertPod(rsPod('cart', 'aaa', 'a3', { annotations: { [CAPACITY_TYPE_ANNOTATION]: 'spot' } }));
  index.upsertPod(rsPod('cart', 'aaa', 'a4', { spec: { nodeSelector: { 'node.kubernetes.io/capacity': 'on-demand' } } }));
  index.upsertPod(rsPod('cart', 'aaa', 'a5'));
  // The ReplicaSet of revision 2 is not cached yet: the pod-template-hash rule still finds the Deployment.
  index.upsertPod(rsPod('cart', 'bbb', 'b1', { nodeName: 'od-2' }));
  assert.deepEqual(index.liveCounts(rev1), { onDemand: 2, spot: 2 }, 'a5 is neither bound nor pinned');
  assert.deepEqual(index.liveCounts(rev2), { onDemand: 1, spot: 0 });
  assert.deepEqual(index.workloadCounts(cart), { onDemand: 3, spot: 2 });
});

test('terminating, finished and deleted pods stop counting; a later bind moves the pod to its node type', () => {
  const index = twoByTwo();
  index.upsertPod(rsPod('cart', 'aaa', 'a1', { nodeName: 'od-1' }));
  index.upsertPod(rsPod('cart', 'aaa', 'a2', { nodeName: 'od-2' }));
  index.upsertPod(rsPod('cart', 'aaa', 'a3', { nodeName: 'od-2', phase: 'Failed' }));
  assert.deepEqual(index.liveCounts(rev1), { onDemand: 2, spot: 0 });
  index.upsertPod(rsPod('cart', 'aaa', 'a1', { nodeName: 'od-1', deleting: true }));
  assert.deepEqual(index.liveCounts(rev1), { onDemand: 1, spot: 0 }, 'an eviction lowers the count as soon as it is seen');
  index.deletePod(rsPod('cart', 'aaa', 'a2'));
  assert.deepEqual(index.liveCounts(rev1), { onDemand: 0, spot: 0 });
  index.upsertPod(rsPod('cart', 'aaa', 'a4', { annotations: { [CAPACITY_TYPE_ANNOTATION]: 'on-demand' } }));
  index.upsertPod(rsPod('cart', 'aaa', 'a4', { annotations: { [CAPACITY_TYPE_ANNOTATION]: 'on-demand' }, nodeName: 'spot-2' }));
  assert.deepEqual(index.liveCounts(rev1), { onDemand: 0, spot: 1 }, 'a fallback pod counts where it landed');
});

test('a deleted node takes its pods out of the counts at once; unknown nodes never count', () => {
  const index = twoByTwo();
  index.upsertNode(node('plain', undefined));
  index.upsertWorkload('StatefulSet', statefulSet('db', 3));
  index.upsertPod(stsPod('db', 0, { nodeName: 'od-1' }));
  index.upsertPod(stsPod('db', 1, { nodeName: 'spot-1' }));
  index.upsertPod(stsPod('db', 2, { nodeName: 'plain' }));
  const db = placementGroup({ kind: 'StatefulSet', namespace: NS, name: 'db' }, undefined);
  assert.deepEqual(index.liveCounts(db), { onDemand: 1, spot: 1 });
  index.deleteNode(node('spot-1', 'spot'));
  assert.deepEqual(index.liveCounts(db), { onDemand: 1, spot: 0 });
  assert.equal(index.nodeCapacityType('spot-1'), undefined);
  assert.deepEqual(index.nodeTypes(), { 'on-demand': 2, spot: 1, unknown: 1 });
});

test('bare pods and pods of other controllers are indexed for room but not counted for any workload', () => {
  const index = twoByTwo();
  index.upsertPod(barePod('debug', { nodeName: 'od-1', cpu: '3900m' }));
  index.upsertPod(barePod('debug2', { nodeName: 'od-2', cpu: '3900m' }));
  assert.equal(index.podCount, 2);
  assert.deepEqual([...index.workloadSplits()], []);
  // Both on-demand nodes are now full for a 200m pod.
  assert.deepEqual(index.room(newPod({ cpu: 200, pods: 1 }, noConstraints), undefined, nothingInFlight), { onDemand: false, spot: true });
});

test('room: ready, schedulable, tolerated, with free resources, after pending pinned pods and in-flight decisions', () => {
  const index = twoByTwo();
  index.upsertNode(node('spot-1', 'spot', { taints: [{ key: 'spot', value: 'true', effect: 'NoSchedule' }] }));
  index.upsertNode(node('spot-2', 'spot', { unschedulable: true }));
  const request = { cpu: 1000, memory: 0, pods: 1 };
  assert.equal(index.room(newPod(request, noConstraints), undefined, nothingInFlight).spot, false, 'spot-1 is tainted, spot-2 cordoned');
  const toleration = { key: 'spot', operator: 'Equal', value: 'true', effect: 'NoSchedule' } as const;
  assert.equal(index.room(newPod(request, noConstraints), toleration, nothingInFlight).spot, true, 'the spot toleration is added for spot pods');
  assert.equal(index.room(newPod(request, {}), toleration, nothingInFlight).onDemand, true, 'the spot toleration is not needed for on-demand');
  // Pods pinned to spot but not yet bound take spot-1's room: 4 cpu pinned, 1 more does not fit.
  for (let i = 0; i < 4; i++) index.upsertPod(rsPod('cart', 'aaa', `p${i}`, { cpu: '1', annotations: { [CAPACITY_TYPE_ANNOTATION]: 'spot' } }));
  assert.equal(index.room(newPod(request, noConstraints), toleration, nothingInFlight).spot, false);
  index.deletePod(rsPod('cart', 'aaa', 'p0'));
  assert.equal(index.room(newPod(request, noConstraints), toleration, nothingInFlight).spot, true);
  assert.equal(index.room(newPod(request, noConstraints), toleration, { 'on-demand': {}, spot: { cpu: 500 } }).spot, false, 'in-flight decisions count too');
  index.upsertNode(node('od-1', 'on-demand', { ready: false }));
  index.upsertNode(node('od-2', 'on-demand', { pods: '0' }));
  assert.equal(index.room(newPod(request, noConstraints), undefined, nothingInFlight).onDemand, false, 'od-1 not Ready, od-2 has no pod slot');
});

test("room: only nodes matching the pod's nodeSelector and required node affinity count", () => {
  const index = twoByTwo();
  // od-1 is full; od-2 has room but is in another zone than the pod requires.
  index.upsertPod(barePod('debug', { nodeName: 'od-1', cpu: '3900m' }));
  const zoned = (zone: string) => ({ metadata: { name: `od-${zone}`, labels: { 'node.kubernetes.io/capacity': 'on-demand', 'topology.kubernetes.io/zone': zone } } });
  index.upsertNode({ ...node('od-1', 'on-demand'), ...zoned('a'), metadata: { ...zoned('a').metadata, name: 'od-1' } });
  index.upsertNode({ ...node('od-2', 'on-demand'), metadata: { ...zoned('b').metadata, name: 'od-2' } });
  const request = { cpu: 500, pods: 1 };
  assert.equal(index.room(newPod(request, noConstraints), undefined, nothingInFlight).onDemand, true, 'od-2 has room for a pod that goes anywhere');
  assert.equal(index.room(newPod(request, { nodeSelector: { 'topology.kubernetes.io/zone': 'a' } }), undefined, nothingInFlight).onDemand, false, 'zone a is full');
  const affinity = { nodeAffinity: { required: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In' as const, values: ['b'] }] }] } };
  assert.equal(index.room(newPod(request, affinity), undefined, nothingInFlight).onDemand, true, 'zone b has room');
});

test('reservations are reported when their pod is seen, added or deleted', () => {
  const seen: string[] = [];
  const index = twoByTwo(undefined, (id) => seen.push(id));
  index.upsertPod(rsPod('cart', 'aaa', 'a1', { annotations: { [RESERVATION_ANNOTATION]: 'req-1' } }));
  index.deletePod(rsPod('cart', 'aaa', 'a2', { annotations: { [RESERVATION_ANNOTATION]: 'req-2' } }));
  assert.deepEqual(seen, ['req-1', 'req-2']);
});

test('workload splits list Deployments and StatefulSets with their pods over every revision', () => {
  const index = twoByTwo();
  index.upsertWorkload('Deployment', deployment('cart', 3));
  index.upsertWorkload('StatefulSet', statefulSet('db', 2));
  index.upsertPod(rsPod('cart', 'aaa', 'a1', { nodeName: 'od-1' }));
  index.upsertPod(rsPod('cart', 'bbb', 'b1', { nodeName: 'spot-1' }));
  index.upsertPod(stsPod('db', 0, { nodeName: 'od-2' }));
  const splits = [...index.workloadSplits()].map((s) => [s.workload.ref.kind, s.workload.ref.name, s.workload.replicas, s.live]);
  assert.deepEqual(splits, [
    ['Deployment', 'cart', 3, { onDemand: 1, spot: 1 }],
    ['StatefulSet', 'db', 2, { onDemand: 1, spot: 0 }],
  ]);
  index.deleteWorkload('Deployment', deployment('cart', 3));
  assert.equal(index.workload(cart), undefined);
});
