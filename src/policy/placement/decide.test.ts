import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testPod } from '../../core/fixtures.test-helper.js';
import fc from 'fast-check';
import type { PodView } from '../../core/model.js';
import { decidePlacement, isPlacedKind, podsKeptByFloor, statefulSetOrdinal } from './decide.js';
import type { PlacedCapacityType, PlacedPod, PlacementInput } from './decide.js';
import { onDemandFloor } from './floor.js';
import type { PlacementPolicy } from './policy.js';

const both = { onDemandToSpot: true, spotToOnDemand: true } as const;
const none = { onDemandToSpot: false, spotToOnDemand: false } as const;
const roomy = { onDemand: true, spot: true } as const;
const zero = { onDemand: 0, spot: 0 } as const;

function input(over: Partial<PlacementInput>): PlacementInput {
  return {
    workload: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
    desiredReplicas: 3,
    live: zero,
    reserved: zero,
    room: roomy,
    policy: { base: 1, percent: 0, fallback: both },
    ...over,
  };
}

test('Deployment: on-demand until live plus reserved on-demand pods reach the floor', () => {
  const policy: PlacementPolicy = { base: 1, percent: 50, fallback: both }; // floor of 10 = 1 + ceil(4.5) = 6
  const cases: readonly [live: number, reserved: number, expected: PlacedCapacityType][] = [
    [0, 0, 'on-demand'],
    [5, 0, 'on-demand'],
    [6, 0, 'spot'],
    [4, 1, 'on-demand'],
    [4, 2, 'spot'], // in-flight creates count, so concurrent creates can't race past the floor
  ];
  for (const [live, reserved, expected] of cases) {
    const d = decidePlacement(input({ desiredReplicas: 10, policy, live: { onDemand: live, spot: 3 }, reserved: { onDemand: reserved, spot: 0 } }));
    assert.equal(d.capacityType, expected, `live=${live} reserved=${reserved}`);
    assert.equal(d.required, true);
    assert.equal(d.floor, 6);
  }
});

test('a single-replica workload goes on-demand with the default base of 1', () => {
  const d = decidePlacement(input({ desiredReplicas: 1 }));
  assert.deepEqual(d, {
    capacityType: 'on-demand',
    required: true,
    floor: 1,
    reason: 'Deployment "shop/cart" has 0 on-demand pods (0 in flight) against a floor of 1: requiring on-demand',
  });
});

test('StatefulSet: ordinals below the floor on on-demand, whatever the counts say; higher ones make up a short count', () => {
  const policy: PlacementPolicy = { base: 2, percent: 0, fallback: both };
  const sts = { kind: 'StatefulSet', namespace: 'db', name: 'pg' } as const;
  const types = [0, 1, 2, 3, 4].map((ordinal) => decidePlacement(input({ workload: sts, desiredReplicas: 5, ordinal, policy, live: { onDemand: 5, spot: 0 } })).capacityType);
  assert.deepEqual(types, ['on-demand', 'on-demand', 'spot', 'spot', 'spot']);
  // After a scale-up raised the floor, ordinal 1 (placed earlier) is on spot: ordinal 3 makes up the count.
  assert.equal(decidePlacement(input({ workload: sts, desiredReplicas: 5, ordinal: 3, policy, live: { onDemand: 1, spot: 2 } })).capacityType, 'on-demand');
  assert.equal(
    decidePlacement(input({ workload: sts, desiredReplicas: 5, ordinal: 2, policy, live: { onDemand: 2, spot: 0 } })).reason,
    'StatefulSet "db/pg" ordinal 2 is at or above its on-demand floor of 2: requiring spot',
  );
  // Without an ordinal, counting applies.
  assert.equal(decidePlacement(input({ workload: sts, desiredReplicas: 5, policy, live: { onDemand: 1, spot: 0 } })).capacityType, 'on-demand');
});

