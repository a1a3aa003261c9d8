import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testScenario, testWorld } from './harness.test-helper.js';

const MIN = 60_000;

test('a scale-down by several replicas deletes exactly that many pods and creates none', () => {
  const world = testWorld(testScenario({ services: { list: [{ name: 'web', replicas: 8, cpu: '700m', memory: '128Mi', startup: '10s' }] } }));
  world.engine.run(5 * MIN);
  const web = world.workloads.services[0];
  assert.ok(web !== undefined);
  assert.equal(web.ready, 8);
  const before = new Set([...web.pods].map((p) => p.uid));
  web.setDesired(2);
  const after = [...web.pods].filter((p) => !p.terminating);
  // Each deletion's pod event reconciles the ReplicaSet again; before the fix those nested rounds
  // picked victims of their own, so more pods went than asked and the shortfall was recreated.
  assert.equal(after.length, 2, 'two pods left that are not terminating');
  assert.ok(after.every((p) => before.has(p.uid)), 'no pod created: the two left are pods that ran before');
  assert.equal([...web.pods].filter((p) => p.terminating).length + after.length, [...web.pods].length);
  world.engine.run(10 * MIN);
  assert.equal(web.ready, 2);
  assert.ok([...web.pods].every((p) => before.has(p.uid)), 'still only pods that ran before the scale-down');
});
