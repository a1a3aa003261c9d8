import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DESCHEDULING_CONFIG, withStrategies } from '../policy/deschedule/plan.js';
import { MOST_ALLOCATED_PROFILE } from '../policy/fit/index.js';
import { DeschedulerModel } from './descheduler.js';
import { testArm, testScenario, testWorld } from './harness.test-helper.js';
import { scenarioPriceTable } from './simulation.js';

const MIN = 60_000;

test('surge-first: the replacement is Ready before the old pod goes, so the service never has 0 Ready', () => {
  const world = testWorld(testScenario({ warmUp: '5m', services: { list: [{ name: 'solo', replicas: 1, cpu: '500m', memory: '512Mi', startup: '20s', shutdown: '5s' }] } }));
  world.engine.run(5 * MIN);
  const solo = world.workloads.services[0];
  assert.ok(solo);
  const [old] = [...solo.pods];
  assert.ok(old?.ready);
  let minReady = Number.POSITIVE_INFINITY;
  const watch = (): void => {
    minReady = Math.min(minReady, solo.ready);
  };
  world.engine.every(1_000, world.engine.now, () => {
    watch();
    return world.engine.now < 10 * MIN;
  });
  assert.equal(solo.surge(old), true);
  assert.equal(solo.pods.size, 2, 'the replacement exists at once');
  assert.equal(old.terminating, false, 'the old pod stays until the replacement is Ready');
  world.engine.run(10 * MIN);
  assert.equal(old.terminating, true);
  assert.equal(world.cluster.pods.has(old.uid), false);
  assert.equal(solo.ready, 1);
  assert.equal(solo.pods.size, 1);
  assert.ok(minReady >= 1, `Ready replicas fell to ${minReady}`);
  assert.equal(world.finish().metrics.perService[0]?.outages, 0);
});

test('consolidate: the shared planner drains a half-empty node, which the autoscaler then removes', () => {
  // The autoscaler removes only empty nodes here (threshold 1%), so any non-empty node that goes
  // was emptied by the descheduler.
  const scenario = testScenario({
    duration: '3h',
    autoscaler: { scaleDownUtilizationThreshold: 0.01 },
    stowage: { descheduler: { interval: '1m' } },
    services: {
      list: [
        { name: 'a', replicas: 3, cpu: '1500m', memory: '1Gi', startup: '10s' },
        { name: 'b', replicas: 2, cpu: '300m', memory: '512Mi', startup: '10s' },
      ],
    },
  });
  const world = testWorld(scenario, testArm({ name: 'T2', profile: MOST_ALLOCATED_PROFILE, deschedule: ['consolidate'] }));
  world.engine.run(5 * MIN);
  const before = world.cluster.readyNodes.length;
  assert.ok(before >= 2, `expected at least two nodes, got ${before}`);
  // a: two pods on one node, one on the other. Scaled to 2, the ReplicaSet deletes one of the
  // doubled-up pair, so both nodes hold one pod of a and the lighter one fits beside the other.
  world.workloads.services[0]?.setDesired(2);
  let minReadyA = Number.POSITIVE_INFINITY;
  world.engine.every(1_000, world.engine.now, () => {
    minReadyA = Math.min(minReadyA, world.workloads.services[0]?.ready ?? 0);
    return true;
  });
  world.engine.run(90 * MIN);
  const stats = world.descheduler?.stats;
  assert.ok(stats !== undefined && stats.completedDrains >= 1, `drains: ${JSON.stringify(stats)}`);
  assert.equal(world.cluster.readyNodes.length, 1, 'the drained node was removed by the autoscaler');
  assert.ok(minReadyA >= 1, 'service a kept a Ready replica throughout');
  for (const s of world.workloads.services) assert.equal(s.ready, s.desired);
});