test('fallback: preferred only when the chosen type has no room and the policy allows it', () => {
  const cases: readonly [room: { onDemand: boolean; spot: boolean }, fallback: PlacementPolicy['fallback'], liveOnDemand: number, type: PlacedCapacityType, required: boolean][] = [
    [{ onDemand: false, spot: true }, both, 0, 'on-demand', false],
    [{ onDemand: false, spot: true }, none, 0, 'on-demand', true],
    [{ onDemand: true, spot: false }, both, 1, 'spot', false],
    [{ onDemand: true, spot: false }, { onDemandToSpot: true, spotToOnDemand: false }, 1, 'spot', true],
    [{ onDemand: false, spot: true }, both, 1, 'spot', true], // on-demand room does not matter for a spot pod
  ];
  for (const [room, fallback, liveOnDemand, type, required] of cases) {
    const d = decidePlacement(input({ room, policy: { base: 1, percent: 0, fallback }, live: { onDemand: liveOnDemand, spot: 0 } }));
    assert.deepEqual([d.capacityType, d.required], [type, required], JSON.stringify({ room, fallback, liveOnDemand }));
  }
  assert.equal(
    decidePlacement(input({ room: { onDemand: false, spot: true } })).reason,
    'Deployment "shop/cart" has 0 on-demand pods (0 in flight) against a floor of 1, but no on-demand node has room: preferring on-demand, spot allowed as fallback',
  );
  assert.equal(
    decidePlacement(input({ room: { onDemand: false, spot: true }, policy: { base: 1, percent: 0, fallback: none } })).reason,
    'Deployment "shop/cart" has 0 on-demand pods (0 in flight) against a floor of 1; no on-demand node has room and fallback to spot is disabled: requiring on-demand',
  );
});

test('statefulSetOrdinal and isPlacedKind', () => {
  assert.equal(statefulSetOrdinal('web-0', 'web'), 0);
  assert.equal(statefulSetOrdinal('web-12', 'web'), 12);
  assert.equal(statefulSetOrdinal('web-app-3', 'web-app'), 3);
  assert.equal(statefulSetOrdinal('web-app-3', 'web'), undefined);
  assert.equal(statefulSetOrdinal('web-01', 'web'), undefined);
  assert.equal(statefulSetOrdinal('other-1', 'web'), undefined);
  assert.deepEqual(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'None', 'ReplicaSet'].map(isPlacedKind), [true, true, false, false, false, false]);
});

function pod(name: string, over: Partial<PodView> = {}): PodView {
  return testPod(name, { namespace: 'shop', uid: `uid-${name}`, requests: { cpu: 100 }, nodeName: 'n1', owner: { kind: 'Deployment', namespace: 'shop', name: 'cart' }, createdAt: 1000, ...over });
}

test('podsKeptByFloor keeps what scale-down removes last: highest deletion cost, then oldest', () => {
  const policy: PlacementPolicy = { base: 2, percent: 0, fallback: both };
  const placed: PlacedPod[] = [
    { pod: pod('a', { createdAt: 300 }), capacityType: 'on-demand' },
    { pod: pod('b', { createdAt: 100 }), capacityType: 'on-demand' },
    { pod: pod('c', { createdAt: 50 }), capacityType: 'spot' },
    { pod: pod('d', { createdAt: 200, annotations: { 'controller.kubernetes.io/pod-deletion-cost': '100' } }), capacityType: 'on-demand' },
    { pod: pod('e', { createdAt: 10, deletionRequestedAt: 5000 }), capacityType: 'on-demand' }, // terminating: does not count
  ];
  assert.deepEqual(podsKeptByFloor(placed, policy, 5).map((p) => p.name), ['d', 'b']);
  assert.deepEqual(podsKeptByFloor(placed, { ...policy, base: 0 }, 5).map((p) => p.name), []);
  assert.deepEqual(podsKeptByFloor(placed, { ...policy, base: 9 }, 5).map((p) => p.name), ['d', 'b', 'a']);
});

