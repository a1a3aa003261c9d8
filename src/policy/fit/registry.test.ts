import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testNode, testPod, testSnapshot } from './fixtures.test-helper.js';
import type { ScorePlugin } from './plugin.js';
import { COST_AWARE_PROFILE, DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE } from './profiles.js';
import { ALL_FILTERS, FILTER_PLUGINS, FILTER_PLUGINS_BY_NAME, SCORE_PLUGINS, SCORE_PLUGINS_BY_NAME, pluginsByName } from './registry.js';
import { scoreNodes } from './score.js';
import { FitState } from './state.js';

test('the registry lists every plugin once; the filter order and the lookups are built from it', () => {
  assert.deepEqual(ALL_FILTERS, FILTER_PLUGINS.map((p) => p.name));
  assert.deepEqual([...FILTER_PLUGINS_BY_NAME.values()], [...FILTER_PLUGINS]);
  assert.deepEqual([...SCORE_PLUGINS_BY_NAME.values()], [...SCORE_PLUGINS]);
});

test('every shipped profile names only registered score plugins', () => {
  for (const profile of [DEFAULT_PROFILE, MOST_ALLOCATED_PROFILE, COST_AWARE_PROFILE]) {
    for (const { plugin } of profile.scores) assert.ok(SCORE_PLUGINS_BY_NAME.has(plugin), `${profile.name}: ${plugin}`);
  }
});

test('a name that picks two plugins is refused, and a profile naming no registered plugin cannot score', () => {
  const twin: ScorePlugin = { name: 'CostAware', score: (_s, _p, nodes) => nodes.map(() => 0) };
  assert.throws(() => pluginsByName<ScorePlugin>([...SCORE_PLUGINS, twin]), /Cannot register fit plugin "CostAware": another plugin has that name/);
  const state = FitState.fromSnapshot(testSnapshot([testNode('n1')]));
  const profile = { name: 'typo', scores: [{ plugin: 'MostAllocated', weight: 1 }] } as unknown as typeof DEFAULT_PROFILE;
  assert.throws(() => scoreNodes(state, testPod('p'), profile), /Cannot score with profile "typo": unknown score plugin "MostAllocated"/);
});
