import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findArm } from './arms.js';
import { defaultScenario } from './scenario.js';
import type { Scenario } from './scenario.js';
import { runSimulation } from './simulation.js';

/** The default scenario, cut to 30 minutes of warm-up and 2 hours measured, to stay quick. */
function shortScenario(): Scenario {
  return { ...defaultScenario(), warmUpMs: 30 * 60_000, durationMs: 2 * 3_600_000 };
}

test('the same scenario, arm and seed give identical results; another seed differs', () => {
  const scenario = shortScenario();
  const arm = findArm('T3');
  assert.ok(arm);
  const a = runSimulation({ scenario, arm, seed: 7 });
  const b = runSimulation({ scenario, arm, seed: 7 });
  assert.deepEqual(a.metrics, b.metrics);
  assert.deepEqual(a.diagnostics, b.diagnostics);
  const c = runSimulation({ scenario, arm, seed: 8 });
  assert.notDeepEqual(c.metrics, a.metrics);
  assert.ok(a.metrics.totalUsd > 0);
});