test('podsKeptByFloor keeps a StatefulSet\'s lowest ordinals', () => {
  const owner = { kind: 'StatefulSet', namespace: 'db', name: 'pg' } as const;
  const placed: PlacedPod[] = ['pg-3', 'pg-0', 'pg-2', 'pg-1'].map((name, i) => ({ pod: pod(name, { owner, createdAt: i }), capacityType: name === 'pg-1' ? 'spot' : 'on-demand' }));
  // Floor 2: pg-0, and pg-2 standing in for pg-1 which fell back to spot.
  assert.deepEqual(podsKeptByFloor(placed, { base: 2, percent: 0, fallback: both }, 4).map((p) => p.name), ['pg-0', 'pg-2']);
});

// ---- Property: the floor holds through creates, deletions, scale changes and rollouts ----

interface _ModelPod {
  readonly revision: number;
  readonly type: PlacedCapacityType;
  readonly ordinal: number;
}

type _Op =
  | { readonly kind: 'scale'; readonly replicas: number }
  | { readonly kind: 'delete'; readonly index: number }
  | { readonly kind: 'rollout' }
  | { readonly kind: 'spotRoom'; readonly room: boolean };

const opArb: fc.Arbitrary<_Op> = fc.oneof(
  fc.record({ kind: fc.constant('scale' as const), replicas: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), index: fc.nat() }),
  fc.constant({ kind: 'rollout' as const }),
  fc.record({ kind: fc.constant('spotRoom' as const), room: fc.boolean() }),
);

const policyArb: fc.Arbitrary<PlacementPolicy> = fc.record({
  base: fc.integer({ min: 0, max: 4 }),
  percent: fc.integer({ min: 0, max: 100 }),
  fallback: fc.record({ onDemandToSpot: fc.boolean(), spotToOnDemand: fc.boolean() }),
});

/**
 * A Deployment under the ReplicaSet controller: creates go through the decision in concurrent
 * batches (a ledger holds decisions the informer has not shown yet), scale-down removes spot
 * pods first (their deletion cost is lower), a rollout surges one new pod at a time and removes
 * an old one. On-demand capacity always has room; spot room comes and goes.
 */
function _runDeployment(policy: PlacementPolicy, ops: readonly _Op[], batch: number): void {
  let desired = 1;
  let revision = 0;
  let spotRoom = true;
  let pods: _ModelPod[] = [];
  const count = (rev: number, type: PlacedCapacityType): number => pods.filter((p) => p.revision === rev && p.type === type).length;
  const create = (n: number): void => {
    for (let done = 0; done < n; done += batch) {
      const ledger: _ModelPod[] = [];
      const before = count(revision, 'on-demand');
      let fellBack = 0;
      for (let i = 0; i < Math.min(batch, n - done); i++) {
        const d = decidePlacement({
          workload: { kind: 'Deployment', namespace: 'ns', name: 'app' },
          desiredReplicas: desired,
          live: { onDemand: count(revision, 'on-demand'), spot: count(revision, 'spot') },
          reserved: { onDemand: ledger.filter((p) => p.type === 'on-demand').length, spot: ledger.filter((p) => p.type === 'spot').length },
          room: { onDemand: true, spot: spotRoom },
          policy,
        });
        // A spot pod with no spot room lands on on-demand when only preferred, and waits otherwise.
        if (d.capacityType === 'spot' && !spotRoom) {
          if (!d.required) {
            ledger.push({ revision, type: 'on-demand', ordinal: 0 });
            fellBack += 1;
          }
          continue;
        }
        ledger.push({ revision, type: d.capacityType, ordinal: 0 });
      }
      pods = [...pods, ...ledger];
      // The ledger keeps a batch of concurrent creates from racing past the floor.
      const placedOnDemand = count(revision, 'on-demand') - fellBack;
      assert.ok(placedOnDemand <= Math.max(before, onDemandFloor(desired, policy)), `batch put ${placedOnDemand} pods on on-demand, above the floor`);
    }
  };
  const removeOne = (rev: number): void => {
    // ReplicaSet scale-down: lower deletion cost (spot) first.
    const i = pods.findIndex((p) => p.revision === rev && p.type === 'spot');
    const j = i >= 0 ? i : pods.findIndex((p) => p.revision === rev);
    if (j >= 0) pods.splice(j, 1);
  };
  const reconcile = (): void => {
    const current = pods.filter((p) => p.revision === revision).length;
    if (current < desired) create(desired - current);
    while (pods.filter((p) => p.revision === revision).length > desired) removeOne(revision);
  };
  const check = (when: string): void => {
    const onDemand = pods.filter((p) => p.type === 'on-demand').length;
    const live = pods.filter((p) => p.revision === revision).length;
    // Pods waiting for spot room are not counted; the floor is over the replicas that exist.
    const floor = onDemandFloor(Math.min(desired, live), policy);
    assert.ok(onDemand >= floor, `${when}: ${onDemand} on-demand pods below the floor of ${floor} (desired ${desired})`);
  };
  reconcile();
  check('start');
  for (const op of ops) {
    switch (op.kind) {
      case 'scale':
        desired = op.replicas;
        break;
      case 'delete':
        if (pods.length > 0) pods.splice(op.index % pods.length, 1);
        break;
      case 'spotRoom':
        spotRoom = op.room;
        break;
      case 'rollout': {
        const old = revision;
        revision += 1;
        // maxSurge 1, maxUnavailable 0: one new pod, then one old pod goes.
        for (let made = 0; made < desired; made++) {
          create(1);
          check('mid-rollout');
          removeOne(old);
        }
        pods = pods.filter((p) => p.revision === revision);
        break;
      }
    }
    reconcile();
    check(op.kind);
  }
}

