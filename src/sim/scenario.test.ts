import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultScenario, parseScenario, ScenarioError } from './scenario.js';

test('the default scenario resolves with its documented values', () => {
  const s = defaultScenario();
  assert.equal(s.name, 'default');
  assert.equal(s.source, 'embedded:default');
  assert.equal(s.durationMs, 7 * 86_400_000);
  assert.equal(s.services.length, 60);
  assert.equal(s.autoscaler.scaleDownUnneededTime, 600_000);
  assert.equal(s.cloud.spot.notice, 120_000);
  assert.deepEqual(s.cloud.zones, ['us-east-1a', 'us-east-1b', 'us-east-1c']);
  // The catalogue comes from its own seed: the same on every call.
  assert.deepEqual(defaultScenario().services, s.services);
  assert.ok(s.services.every((svc) => svc.cpu >= 50 && svc.cpu <= 2000));
});

test('a scenario file overrides only what it states', () => {
  const s = parseScenario(
    `apiVersion: stowage.io/v1alpha1
kind: Scenario
metadata: { name: small }
spec:
  duration: 1d
  services:
    generate: { count: 3 }
    list:
      - { name: api, replicas: 4, cpu: 500m, memory: 1Gi, pdb: { maxUnavailable: 1 } }
`,
    'small.yaml',
  );
  assert.equal(s.name, 'small');
  assert.equal(s.durationMs, 86_400_000);
  assert.equal(s.services.length, 4);
  const api = s.services.find((x) => x.name === 'api');
  assert.deepEqual([api?.cpu, api?.memory, api?.pdb], [500, 2 ** 30, { maxUnavailable: 1 }]);
  assert.equal(s.autoscaler.scanInterval, 10_000, 'unstated fields keep the default');
});

test('invalid scenarios give one-line errors naming the field', () => {
  const bad = (yaml: string): string => {
    try {
      parseScenario(yaml, 'bad.yaml');
    } catch (error) {
      assert.ok(error instanceof ScenarioError);
      assert.ok(!error.message.includes('\n'));
      return error.message;
    }
    assert.fail('expected an error');
  };
  const head = 'apiVersion: stowage.io/v1alpha1\nkind: Scenario\n';
  assert.match(bad(`${head}spec:\n  duration: soon\n`), /^Invalid scenario "bad.yaml": spec\.duration: expected a duration like "45s", "1m30s" or "7d", got "soon"$/);
  assert.match(bad(`${head}spec:\n  cloud:\n    instanceTypes:\n      - { name: x, cpu: lots, memory: 1Gi, pods: 10 }\n`), /spec\.cloud\.instanceTypes\[0\]\.cpu: Invalid quantity "lots"/);
  assert.match(bad(`${head}spec:\n  autoscaler:\n    scanIntervall: 5s\n`), /spec\.autoscaler: Unrecognized key: "scanIntervall"/);
  assert.match(bad('apiVersion: v1\nkind: Scenario\n'), /apiVersion: Invalid input: expected "stowage\.io\/v1alpha1"/);
  assert.match(bad(`${head}spec:\n  cloud:\n    provisioning: { min: 90s, max: 45s }\n`), /spec\.cloud\.provisioning: min 90000 is greater than max 45000/);
  assert.match(bad('apiVersion: [\n'), /^Cannot parse scenario "bad.yaml": /);
  assert.match(bad(`${head}spec:\n  rollouts: { maxSurge: 0, maxUnavailable: 0% }\n`), /spec\.rollouts\.maxUnavailable: may not be 0 when maxSurge is 0$/);
  assert.match(bad(`${head}spec:\n  rollouts: { maxSurge: lots }\n`), /spec\.rollouts\.maxSurge: /);
  assert.match(bad(`${head}spec:\n  services:\n    list:\n      - { name: a, replicas: 1, cpu: 1, memory: 1Gi, strategy: { maxSurge: 0, maxUnavailable: 0 } }\n`), /spec\.services\.list\[0\]\.strategy\.maxUnavailable: may not be 0 when maxSurge is 0/);
});

test('a PDB field stated in a file replaces the default PDB field it excludes', () => {
  const head = 'apiVersion: stowage.io/v1alpha1\nkind: Scenario\n';
  // The default's generated PDB is maxUnavailable: 1; stating minAvailable must replace it.
  const s = parseScenario(`${head}spec:\n  services:\n    generate: { pdb: { minAvailable: 50% } }\n`, 'pdb.yaml');
  const pdbs = s.services.flatMap((svc) => (svc.pdb ? [svc.pdb] : []));
  assert.ok(pdbs.length > 0);
  assert.ok(pdbs.every((pdb) => pdb.minAvailable === '50%' && pdb.maxUnavailable === undefined));
  assert.deepEqual((s.document.spec?.services?.generate as { pdb?: unknown } | undefined)?.pdb, { minAvailable: '50%' });
  // Both stated by the user is still a contradiction, reported as one.
  assert.throws(
    () => parseScenario(`${head}spec:\n  services:\n    generate: { pdb: { minAvailable: 1, maxUnavailable: 1 } }\n`, 'both.yaml'),
    /spec\.services\.generate\.pdb: set exactly one of minAvailable and maxUnavailable/,
  );
});

test('every shipped scenario file loads, and states the shape its comment promises', async () => {
  const { readdir } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const { loadScenarioFile } = await import('./scenario.js');
  const dir = fileURLToPath(new URL('./scenarios/', import.meta.url));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['default.yaml', 'large.yaml', 'mixed-catalogue.yaml', 'rollouts.yaml', 'single-replica.yaml', 'small.yaml', 'spot-shortage.yaml', 'spot-stress.yaml']);
  const byName = new Map<string, Awaited<ReturnType<typeof loadScenarioFile>>>();
  for (const f of files) byName.set(f, await loadScenarioFile(`${dir}${f}`));
  const { document: _fileDocument, source: _fileSource, ...fromFile } = byName.get('default.yaml') ?? defaultScenario();
  const { document: _document, source: _source, ...embedded } = defaultScenario();
  assert.deepEqual(fromFile, embedded, 'default.yaml is the embedded default');
  const mixed = byName.get('mixed-catalogue.yaml');
  assert.deepEqual(new Set(mixed?.cloud.instanceTypes.map((t) => t.name.split('.')[0])), new Set(['c5', 'm5', 'r5']));
  const single = byName.get('single-replica.yaml')?.services ?? [];
  assert.ok(single.filter((s) => s.replicas === 1).length / single.length >= 0.6, 'mostly single replicas');
  assert.ok(single.filter((s) => s.replicas > 1).every((s) => s.pdb !== undefined), 'every service of several replicas under a PDB');
  assert.equal(byName.get('large.yaml')?.services.length, 600);
  const cd = byName.get('rollouts.yaml');
  assert.ok((cd?.rollouts.perServicePerDay ?? 0) >= 2, 'several rollouts per service per day');
  assert.deepEqual(cd?.services, defaultScenario().services, 'the default services, rolled out often');
  assert.equal(defaultScenario().rollouts.perServicePerDay, 0, 'the default has no rollouts: the other scenarios answer about placement alone');
  const shortage = byName.get('spot-shortage.yaml')?.cloud.spot;
  assert.equal(shortage?.capacityGapScope, 'region', 'a reclaim leaves every spot pool short');
  assert.equal(defaultScenario().cloud.spot.capacityGapScope, 'pool', 'the default: the reclaimed pool alone');
});
