import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CLUSTER_NODES, placedPodsArbitrary, podArbitrary } from './arbitraries.test-helper.js';
import { MI, testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import type { LabelSelector, PodView } from '../../core/model.js';
import { FitState } from './state.js';

const nodes = [testNode('a'), testNode('b')];
/** The label keys the arbitrary pods carry: indexed before a property mutates the state, so that the incremental upkeep is what gets compared. */
const INDEXED_KEYS = ['app', 'tier'];

test('fromSnapshot counts bound pods that are not finished, terminating ones included', () => {
  const state = FitState.fromSnapshot(
    testSnapshot(nodes, [
      testPod('running', { nodeName: 'a', requests: { cpu: 100, memory: MI } }),
      testPod('terminating', { nodeName: 'a', requests: { cpu: 200 }, deletionRequestedAt: 5 }),
      testPod('done', { nodeName: 'a', phase: 'Succeeded' }),
      testPod('failed', { nodeName: 'a', phase: 'Failed' }),
      testPod('pending', { nodeName: '' }),
      testPod('lost', { nodeName: 'gone' }),
    ]),
  );
  assert.deepEqual(state.nodeNames, ['a', 'b']);
  assert.deepEqual(state.requested('a'), { cpu: 300, memory: MI });
  assert.equal(state.podCount('a'), 2);
  assert.deepEqual(state.podsOn('a').map((p) => p.name).sort(), ['running', 'terminating']);
  assert.equal(state.nodeOf('default/running'), 'a');
  assert.equal(state.nodeOf('default/pending'), undefined);
  assert.deepEqual(state.requested('b'), {});
  assert.deepEqual(state.requested('unknown'), {});
});

test('fromSnapshot places the first of two pods sharing a uid and leaves the second out, wherever it is bound', () => {
  const first = testPod('web', { uid: 'same', nodeName: 'a', requests: { cpu: 100 } });
  const second = testPod('web-copy', { uid: 'same', nodeName: 'b', requests: { cpu: 300 } });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [first, testPod('other', { nodeName: 'b', requests: { cpu: 50 } }), second]));
  assert.equal(state.nodeOf('same'), 'a');
  assert.deepEqual(state.requested('a'), { cpu: 100 });
  assert.deepEqual(state.requested('b'), { cpu: 50 });
  assert.deepEqual(state.podsOn('b').map((p) => p.name), ['other']);
  state.forget('same');
  assert.deepEqual(state.requested('a'), { cpu: 0 });
});

test('assume and forget move a pod, and refuse what the scheduler cache would refuse', () => {
  const state = FitState.fromSnapshot(testSnapshot(nodes));
  const pod = testPod('web', { requests: { cpu: 250 } });
  state.assume(pod, 'a');
  assert.deepEqual(state.requested('a'), { cpu: 250 });
  assert.throws(() => state.assume(pod, 'b'), { message: 'Cannot assume pod "default/web" on node "b": it is already on node "a"' });
  assert.throws(() => state.assume(testPod('x'), 'c'), { message: 'Cannot assume pod "default/x" on node "c": the node is not in the state' });
  state.move(pod, 'b');
  assert.equal(state.nodeOf(pod), 'b');
  assert.deepEqual(state.requested('a'), { cpu: 0 }, 'a resource all pods left stays at 0');
  assert.deepEqual(state.requested('b'), { cpu: 250 });
  state.forget(pod);
  assert.throws(() => state.forget(pod), { message: 'Cannot forget pod "default/web": it is not placed in the state' });
  assert.throws(() => state.forget('nope'), { message: 'Cannot forget pod with uid "nope": it is not placed in the state' });
});

test('a clone changes independently of its original', () => {
  const original = FitState.fromSnapshot(testSnapshot(nodes, [testPod('p', { nodeName: 'a' })]));
  const copy = original.clone();
  copy.forget('default/p');
  copy.assume(testPod('q'), 'b');
  assert.equal(original.nodeOf('default/p'), 'a');
  assert.equal(original.nodeOf('default/q'), undefined);
  assert.equal(copy.nodeOf('default/q'), 'b');
  assert.equal(copy.podCount('a'), 0);
  assert.equal(original.podCount('a'), 1);
});

