import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NodeView, PodView } from '../../core/model.js';
import { GI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
import { FitState } from '../fit/index.js';
import { PROFILE_PRESETS, type CycleContext, type SchedulerProfile } from './framework.js';
import { GangPermits, gangFits, gangOrderBefore, gangPreFilter, podGroupKeyOf, POD_GROUP_LABEL, type GangOrderKey, type PodGroupSpec } from './gang.js';

const profile: SchedulerProfile = { schedulerName: 'stowage', preset: 'default', fit: PROFILE_PRESETS.default, preemption: true };
const context: CycleContext = { pdbs: [], percentageOfNodesToScore: 0, random: () => 0, startIndex: 0 };
const node = (name: string, cpu: number): NodeView => testNode(name, { allocatable: { cpu, memory: 16 * GI, pods: 110 } });
const member = (name: string, group: string, cpu: number): PodView => testPod(name, { requests: { cpu, pods: 1 }, labels: { [POD_GROUP_LABEL]: group } });
const group = (name: string, minMember: number, createdAt = 0): PodGroupSpec => ({ namespace: 'default', name, minMember, scheduleTimeoutMs: 10_000, createdAt });
const order = (key: string, createdAt: number, priority = 0): GangOrderKey => ({ priority, createdAt, key });

test('a pod\'s group is its label in its namespace', () => {
  assert.equal(podGroupKeyOf(member('a', 'train', 1)), 'default/train');
  assert.equal(podGroupKeyOf(testPod('b')), undefined);
});

test('groups are ordered by priority, then creation time, then key', () => {
  assert.ok(gangOrderBefore(order('b', 5, 10), order('a', 1, 0)));
  assert.ok(gangOrderBefore(order('b', 1), order('a', 2)));
  assert.ok(gangOrderBefore(order('a', 1), order('b', 1)));
  assert.ok(!gangOrderBefore(order('a', 1), order('a', 1)));
});

test('PreFilter: no group, too few members, backing off', () => {
  assert.equal(gangPreFilter('default/x', undefined, 3, undefined, 0)?.code, 'PodGroupNotFound');
  assert.deepEqual(gangPreFilter('default/x', group('x', 3), 2, undefined, 0), { code: 'NotEnoughMembers', message: 'PodGroup "default/x" has 2 pod(s), fewer than its minMember 3' });
  assert.equal(gangPreFilter('default/x', group('x', 3), 3, 5_000, 1_000)?.code, 'GroupBackoff');
  assert.equal(gangPreFilter('default/x', group('x', 3), 3, 5_000, 5_000), undefined);
});

test('the whole group is tried before anything is reserved, and the state is left as it was', () => {
  const pods = ['a', 'b', 'c'].map((n) => member(n, 'g', 600));
  const two = FitState.fromSnapshot(testSnapshot([node('n1', 1000), node('n2', 1000)]));
  two.prepareIndexes([]);
  const before = two.canonical();
  const rejected = gangFits(two, 'default/g', pods, 3, profile, context);
  assert.equal(rejected?.code, 'GroupDoesNotFit');
  assert.match(rejected?.message ?? '', /^PodGroup "default\/g" cannot place 3 member\(s\) together \(2 fit\): pod "default\/c": 0\/2 nodes are available: 2 Insufficient cpu\.$/);
  assert.deepEqual(two.canonical(), before);
  const three = FitState.fromSnapshot(testSnapshot([node('n1', 1000), node('n2', 1000), node('n3', 1000)]));
  assert.equal(gangFits(three, 'default/g', pods, 3, profile, context), undefined);
  // minMember 2 of 3: two fitting is enough.
  assert.equal(gangFits(two, 'default/g', pods, 2, profile, context), undefined);
});

test('Permit: members wait until minMember hold room, then all are allowed together; a timeout rejects the group whole', () => {
  const permits = new GangPermits();
  const g = group('g', 3);
  assert.deepEqual(permits.permit('default/g', g, order('default/g', 0), { podKey: 'default/a', nodeName: 'n1' }, 0, 0), { kind: 'wait' });
  assert.deepEqual(permits.permit('default/g', g, order('default/g', 0), { podKey: 'default/b', nodeName: 'n2' }, 0, 1), { kind: 'wait' });
  assert.ok(permits.isWaiting('default/g', 'default/a'));
  assert.equal(permits.nextDeadline(), 10_000);
  assert.deepEqual(permits.permit('default/g', g, order('default/g', 0), { podKey: 'default/c', nodeName: 'n1' }, 0, 2), {
    kind: 'allow',
    members: [{ podKey: 'default/a', nodeName: 'n1' }, { podKey: 'default/b', nodeName: 'n2' }, { podKey: 'default/c', nodeName: 'n1' }],
  });
  assert.equal(permits.waitingCount('default/g'), 0);
  // Members already bound count: one more is enough.
  assert.equal(permits.permit('default/g', g, order('default/g', 0), { podKey: 'default/d', nodeName: 'n1' }, 2, 3).kind, 'allow');
  // Timeout: the group is rejected whole.
  permits.permit('default/h', group('h', 2), order('default/h', 0), { podKey: 'default/x', nodeName: 'n1' }, 0, 100);
  assert.deepEqual(permits.expired(10_099), []);
  assert.deepEqual(permits.expired(10_100), ['default/h']);
  assert.deepEqual(permits.reject('default/h'), [{ podKey: 'default/x', nodeName: 'n1' }]);
  assert.equal(permits.nextDeadline(), undefined);
});

/**
 * Two gangs that each fit alone but not together, members arriving in any order, on a model of
 * identical slots: a member takes a free slot and waits at Permit; a member finding none makes
 * the later-ordered waiting groups yield (their slots come back, their members back off), and
 * when none may yield, its own group's wait ends as a timeout would. A group that backs off comes
 * back once the members not backing off have been tried (its backoff is longer than a cycle).
 * Whatever the arrival order, a group completes, and none is ever bound with fewer than its minMember.
 */
test('two gangs competing for the same room never deadlock: one completes, none is bound partly', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 6 }), fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 400 }), (a, b, extra, choices) => {
      const slots = Math.max(a, b) + (extra % Math.min(a, b)); // each fits alone, not both
      const groups = { A: { spec: group('A', a, 1), order: order('default/A', 1) }, B: { spec: group('B', b, 2), order: order('default/B', 2) } };
      const permits = new GangPermits();
      let free = slots;
      const pending: string[] = [...Array.from({ length: a }, (_, i) => `A${i}`), ...Array.from({ length: b }, (_, i) => `B${i}`)];
      const bound: Record<'A' | 'B', number> = { A: 0, B: 0 };
      let backoff: string[] = [];
      const release = (key: string): void => {
        const released = permits.reject(key);
        free += released.length;
        backoff.push(...released.map((m) => m.podKey));
      };
      for (let step = 0; step < 2_000 && bound.A < a && bound.B < b; step++) {
        if (pending.length === 0) {
          pending.push(...backoff);
          backoff = [];
        }
        const podKey = pending.splice((choices[step % choices.length] ?? 0) % pending.length, 1)[0] as string;
        const name = podKey[0] as 'A' | 'B';
        const g = groups[name];
        if (free === 0) {
          const yielding = permits.yieldingGroups(`default/${name}`, g.order);
          for (const key of yielding) release(key);
          if (yielding.length === 0) release(`default/${name}`);
          (yielding.length > 0 ? pending : backoff).push(podKey);
          continue;
        }
        free--;
        const verdict = permits.permit(`default/${name}`, g.spec, g.order, { podKey, nodeName: 'slot' }, bound[name], step);
        if (verdict.kind === 'allow') {
          assert.ok(bound[name] + verdict.members.length >= g.spec.minMember, 'never bound partly');
          bound[name] += verdict.members.length;
        }
      }
      assert.ok(bound.A === a || bound.B === b, `a group completes: A ${bound.A}/${a}, B ${bound.B}/${b} on ${slots} slots`);
      assert.ok(bound.A === 0 || bound.A === a, 'A is bound whole or not at all');
      assert.ok(bound.B === 0 || bound.B === b, 'B is bound whole or not at all');
    }),
    { numRuns: 300 },
  );
});
