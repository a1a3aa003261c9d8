import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRATEGIES } from '../policy/deschedule/strategies/index.js';
import { PROFILE_PRESETS } from '../policy/schedule/framework.js';
import { ARMS, deschedulingConfigOf, findArm, OPT_IN_ARMS } from './arms.js';

test('each arm\'s descheduler config has a section per registered strategy, on exactly for the arm\'s', () => {
  for (const arm of [...ARMS, ...OPT_IN_ARMS]) {
    const config = deschedulingConfigOf(arm);
    assert.deepEqual(
      Object.entries(config.strategies).map(([name, s]) => [name, s.enabled]),
      STRATEGIES.map((s) => [s.name, arm.deschedule.includes(s.name)]),
      arm.name,
    );
    // Tuned as the defaults, except that balance balances use, 20 points off the mean (it reads how the arm's scheduler scores from scheduler.profile).
    for (const strategy of STRATEGIES) {
      const { enabled: _on, ...tuned } = config.strategies[strategy.name];
      const { enabled: _default, ...defaults } = strategy.configSchema.parse(
        strategy.name === 'balance' ? { basis: 'usage', deviation: { cpu: 20, memory: 10, pods: 10 } } : {},
      );
      assert.deepEqual(tuned, defaults, `${arm.name} ${strategy.name}`);
    }
  }
});

test('the cost-aware arm runs stowage scheduler\'s cost-aware profile, by name only', () => {
  const arm = findArm('ca');
  assert.equal(arm?.name, 'CA');
  assert.ok(arm !== undefined && !ARMS.includes(arm));
  assert.equal(arm?.profile, PROFILE_PRESETS['cost-aware'], 'the very profile object the live scheduler resolves');
});