test('withoutPod takes a placed pod off its node while it runs and restores it after', () => {
  const pod = testPod('p', { nodeName: 'a', requests: { cpu: 100 } });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [pod]));
  const before = state.canonical();
  const version = state.version;
  const seen = state.withoutPod(pod, () => [state.podCount('a'), state.requested('a')['cpu'] ?? 0]);
  assert.deepEqual(seen, [0, 0]);
  assert.deepEqual(state.canonical(), before);
  assert.equal(state.version, version);
  assert.throws(() => state.withoutPod(pod, () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual(state.canonical(), before);
});

test('withoutPod nests: each pod is out while its own call runs', () => {
  const first = testPod('first', { nodeName: 'a', requests: { cpu: 100 } });
  const second = testPod('second', { nodeName: 'a', requests: { cpu: 200 } });
  const state = FitState.fromSnapshot(testSnapshot(nodes, [first, second]));
  const before = state.canonical();
  const seen = state.withoutPod(first, () => [state.requested('a')['cpu'], state.withoutPod(second, () => state.podCount('a')), state.podCount('a')]);
  assert.deepEqual(seen, [200, 0, 1]);
  assert.deepEqual(state.canonical(), before);
});

test('a pod found not placed is seen placed once assumed, and refused a second assume', () => {
  const pod = testPod('p', { requests: { cpu: 100 } });
  const state = FitState.fromSnapshot(testSnapshot(nodes));
  // Asked while pending (the state remembers the uid it did not hold), then bound.
  assert.equal(state.withoutPod(pod, () => state.podCount('a')), 0);
  state.assume(pod, 'a');
  assert.equal(state.withoutPod(pod, () => state.podCount('a')), 0, 'a placed pod does not count against itself');
  assert.equal(state.podCount('a'), 1);
  assert.throws(() => state.assume(pod, 'b'), { message: 'Cannot assume pod "default/p" on node "b": it is already on node "a"' });
  state.forget(pod);
  assert.equal(state.withoutPod(pod, () => state.podCount('a')), 0);
  state.assume(pod, 'b');
  assert.equal(state.withoutPod(pod, () => state.podCount('b')), 0);
  assert.equal(state.nodeOf(pod), 'b');
});

test('forget takes off the placed pod of the uid, whether given that object, a newer view of the pod or the uid', () => {
  const placed = testPod('p', { nodeName: 'a', requests: { cpu: 100 } });
  const others = [testPod('q', { nodeName: 'a', requests: { cpu: 10 } }), testPod('r', { nodeName: 'a', requests: { cpu: 1 } })];
  const state = FitState.fromSnapshot(testSnapshot(nodes, [...others, placed]));
  const before = state.canonical();
  state.forget(placed);
  assert.deepEqual(state.requested('a'), { cpu: 11 });
  state.assume(placed, 'a');
  assert.deepEqual(state.canonical(), before);
  // A view rebuilt since (Ready now): another object with the same uid.
  state.forget({ ...placed, ready: true });
  assert.deepEqual(state.podsOn('a').map((p) => p.name).sort(), ['q', 'r']);
  state.assume(placed, 'a');
  state.forget(placed.uid);
  assert.equal(state.nodeOf(placed), undefined);
  assert.deepEqual(state.requested('a'), { cpu: 11 });
});

const extraPods = fc
  .array(fc.constantFrom(...CLUSTER_NODES.map((n) => n.name)), { maxLength: 8 })
  .chain((targets) => fc.tuple(...targets.map((node, i) => podArbitrary(100 + i).map((pod) => ({ pod, node })))));

test('property: assume then forget restores the state exactly', () => {
  fc.assert(
    fc.property(placedPodsArbitrary(12), extraPods, fc.boolean(), (placed, extra, lifo) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      state.prepareIndexes(INDEXED_KEYS, true);
      const before = state.canonical();
      for (const { pod, node } of extra) state.assume(pod, node);
      for (const { pod } of lifo ? [...extra].reverse() : extra) state.forget(pod);
      assert.deepEqual(state.canonical(), before);
    }),
    { numRuns: 200 },
  );
});

