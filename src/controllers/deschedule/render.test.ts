import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Plan } from '../../policy/deschedule/types.js';
import { planDocument, renderPlanTable } from './render.js';

const plan: Plan = {
  moves: [
    {
      pod: { namespace: 'shop', name: 'cart-1', uid: 'u1' },
      workload: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      fromNode: 'od-1',
      toNode: 'spot-1',
      strategy: 'spot-reschedule',
      mode: 'surge-first',
      wave: 0,
      reason: { code: 'surge-single-replica', message: 'why' },
      savingUsdPerHour: 0.192,
    },
  ],
  drains: [{ node: 'od-1', strategy: 'spot-reschedule', savingUsdPerHour: 0.192, pods: [{ namespace: 'shop', name: 'cart-1', uid: 'u1' }], staying: [], reason: { code: 'drain-empties', message: 'all fit' } }],
  skipped: [{ node: 'od-2', strategy: 'spot-reschedule', reason: { code: 'pdb', message: 'PodDisruptionBudget "shop/db" allows 0 disruptions' } }],
  savingUsdPerHour: 0.192,
};

describe('plan rendering', () => {
  test('the table lists drains, moves and skipped nodes with their reasons', () => {
    const text = renderPlanTable(plan);
    assert.match(text, /^Projected saving: \$0\.1920\/h from 1 drain\(s\), 1 move\(s\)/);
    assert.match(text, /od-1 +spot-reschedule +1 +0 +0\.1920 +all fit/);
    assert.match(text, /0 +surge-first +shop\/cart-1 +od-1 +spot-1/);
    assert.match(text, /od-2 +spot-reschedule +PodDisruptionBudget "shop\/db" allows 0 disruptions/);
  });

  test('drain state left by an earlier run comes first, with what the next start does', () => {
    const leftovers = {
      nodes: [{ node: 'od-1', tainted: true, annotated: true, record: { planId: 'p9', startedAt: '2026-01-01T00:00:00.000Z', strategy: 'spot-reschedule', pods: ['shop/cart-1'], previous: { hadTaint: false, unschedulable: false } }, onStart: 'roll-back' as const }],
      surges: [{ namespace: 'shop', name: 'cart', saved: { strategy: { type: 'Recreate' }, at: '2026-01-01T00:00:01.000Z' } }],
    };
    const text = renderPlanTable(plan, leftovers);
    assert.match(text, /^Left by an earlier run that stopped half-way/);
    assert.match(text, /od-1 +yes +plan "p9" \(spot-reschedule\) since 2026-01-01T00:00:00.000Z, 1 pod\(s\) +roll back: untaint, clear the record/);
    assert.match(text, /shop\/cart +\{"type":"Recreate"\} since 2026-01-01T00:00:01.000Z +give it back once the rollout is done/);
    assert.match(text, /Projected saving/);
    assert.doesNotMatch(renderPlanTable(plan, { nodes: [], surges: [] }), /earlier run/);
    const launches = { nodes: [], surges: [], launches: [{ claim: 'pool-ab12c', planId: 'p9', launch: 'replacement-for-od-1', node: 'pool-ab12c-x', pods: [], onStart: 'delete' as const }, { claim: 'pool-cd34e', planId: 'p9', launch: 'r2', pods: [], onStart: 'delete' as const }] };
    const withLaunches = renderPlanTable(plan, launches);
    assert.match(withLaunches, /pool-ab12c +pool-ab12c-x +plan "p9" +delete: no pod on its node/);
    assert.match(withLaunches, /pool-cd34e +\(none yet\) +plan "p9" +delete: no pod on its node/);
    const doc = planDocument(plan, { planId: 'p', context: 'dev', dryRun: true, leftovers }) as { status: { leftovers: unknown } };
    assert.deepEqual(doc.status.leftovers, leftovers);
  });

  test('the document carries the plan unchanged', () => {
    const doc = planDocument(plan, { planId: 'p', context: 'dev', dryRun: true }) as { status: { moves: unknown } };
    assert.deepEqual(doc.status.moves, plan.moves);
  });
});
