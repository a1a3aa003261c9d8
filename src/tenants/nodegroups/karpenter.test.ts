import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PriceTable } from '../../core/pricing.js';
import { DEFAULT_TENANT_CLASSES } from '../classes.js';
import { kwokInstanceTypes, renderKarpenter } from './karpenter.js';

describe('karpenter node groups', () => {
  test('the default classes render a KWOKNodeClass and one NodePool per group (hand-checked)', () => {
    const [nodeClass, large, medium] = renderKarpenter(DEFAULT_TENANT_CLASSES);
    assert.deepEqual(nodeClass, { apiVersion: 'karpenter.kwok.sh/v1alpha1', kind: 'KWOKNodeClass', metadata: { name: 'default' } });
    assert.deepEqual(large, {
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: 'large', labels: { 'app.kubernetes.io/managed-by': 'stowage' } },
      spec: {
        template: {
          metadata: { labels: { size: 'large', 'stowage.io/node-group': 'large' } },
          spec: {
            nodeClassRef: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' },
            taints: [{ key: 'size', value: 'large', effect: 'NoSchedule' }],
            requirements: [
              { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['t3a.xlarge'] },
              { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] },
              { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
              { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
              { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
            ],
            expireAfter: 'Never',
          },
        },
        limits: { nodes: '3', cpu: '12' },
        disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '10s', budgets: [{ nodes: '100%' }] },
      },
    });
    assert.equal(medium?.metadata.name, 'medium');
    assert.deepEqual((medium?.['spec'] as { limits: unknown }).limits, { nodes: '5', cpu: '10' });
  });

  test('the aws provider references an EC2NodeClass and renders no node class', () => {
    const objects = renderKarpenter(DEFAULT_TENANT_CLASSES, { provider: 'aws', nodeClassName: 'tenants' });
    assert.deepEqual(objects.map((o) => o.kind), ['NodePool', 'NodePool']);
    const ref = (objects[0]?.['spec'] as { template: { spec: { nodeClassRef: unknown } } }).template.spec.nodeClassRef;
    assert.deepEqual(ref, { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'tenants' });
  });

  test('the KWOK instance-type file has a spot and an on-demand offering per zone, priced from the table', () => {
    const prices = PriceTable.create({ spotRatio: 0.5, instanceTypes: { 't3a.xlarge': { onDemand: 0.1504 }, 'x1.unknown': { onDemand: 9 } } });
    assert.deepEqual(kwokInstanceTypes(prices, ['us-east-1a', 'us-east-1b']), [
      {
        name: 't3a.xlarge',
        offerings: [
          { Price: 0.0752, Available: true, Requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }, { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] }] },
          { Price: 0.1504, Available: true, Requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] }, { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] }] },
          { Price: 0.0752, Available: true, Requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }, { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1b'] }] },
          { Price: 0.1504, Available: true, Requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] }, { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1b'] }] },
        ],
        architecture: 'amd64',
        operatingSystems: ['linux'],
        resources: { cpu: '4', memory: '16Gi', pods: '58' },
      },
    ]);
  });
});