test('drains of one plan run one at a time and never move two pods of one workload at once', () => {
  // LeastAllocated spreads "wide" two per node over three nodes; once "filler" shrinks,
  // consolidation drains two of them. The plan numbers wide's four moves as waves 0-3 across both
  // drains; the shared state machine runs the drains one after the other, each wave after the last settled.
  const scenario = testScenario({
    duration: '3h',
    autoscaler: { scaleDownUtilizationThreshold: 0.01 },
    stowage: { descheduler: { interval: '1m' } },
    services: {
      list: [
        { name: 'wide', replicas: 6, cpu: '300m', memory: '256Mi', startup: '30s' },
        { name: 'filler', replicas: 6, cpu: '1200m', memory: '1Gi', startup: '10s' },
      ],
    },
  });
  const world = testWorld(scenario, testArm({ name: 'T2', deschedule: ['consolidate'] }));
  world.engine.run(10 * MIN);
  const wide = world.workloads.services.find((s) => s.ref.name === 'wide');
  const filler = world.workloads.services.find((s) => s.ref.name === 'filler');
  assert.ok(wide && filler);
  const nodesBefore = world.cluster.readyNodes.length;
  filler.setDesired(1);
  let minReady = Number.POSITIVE_INFINITY;
  world.engine.every(1_000, world.engine.now, () => {
    minReady = Math.min(minReady, wide.ready);
    return true;
  });
  world.engine.run(150 * MIN);
  const stats = world.descheduler?.stats;
  assert.ok(stats !== undefined && stats.completedDrains >= 2, `drains: ${JSON.stringify(stats)}`);
  assert.ok(world.cluster.readyNodes.length < nodesBefore, `nodes ${nodesBefore} → ${world.cluster.readyNodes.length}`);
  assert.ok(stats.evictions + stats.surges >= 4, `the pods on the drained nodes moved: ${JSON.stringify(stats)}`);
  assert.ok(minReady >= 5, `"wide" fell to ${minReady} Ready of 6: two of its pods moved at once`);
  assert.equal(wide.ready, 6);
});

test('surge-first of a multi-replica Deployment without a PDB is a rollout: every pod replaced, one at a time, never below desired Ready', () => {
  // "trio" (3 replicas, no PDB) may not lose a replica: 25% of 3 rounds down to 0. LeastAllocated
  // spreads it over the nodes; once "filler" shrinks, consolidation drains a node holding one of
  // its pods, which moves surge-first. The live executor does that by a rollout restart (maxSurge 1,
  // maxUnavailable 0), so all three pods are replaced, the moved one first.
  const scenario = testScenario({
    duration: '3h',
    autoscaler: { scaleDownUtilizationThreshold: 0.01 },
    stowage: { descheduler: { interval: '1m' } },
    services: {
      list: [
        { name: 'trio', replicas: 3, cpu: '300m', memory: '256Mi', startup: '30s', shutdown: '5s' },
        { name: 'filler', replicas: 6, cpu: '1200m', memory: '1Gi', startup: '10s' },
      ],
    },
  });
  const world = testWorld(scenario, testArm({ name: 'T2', deschedule: ['consolidate'] }));
  world.engine.run(10 * MIN);
  const trio = world.workloads.services.find((s) => s.ref.name === 'trio');
  const filler = world.workloads.services.find((s) => s.ref.name === 'filler');
  assert.ok(trio && filler);
  const original = new Set([...trio.pods].map((p) => p.uid));
  filler.setDesired(1);
  let minReady = Number.POSITIVE_INFINITY;
  let maxLive = 0;
  world.engine.every(1_000, world.engine.now, () => {
    minReady = Math.min(minReady, trio.ready);
    maxLive = Math.max(maxLive, [...trio.pods].filter((p) => !p.terminating).length);
    return true;
  });
  world.engine.run(150 * MIN);
  const stats = world.descheduler?.stats;
  assert.ok(stats !== undefined && stats.completedDrains >= 1, `drains: ${JSON.stringify(stats)}`);
  assert.ok(stats.surges >= 1, `trio moved surge-first: ${JSON.stringify(stats)}`);
  assert.equal(stats.evictions, 0, 'no pod of a workload without a PDB and under 4 replicas is evicted');
  assert.equal(stats.rolloutSurges, 2 * stats.surges, 'each rollout replaced the two other pods too');
  assert.deepEqual([...trio.pods].filter((p) => original.has(p.uid)).map((p) => p.uid), [], 'no pod of the original three is left');
  assert.ok(minReady >= 3, `"trio" fell to ${minReady} Ready of 3`);
  assert.ok(maxLive <= 4, `maxSurge 1: at most 4 live pods, saw ${maxLive}`);
  assert.equal(trio.ready, 3);
  assert.equal(trio.surges.size, 0);
});

