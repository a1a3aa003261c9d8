import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NodeView, PodView } from '../../core/model.js';
import { GI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
import { FitState, bestScoredNodes, feasibleNodes } from '../fit/index.js';
import { numFeasibleNodesToFind, PROFILE_PRESETS, scheduleOne, type CycleContext, type SchedulerProfile } from './framework.js';

const profile: SchedulerProfile = { schedulerName: 'stowage', preset: 'default', fit: PROFILE_PRESETS.default, preemption: true };
const context: CycleContext = { pdbs: [], percentageOfNodesToScore: 0, random: () => 0, startIndex: 0 };
const node = (name: string, cpu: number, extra: Partial<NodeView> = {}): NodeView => testNode(name, { allocatable: { cpu, memory: 16 * GI, pods: 110 }, ...extra });
const placed = (name: string, nodeName: string, cpu: number, priority = 0, extra: Partial<PodView> = {}): PodView => testPod(name, { nodeName, requests: { cpu, pods: 1 }, priority, ...extra });

test('numFeasibleNodesToFind is kube-scheduler\'s: all under 100 nodes, adaptive percentage above, at least 100', () => {
  assert.equal(numFeasibleNodesToFind(50, 0), 50);
  assert.equal(numFeasibleNodesToFind(100, 0), 100); // 50% of 100 is under the minimum
  assert.equal(numFeasibleNodesToFind(500, 0), 230); // 50 - 500/125 = 46%
  assert.equal(numFeasibleNodesToFind(5000, 0), 500); // 50 - 40 = 10%
  assert.equal(numFeasibleNodesToFind(10_000, 0), 500); // at least 5%
  assert.equal(numFeasibleNodesToFind(1000, 30), 300);
  assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
});

test('a cycle picks among the best-scored feasible nodes, as filtering and scoring every node would', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 100, max: 3000 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (used, request, r) => {
      const nodes = used.map((_, i) => node(`n${String(i).padStart(2, '0')}`, 4000));
      const pods = used.map((cpu, i) => placed(`p${i}`, `n${String(i).padStart(2, '0')}`, cpu));
      const state = FitState.fromSnapshot(testSnapshot(nodes, pods));
      const pod = testPod('new', { requests: { cpu: request, pods: 1 } });
      const { decision } = scheduleOne(state, pod, profile, { ...context, random: () => r });
      const feasible = feasibleNodes(state, pod);
      if (feasible.length === 0) {
        assert.equal(decision.ok, false);
        return;
      }
      assert.ok(decision.ok);
      assert.ok(bestScoredNodes(state, pod, profile.fit, feasible).includes(decision.nodeName));
    }),
    { numRuns: 200 },
  );
});

test('the node search starts where the last one stopped, and samples a large cluster', () => {
  const nodes = Array.from({ length: 500 }, (_, i) => node(`n${String(i).padStart(3, '0')}`, 4000));
  const state = FitState.fromSnapshot(testSnapshot(nodes));
  const pod = testPod('p', { requests: { cpu: 100, pods: 1 } });
  const first = scheduleOne(state, pod, profile, context);
  assert.ok(first.decision.ok);
  assert.equal(first.decision.evaluated, 230);
  assert.equal(first.nextStartIndex, 230);
  const second = scheduleOne(state, pod, profile, { ...context, startIndex: first.nextStartIndex });
  assert.ok(second.decision.ok);
  assert.equal(second.nextStartIndex, 460);
  assert.ok(second.decision.nodeName >= 'n230', `from the second slice: ${second.decision.nodeName}`);
});

test('no room: the FitError in kube-scheduler\'s words, then preemption\'s verdict', () => {
  const state = FitState.fromSnapshot(testSnapshot([node('a', 1000), node('b', 1000, { unschedulable: true })], [placed('same', 'a', 800, 50)]));
  const { decision } = scheduleOne(state, testPod('p', { requests: { cpu: 500, pods: 1 }, priority: 50 }), profile, context);
  assert.deepEqual(decision, {
    ok: false,
    reason: {
      code: 'Unschedulable',
      message: "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    },
  });
  const never = scheduleOne(state, testPod('p', { requests: { cpu: 500, pods: 1 }, priority: 100, preemptionPolicy: 'Never' }), profile, context).decision;
  assert.ok(!never.ok && never.reason.message.endsWith(' preemption: not eligible due to preemptionPolicy=Never.'));
  const off = scheduleOne(state, testPod('p', { requests: { cpu: 500, pods: 1 }, priority: 100 }), { ...profile, preemption: false }, context).decision;
  assert.ok(!off.ok && off.reason.message === '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable.' && off.preemption === undefined);
  assert.deepEqual(scheduleOne(FitState.fromSnapshot(testSnapshot([])), testPod('p'), profile, context).decision, { ok: false, reason: { code: 'NoNodes', message: 'no nodes available to schedule pods' } });
});

test('a higher-priority pod gets a candidate; nominated where a victim still terminates, it waits instead', () => {
  const state = FitState.fromSnapshot(testSnapshot([node('a', 1000), node('b', 1000)], [placed('low-a', 'a', 800, 0, { createdAt: 1 }), placed('low-b', 'b', 800, 0, { createdAt: 2 })]));
  const vip = testPod('vip', { requests: { cpu: 500, pods: 1 }, priority: 100 });
  const { decision } = scheduleOne(state, vip, profile, context);
  assert.ok(!decision.ok && decision.preemption !== undefined);
  assert.equal(decision.preemption.nodeName, 'b', 'the latest-started victim');
  assert.deepEqual(decision.preemption.victims.map((v) => v.name), ['low-b']);
  // The victim is deleted and terminating; the preemptor is retried before it is gone.
  state.forget('default/low-b');
  state.assume(placed('low-b', 'b', 800, 0, { createdAt: 2, deletionRequestedAt: 10 }), 'b');
  const retry = scheduleOne(state, vip, profile, { ...context, nominatedNodeName: 'b' }).decision;
  assert.ok(!retry.ok && retry.preemption === undefined && retry.reason.message.endsWith(' preemption: not eligible due to a terminating pod on the nominated node.'));
});
