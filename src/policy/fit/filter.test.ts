import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { PodView } from '../../core/model.js';
import { CLUSTER_NODES, placedPodsArbitrary, podArbitrary } from './arbitraries.test-helper.js';
import { GI, nodeInfoOf, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import { ALL_FILTERS, FILTER_PLUGINS } from './registry.js';
import { checkFit, describeUnschedulable, feasibleAmong, feasibleNodes, filterNodes, firstFeasibleNode } from './filter.js';
import { FIT_OK } from './result.js';
import { FitState, type NodeInfo } from './state.js';

const spotTaint = { key: 'spot', value: 'true', effect: 'NoSchedule' } as const;
const nodes = [
  testNode('cordoned', { unschedulable: true, taints: [spotTaint], allocatable: { cpu: 100, memory: GI, pods: 10 } }),
  testNode('spot', { taints: [spotTaint], allocatable: { cpu: 100, memory: GI, pods: 10 } }),
  testNode('small', { allocatable: { cpu: 100, memory: GI, pods: 10 } }),
  testNode('big'),
];
const state = FitState.fromSnapshot(testSnapshot(nodes));
const pod = testPod('web', { requests: { cpu: 500 } });

test('checkFit reports the first failing filter in upstream order', () => {
  assert.deepEqual(checkFit(state, pod, 'cordoned'), { ok: false, plugin: 'NodeUnschedulable', reason: 'node(s) were unschedulable' });
  assert.deepEqual(checkFit(state, pod, 'spot'), { ok: false, plugin: 'TaintToleration', reason: 'node(s) had untolerated taint(s)' });
  assert.deepEqual(checkFit(state, pod, 'small'), { ok: false, plugin: 'NodeResourcesFit', reason: 'Insufficient cpu' });
  assert.deepEqual(checkFit(state, pod, 'big'), { ok: true });
  assert.deepEqual(ALL_FILTERS, ['NodeUnschedulable', 'NodeReady', 'TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity']);
});

test('checkFit runs only the filters asked for', () => {
  assert.deepEqual(checkFit(state, pod, 'cordoned', ['NodeResourcesFit', 'TaintToleration']), {
    ok: false,
    plugin: 'TaintToleration',
    reason: 'node(s) had untolerated taint(s)',
  });
  assert.deepEqual(checkFit(state, pod, 'cordoned', []), { ok: true });
  assert.throws(() => checkFit(state, pod, 'ghost'), { message: 'Cannot check pod "default/web" on node "ghost": the node is not in the state' });
});

test('feasibleNodes and filterNodes list the nodes a pod may go on, and why the others are out', () => {
  assert.deepEqual(feasibleNodes(state, pod), ['big']);
  assert.deepEqual(feasibleNodes(state, testPod('tiny', { requests: { cpu: 10 } })), ['big', 'small']);
  const { rejected } = filterNodes(state, testPod('huge', { requests: { cpu: 8000 } }));
  assert.equal(describeUnschedulable(state.nodeNames.length, rejected.values()), '0/4 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable, 2 Insufficient cpu.');
  assert.equal(describeUnschedulable(0, []), '0/0 nodes are available');
});

test('describeUnschedulable counts each reason of each node apart and sorts the counted strings, as kube-scheduler 1.36', () => {
  // Two nodes lacking cpu and memory and one lacking cpu alone: upstream's FitError counts
  // "Insufficient cpu" three times and "Insufficient memory" twice (a Status per node, a count per reason).
  const tight = [
    testNode('t1', { allocatable: { cpu: 100, memory: GI, pods: 10 } }),
    testNode('t2', { allocatable: { cpu: 100, memory: GI, pods: 10 } }),
    testNode('t3', { allocatable: { cpu: 100, memory: 8 * GI, pods: 10 } }),
    testNode('t4', { taints: [spotTaint] }),
  ];
  const { rejected } = filterNodes(FitState.fromSnapshot(testSnapshot(tight)), testPod('big', { requests: { cpu: 500, memory: 2 * GI } }));
  assert.equal(rejected.get('t1')?.reason, 'Insufficient cpu, Insufficient memory');
  assert.equal(
    describeUnschedulable(tight.length, rejected.values()),
    '0/4 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient memory, 3 Insufficient cpu.',
  );
});

test('a pod placed in the state is checked as if taken off its node', () => {
  const full = testNode('full', { allocatable: { cpu: 1000, memory: GI, pods: 1 } });
  const other = testNode('other', { allocatable: { cpu: 1000, memory: GI, pods: 1 } });
  const placed = testPod('db', {
    nodeName: 'full',
    labels: { app: 'db' },
    requests: { cpu: 1000 },
    constraints: { podAntiAffinity: { required: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } },
  });
  const planning = FitState.fromSnapshot(testSnapshot([full, other], [placed]));
  assert.deepEqual(checkFit(planning, placed, 'full'), { ok: true });
  assert.deepEqual(checkFit(planning, placed, 'other'), { ok: true });
  const twin = { ...placed, name: 'db-2', uid: 'default/db-2' };
  assert.deepEqual(checkFit(planning, twin, 'full'), { ok: false, plugin: 'NodeResourcesFit', reason: 'Too many pods, Insufficient cpu', reasons: ['Too many pods', 'Insufficient cpu'] });
  assert.deepEqual(checkFit(planning, twin, 'full', ['InterPodAffinity']), {
    ok: false,
    plugin: 'InterPodAffinity',
    reason: "node(s) didn't match pod anti-affinity rules",
  });
  assert.equal(planning.nodeOf(placed), 'full');
  assert.equal(planning.podCount('full'), 1);
});

test('property: a plugin that skips a pod (PreFilter Skip) passes it on every node', () => {
  fc.assert(
    fc.property(placedPodsArbitrary(14), podArbitrary(99), (placed, pod) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      for (const plugin of FILTER_PLUGINS) {
        if (plugin.skip?.(state, pod) !== true) continue;
        for (const node of CLUSTER_NODES) assert.deepEqual(plugin.filter(state, pod, nodeInfoOf(state, node)), FIT_OK, `${plugin.name} skipped ${pod.name} but rejects ${node.name}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('the skipping plugins do skip a pod without constraints, and not one with them', () => {
  const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, []));
  const bare = testPod('bare');
  const skipped = (pod: PodView): string[] => FILTER_PLUGINS.filter((p) => p.skip?.(state, pod) === true).map((p) => p.name);
  assert.deepEqual(skipped(bare), ['NodeAffinity', 'PodTopologySpread', 'InterPodAffinity']);
  const constrained = testPod('constrained', {
    constraints: {
      nodeSelector: { pool: 'batch' },
      topologySpread: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }],
      podAntiAffinity: { required: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'a' } } }] },
    },
  });
  assert.deepEqual(skipped(constrained), []);
});

test('firstFeasibleNode returns the first feasible node in the order given and stops reading there', () => {
  const read: string[] = [];
  function* order(): Generator<string> {
    for (const name of ['spot', 'small', 'big', 'cordoned']) {
      read.push(name);
      yield name;
    }
  }
  assert.equal(firstFeasibleNode(state, pod, order()), 'big');
  assert.deepEqual(read, ['spot', 'small', 'big']);
  assert.equal(firstFeasibleNode(state, pod, ['cordoned', 'spot', 'small']), undefined);
  assert.throws(() => firstFeasibleNode(state, pod, ['nope']), { message: 'Cannot check pod "default/web" on node "nope": the node is not in the state' });
});

test('feasibleAmong keeps the order given, stops at the limit, and agrees with filterNodes', () => {
  assert.deepEqual(feasibleAmong(state, testPod('tiny', { requests: { cpu: 50 } }), ['small', 'spot', 'big']), ['small', 'big']);
  assert.deepEqual(feasibleAmong(state, testPod('tiny', { requests: { cpu: 50 } }), ['big', 'small'], 1), ['big']);
  assert.deepEqual(feasibleAmong(state, pod, ['cordoned', 'spot', 'small']), []);
  fc.assert(
    fc.property(placedPodsArbitrary(14), podArbitrary(99), (placed, candidate) => {
      const fit = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      assert.deepEqual(feasibleAmong(fit, candidate, fit.nodeNames), filterNodes(fit, candidate).feasible);
      // Given as NodeInfo (what the simulator's scheduler passes), the same nodes come back as NodeInfo.
      const infos = fit.nodeNames.map((name, i) => {
        const info = fit.nodeInfoAt(i);
        assert.equal(info, fit.nodeInfo(name), `nodeInfoAt(${i}) is ${name}`);
        return info as NodeInfo;
      });
      assert.deepEqual(feasibleAmong(fit, candidate, infos).map((info) => info.view.name), filterNodes(fit, candidate).feasible);
      assert.equal(firstFeasibleNode(fit, candidate, infos)?.view.name, filterNodes(fit, candidate).feasible[0]);
    }),
    { numRuns: 300 },
  );
});
