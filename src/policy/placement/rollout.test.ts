/**
 * The on-demand floor across a Deployment rollout, with plain data: pods placed one by one as the
 * webhook places them (counted in their group, `placementGroup`), a rolling update that adds one
 * new pod and then removes one old pod as the ReplicaSet controller picks it (lowest
 * pod-deletion-cost first, the cost the webhook's patch sets per type).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decidePlacement } from './decide.js';
import { onDemandFloor } from './floor.js';
import { countPlacement, placementGroup, replicasForFloor } from './inputs.js';
import { DEFAULT_PLACEMENT_PATCH_OPTIONS } from './patch.js';
import { DEFAULT_PLACEMENT_POLICY } from './policy.js';
import type { PlacementPolicy } from './policy.js';

const WEB = { kind: 'Deployment', namespace: 'shop', name: 'web' } as const;
const NONE = { onDemand: 0, spot: 0 };

interface _Pod {
  readonly revision: string;
  readonly type: 'on-demand' | 'spot';
}

/**
 * Places a new pod of `revision` among `pods`: counted with the pods of its group (per revision as
 * the webhook does, or, to show why not, all of the Deployment's pods as one group).
 */
function place(pods: readonly _Pod[], revision: string, replicas: number, policy: PlacementPolicy, grouping: 'revision' | 'workload'): _Pod {
  const group = (p: { readonly revision: string }): string => placementGroup(WEB, grouping === 'revision' ? p.revision : 'all');
  const members = pods.filter((p) => group(p) === group({ revision })).map((p) => ({ nodeName: p.type, active: true }));
  const live = countPlacement(members, (name) => (name === 'spot' ? 'spot' : 'on-demand'));
  const decision = decidePlacement({ workload: WEB, desiredReplicas: replicasForFloor(replicas, live, NONE, undefined), live, reserved: NONE, room: { onDemand: true, spot: true }, policy });
  return { revision, type: decision.capacityType };
}

/** A rollout of `replicas` from revision "old" to "new", one pod at a time; on-demand counts after every step. */
function rollout(replicas: number, policy: PlacementPolicy, grouping: 'revision' | 'workload'): { readonly onDemand: number[]; readonly final: readonly _Pod[] } {
  let pods: _Pod[] = [];
  for (let i = 0; i < replicas; i++) pods.push(place(pods, 'old', replicas, policy, grouping));
  const onDemand = [pods.filter((p) => p.type === 'on-demand').length];
  const cost = DEFAULT_PLACEMENT_PATCH_OPTIONS.deletionCost;
  while (pods.some((p) => p.revision === 'old')) {
    pods.push(place(pods, 'new', replicas, policy, grouping));
    onDemand.push(pods.filter((p) => p.type === 'on-demand').length);
    // The old ReplicaSet scales down by one: the ReplicaSet controller deletes the lowest deletion cost first.
    const old = pods.filter((p) => p.revision === 'old').sort((a, b) => cost[a.type] - cost[b.type]);
    const victim = old[0] as _Pod;
    pods = pods.filter((p) => p !== victim);
    onDemand.push(pods.filter((p) => p.type === 'on-demand').length);
  }
  return { onDemand, final: pods };
}

test('counted per revision, a rollout keeps the on-demand floor at every step and ends with exactly the floor', () => {
  for (const policy of [DEFAULT_PLACEMENT_POLICY, { ...DEFAULT_PLACEMENT_POLICY, base: 1, percent: 25 }, { ...DEFAULT_PLACEMENT_POLICY, base: 0, percent: 50 }, { ...DEFAULT_PLACEMENT_POLICY, base: 2, percent: 0 }]) {
    for (let replicas = 1; replicas <= 12; replicas++) {
      const floor = onDemandFloor(replicas, policy);
      const { onDemand, final } = rollout(replicas, policy, 'revision');
      const label = `${replicas} replicas, base ${policy.base}, percent ${policy.percent}`;
      assert.equal(onDemand[0], floor, `${label}: the old revision starts at its floor`);
      assert.ok(Math.min(...onDemand) >= floor, `${label}: never below the floor of ${floor} (${onDemand.join(',')})`);
      // The new revision takes its own floor before the old one's on-demand pods (deleted last) go:
      // at most twice the floor for the rollout's length, never more.
      assert.ok(Math.max(...onDemand) <= 2 * floor, `${label}: at most twice the floor (${onDemand.join(',')})`);
      assert.equal(final.length, replicas);
      assert.ok(final.every((p) => p.revision === 'new'));
      assert.equal(final.filter((p) => p.type === 'on-demand').length, floor, `${label}: the new revision ends at its floor, not above`);
    }
  }
});

test('counted as one group across revisions, the floor would be lost once the old on-demand pods go', () => {
  // Why the webhook counts per revision: the new pods see the old on-demand pods and go to spot, and
  // the old ReplicaSet deletes its on-demand pods last, so the Deployment ends below its floor.
  const policy = { ...DEFAULT_PLACEMENT_POLICY, base: 1, percent: 25 };
  const { final } = rollout(4, policy, 'workload');
  assert.equal(onDemandFloor(4, policy), 2);
  assert.equal(final.filter((p) => p.type === 'on-demand').length, 1);
});
