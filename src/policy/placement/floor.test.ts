import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onDemandFloor } from './floor.js';

test('onDemandFloor follows the Auto Scaling group rule', () => {
  const cases: readonly [replicas: number, base: number, percent: number, expected: number][] = [
    [0, 1, 0, 0],
    [1, 1, 0, 1], // a single replica stays on on-demand
    [3, 1, 0, 1],
    [10, 1, 25, 4], // 1 + ceil(0.25 × 9) = 1 + 3
    [10, 0, 50, 5],
    [10, 2, 100, 10],
    [3, 5, 50, 3], // never more than the replicas
    [4, 0, 30, 2], // ceil(1.2)
    [100, 0, 7, 7], // 7 × 100 / 100 exactly, no float round-up to 8
    [200, 0, 29, 58],
  ];
  for (const [replicas, base, percent, expected] of cases) {
    assert.equal(onDemandFloor(replicas, { base, percent }), expected, `replicas=${replicas} base=${base} percent=${percent}`);
  }
});
