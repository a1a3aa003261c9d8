import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_TENANT_CLASSES } from '../classes.js';
import { renderClusterAutoscalerKwok } from './cluster-autoscaler-kwok.js';

describe('cluster-autoscaler-kwok node groups', () => {
  const [config, templates] = renderClusterAutoscalerKwok(DEFAULT_TENANT_CLASSES, 'kube-system');

  test('the provider config reads static templates grouped by the group label, without its own taint (hand-checked)', () => {
    assert.deepEqual(config?.metadata, { name: 'kwok-provider-config', namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'stowage' } });
    assert.deepEqual(parseYaml((config?.['data'] as { config: string }).config), {
      apiVersion: 'v1alpha1',
      readNodesFrom: 'configmap',
      nodegroups: { fromNodeLabelKey: 'stowage.io/node-group' },
      nodes: { skipTaint: true },
      configmap: { name: 'kwok-provider-templates' },
    });
  });

  test('one template node per group with its labels, taints, size bounds and capacity, and no hostname (hand-checked)', () => {
    assert.equal(templates?.metadata.name, 'kwok-provider-templates');
    const list = parseYaml((templates?.['data'] as { templates: string }).templates) as { kind: string; items: unknown[] };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items[0], {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'large-template',
        labels: {
          size: 'large',
          'stowage.io/node-group': 'large',
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': 't3a.xlarge',
          'topology.kubernetes.io/zone': 'us-east-1a',
          'node.kubernetes.io/capacity': 'on-demand',
        },
        annotations: {
          'cluster-autoscaler.kwok.nodegroup/name': 'large',
          'cluster-autoscaler.kwok.nodegroup/min-count': '0',
          'cluster-autoscaler.kwok.nodegroup/max-count': '3',
          'cluster-autoscaler.kwok.nodegroup/desired-count': '0',
        },
      },
      spec: { taints: [{ key: 'size', value: 'large', effect: 'NoSchedule' }] },
      status: { capacity: { cpu: '4', memory: '16Gi', pods: '58' }, allocatable: { cpu: '4', memory: '16Gi', pods: '58' } },
    });
    assert.equal((list.items[1] as { metadata: { annotations: Record<string, string> } }).metadata.annotations['cluster-autoscaler.kwok.nodegroup/max-count'], '5');
  });
});
