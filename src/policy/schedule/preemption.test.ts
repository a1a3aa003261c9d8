import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matchesLabelSelector } from '../../core/labels.js';
import type { NodeView, PdbView, PodView } from '../../core/model.js';
import { GI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
import { FitState } from '../fit/index.js';
import { findPreemption, pickCandidate, selectVictimsOnNode, type PreemptionCandidate } from './preemption.js';

const node = (name: string, cpu: number): NodeView => testNode(name, { allocatable: { cpu, memory: 64 * GI, pods: 110 } });
const placed = (name: string, nodeName: string, cpu: number, priority: number, createdAt = 0, labels: Record<string, string> = {}): PodView =>
  testPod(name, { nodeName, requests: { cpu, pods: 1 }, priority, createdAt, labels });
const pdb = (name: string, app: string, disruptionsAllowed: number): PdbView => ({
  namespace: 'default',
  name,
  selector: { matchLabels: { app } },
  disruptionsAllowed,
  currentHealthy: 0,
  desiredHealthy: 0,
  expectedPods: 0,
});

test('three low-priority pods fill the nodes: a high-priority pod preempts exactly one, never an equal or higher one', () => {
  const nodes = [node('n1', 1000), node('n2', 1000), node('n3', 1000)];
  const pods = [placed('low-1', 'n1', 800, 0, 3), placed('low-2', 'n2', 800, 0, 2), placed('same', 'n3', 800, 100, 1)];
  const state = FitState.fromSnapshot(testSnapshot(nodes, pods));
  state.prepareIndexes([]); // built lazily by the filters: built now so the states compare
  const before = state.canonical();
  const found = findPreemption(state, testPod('vip', { requests: { cpu: 500, pods: 1 }, priority: 100 }), []);
  assert.ok(found.ok);
  // n1 and n2 tie on everything but start time: the latest-started victim's node wins (n1's started at 3).
  assert.equal(found.candidate.nodeName, 'n1');
  assert.deepEqual(found.candidate.victims.map((v) => v.name), ['low-1']);
  assert.deepEqual(state.canonical(), before, 'the state is restored');
});

test('victims are reprieved most important first: only what the pod needs is removed', () => {
  const state = FitState.fromSnapshot(
    testSnapshot([node('n1', 1000)], [placed('a', 'n1', 300, 10), placed('b', 'n1', 300, 5), placed('c', 'n1', 300, 1), placed('keep', 'n1', 100, 50)]),
  );
  // The pod needs 500m: 0 free, so two of a, b, c go. a (priority 10) is reprieved first and stays.
  const victims = selectVictimsOnNode(state, testPod('p', { requests: { cpu: 500 }, priority: 20 }), 'n1', []);
  assert.deepEqual(victims?.victims.map((v) => v.name), ['b', 'c']);
});

test('PDB-protected pods are reprieved first, and the candidate with fewer violations wins', () => {
  const nodes = [node('n1', 1000), node('n2', 1000)];
  const pods = [placed('guarded', 'n1', 1000, 0, 0, { app: 'db' }), placed('free', 'n2', 1000, 5, 0, { app: 'web' })];
  const state = FitState.fromSnapshot(testSnapshot(nodes, pods));
  const found = findPreemption(state, testPod('p', { requests: { cpu: 500 }, priority: 10 }), [pdb('db', 'db', 0)]);
  assert.ok(found.ok);
  // n1's victim would break the PDB; n2's victim has a higher priority but breaks none.
  assert.equal(found.candidate.nodeName, 'n2');
  assert.equal(found.candidate.pdbViolations, 0);
});

test('preemptionPolicy Never, and no room even after removing every lower-priority pod', () => {
  const state = FitState.fromSnapshot(testSnapshot([node('n1', 1000)], [placed('low', 'n1', 1000, 0)]));
  assert.deepEqual(findPreemption(state, testPod('p', { requests: { cpu: 500 }, priority: 10, preemptionPolicy: 'Never' }), []), {
    ok: false,
    code: 'never',
    message: 'not eligible due to preemptionPolicy=Never.',
  });
  const none = findPreemption(state, testPod('huge', { requests: { cpu: 2000 }, priority: 10 }), []);
  assert.deepEqual(none, { ok: false, code: 'no-candidate', message: '0/1 nodes are available: 1 Preemption is not helpful for scheduling.' });
});

test('candidate order: lowest highest-victim priority, then the smallest offset sum (fewer victims), then the fewest victims', () => {
  const v = (priority: number, createdAt = 0): PodView => testPod(`v${priority}-${createdAt}`, { priority, createdAt });
  const c = (nodeName: string, victims: PodView[], pdbViolations = 0): PreemptionCandidate => ({ nodeName, victims, pdbViolations });
  assert.equal(pickCandidate([c('a', [v(5)]), c('b', [v(3), v(3)])])?.nodeName, 'b');
  // Same highest priority: one victim of priority 3 beats two of -1 and 3 (each counts 2^31 more).
  assert.equal(pickCandidate([c('a', [v(3), v(-1)]), c('b', [v(3)])])?.nodeName, 'b');
  assert.equal(pickCandidate([c('a', [v(3, 10)]), c('b', [v(3, 20)])])?.nodeName, 'b');
  assert.equal(pickCandidate([c('a', [v(0)], 1), c('b', [v(9)], 0)])?.nodeName, 'b');
  assert.equal(pickCandidate([]), undefined);
});

// --- brute-force reference ------------------------------------------------------------------

interface Small {
  readonly nodes: NodeView[];
  readonly pods: PodView[];
  readonly pdbs: PdbView[];
  readonly preemptor: PodView;
}

const small: fc.Arbitrary<Small> = fc
  .record({
    nodeCpu: fc.array(fc.constantFrom(1000, 2000), { minLength: 1, maxLength: 3 }),
    pods: fc.array(fc.record({ node: fc.nat(2), cpu: fc.constantFrom(200, 400, 700), priority: fc.integer({ min: -2, max: 3 }), createdAt: fc.nat(5), app: fc.constantFrom('a', 'b') }), { maxLength: 8 }),
    allowed: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 2 }),
    preemptor: fc.record({ cpu: fc.constantFrom(300, 600, 1200), priority: fc.integer({ min: -1, max: 4 }) }),
  })
  .map(({ nodeCpu, pods, allowed, preemptor }) => {
    const nodes = nodeCpu.map((cpu, i) => node(`n${i}`, cpu));
    return {
      nodes,
      pods: pods.map((p, i) => placed(`p${i}`, `n${p.node % nodes.length}`, p.cpu, p.priority, p.createdAt, { app: p.app })),
      pdbs: allowed.map((a, i) => pdb(`pdb${i}`, i === 0 ? 'a' : 'b', a)),
      preemptor: testPod('preemptor', { requests: { cpu: preemptor.cpu, pods: 1 }, priority: preemptor.priority }),
    };
  });

