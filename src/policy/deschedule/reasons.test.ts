import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REASON_CODES, refusalBacksOff } from './reasons.js';
import type { ReasonCode } from './reasons.js';

/**
 * Every code and what the executor does when a drain is refused for it before it started: back off
 * (the workload's configuration says no; the next cycle would hear the same) or try again next
 * cycle (a passing state). Written out in full, so a new code cannot join without a decision here.
 */
const BACKS_OFF: Readonly<Record<ReasonCode, boolean>> = {
  'node-not-ready': false,
  'node-cordoned': false,
  'node-gone': false,
  'node-drained': false,
  'node-receiving': false,
  backoff: false,
  budget: false,
  'no-spot-node': false,
  settling: false,
  utilized: false,
  'autoscaler-removing': false,
  'node-do-not-disrupt': false,
  'disruption-budget': false,
  'not-movable': true,
  pdb: true,
  'multiple-pdbs': true,
  'implicit-floor': true,
  'single-replica': true,
  unsettled: false,
  'in-flight': false,
  'recently-moved': false,
  'churn-budget': false,
  'no-fit': false,
  'unsafe-landing': false,
  'strands-replica': false,
  'no-pod': false,
  'not-worth-it': false,
  'stale-plan': false,
  'eviction-refused': false,
  timeout: false,
  stopped: false,
  'api-error': false,
  'launch-failed': false,
  'set-failed': false,
  'replacement-undone': false,
  'replacement-kept': false,
  'protection-released': false,
  misplaced: false,
  'pdb-allows': false,
  'rollout-budget': false,
  'no-replica-count': false,
  'surge-single-replica': false,
  'surge-rollout-floor': false,
  'drain-empties': false,
  replace: false,
  'drain-keeps-floor': false,
  move: false,
};

test('each reason code maps to its backoff decision', () => {
  assert.deepEqual(Object.keys(BACKS_OFF).sort(), [...REASON_CODES].sort(), 'the table lists every code once');
  for (const code of REASON_CODES) assert.equal(refusalBacksOff(code), BACKS_OFF[code], code);
});

test('codes are unique, stable metric label values', () => {
  assert.equal(new Set(REASON_CODES).size, REASON_CODES.length);
  for (const code of REASON_CODES) assert.match(code, /^[a-z]+(-[a-z]+)*$/, code);
});
