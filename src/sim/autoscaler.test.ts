import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimNode } from './cluster.js';
import { testScenario, testWorld } from './harness.test-helper.js';

const MIN = 60_000;

test('scale-up: pending pods get a node after the scan and the provisioning delay', () => {
  // Two pods of 1.5 cpu: one `box` (3920m allocatable) holds both.
  const world = testWorld(testScenario({ services: { list: [{ name: 'web', replicas: 2, cpu: '1500m', memory: '1Gi', startup: '10s' }] } }));
  world.engine.run(9_999);
  assert.equal(world.cluster.nodes.size, 0, 'no node before the first scan');
  world.engine.run(10_000);
  const [node] = [...world.cluster.nodes.values()];
  assert.ok(node, 'the first scan (10 s) launches a node');
  assert.equal(node.launchedAt, 10_000);
  assert.equal(world.autoscaler.stats.nodesAdded, 1);
  world.engine.run(69_999);
  assert.equal(node.state, 'provisioning');
  assert.ok(world.cloud.billing.isBilled(node), 'billed from running (10 s after launch), before Ready');
  world.engine.run(70_000);
  assert.equal(node.state, 'ready');
  world.engine.run(71_000);
  const pods = [...world.cluster.pods.values()].filter((p) => p.owner.ref.name === 'web');
  assert.equal(pods.length, 2);
  for (const pod of pods) {
    assert.equal(pod.node, node);
    assert.ok((pod.boundAt ?? 0) >= 70_000 && (pod.boundAt ?? 0) <= 71_000);
  }
  world.engine.run(120_000);
  assert.equal(world.workloads.services[0]?.ready, 2, 'Ready after the start-up (10 s median, per-pod jitter)');
});

/**
 * Two `box` nodes: web (3 × 1500m) puts two pods on one node and one on the other. At 30 min
 * web scales to 2; the ReplicaSet deletes a pod from the doubled-up node, leaving one 1500m pod
 * per node (38% each). One node's pod fits on the other, so that node is unneeded, and removed
 * 10 minutes later.
 */
function twoNodeWorld(service: Record<string, unknown>) {
  const world = testWorld(testScenario({ services: { list: [{ name: 'web', replicas: 3, cpu: '1500m', memory: '1Gi', startup: '10s', ...service }] } }));
  world.engine.run(5 * MIN);
  assert.equal(world.cluster.readyNodes.length, 2);
  world.engine.run(30 * MIN);
  world.workloads.services[0]?.setDesired(2);
  return world;
}

test('scale-down: a node under 50% for 10 minutes whose pods fit elsewhere is removed', () => {
  const world = twoNodeWorld({});
  world.engine.run(31 * MIN);
  const unneeded = world.cluster.readyNodes.filter((n) => world.autoscaler.unneededSince(n) !== undefined);
  assert.equal(unneeded.length, 1, 'exactly one of the two nodes is unneeded (the other is its destination)');
  const node = unneeded[0] as SimNode;
  const since = world.autoscaler.unneededSince(node) as number;
  assert.ok(since >= 30 * MIN && since <= 30 * MIN + 10_000);
  world.engine.run(since + 10 * MIN - 1);
  assert.equal(node.state, 'ready', 'not before 10 minutes');
  world.engine.run(since + 10 * MIN + 60_000);
  assert.equal(node.state, 'gone', 'drained and deleted once unneeded for 10 minutes');
  assert.equal(world.cluster.readyNodes.length, 1);
  const web = world.workloads.services[0];
  world.engine.run(since + 12 * MIN);
  assert.equal(web?.ready, 2, 'the evicted pod was replaced on the other node');
  assert.equal(world.autoscaler.stats.drains, 1);
});

test('scale-down: a PDB that allows no disruption keeps the node', () => {
  const world = twoNodeWorld({ pdb: { minAvailable: 2 } });
  world.engine.run(90 * MIN);
  assert.equal(world.cluster.readyNodes.length, 2);
  assert.equal(world.autoscaler.stats.drains, 0);
  for (const n of world.cluster.readyNodes) assert.equal(world.autoscaler.unneededSince(n), undefined);
});

test('scale-down: a pod annotated safe-to-evict "false" keeps its node', () => {
  const world = twoNodeWorld({ safeToEvict: false });
  world.engine.run(90 * MIN);
  assert.equal(world.cluster.readyNodes.length, 2);
  assert.equal(world.autoscaler.stats.drains, 0);
});

test('scale-down: an empty node goes after 10 minutes, without a drain', () => {
  const world = twoNodeWorld({});
  world.workloads.services[0]?.setDesired(0);
  world.engine.run(32 * MIN);
  assert.equal(world.cluster.readyNodes.filter((n) => world.autoscaler.unneededSince(n) !== undefined).length, 2);
  world.engine.run(42 * MIN);
  assert.equal(world.cluster.readyNodes.length, 0);
  assert.equal(world.autoscaler.stats.drains, 0);
});

