import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSnapshot, NodeView, PodView } from '../core/model.js';
import { testPod } from '../core/fixtures.test-helper.js';
import { DEFAULT_PRICE_TABLE } from '../core/pricing.js';
import { scenarioFromSnapshot, todayOf } from './from-snapshot.js';

const GI = 2 ** 30;

function node(name: string, zone: string): NodeView {
  return {
    name,
    labels: {},
    annotations: {},
    taints: [],
    allocatable: { cpu: 3920, memory: 14 * GI, pods: 58 },
    capacity: { cpu: 4000, memory: 16 * GI, pods: 58 },
    unschedulable: false,
    ready: true,
    capacityType: 'on-demand',
    instanceType: 'm5.xlarge',
    zone,
    createdAt: 0,
  };
}

function pod(name: string, owner: PodView['owner'], cpu: number, nodeName: string, annotations: Record<string, string> = {}): PodView {
  return testPod(name, { namespace: owner.namespace, uid: name, labels: { app: owner.name }, annotations, requests: { cpu, memory: GI }, nodeName, owner });
}

test('a snapshot becomes a scenario: its instance types, zones, services, PDBs and DaemonSet overhead', () => {
  const web = { kind: 'Deployment', namespace: 'shop', name: 'web' } as const;
  const db = { kind: 'StatefulSet', namespace: 'shop', name: 'db' } as const;
  const ds = { kind: 'DaemonSet', namespace: 'kube-system', name: 'agent' } as const;
  const snapshot: ClusterSnapshot = {
    takenAt: Date.parse('2024-05-01T12:00:00Z'),
    nodes: [node('n1', 'us-east-1a'), node('n2', 'us-east-1b')],
    pods: [
      pod('web-1', web, 200, 'n1'),
      pod('web-2', web, 300, 'n2'),
      pod('web-3', web, 400, 'n2'),
      pod('db-0', db, 1000, 'n1', { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' }),
      pod('agent-n1', ds, 150, 'n1'),
      pod('agent-n2', ds, 150, 'n2'),
    ],
    workloads: [{ ref: web, replicas: 3, selector: { matchLabels: { app: 'web' } }, annotations: {}, labels: {} }],
    pdbs: [{ namespace: 'shop', name: 'web', selector: { matchLabels: { app: 'web' } }, maxUnavailable: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }],
  };
  const s = scenarioFromSnapshot(snapshot, 'snapshot:test.yaml');
  assert.equal(s.source, 'snapshot:test.yaml');
  assert.deepEqual(s.cloud.zones, ['us-east-1a', 'us-east-1b']);
  assert.deepEqual(s.cloud.instanceTypes.map((t) => [t.name, t.cpu, t.onDemand]), [['m5.xlarge', 4000, 0.192]]);
  assert.deepEqual(s.daemonSet, { cpu: 150, memory: GI });
  assert.equal(s.jobs.arrivalsPerHour, 0);
  const byName = new Map(s.services.map((x) => [x.name, x]));
  assert.equal(s.services.length, 2);
  assert.deepEqual([byName.get('web')?.replicas, byName.get('web')?.cpu, byName.get('web')?.pdb], [3, 300, { maxUnavailable: 1 }]);
  assert.equal(byName.get('web')?.hpa, undefined, 'a snapshot has no load history: constant replicas');
  assert.equal(byName.get('db')?.safeToEvict, false);
});

test('today: the snapshot\'s nodes at the prices its scenario bills, kept for the duration', () => {
  const web = { kind: 'Deployment', namespace: 'shop', name: 'web' } as const;
  const spotNode: NodeView = { ...node('s1', 'us-east-1a'), capacityType: 'spot', instanceType: 'm5.large', allocatable: { cpu: 1930, memory: 7 * GI, pods: 29 } };
  // No instance type the table knows: priced from its size, as the scenario built from it is.
  const custom: NodeView = { ...node('c1', 'us-east-1b'), instanceType: '', allocatable: { cpu: 2000, memory: 8 * GI, pods: 29 } };
  const snapshot: ClusterSnapshot = {
    takenAt: Date.parse('2024-05-01T12:00:00Z'),
    nodes: [node('n1', 'us-east-1a'), node('n2', 'us-east-1b'), spotNode, custom],
    pods: [pod('web-1', web, 1000, 'n1'), pod('web-2', web, 1000, 's1'), { ...pod('web-old', web, 3000, 'n2'), phase: 'Succeeded' }],
    workloads: [{ ref: web, replicas: 2, selector: { matchLabels: { app: 'web' } }, annotations: {}, labels: {} }],
    pdbs: [],
  };
  const perHour = (n: NodeView): number => DEFAULT_PRICE_TABLE.hourlyPriceOfNode(n).usdPerHour;
  const today = todayOf(snapshot, 2 * 86_400);
  assert.equal(today.takenAt, '2024-05-01T12:00:00.000Z');
  assert.deepEqual(today.nodes, { onDemand: 3, spot: 1, unknown: 0 });
  const expected = 24 * snapshot.nodes.reduce((sum, n) => sum + perHour(n), 0);
  assert.ok(Math.abs(today.usdPerDay - expected) < 1e-9, `${today.usdPerDay} = 24 × the nodes' prices (${expected})`);
  assert.ok(perHour(spotNode) < (DEFAULT_PRICE_TABLE.priceOf('m5.large', 'on-demand') ?? 0), 'the spot node at its spot price');
  assert.deepEqual([today.nodeHoursOnDemand, today.nodeHoursSpot], [3 * 48, 48]);
  // 2 cpu of 3920 + 3920 + 1930 + 2000 requested (the finished pod holds nothing); 2 GiB of 14 + 14 + 7 + 8.
  const cpu = 2000 / (3920 + 3920 + 1930 + 2000);
  const memory = (2 * GI) / (43 * GI);
  assert.ok(Math.abs(today.requestedUtilisation - (cpu + memory) / 2) < 1e-12);
  // The scenario bills the same prices, so today and the arms compare like with like.
  const types = new Map(scenarioFromSnapshot(snapshot, 'snapshot:test.yaml').cloud.instanceTypes.map((t) => [t.name, t]));
  assert.equal(types.get('m5.large')?.spot, perHour(spotNode));
  assert.equal(types.get('m5.xlarge')?.onDemand, perHour(node('n1', 'us-east-1a')));

});
