import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { node, pod, snapshot, workload } from '../../policy/deschedule/fixtures.test-helper.js';
import { decodeDrainRecord, encodeDrainRecord, hasDrainingTaint, leftoverDrainState, leftoverLaunches, readLeftovers, surgesSafely, withDrainingTaint, withoutDrainingTaint } from './drain-state.js';

describe('drain state on the node', () => {
  test('a record survives the annotation round trip', () => {
    const record = { planId: 'p1', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'spot-reschedule', pods: ['a/b'], previous: { hadTaint: false, unschedulable: false } };
    assert.deepEqual(decodeDrainRecord(encodeDrainRecord(record)), record);
  });

  test('a malformed annotation reads as no record', () => {
    assert.equal(decodeDrainRecord('not json'), undefined);
    assert.equal(decodeDrainRecord('{"planId":3}'), undefined);
    assert.equal(decodeDrainRecord(undefined), undefined);
  });

  test('the taint is added once and removed without touching others', () => {
    const other = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    const tainted = withDrainingTaint(withDrainingTaint([other], new Date(0)), new Date(0));
    assert.equal(tainted.length, 2);
    assert.ok(hasDrainingTaint(tainted));
    assert.deepEqual(withoutDrainingTaint(tainted), [other]);
    assert.ok(!hasDrainingTaint(undefined));
  });

  test('surge settings: defaults surge one replica safely, Recreate and maxUnavailable 1 do not', () => {
    assert.ok(surgesSafely(undefined, 1));
    assert.ok(surgesSafely({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, 1));
    assert.ok(!surgesSafely({ type: 'Recreate' }, 1));
    assert.ok(!surgesSafely({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, 1));
    assert.ok(!surgesSafely({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } }, 2));
  });
});

describe('drain state left by an earlier run', () => {
  test('tainted or recorded nodes and Deployments with a saved strategy are listed, with what a start does', () => {
    const record = encodeDrainRecord({ planId: 'p1', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'spot-reschedule', pods: ['a/b', 'a/c'], previous: { hadTaint: false, unschedulable: false } });
    const held = encodeDrainRecord({ planId: 'p0', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'consolidate', pods: [], previous: { hadTaint: false, unschedulable: false }, heldUntil: '2026-01-01T01:00:00.000Z' });
    const taint = { key: 'stowage.io/draining', value: 'true', effect: 'NoSchedule' } as const;
    const snap = snapshot({
      nodes: [
        node('clean'),
        node('both', { annotations: { 'stowage.io/drain': record }, taints: [taint] }),
        node('taint-only', { taints: [taint] }),
        node('garbled', { annotations: { 'stowage.io/drain': '{' } }),
        node('held', { annotations: { 'stowage.io/drain': held }, taints: [taint] }),
      ],
      workloads: [
        workload('web', 1, { annotations: { 'stowage.io/surge': JSON.stringify({ strategy: { type: 'Recreate' }, at: '2026-01-01T00:00:01.000Z' }) } }),
        workload('api', 2),
        workload('db', 1, { ref: { kind: 'StatefulSet', namespace: 'default', name: 'db' }, annotations: { 'stowage.io/surge': '{}' } }),
      ],
    });
    const before = Date.parse('2026-01-01T00:30:00.000Z');
    const left = leftoverDrainState(snap, before);
    assert.deepEqual(left.nodes.map((n) => [n.node, n.tainted, n.annotated, n.record?.planId, n.onStart]), [
      ['both', true, true, 'p1', 'roll-back'],
      ['garbled', false, true, undefined, 'roll-back'],
      ['held', true, true, 'p0', 'keep'],
      ['taint-only', true, false, undefined, 'roll-back'],
    ]);
    assert.deepEqual(left.surges, [{ namespace: 'default', name: 'web', saved: { strategy: { type: 'Recreate' }, at: '2026-01-01T00:00:01.000Z' } }], 'only Deployments surge');
    assert.equal(leftoverDrainState(snap, Date.parse('2026-01-01T01:00:00.001Z')).nodes.find((n) => n.node === 'held')?.onStart, 'roll-back', 'a hold that is over is rolled back');
    assert.deepEqual(leftoverDrainState(snapshot({ nodes: [node('clean')] }), before), { nodes: [], surges: [] });
  });

  test('a replacement launched for a job a crashed run left unfinished: deleted when no pod runs on its node, kept when pods were moved there', () => {
    const taint = { key: 'stowage.io/draining', value: 'true', effect: 'NoSchedule' } as const;
    const record = (planId: string, heldUntil?: string): string =>
      encodeDrainRecord({ planId, startedAt: '2026-01-01T00:00:00.000Z', strategy: 'karpenter-consolidate', pods: [], previous: { hadTaint: false, unschedulable: false }, ...(heldUntil === undefined ? {} : { heldUntil }) });
    const snap = snapshot({
      nodes: [
        // p1's set is still tainted: its job did not finish.
        node('old-1', { annotations: { 'stowage.io/drain': record('p1') }, taints: [taint] }),
        node('old-2', { annotations: { 'stowage.io/drain': record('p1') }, taints: [taint] }),
        // p2's drain finished (held for deletion): its replacement is an ordinary node now.
        node('old-3', { annotations: { 'stowage.io/drain': record('p2', '2026-01-01T01:00:00.000Z') }, taints: [taint] }),
        node('new-a'),
        node('new-b'),
        node('new-c'),
        node('new-p2'),
      ],
      pods: [
        pod('ds-1', 'new-a', { owner: { kind: 'DaemonSet', namespace: 'kube-system', name: 'ds' } }),
        pod('mirror-1', 'new-a', { isMirror: true }),
        pod('leaving-1', 'new-a', { deletionRequestedAt: 1 }),
        pod('done-1', 'new-a', { phase: 'Succeeded' }),
        pod('web-1', 'new-b'),
      ],
    });
    const claims = [
      { name: 'c-empty', launchedFor: 'p1/replacement-for-old-1', nodeName: 'new-a', deleting: false },
      { name: 'c-used', launchedFor: 'p1/replacement-b', nodeName: 'new-b', deleting: false },
      { name: 'c-pending', launchedFor: 'p1/replacement-c', deleting: false },
      { name: 'c-going', launchedFor: 'p1/replacement-d', nodeName: 'new-c', deleting: true },
      { name: 'c-finished', launchedFor: 'p2/replacement-for-old-3', nodeName: 'new-p2', deleting: false },
    ];
    assert.deepEqual(leftoverLaunches(snap, claims), [
      { claim: 'c-empty', planId: 'p1', launch: 'replacement-for-old-1', node: 'new-a', pods: [], onStart: 'delete' },
      { claim: 'c-pending', planId: 'p1', launch: 'replacement-c', pods: [], onStart: 'delete' },
      { claim: 'c-used', planId: 'p1', launch: 'replacement-b', node: 'new-b', pods: ['default/web-1'], onStart: 'keep' },
    ]);
    // The record a crashed recovery wrote on the claim's own node keeps the claim a leftover once the set is untainted.
    const recovering = snapshot({ nodes: [node('new-a', { annotations: { 'stowage.io/drain': record('p1') }, taints: [taint] })] });
    assert.deepEqual(leftoverLaunches(recovering, [claims[0] as (typeof claims)[0]]).map((l) => l.onStart), ['delete']);
    assert.deepEqual(leftoverLaunches(snapshot({ nodes: [node('new-a')] }), claims), [], 'no record of the plan left: every job finished');
    assert.deepEqual(leftoverDrainState(snap, 0, claims).launches?.map((l) => l.claim), ['c-empty', 'c-pending', 'c-used']);
    assert.equal(leftoverDrainState(snap, 0).launches, undefined, 'NodeClaims not read: nothing said about them');
  });

  test('readLeftovers: a NodeClaim list that fails is warned about and leaves only the launches out', async () => {
    const taint = { key: 'stowage.io/draining', value: 'true', effect: 'NoSchedule' } as const;
    const record = encodeDrainRecord({ planId: 'p1', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'karpenter-consolidate', pods: [], previous: { hadTaint: false, unschedulable: false } });
    const snap = snapshot({ nodes: [node('old-1', { annotations: { 'stowage.io/drain': record }, taints: [taint] }), node('new-a')] });
    const claims = [{ name: 'c-empty', launchedFor: 'p1/replacement-for-old-1', nodeName: 'new-a', deleting: false }];
    const warnings: string[] = [];
    const read = await readLeftovers(snap, 0, () => Promise.resolve(claims), (e) => warnings.push(e));
    assert.deepEqual(read, leftoverDrainState(snap, 0, claims));
    assert.equal(warnings.length, 0);
    const failed = await readLeftovers(snap, 0, () => Promise.reject(new Error('nodeclaims is forbidden')), (e) => warnings.push(e));
    assert.deepEqual(failed, leftoverDrainState(snap, 0), 'the nodes are still reported; the launches are not');
    assert.equal(failed.nodes.length, 1);
    assert.deepEqual(warnings, ['nodeclaims is forbidden']);
    assert.deepEqual(await readLeftovers(snap, 0, undefined, (e) => warnings.push(e)), leftoverDrainState(snap, 0), 'no Karpenter: no list');
    assert.equal(warnings.length, 1);
  });
});