test('property: a Deployment never has fewer on-demand pods than its floor while on-demand has room', () => {
  fc.assert(
    fc.property(policyArb, fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 1, max: 5 }), (policy, ops, batch) => {
      _runDeployment(policy, ops, batch);
    }),
    { numRuns: 500 },
  );
});

test('property: a StatefulSet keeps its floor through scale changes and pod deletions', () => {
  fc.assert(
    fc.property(policyArb, fc.array(opArb, { maxLength: 40 }), (policy, ops) => {
      let desired = 1;
      let pods: _ModelPod[] = [];
      const place = (ordinal: number): _ModelPod => {
        const d = decidePlacement({
          workload: { kind: 'StatefulSet', namespace: 'ns', name: 'db' },
          desiredReplicas: desired,
          live: { onDemand: pods.filter((p) => p.type === 'on-demand').length, spot: pods.filter((p) => p.type === 'spot').length },
          reserved: zero,
          ordinal,
          room: roomy,
          policy,
        });
        return { revision: 0, type: d.capacityType, ordinal };
      };
      const reconcile = (): void => {
        // Ordered scale: create the missing lowest ordinals, remove the highest.
        for (let o = 0; o < desired; o++) if (!pods.some((p) => p.ordinal === o)) pods.push(place(o));
        pods = pods.filter((p) => p.ordinal < desired);
      };
      for (const op of ops) {
        if (op.kind === 'scale') desired = op.replicas;
        if (op.kind === 'delete' && pods.length > 0) pods.splice(op.index % pods.length, 1);
        // A rolling update recreates every pod, highest ordinal first.
        if (op.kind === 'rollout') for (const o of pods.map((p) => p.ordinal).sort((a, b) => b - a)) pods = [...pods.filter((p) => p.ordinal !== o), place(o)];
        reconcile();
        const onDemand = pods.filter((p) => p.type === 'on-demand').length;
        assert.ok(onDemand >= onDemandFloor(desired, policy), `${onDemand} on-demand below floor ${onDemandFloor(desired, policy)}`);
        // Ordinals below the floor are always on-demand once they have been (re)created at this size.
        if (op.kind === 'rollout') assert.ok(pods.every((p) => p.ordinal >= onDemandFloor(desired, policy) || p.type === 'on-demand'));
      }
    }),
    { numRuns: 300 },
  );
});