/** The semantics written out with plain arithmetic (cpu and pod count only) and no fit state. */
function reference({ nodes, pods, pdbs, preemptor }: Small): PreemptionCandidate | undefined {
  const fits = (n: NodeView, on: PodView[]): boolean =>
    on.reduce((s, p) => s + (p.requests['cpu'] ?? 0), 0) + (preemptor.requests['cpu'] ?? 0) <= (n.allocatable['cpu'] ?? 0) && on.length + 1 <= (n.allocatable['pods'] ?? 0);
  const important = (a: PodView, b: PodView): number => b.priority - a.priority || a.createdAt - b.createdAt;
  const candidates: PreemptionCandidate[] = [];
  for (const n of nodes) {
    const on = pods.filter((p) => p.nodeName === n.name);
    const lower = on.filter((p) => p.priority < preemptor.priority).sort(important);
    const kept = on.filter((p) => p.priority >= preemptor.priority);
    if (lower.length === 0 || !fits(n, kept)) continue;
    const left = pdbs.map((b) => b.disruptionsAllowed);
    const violating = lower.filter((p) => {
      let v = false;
      pdbs.forEach((b, i) => {
        if (matchesLabelSelector(b.selector, p.labels)) {
          left[i] = (left[i] as number) - 1;
          if ((left[i]) < 0) v = true;
        }
      });
      return v;
    });
    const victims: PodView[] = [];
    let violations = 0;
    for (const p of [...violating, ...lower.filter((q) => !violating.includes(q))]) {
      if (fits(n, [...kept, p])) kept.push(p);
      else {
        victims.push(p);
        if (violating.includes(p)) violations++;
      }
    }
    if (victims.length > 0) candidates.push({ nodeName: n.name, victims: victims.sort(important), pdbViolations: violations });
  }
  const key = (c: PreemptionCandidate): number[] => {
    const top = c.victims[0]?.priority ?? 0;
    return [c.pdbViolations, top, c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0), c.victims.length, -Math.min(...c.victims.filter((v) => v.priority === top).map((v) => v.createdAt))];
  };
  candidates.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as number) - (kb[i] as number);
    return a.nodeName < b.nodeName ? -1 : 1;
  });
  return candidates[0];
}

test('property: the chosen node and victims equal the reference, victims are minimal and all of lower priority', () => {
  fc.assert(
    fc.property(small, (input) => {
      const state = FitState.fromSnapshot(testSnapshot(input.nodes, input.pods));
      const before = state.canonical();
      const found = findPreemption(state, input.preemptor, input.pdbs, ['NodeResourcesFit']);
      assert.deepEqual(state.canonical(), before);
      const expected = reference(input);
      if (expected === undefined) {
        assert.equal(found.ok, false);
        return;
      }
      assert.ok(found.ok);
      const got = found.candidate;
      assert.equal(got.nodeName, expected.nodeName);
      assert.deepEqual(got.victims.map((v) => v.name).sort(), expected.victims.map((v) => v.name).sort());
      assert.equal(got.pdbViolations, expected.pdbViolations);
      for (const victim of got.victims) assert.ok(victim.priority < input.preemptor.priority);
      // Minimal: with the victims gone the pod fits; with any one of them back it does not.
      for (const victim of got.victims) state.forget(victim);
      assert.ok(checkFits(state, input.preemptor, got.nodeName));
      for (const victim of got.victims) {
        state.assume(victim, got.nodeName);
        assert.equal(checkFits(state, input.preemptor, got.nodeName), false);
        state.forget(victim);
      }
    }),
    { numRuns: 500 },
  );
});

function checkFits(state: FitState, pod: PodView, nodeName: string): boolean {
  const info = state.nodeInfo(nodeName);
  if (info === undefined) return false;
  const free = (info.view.allocatable['cpu'] ?? 0) - (info.requested['cpu'] ?? 0);
  return (pod.requests['cpu'] ?? 0) <= free && info.pods.length + 1 <= (info.view.allocatable['pods'] ?? 0);
}
