import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { ClusterSnapshot } from '../../../core/model.js';
import { PriceTable } from '../../../core/pricing.js';
import { node, pod, snapshot, workload } from '../fixtures.test-helper.js';
import { DEFAULT_DESCHEDULING_CONFIG, deschedulingConfigSchemaOf, planDescheduling, withStrategies } from '../plan.js';
import { reason } from '../reasons.js';
import type { StrategyResult } from '../types.js';
import { STRATEGIES, STRATEGY_NAMES, strategyNames } from './index.js';
import type { Strategy, StrategyContext } from './index.js';

// A strategy that exists only in this test: one file's worth of code and one registry line, as a
// new strategy would be added. It names every node it sees, so the test can tell that it ran.
const noteConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  note: z.string().default('Seen by the note strategy'),
});
type NoteConfig = z.infer<typeof noteConfigSchema>;

function planNote(snap: ClusterSnapshot, config: NoteConfig, _ctx: StrategyContext): StrategyResult {
  return { moves: [], drains: [], skipped: snap.nodes.map((n) => ({ node: n.name, strategy: 'note', reason: reason('settling', `${config.note}: "${n.name}"`) })) };
}

const note: Strategy<'note', NoteConfig> = { name: 'note', configSchema: noteConfigSchema, plan: planNote };
const TEST_REGISTRY = [...STRATEGIES, note] as const;

const ctx = { now: 3_600_000, prices: PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } }) };

test('a strategy in a registry appears in its name list and config schema, with its own defaults', () => {
  assert.deepEqual(strategyNames(TEST_REGISTRY), [...STRATEGY_NAMES, 'note']);
  const schema = deschedulingConfigSchemaOf(TEST_REGISTRY);
  const defaults = schema.parse({});
  assert.deepEqual(defaults.strategies.note, { enabled: false, note: 'Seen by the note strategy' });
  const set = schema.parse({ strategies: { note: { enabled: true } } });
  assert.deepEqual(set.strategies.note, { enabled: true, note: 'Seen by the note strategy' });
  // Its schema is its own: strict, with its own field types.
  const bad = schema.safeParse({ strategies: { note: { note: 3, colour: 'red' } } });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error?.issues.map((i) => i.path.join('.')).sort(), ['strategies.note', 'strategies.note.note']);
});

test('the built-in config knows exactly the built-in strategies, each section its strategy\'s defaults', () => {
  assert.deepEqual(Object.keys(DEFAULT_DESCHEDULING_CONFIG.strategies), [...STRATEGY_NAMES]);
  for (const strategy of STRATEGIES) {
    assert.deepEqual(DEFAULT_DESCHEDULING_CONFIG.strategies[strategy.name], strategy.configSchema.parse({}), strategy.name);
  }
  const unknown = deschedulingConfigSchemaOf(STRATEGIES).safeParse({ strategies: { note: {} } });
  assert.equal(unknown.success, false);
});

test('a plan runs a registry\'s strategies in its order, only those enabled', () => {
  const snap = snapshot({ nodes: [node('od-1'), node('spot-1', { capacityType: 'spot' })], pods: [pod('web-a', 'od-1')], workloads: [workload('web', 1)] });
  const schema = deschedulingConfigSchemaOf(TEST_REGISTRY);
  const onlyNote = schema.parse({ strategies: { 'spot-reschedule': { enabled: false }, consolidate: { enabled: false }, note: { enabled: true, note: 'Noted' } } });
  const plan = planDescheduling(snap, onlyNote, ctx, TEST_REGISTRY);
  assert.deepEqual(plan.skipped, [
    { node: 'od-1', strategy: 'note', reason: { code: 'settling', message: 'Noted: "od-1"' } },
    { node: 'spot-1', strategy: 'note', reason: { code: 'settling', message: 'Noted: "spot-1"' } },
  ]);
  const withDefaults = planDescheduling(snap, schema.parse({ strategies: { note: { enabled: true } } }), ctx, TEST_REGISTRY);
  const order = [...new Set(withDefaults.skipped.map((s) => s.strategy))];
  assert.equal(order.at(-1), 'note', 'the last registered strategy plans last');
  assert.ok(order.length > 1, 'the built-in strategies enabled by default plan too');
  const names: readonly string[] = strategyNames(TEST_REGISTRY);
  const ranks = order.map((name) => names.indexOf(name));
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'skips come in registry order');
});

test('withStrategies turns on exactly the named strategies and keeps every other field', () => {
  const config = withStrategies(DEFAULT_DESCHEDULING_CONFIG, ['balance']);
  assert.deepEqual(
    Object.entries(config.strategies).map(([name, s]) => [name, s.enabled]),
    STRATEGY_NAMES.map((name) => [name, name === 'balance']),
  );
  assert.equal(config.strategies.consolidate.minSavingUsdPerHour, DEFAULT_DESCHEDULING_CONFIG.strategies.consolidate.minSavingUsdPerHour);
  assert.deepEqual(config.budgets, DEFAULT_DESCHEDULING_CONFIG.budgets);
});

test('two strategies with one name are refused', () => {
  assert.throws(() => deschedulingConfigSchemaOf([...STRATEGIES, { ...note, name: 'balance' }]), /two strategies are named "balance"/);
});
