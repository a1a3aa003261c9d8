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

test("a service's disruptions allowed, counted on its pods, are its PDB view's at every instant", () => {
  // Generated services (some with a PDB of minAvailable 50%, some of maxUnavailable 1) with an HPA, and explicit ones without.
  const scenario = testScenario({
    duration: '8h',
    services: {
      generate: { count: 16, pdbShare: 0.8, pdb: { minAvailable: '50%' } },
      list: [
        { name: 'fixed', replicas: 5, cpu: '300m', memory: '256Mi', pdb: { maxUnavailable: 1 } },
        { name: 'free', replicas: 3, cpu: '300m', memory: '256Mi' },
      ],
    },
    jobs: { arrivalsPerHour: 10 },
  });
  const world = testWorld(scenario);
  let withPdb = 0;
  let blocked = 0;
  for (let t = 10_000; t <= 8 * 60 * MIN; t += 13_000) {
    world.engine.run(t);
    for (const service of world.workloads.services) {
      const view = service.pdbView();
      assert.equal(service.disruptionsAllowed(), view === undefined ? Number.POSITIVE_INFINITY : view.disruptionsAllowed, `${service.key} at ${t} ms`);
      if (view !== undefined) withPdb++;
      if (view?.disruptionsAllowed === 0) blocked++;
    }
  }
  assert.ok(withPdb > 0 && blocked > 0, `PDBs seen ${withPdb} times, ${blocked} of them allowing nothing`);
});