test('scale-up: node-group templates and upcoming nodes hold the DaemonSet pods, so a pod that fits no real node launches none', () => {
  // m5.large: 1930m allocatable. A 1800m pod fits the bare template but not a node running the
  // 200m DaemonSet; CA counts the DaemonSet in its templates, so it launches nothing. Before the
  // templates held DaemonSet pods this launched 107 nodes in 2 hours and removed none.
  const scenario = (cpu: string) =>
    testScenario({
      cloud: { instanceTypes: [{ name: 'm5.large', cpu: 2, memory: '8Gi', pods: 29, onDemand: 0.096, spot: 0.035, interruption: '<5%' }] },
      daemonSet: { cpu: '200m', memory: '400Mi' },
      services: { list: [{ name: 'big', replicas: 1, cpu, memory: '1Gi', startup: '10s' }] },
    });
  const stuck = testWorld(scenario('1800m'));
  stuck.engine.run(120 * MIN);
  assert.equal(stuck.autoscaler.stats.nodesAdded, 0, 'no node is launched for a pod no node of the group can hold');
  assert.equal(stuck.cluster.nodes.size, 0);
  assert.equal(stuck.workloads.services[0]?.ready, 0);
  // 1700m + 200m fits 1930m: exactly one node, and the pod runs there.
  const fits = testWorld(scenario('1700m'));
  fits.engine.run(120 * MIN);
  assert.equal(fits.autoscaler.stats.nodesAdded, 1);
  assert.equal(fits.workloads.services[0]?.ready, 1);
});

test('scale-up: the estimate counts the DaemonSet pod on each new node, so one scale-up is enough', () => {
  // 1700m + 150m fit a bare m5.large template (1930m) but not a node running the 200m DaemonSet:
  // CA's estimate, counting the DaemonSet, asks for two nodes at once rather than one, then another.
  const world = testWorld(
    testScenario({
      cloud: { instanceTypes: [{ name: 'm5.large', cpu: 2, memory: '8Gi', pods: 29, onDemand: 0.096, spot: 0.035, interruption: '<5%' }] },
      daemonSet: { cpu: '200m', memory: '400Mi' },
      services: { list: [{ name: 'big', replicas: 1, cpu: '1700m', memory: '1Gi', startup: '10s' }, { name: 'small', replicas: 1, cpu: '150m', memory: '256Mi', startup: '10s' }] },
    }),
  );
  world.engine.run(30 * MIN);
  assert.equal(world.autoscaler.stats.scaleUps, 1);
  assert.equal(world.autoscaler.stats.nodesAdded, 2);
  assert.deepEqual(world.workloads.services.map((s) => s.ready), [1, 1]);
});

test('scale-down: an unneeded node carries the soft DeletionCandidate taint, and the scheduler places new pods elsewhere', () => {
  for (const seed of [1, 2, 3, 4]) {
    const world = testWorld(testScenario({ services: { list: [{ name: 'web', replicas: 3, cpu: '1500m', memory: '1Gi', startup: '10s' }] } }), undefined, seed);
    world.engine.run(30 * MIN);
    world.workloads.services[0]?.setDesired(2);
    world.engine.run(31 * MIN);
    const [unneeded, ...others] = world.cluster.readyNodes.filter((n) => world.autoscaler.unneededSince(n) !== undefined);
    assert.ok(unneeded !== undefined && others.length === 0, 'one node is unneeded');
    const taint = unneeded.view().taints.find((t) => t.key === 'DeletionCandidateOfClusterAutoscaler');
    assert.equal(taint?.effect, 'PreferNoSchedule');
    const kept = world.cluster.readyNodes.find((n) => n !== unneeded);
    assert.ok(kept?.view().taints.every((t) => t.key !== 'DeletionCandidateOfClusterAutoscaler'));
    // Both nodes hold one 1500m web pod: only the taint tells them apart for a third one.
    const before = new Set(world.cluster.pods.values());
    world.workloads.services[0]?.setDesired(3);
    world.engine.run(32 * MIN);
    const added = [...world.cluster.pods.values()].filter((p) => !before.has(p) && p.owner.ref.name === 'web');
    assert.equal(added.length, 1);
    assert.equal(added[0]?.node, kept, `seed ${seed}: the new pod avoids the soft-tainted node`);
  }
});

test('scale-down: a node the autoscaler drains carries ToBeDeletedByClusterAutoscaler (NoSchedule)', () => {
  const world = twoNodeWorld({});
  world.engine.run(31 * MIN);
  const node = world.cluster.readyNodes.find((n) => world.autoscaler.unneededSince(n) !== undefined) as SimNode;
  const since = world.autoscaler.unneededSince(node) as number;
  world.engine.run(since + 10 * MIN + 10_000);
  assert.equal(world.autoscaler.stats.drains, 1);
  if (node.state === 'ready') assert.ok(node.view().taints.some((t) => t.key === 'ToBeDeletedByClusterAutoscaler' && t.effect === 'NoSchedule'));
  assert.equal(node.schedulable, false);
});

