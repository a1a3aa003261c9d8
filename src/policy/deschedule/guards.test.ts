import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PdbView, WorkloadKind } from '../../core/model.js';
import { indexSnapshot } from '../../core/snapshot.js';
import { refusalBacksOff } from './reasons.js';
import { AvailabilityGuard, drainRetryAt, implicitFloor, pdbAllowance, recordDrainFailure } from './guards.js';
import { node, pdb, pod, snapshot, workload } from './fixtures.test-helper.js';

const pods = (ready: number, notReady = 0) => [
  ...Array.from({ length: ready }, (_, i) => pod(`web-${i}`, 'n1')),
  ...Array.from({ length: notReady }, (_, i) => pod(`web-u${i}`, 'n1', { ready: false })),
];

test('pdbAllowance computes like the disruption controller and keeps the stricter of status and snapshot', () => {
  const cases: readonly [spec: Parameters<typeof pdb>[2], ready: number, notReady: number, expected: number, computed: number][] = [
    [{ minAvailable: 2, disruptionsAllowed: 5 }, 3, 0, 4, 1], // 3 healthy − 2
    [{ minAvailable: '50%', disruptionsAllowed: 5 }, 3, 1, 4, 1], // ceil(50% of 4) = 2 desired; 3 healthy
    [{ minAvailable: undefined, maxUnavailable: 1, disruptionsAllowed: 5 }, 4, 0, 4, 1], // desired 4 − 1 = 3
    [{ minAvailable: undefined, maxUnavailable: '30%', disruptionsAllowed: 5 }, 10, 0, 10, 3], // ceil(3) → desired 7
    [{ minAvailable: undefined, maxUnavailable: '25%', disruptionsAllowed: 5 }, 3, 0, 3, 1], // ceil(0.75) = 1 → desired 2
    [{ minAvailable: 3, disruptionsAllowed: 5 }, 2, 1, 3, 0], // below its floor already
  ];
  for (const [spec, ready, notReady, expected, computed] of cases) {
    const a = pdbAllowance(pdb('p', 'web', spec), pods(ready, notReady), expected);
    assert.deepEqual(a, { fromStatus: 5, computed, allowed: Math.min(5, computed) }, JSON.stringify(spec));
  }
  assert.equal(pdbAllowance(pdb('p', 'web', { minAvailable: 1, disruptionsAllowed: 0 }), pods(3), 3).allowed, 0);
  // Terminating and finished pods are not healthy.
  const gone = [pod('web-0', 'n1'), pod('web-1', 'n1', { deletionRequestedAt: 1 }), pod('web-2', 'n1', { phase: 'Succeeded' })];
  assert.equal(pdbAllowance(pdb('p', 'web', { minAvailable: 1, disruptionsAllowed: 2 }), gone, 3).computed, 0);
});

test('drain backoff doubles per failure, capped', () => {
  const backoff = { baseMs: 60_000, maxMs: 300_000 };
  assert.equal(drainRetryAt(undefined, backoff), undefined);
  assert.equal(drainRetryAt({ count: 1, lastAt: 1000 }, backoff), 61_000);
  assert.equal(drainRetryAt({ count: 3, lastAt: 1000 }, backoff), 241_000);
  assert.equal(drainRetryAt({ count: 50, lastAt: 1000 }, backoff), 301_000);
  const once = recordDrainFailure(new Map(), 'n1', 10);
  const twice = recordDrainFailure(once, 'n1', 20);
  assert.deepEqual([...twice], [['n1', { count: 2, lastAt: 20 }]]);
  assert.deepEqual([...once], [['n1', { count: 1, lastAt: 10 }]], 'the input map is not changed');
});

test('implicitFloor: desired minus maxUnavailable, a percentage rounded down as a rolling update resolves it', () => {
  const cases: readonly [desired: number, maxUnavailable: number | string | undefined, floor: number][] = [
    [0, undefined, 0],
    [1, undefined, 1],
    [2, undefined, 2],
    [3, undefined, 3],
    [4, undefined, 3],
    [7, undefined, 6],
    [8, undefined, 6],
    [10, '50%', 5],
    [3, '50%', 2],
    [4, 1, 3],
    [2, 5, 0],
    [3, 'junk', 3],
  ];
  for (const [desired, maxUnavailable, floor] of cases) assert.equal(implicitFloor(desired, maxUnavailable), floor, `${desired} replicas, maxUnavailable ${String(maxUnavailable)}`);
});

/**
 * One workload `w` with `replicas` Ready pods, `onNode` of them on n1 (the rest on n2), and maybe a
 * PDB; admits the pods on n1 as one group (a drain).
 */
function admitDrain(c: { readonly kind?: WorkloadKind; readonly replicas: number; readonly onNode: number; readonly pdb?: Partial<PdbView>; readonly withReplicas?: boolean }) {
  const kind = c.kind ?? 'Deployment';
  const ref = { kind, namespace: 'default', name: 'w' } as const;
  const pods = Array.from({ length: c.replicas }, (_, i) => pod(`w-${i}`, i < c.onNode ? 'n1' : 'n2', { owner: ref }));
  const view = workload('w', c.replicas, { ref });
  const { replicas: _unused, ...noReplicas } = view;
  const s = snapshot({
    nodes: [node('n1'), node('n2')],
    pods,
    workloads: [c.withReplicas === false ? noReplicas : view],
    pdbs: c.pdb === undefined ? [] : [pdb('w-pdb', 'w', c.pdb)],
  });
  const result = new AvailabilityGuard(indexSnapshot(s)).admit(pods.filter((p) => p.nodeName === 'n1'));
  return result.ok ? result.admissions.map((a) => `${a.pod.name}:${a.mode}:w${a.wave}`) : `${result.reason.code}: ${result.reason.message}`;
}