test('the simulator honours the anti-flap rules it shares with the live loop: the churn budget and the rest after a move', () => {
  // The world of the test above, with a descheduler model built here so its config can be set.
  const scenario = testScenario({
    duration: '4h',
    autoscaler: { scaleDownUtilizationThreshold: 0.01 },
    services: {
      list: [
        { name: 'wide', replicas: 6, cpu: '300m', memory: '256Mi', startup: '30s' },
        { name: 'filler', replicas: 6, cpu: '1200m', memory: '1Gi', startup: '10s' },
      ],
    },
  });
  const run = (antiFlap: { readonly minMoveIntervalSeconds: number; readonly maxMovesPerHour: number }): DeschedulerModel => {
    const world = testWorld(scenario);
    const config = { ...withStrategies(DEFAULT_DESCHEDULING_CONFIG, ['consolidate']), autoscaler: { scaleDownUtilizationThreshold: 0.01 }, antiFlap };
    const model = new DeschedulerModel(world.engine, world.cluster, world.workloads, { config, intervalMs: MIN, waveTimeoutMs: 10 * MIN, prices: scenarioPriceTable(scenario), placement: undefined });
    world.engine.run(10 * MIN);
    world.workloads.services.find((s) => s.ref.name === 'filler')?.setDesired(1);
    model.start();
    world.engine.run(4 * 60 * MIN);
    return model;
  };
  const moves = (model: DeschedulerModel): { readonly workload: string; readonly at: number }[] =>
    model.actions.flatMap((a) => (a.action === 'evict' || a.action === 'surge' ? [{ workload: a.workload, at: a.at }] : []));
  const maxInAnHour = (list: readonly { readonly at: number }[]): number => Math.max(0, ...list.map((m) => list.filter((o) => o.at >= m.at && o.at < m.at + 60 * MIN).length));

  const free = run({ minMoveIntervalSeconds: 0, maxMovesPerHour: 1000 });
  assert.ok(maxInAnHour(moves(free)) >= 3, `the control moves several pods within an hour: ${JSON.stringify(moves(free))}`);
  const capped = run({ minMoveIntervalSeconds: 0, maxMovesPerHour: 2 });
  assert.ok(moves(capped).length >= 2, `the capped run still moves: ${JSON.stringify(capped.stats)}`);
  assert.ok(maxInAnHour(moves(capped)) <= 2, `at most 2 moves in any hour: ${JSON.stringify(moves(capped))}`);

  // A workload moved by one cycle's plan is not moved by a later plan for 90 minutes; without the rule it is, 10 minutes later.
  const replans = (model: DeschedulerModel): number[] => {
    const list = model.actions.flatMap((a) => (a.action === 'evict' || a.action === 'surge' ? [a] : []));
    return list.flatMap((m, i) => {
      const earlier = list.slice(0, i).filter((o) => o.workload === m.workload && o.cycle < m.cycle).at(-1);
      return earlier === undefined ? [] : [(m.at - earlier.at) / MIN];
    });
  };
  assert.ok(replans(free).some((gap) => gap < 90), `the control moves "wide" again within 90 min: ${JSON.stringify(replans(free))}`);
  const rested = run({ minMoveIntervalSeconds: 90 * 60, maxMovesPerHour: 1000 });
  assert.ok(replans(rested).length >= 1, "the rested run moves \"wide\" again once the interval is over");
  assert.ok(replans(rested).every((gap) => gap >= 90), `a later plan waits 90 min: ${JSON.stringify(replans(rested))}`);
});