test('the fit state holds exactly the Ready nodes, cordoned as the cluster is; a scale-up leaves no trial node behind', () => {
  const world = testWorld(testScenario({ services: { list: [{ name: 'web', replicas: 5, cpu: '1500m', memory: '1Gi', startup: '10s' }] } }));
  const check = (): void => {
    const ready = world.cluster.readyNodes.map((n) => n.name).sort();
    assert.deepEqual(world.cluster.fit.nodeNames, ready);
    for (const node of world.cluster.readyNodes) assert.equal(world.cluster.fit.isCordoned(node.name), !node.schedulable, node.name);
  };
  world.engine.run(10_000);
  assert.ok(world.cluster.nodes.size >= 3, 'the first scan launches the nodes five 1500m pods need');
  check();
  assert.deepEqual(world.cluster.fit.nodeNames, [], 'launched, not yet Ready: not in the fit state');
  world.engine.run(5 * MIN);
  check();
  world.workloads.services[0]?.setDesired(1);
  world.engine.run(60 * MIN);
  assert.ok(world.autoscaler.stats.nodesRemoved > 0, 'scaled down');
  check();
});

test('scale-up: the estimate packs first fit per pod, a class resuming where its last pod went', () => {
  // `box` has 3920m allocatable. Largest first: big (2500m) opens node 0, the second big opens
  // node 1; small (1000m) fits node 0 (1420m left), the second small node 1 (node 0 has 420m
  // left), the third small neither (420m each): node 2. Three nodes for the five pods at once.
  const world = testWorld(
    testScenario({
      services: {
        list: [
          { name: 'big', replicas: 2, cpu: '2500m', memory: '1Gi', startup: '10s' },
          { name: 'small', replicas: 3, cpu: '1000m', memory: '1Gi', startup: '10s' },
        ],
      },
    }),
  );
  world.engine.run(10_000);
  assert.equal(world.autoscaler.stats.scaleUps, 1);
  assert.equal(world.autoscaler.stats.nodesAdded, 3);
  world.engine.run(5 * MIN);
  assert.equal(world.cluster.readyNodes.length, 3, 'no second scale-up: the five pods fit on the three nodes');
  for (const service of world.workloads.services) assert.equal(service.ready, service.desired);
});

test('the cluster keeps exactly the Ready nodes under the scale-down threshold, through scale-ups, HPA scale-downs, drains and node removals', () => {
  // Generated services with an HPA on a daily cycle, and jobs: pods come and go, nodes are added and removed.
  const scenario = testScenario({ duration: '12h', services: { generate: { count: 12 } }, jobs: { arrivalsPerHour: 20 } });
  const world = testWorld(scenario);
  const threshold = scenario.autoscaler.scaleDownUtilizationThreshold;
  let checks = 0;
  let under = 0;
  for (let t = MIN; t <= 12 * 60 * MIN; t += 7_000) {
    world.engine.run(t);
    const expected = world.cluster.readyNodes.filter((n) => n.utilisation < threshold).map((n) => n.name).sort();
    assert.deepEqual([...world.cluster.underUtilised].map((n) => n.name).sort(), expected, `at ${t} ms`);
    checks++;
    under += expected.length;
  }
  assert.ok(world.autoscaler.stats.nodesAdded > 0 && world.autoscaler.stats.nodesRemoved > 0, 'nodes were added and removed');
  assert.ok(under > 0, `some node was under the threshold in ${checks} checks`);
});

test('scale-down: nodes annotated cluster-autoscaler.kubernetes.io/scale-down-disabled "true" are never removed; without it, one is', () => {
  const world = twoNodeWorld({});
  world.engine.run(31 * MIN);
  const nodes = [...world.cluster.readyNodes];
  assert.ok(nodes.some((n) => world.autoscaler.unneededSince(n) !== undefined), 'one is unneeded before');
  for (const node of nodes) world.cluster.annotate(node, { 'cluster-autoscaler.kubernetes.io/scale-down-disabled': 'true' });
  world.engine.run(60 * MIN);
  assert.deepEqual(nodes.map((n) => n.state), ['ready', 'ready'], 'protected: neither removed in half an hour');
  assert.ok(nodes.every((n) => world.autoscaler.unneededSince(n) === undefined), 'nor unneeded');
  for (const node of nodes) world.cluster.annotate(node, { 'cluster-autoscaler.kubernetes.io/scale-down-disabled': undefined });
  world.engine.run(80 * MIN);
  assert.equal(nodes.filter((n) => n.state === 'gone').length, 1, 'one removed once the annotations are off');
});