test('property: forgetting and re-assuming placed pods in any order restores the state exactly', () => {
  const scenario = placedPodsArbitrary(14).chain((placed) => {
    const bound = placed.filter((p) => p.nodeName !== '');
    return fc.tuple(fc.constant(placed), fc.shuffledSubarray(bound, { minLength: bound.length, maxLength: bound.length }));
  });
  fc.assert(
    fc.property(scenario, ([placed, order]) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      state.prepareIndexes(INDEXED_KEYS, true);
      const before = state.canonical();
      for (const pod of order) state.forget(pod);
      assert.equal(CLUSTER_NODES.reduce((sum, n) => sum + state.podCount(n.name), 0), 0);
      for (const pod of order.reverse()) state.assume(pod, pod.nodeName);
      assert.deepEqual(state.canonical(), before);
    }),
    { numRuns: 200 },
  );
});

test('property: a state built by assume equals the state built from the snapshot', () => {
  fc.assert(
    fc.property(placedPodsArbitrary(14), (placed) => {
      const built = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      built.prepareIndexes(INDEXED_KEYS, true);
      const assumed = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES));
      assumed.prepareIndexes(INDEXED_KEYS, true);
      for (const pod of placed) if (pod.nodeName !== '') assumed.assume(pod, pod.nodeName);
      assert.deepEqual(assumed.canonical(), built.canonical());
      assert.deepEqual(built.clone().canonical(), built.canonical());
    }),
    { numRuns: 200 },
  );
});

/** Selectors the system-default spread keeps counts for (`matchLabels` only) and one counted afresh each time. */
const KEPT_SELECTORS: readonly LabelSelector[] = [{ matchLabels: { app: 'a' } }, { matchLabels: { app: 'b', tier: 'x' } }];
const MATCHED_SELECTOR: LabelSelector = { matchExpressions: [{ key: 'tier', operator: 'Exists' }] };

/** What the label index and the kept counts answer now, by node name (independent of node indexes and order). */
function indexAnswers(state: FitState): unknown {
  const byName = (counts: ArrayLike<number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const name of state.nodeNames) {
      const n = counts[state.nodeInfo(name)?.index ?? -1] ?? 0;
      if (n !== 0) out[name] = n;
    }
    return out;
  };
  // Kept counts first: asked before anything else reads the index.
  const kept = ['default', 'shop'].flatMap((namespace) => KEPT_SELECTORS.map((selector) => byName(state.selectedCounts(namespace, selector))));
  const matched: string[] = [];
  for (const namespace of ['default', 'shop']) state.forEachMatchingPod([namespace], MATCHED_SELECTOR, (pod, node) => matched.push(`${pod.uid}@${node.name}`));
  return { kept, matched: matched.sort() };
}

test('property: moves tried and undone, with the index read or not in between, answer as a state built where the pods are', () => {
  // Each step moves a placed pod to another node (off first, as Cluster Autoscaler's removal
  // simulation does); `read` asks the label index and the kept counts right after it.
  const steps = fc.array(fc.record({ pick: fc.nat(), to: fc.constantFrom(...CLUSTER_NODES.map((n) => n.name)), read: fc.boolean() }), { maxLength: 12 });
  fc.assert(
    fc.property(placedPodsArbitrary(14), steps, fc.boolean(), (placed, moves, readFirst) => {
      const state = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed));
      // Read before the moves (the counts are then kept and updated) or first after them.
      const beforeAnswers = readFirst ? indexAnswers(state) : undefined;
      const before = state.canonical();
      const bound = placed.filter((p) => p.nodeName !== '');
      if (bound.length === 0) return;
      const undo: { pod: PodView; from: string }[] = [];
      for (const { pick, to, read } of moves) {
        const pod = bound[pick % bound.length] as PodView;
        const from = state.nodeOf(pod) as string;
        if (from === to) continue;
        state.forget(pod);
        state.assume(pod, to);
        undo.push({ pod, from });
        if (read) {
          const rebuilt = FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, bound.map((p) => ({ ...p, nodeName: state.nodeOf(p) ?? '' }))));
          assert.deepEqual(indexAnswers(state), indexAnswers(rebuilt));
        }
      }
      for (const { pod, from } of undo.reverse()) {
        state.forget(pod);
        state.assume(pod, from);
      }
      const after = indexAnswers(state);
      assert.deepEqual(after, beforeAnswers ?? indexAnswers(FitState.fromSnapshot(testSnapshot(CLUSTER_NODES, placed))));
      if (readFirst) assert.deepEqual(state.canonical(), before);
    }),
    { numRuns: 300 },
  );
});
