import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixtureNodes, parseNodeFixture } from './nodes.js';
import { repoPath } from './paths.js';

test('the default fixture has two on-demand and two spot nodes managed by kwok', () => {
  const nodes = fixtureNodes(parseNodeFixture(readFileSync(repoPath('dev', 'nodes.yaml'), 'utf8')));
  assert.deepEqual(nodes.map((n) => n.metadata?.name), ['on-demand-1', 'on-demand-2', 'spot-1', 'spot-2']);
  assert.deepEqual(nodes.map((n) => n.metadata?.labels?.['node.kubernetes.io/capacity']), ['on-demand', 'on-demand', 'spot', 'spot']);
  for (const n of nodes) {
    assert.equal(n.metadata?.annotations?.['kwok.x-k8s.io/node'], 'fake');
    assert.equal(n.metadata?.labels?.['node.kubernetes.io/instance-type'], 'm5.xlarge');
    assert.deepEqual(n.status?.allocatable, { cpu: '4', memory: '16Gi', pods: '110' });
  }
});

test('a single node keeps its name; labels, taints and allocatable come through', () => {
  const nodes = fixtureNodes(parseNodeFixture(`
apiVersion: stowage.io/v1alpha1
kind: NodeFixture
nodes:
  - name: gpu
    labels: { team: ml }
    taints: [{ key: nvidia.com/gpu, effect: NoSchedule }]
    capacity: { cpu: 8, memory: 32Gi, pods: 110, nvidia.com/gpu: 1 }
    allocatable: { cpu: 7500m, memory: 30Gi, pods: 110, nvidia.com/gpu: 1 }
`));
  assert.equal(nodes.length, 1);
  const [node] = nodes;
  assert.equal(node?.metadata?.name, 'gpu');
  assert.equal(node?.metadata?.labels?.team, 'ml');
  assert.equal(node?.metadata?.labels?.['node.kubernetes.io/capacity'], undefined);
  assert.deepEqual(node?.spec?.taints, [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }]);
  assert.equal(node?.status?.capacity?.cpu, '8');
  assert.equal(node?.status?.allocatable?.cpu, '7500m');
});

test('malformed fixtures fail with one line naming the field', () => {
  const bad: [string, RegExp][] = [
    ['apiVersion: v1\nkind: NodeFixture\nnodes: [{name: a}]', /apiVersion/],
    ['apiVersion: stowage.io/v1alpha1\nkind: NodeFixture\nnodes: [{name: A_B}]', /nodes\[0\]\.name: must be a lowercase DNS name/],
    ['apiVersion: stowage.io/v1alpha1\nkind: NodeFixture\nnodes: [{name: a, capacityType: cheap}]', /nodes\[0\]\.capacityType/],
    ['apiVersion: stowage.io/v1alpha1\nkind: NodeFixture\nnodes: [{name: a}, {name: a}]', /node name "a" is used twice/],
    ['apiVersion: stowage.io/v1alpha1\nkind: NodeFixture\nnodes: [{name: a, colour: red}]', /colour/],
    ['nodes: [', /Cannot parse fixture\.yaml/],
  ];
  for (const [text, pattern] of bad) {
    assert.throws(() => parseNodeFixture(text, 'fixture.yaml'), (e: Error) => pattern.test(e.message) && !e.message.includes('\n'), text);
  }
});