test('karpenter-consolidate (T2K) deletes a node above the autoscaler\'s threshold whose pods fit elsewhere; the control keeps it', () => {
  // "p" packs three 1100m pods per node (MostAllocated) on three nodes; scaled to 6 it keeps two
  // per node, 56% each: above Cluster Autoscaler's 50%, so neither it nor consolidate removes a
  // node, yet one node's two pods fit one beside each of the others.
  const scenario = testScenario({
    duration: '3h',
    stowage: { descheduler: { interval: '1m' } },
    services: { list: [{ name: 'p', replicas: 9, cpu: '1100m', memory: '1Gi', startup: '20s', shutdown: '5s' }] },
  });
  const run = (deschedule: readonly ('karpenter-consolidate' | 'consolidate')[]) => {
    const world = testWorld(scenario, testArm({ name: 'T2K', profile: MOST_ALLOCATED_PROFILE, deschedule }));
    world.engine.run(10 * MIN);
    const p = world.workloads.services[0];
    assert.ok(p);
    const nodesBefore = world.cluster.readyNodes.length;
    p.setDesired(6);
    let minReady = Number.POSITIVE_INFINITY;
    world.engine.every(1_000, world.engine.now + 60_000, () => {
      minReady = Math.min(minReady, p.ready);
      return true;
    });
    world.engine.run(120 * MIN);
    const usd = world.cloud.billing.totalUsd(world.engine.now);
    return { world, p, nodesBefore, nodesAfter: world.cluster.readyNodes.length, minReady, usd };
  };
  const t2k = run(['karpenter-consolidate']);
  const control = run(['consolidate']);
  assert.equal(t2k.nodesBefore, 3);
  assert.equal(control.nodesAfter, 3, 'consolidate and the autoscaler leave nodes at 56% alone');
  assert.equal(t2k.nodesAfter, 2, 'T2K drained one node and deleted it');
  const stats = t2k.world.descheduler?.stats;
  assert.ok(stats !== undefined && stats.nodesDeleted === 1 && stats.completedDrains === 1, JSON.stringify(stats));
  assert.equal(t2k.world.autoscaler.stats.nodesRemoved, 0, 'the node went by the descheduler\'s delete, not the autoscaler');
  assert.ok(stats.evictions === 2, `the drained node's two pods were moved: ${JSON.stringify(stats)}`);
  // Availability: 6 replicas without a PDB may lose one (25% of 6); never more.
  assert.ok(t2k.minReady >= 5, `p fell to ${t2k.minReady} Ready`);
  assert.equal(t2k.p.ready, 6);
  assert.ok(t2k.usd < control.usd, `T2K cost $${t2k.usd.toFixed(3)}, the control $${control.usd.toFixed(3)}`);
});

