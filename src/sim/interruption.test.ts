import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testArm, testScenario, testWorld } from './harness.test-helper.js';

const MIN = 60_000;

test('a spot notice: the node is cordoned and drained at once, and gone 2 minutes later', () => {
  const world = testWorld(
    testScenario({ services: { list: [{ name: 'web', replicas: 2, cpu: '1000m', memory: '1Gi', startup: '10s', shutdown: '5s' }] } }),
    testArm({ capacityTypes: ['spot'] }),
  );
  world.engine.run(5 * MIN);
  const [node] = world.cluster.readyNodes;
  assert.ok(node);
  assert.equal(node.capacityType, 'spot');
  const web = world.workloads.services[0];
  assert.equal(web?.ready, 2);
  const podsBefore = [...node.pods].filter((p) => p.owner.ref.name === 'web');

  const noticeAt = world.engine.now;
  world.cloud.sendSpotNotice(node);
  assert.equal(node.noticeAt, noticeAt);
  assert.equal(node.schedulable, false, 'cordoned on the notice');
  for (const pod of podsBefore) assert.ok(pod.terminating, 'drained on the notice');
  // The fit state sees them terminating: they still hold the node, but the default spread no longer counts them.
  const fit = world.cluster.fit;
  const slot = node.fitInfo(fit);
  assert.deepEqual(slot?.pods.filter((p) => p.owner.name === 'web').map((p) => p.deletionRequestedAt !== undefined), podsBefore.map(() => true));
  const selector = podsBefore[0]?.view().spreadSelector;
  assert.ok(selector);
  let counted = 0;
  fit.forEachMatchingPod([podsBefore[0]?.view().namespace ?? ''], selector, (pod, on) => {
    if (on.name === node.name && pod.deletionRequestedAt === undefined) counted++;
  });
  assert.equal(counted, 0);
  assert.equal(web?.active, 2, 'replacements created at once');
  assert.equal(world.cloud.interruptions, 1);

  world.engine.run(noticeAt + 2 * MIN - 1);
  assert.notEqual(node.state, 'gone', 'the instance lives out its 2-minute notice');
  world.engine.run(noticeAt + 2 * MIN);
  assert.equal(node.state, 'gone');
  assert.equal(node.goneAt, noticeAt + 2 * MIN);
  assert.equal(world.cloud.billing.isBilled(node), false);
  // The replacements waited for a new node (scale-up) and are Ready again.
  world.engine.run(noticeAt + 6 * MIN);
  assert.equal(web?.ready, 2);
});

test('spot reclaims take spot nodes only, though the on-demand group of the same type and zone shares the pool key', () => {
  // One instance type in one zone, both capacity types, a reclaim of 30% of the pool about every 16 hours.
  const world = testWorld(
    testScenario({
      duration: '4d',
      cloud: { instanceTypes: [{ name: 'box', cpu: 4, memory: '16Gi', pods: 58, onDemand: 3.6, spot: 1.44, interruption: '>20%' }], spot: { reclaimShare: 0.3, bandMonthlyRate: { '>20%': 0.999999 } } },
      stowage: { placement: { base: 1, percent: 0 } },
      services: { list: [{ name: 'web', replicas: 6, cpu: '1500m', memory: '1Gi', startup: '10s', shutdown: '5s' }] },
    }),
    testArm({ capacityTypes: ['on-demand', 'spot'], placement: true }),
  );
  const noticed = new Map<string, string>();
  const send = world.cloud.sendSpotNotice.bind(world.cloud);
  world.cloud.sendSpotNotice = (node) => {
    noticed.set(node.name, node.capacityType);
    send(node);
  };
  world.engine.run(4 * 24 * 60 * MIN);
  const types = [...noticed.values()];
  assert.ok(types.length >= 2, `reclaims happened (${types.length} notices)`);
  assert.deepEqual([...new Set(types)], ['spot'], `notices went to: ${[...noticed].map(([n, t]) => `${n} (${t})`).join(', ')}`);
});
