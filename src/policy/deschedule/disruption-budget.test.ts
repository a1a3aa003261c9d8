import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { node } from './fixtures.test-helper.js';
import { allowedDisruptions, budgetActive, countPoolNodes, DisruptionLedger, parseBudgetDuration } from './disruption-budget.js';

const at = (iso: string): number => Date.parse(iso);
const inPool = (name: string, pool: string, over: Parameters<typeof node>[1] = {}): ReturnType<typeof node> => node(name, { ...over, labels: { 'karpenter.sh/nodepool': pool, ...over.labels } });

describe('NodePool disruption budgets', () => {
  test('durations are hours and minutes, as Karpenter writes them', () => {
    assert.equal(parseBudgetDuration('8h'), 8 * 3_600_000);
    assert.equal(parseBudgetDuration('30m'), 30 * 60_000);
    assert.equal(parseBudgetDuration('1h30m'), 90 * 60_000);
    assert.equal(parseBudgetDuration('1h30m0s'), 90 * 60_000);
    assert.equal(parseBudgetDuration('10s'), undefined);
    assert.equal(parseBudgetDuration(''), undefined);
  });

  test('a scheduled budget is active from each hit of its schedule (UTC) for its duration', () => {
    const business = { nodes: '0', schedule: '0 9 * * mon-fri', duration: '8h' };
    assert.equal(budgetActive(business, at('2026-12-07T09:00:00Z')), true, 'Monday 09:00, the hit itself');
    assert.equal(budgetActive(business, at('2026-12-07T16:59:00Z')), true);
    // The first hit strictly after now - duration counts, as with Karpenter's cron library: the window ends just before 17:00.
    assert.equal(budgetActive(business, at('2026-12-07T17:00:00Z')), false, 'exactly the duration after the hit');
    assert.equal(budgetActive(business, at('2026-12-07T08:59:00Z')), false);
    assert.equal(budgetActive(business, at('2026-12-06T12:00:00Z')), false, 'Sunday');
    assert.equal(budgetActive({ nodes: '0', schedule: '@daily', duration: '1h' }, at('2026-12-06T00:30:00Z')), true);
    assert.equal(budgetActive({ nodes: '1' }, 0), true, 'no schedule: always');
    assert.match(String(budgetActive({ nodes: '1', schedule: 'not a cron', duration: '1h' }, 0)), /is not a cron expression/);
    assert.match(String(budgetActive({ nodes: '1', schedule: '0 9 * * *' }, 0)), /set together/);
    assert.match(String(budgetActive({ nodes: '1', schedule: '0 9 * * *', duration: '90s' }, 0)), /not hours and minutes/);
  });

  test('the least of the active budgets for the reason; percentages round up; none set is 10%; unreadable allows none', () => {
    const now = at('2026-12-07T12:00:00Z');
    assert.deepEqual(allowedDisruptions(undefined, 25, 'Underutilized', now), { allowed: 3 }, '10% of 25, rounded up');
    assert.deepEqual(allowedDisruptions([{ nodes: '5%' }], 10, 'Empty', now), { allowed: 1 });
    assert.deepEqual(allowedDisruptions([{ nodes: '3' }, { nodes: '20%' }], 10, 'Empty', now), { allowed: 2 });
    const byReason = [{ nodes: '0', reasons: ['Underutilized'] }, { nodes: '4' }];
    assert.deepEqual(allowedDisruptions(byReason, 10, 'Underutilized', now), { allowed: 0 });
    assert.deepEqual(allowedDisruptions(byReason, 10, 'Empty', now), { allowed: 4 }, 'a budget for other reasons does not limit this one');
    assert.deepEqual(allowedDisruptions([{ nodes: '0', schedule: '0 9 * * mon-fri', duration: '2h' }, { nodes: '5' }], 10, 'Empty', now), { allowed: 5 }, 'the business-hours budget is over at 11:00');
    assert.deepEqual(allowedDisruptions([{ nodes: '0', reasons: ['Drifted'] }], 10, 'Empty', now), { allowed: Infinity });
    assert.equal(allowedDisruptions([{ nodes: 'many' }], 10, 'Empty', now).allowed, 0);
    assert.match(allowedDisruptions([{ nodes: 'many' }], 10, 'Empty', now).problem ?? '', /neither a count nor a percentage/);
  });

  test('a pool counts its nodes; those not Ready, marked by Karpenter or drained by the descheduler are being disrupted', () => {
    const counts = countPoolNodes([
      inPool('a', 'p'),
      inPool('b', 'p', { ready: false }),
      inPool('c', 'p', { taints: [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }] }),
      inPool('d', 'p', { taints: [{ key: 'stowage.io/draining', value: 'true', effect: 'NoSchedule' }] }),
      inPool('e', 'q'),
      node('f'),
    ]);
    assert.deepEqual(Object.fromEntries(counts), { p: { total: 4, disrupting: 3 }, q: { total: 1, disrupting: 0 } });
  });

  test('a plan is charged action by action: what is being disrupted and what the plan took count against the budget', () => {
    const nodes = [...Array.from({ length: 10 }, (_, i) => inPool(`p-${i}`, 'p')), inPool('p-going', 'p', { taints: [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }] }), inPool('q-1', 'q'), node('other')];
    const ledger = new DisruptionLedger(nodes, new Map([['p', [{ nodes: '20%' }]], ['q', [{ nodes: '0' }]]]), 0);
    // 20% of 11 nodes is 3 (rounded up), one is being disrupted already.
    assert.equal(ledger.remaining('p', 'Underutilized'), 2);
    const two = [{ node: nodes[0] as ReturnType<typeof node>, reason: 'Underutilized' as const }, { node: nodes[1] as ReturnType<typeof node>, reason: 'Underutilized' as const }];
    assert.equal(ledger.refusal(two), undefined);
    const three = [...two, { node: nodes[2] as ReturnType<typeof node>, reason: 'Empty' as const }];
    assert.match(ledger.refusal(three) ?? '', /^NodePool "p" allows disrupting 2 more node\(s\), 3 wanted: its budget allows 3 of its 11 node\(s\) at once for Underutilized, 1 being disrupted already and 0 in this plan$/);
    ledger.charge([nodes[0] as ReturnType<typeof node>]);
    assert.equal(ledger.remaining('p', 'Empty'), 1);
    assert.match(ledger.refusal(two) ?? '', /1 in this plan/);
    assert.match(ledger.refusal([{ node: nodes[11] as ReturnType<typeof node>, reason: 'Empty' }]) ?? '', /^NodePool "q" allows disrupting 0 more node\(s\), 1 wanted/);
    assert.equal(ledger.refusal([{ node: nodes[12] as ReturnType<typeof node>, reason: 'Empty' }]), undefined, 'a node of no pool is not limited');
    assert.equal(new DisruptionLedger(nodes, new Map(), 0).refusal([{ node: nodes[11] as ReturnType<typeof node>, reason: 'Empty' }]), undefined, 'no budgets read: not limited');
  });
});