test('karpenter-consolidate (T2K) replaces two nodes by one cheaper node: both tainted first, so no pod of the first lands on the second', () => {
  // "p" (1300m) packs three a node on two 4-cpu "box" nodes ($3.60/h; a 6-cpu "mid" at $4.50/h
  // would waste more). Scaled to 4 it keeps two a node, 65%: above the autoscaler's 50%, and one
  // node's pods do not both fit on the other (one would: 1300m of its 1400m free). No node alone
  // is worth replacing (a mid costs more than a box), but one mid holds all four at 87% for $2.70/h
  // less than the two boxes: Karpenter's multi-node replace.
  const scenario = testScenario({
    duration: '3h',
    cloud: {
      instanceTypes: [
        { name: 'box', cpu: 4, memory: '16Gi', pods: 58, onDemand: 3.6, spot: 1.44, interruption: '<5%' },
        { name: 'mid', cpu: 6, memory: '24Gi', pods: 58, onDemand: 4.5, spot: 1.8, interruption: '<5%' },
      ],
    },
    stowage: { descheduler: { interval: '1m' } },
    services: { list: [{ name: 'p', replicas: 6, cpu: '1300m', memory: '1Gi', startup: '20s', shutdown: '5s' }] },
  });
  const run = () => {
    const world = testWorld(scenario, testArm({ name: 'T2K', profile: MOST_ALLOCATED_PROFILE, deschedule: ['karpenter-consolidate'] }));
    const model = world.descheduler;
    assert.ok(model !== undefined);
    world.engine.run(10 * MIN);
    const p = world.workloads.services[0];
    assert.ok(p);
    const boxes = world.cluster.readyNodes.filter((n) => n.group.instanceType.name === 'box').map((n) => n.name);
    const nodesBefore = world.cluster.readyNodes.length;
    p.setDesired(4);
    // Every binding from here on, as the scheduler makes them: the simulated placement events.
    const binds: { pod: string; node: string; at: number }[] = [];
    const bind = world.cluster.bind.bind(world.cluster);
    world.cluster.bind = (pod, node, now) => {
      binds.push({ pod: pod.spec.name, node: node.name, at: now });
      bind(pod, node, now);
    };
    let minReady = Number.POSITIVE_INFINITY;
    world.engine.every(1_000, world.engine.now + 60_000, () => {
      minReady = Math.min(minReady, p.ready);
      return true;
    });
    world.engine.run(150 * MIN);
    return { world, p, boxes, nodesBefore, binds, minReady, stats: model.stats, actions: model.actions };
  };
  const t2k = run();
  assert.equal(t2k.boxes.length, 2, `two box nodes at first: ${t2k.boxes.join(', ')}`);
  assert.equal(t2k.nodesBefore, 2);
  const taints = t2k.actions.filter((a) => a.action === 'taint').map((a) => ('node' in a ? a.node : ''));
  const firstMove = t2k.actions.findIndex((a) => a.action === 'evict' || a.action === 'surge');
  const launch = t2k.actions.findIndex((a) => a.action === 'launch');
  assert.ok(launch >= 0 && t2k.stats.nodesLaunched === 1 && t2k.stats.setsReplaced === 1, `one replacement launched: ${JSON.stringify(t2k.stats)}`);
  // Both boxes tainted before the launch and before the first pod moved.
  const taintedFirst = t2k.actions.slice(0, launch).filter((a) => a.action === 'taint').map((a) => ('node' in a ? a.node : ''));
  assert.deepEqual([...taintedFirst].sort(), [...t2k.boxes].sort(), `actions: ${JSON.stringify(t2k.actions.slice(0, 8))}`);
  assert.ok(firstMove > launch);
  assert.equal(taints.length, 2, 'each box tainted once');
  // No pod moved off a box landed on the other box (or back): every binding after the first move is on the new node.
  const movedAt = (t2k.actions[firstMove] as { at: number }).at;
  const later = t2k.binds.filter((b) => b.at >= movedAt);
  assert.ok(later.length >= 4, `the four pods were placed again: ${JSON.stringify(later)}`);
  const onBoxes = later.filter((b) => t2k.boxes.includes(b.node));
  assert.deepEqual(onBoxes, [], 'a moved pod landed on a box of the set');
  // The end: both boxes deleted, one mid holds the four pods; p never lost more than its 25%.
  const nodes = t2k.world.cluster.readyNodes;
  assert.deepEqual(nodes.map((n) => n.group.instanceType.name), ['mid']);
  assert.equal(t2k.stats.nodesDeleted, 2);
  assert.equal(t2k.world.autoscaler.stats.nodesRemoved, 0, 'the boxes went by the descheduler\'s delete, not the autoscaler');
  assert.equal([...(nodes[0]?.pods ?? [])].filter((pod) => pod.owner === t2k.p).length, 4);
  assert.ok(t2k.minReady >= 3, `p fell to ${t2k.minReady} Ready`);
  assert.equal(t2k.p.ready, 4);
});