test('no PDB: an eviction must leave the Ready replicas a default rollout keeps, else a Deployment surges first and other kinds stay', () => {
  const cases: readonly [name: string, spec: Parameters<typeof admitDrain>[0], expected: readonly string[] | RegExp][] = [
    // PDB present: its rule alone, unchanged.
    ['PDB allows 1, 2 replicas', { replicas: 2, onNode: 1, pdb: { minAvailable: 1, disruptionsAllowed: 1 } }, ['w-0:evict:w0']],
    ['PDB allows 0, 3 replicas', { replicas: 3, onNode: 1, pdb: { minAvailable: 3, disruptionsAllowed: 0 } }, /^pdb: .*PodDisruptionBudget "default\/w-pdb" allows 0 disruptions/],
    ['PDB allows 2, 3 replicas on the node', { replicas: 3, onNode: 3, pdb: { minAvailable: 1, disruptionsAllowed: 2 } }, ['w-0:evict:w0', 'w-1:evict:w1', 'w-2:evict:w2']],
    ['StatefulSet, PDB allows 1, 2 replicas', { kind: 'StatefulSet', replicas: 2, onNode: 1, pdb: { minAvailable: 1, disruptionsAllowed: 1 } }, ['w-0:evict:w0']],
    // A single replica: unchanged.
    ['1 replica Deployment', { replicas: 1, onNode: 1 }, ['w-0:surge-first:w0']],
    ['1 replica Deployment under minAvailable 1', { replicas: 1, onNode: 1, pdb: { minAvailable: 1, disruptionsAllowed: 0 } }, ['w-0:surge-first:w0']],
    ['1 replica StatefulSet', { kind: 'StatefulSet', replicas: 1, onNode: 1 }, /^single-replica: .*StatefulSet "default\/w" has 1 Ready replica, and only a Deployment can surge a replacement first/],
    // No PDB: the implicit budget, desired − floor(25% of desired).
    ['2 replicas Deployment', { replicas: 2, onNode: 1 }, ['w-0:surge-first:w0']],
    ['3 replicas Deployment, 2 on the node', { replicas: 3, onNode: 2 }, ['w-0:surge-first:w0', 'w-1:surge-first:w1']],
    ['2 replicas StatefulSet', { kind: 'StatefulSet', replicas: 2, onNode: 1 }, /^implicit-floor: Cannot move pod "default\/w-0": StatefulSet "default\/w" has no PodDisruptionBudget, and a rollout of 2 replicas keeps 2 Ready \(maxUnavailable 25%, rounded down\), so an eviction would leave 1, and only a Deployment can surge a replacement first$/],
    ['3 replicas ReplicaSet', { kind: 'ReplicaSet', replicas: 3, onNode: 1 }, /^implicit-floor: .*ReplicaSet "default\/w" has no PodDisruptionBudget/],
    ['4 replicas Deployment', { replicas: 4, onNode: 1 }, ['w-0:evict:w0']],
    ['4 replicas StatefulSet', { kind: 'StatefulSet', replicas: 4, onNode: 1 }, ['w-0:evict:w0']],
    ['8 replicas all Ready, 3 on the node: one eviction per wave', { replicas: 8, onNode: 3 }, ['w-0:evict:w0', 'w-1:evict:w1', 'w-2:evict:w2']],
    // Kinds without a replica count have no rollout budget: one Ready replica is their floor, as before.
    ['Job with 2 pods', { kind: 'Job', replicas: 2, onNode: 1, withReplicas: false }, ['w-0:evict:w0']],
  ];
  for (const [name, spec, expected] of cases) {
    const got = admitDrain(spec);
    if (expected instanceof RegExp) assert.match(typeof got === 'string' ? got : JSON.stringify(got), expected, name);
    else assert.deepEqual(got, expected, name);
  }
});

test('no PDB: the reasons name the implicit budget', () => {
  const ref = { kind: 'Deployment', namespace: 'default', name: 'w' } as const;
  const reasonOf = (replicas: number): string => {
    const pods = Array.from({ length: replicas }, (_, i) => pod(`w-${i}`, i === 0 ? 'n1' : 'n2', { owner: ref }));
    const s = snapshot({ nodes: [node('n1'), node('n2')], pods, workloads: [workload('w', replicas)] });
    const result = new AvailabilityGuard(indexSnapshot(s)).admit([pods[0] as (typeof pods)[number]]);
    assert.ok(result.ok);
    return result.admissions[0]?.reason.message ?? '';
  };
  assert.equal(reasonOf(3), 'Deployment "default/w" has no PodDisruptionBudget, and a rollout of 3 replicas keeps 3 Ready (maxUnavailable 25%, rounded down), so an eviction would leave 2: surge a replacement first');
  assert.equal(reasonOf(8), 'Deployment "default/w" keeps 7 of 8 Ready replicas: no PodDisruptionBudget, and a rollout of 8 replicas keeps 6 Ready (maxUnavailable 25%, rounded down)');
});

test('an implicit-floor refusal (a StatefulSet without a PDB) carries its own code, not the PDB one, and backs off deliberately', () => {
  const got = admitDrain({ kind: 'StatefulSet', replicas: 3, onNode: 1 });
  assert.match(String(got), /^implicit-floor: /);
  assert.doesNotMatch(String(got), /^pdb/);
  // A rollout floor is the workload's configuration, not a passing state: the next cycle would
  // meet the same answer, so a drain refused for it backs off; an unsettled workload does not.
  assert.equal(refusalBacksOff('implicit-floor'), true);
  assert.equal(refusalBacksOff('pdb'), true);
  assert.equal(refusalBacksOff('unsettled'), false);
  assert.equal(refusalBacksOff('stale-plan'), false);
  assert.equal(refusalBacksOff('node-not-ready'), false);
});
