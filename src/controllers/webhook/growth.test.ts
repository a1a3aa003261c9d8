import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../../core/capacity.js';
import { DEFAULT_PRICE_TABLE } from '../../core/pricing.js';
import type { NodeView } from '../../core/model.js';
import type { KarpenterNodePool } from '../../kube/node-pools.js';
import { growableTemplates } from './growth.js';

const CAPACITY = 'node.kubernetes.io/capacity';
const rules = [{ label: CAPACITY, spot: ['spot'], onDemand: ['on-demand'] }, ...DEFAULT_CAPACITY_TYPE_RULES];

function pool(over: { name?: string; types?: string[]; capacityTypes?: string[]; labels?: Record<string, string>; limits?: Record<string, string>; ready?: boolean } = {}): KarpenterNodePool {
  return {
    metadata: { name: over.name ?? 'general', uid: 'uid' },
    spec: {
      template: {
        metadata: { labels: over.labels ?? { [CAPACITY]: 'on-demand' } },
        spec: {
          nodeClassRef: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' },
          requirements: [
            { key: 'node.kubernetes.io/instance-type', operator: 'In', values: over.types ?? ['m5.large', 'm5.xlarge'] },
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: over.capacityTypes ?? ['on-demand'] },
            { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] },
          ],
        },
      },
      limits: over.limits ?? { nodes: '5' },
    },
    status: { conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }], resources: { nodes: '1' } },
  };
}

/** A node of the cluster: its zone is the zone an offer of a pool that names zones is in. */
const nodes: NodeView[] = [{ name: 'n1', labels: {}, annotations: {}, taints: [], allocatable: { cpu: 1900, memory: 7e9, pods: 29 }, capacity: { cpu: 2000, memory: 8e9, pods: 29 }, unschedulable: false, ready: true, capacityType: 'on-demand', instanceType: 'c5.large', zone: 'us-east-1a', createdAt: 0 }];

test('growable templates: per pool, capacity type and zone, the shapes no other offer holds more of, classified by the webhook\'s rules', () => {
  const templates = growableTemplates([pool()], [], nodes, DEFAULT_PRICE_TABLE, rules);
  // m5.xlarge (4 cpu, 16 GiB, 58 pods) holds more of everything than m5.large (2 cpu, 8 GiB, 29 pods).
  assert.deepEqual(templates.map((t) => [t.instanceType, t.capacityType, t.labels['kubernetes.io/hostname'] === t.name]), [['m5.xlarge', 'on-demand', true]]);
  const mixed = growableTemplates([pool({ types: ['c5.2xlarge', 'r5.large'] })], [], nodes, DEFAULT_PRICE_TABLE, rules);
  assert.deepEqual(mixed.map((t) => t.instanceType).sort(), ['c5.2xlarge', 'r5.large'], 'more cpu against more memory: both kept');
  assert.equal(new Set(mixed.map((t) => t.name)).size, 2, 'each template has a name of its own');
});

test('growable templates: none from a pool that is not Ready or at its limit; a spot pool gives spot templates', () => {
  assert.deepEqual(growableTemplates([pool({ ready: false })], [], nodes, DEFAULT_PRICE_TABLE, rules), []);
  assert.deepEqual(growableTemplates([pool({ limits: { nodes: '1' } })], [], nodes, DEFAULT_PRICE_TABLE, rules), [], 'one node of one allowed, one there');
  const claims = [{ metadata: { name: 'c1', labels: { 'karpenter.sh/nodepool': 'general' } } }, { metadata: { name: 'c2', labels: { 'karpenter.sh/nodepool': 'general' } } }];
  assert.deepEqual(growableTemplates([pool({ limits: { nodes: '2' } })], claims, nodes, DEFAULT_PRICE_TABLE, rules), [], 'launches in flight count against the limit');
  const spot = growableTemplates([pool({ capacityTypes: ['spot'], labels: { [CAPACITY]: 'spot' } })], [], nodes, DEFAULT_PRICE_TABLE, rules);
  assert.deepEqual(spot.map((t) => t.capacityType), ['spot']);
});
