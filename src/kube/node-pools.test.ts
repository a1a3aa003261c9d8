import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PRICE_TABLE } from '../core/pricing.js';
import type { NodeView } from '../core/model.js';
import { LAUNCH_ANNOTATION, nodeClaimFor, nodePoolOffers, offerId, parseOfferId, poolBudgets, poolStillOffers, type KarpenterNodeClaim, type KarpenterNodePool, type NodePoolRequirement } from './node-pools.js';

const READY = { conditions: [{ type: 'Ready', status: 'True' }] };

/** A NodePool as the dev cluster renders one, with the hash annotations Karpenter writes. */
function pool(over: { name?: string; requirements?: NodePoolRequirement[]; limits?: Record<string, string>; resources?: Record<string, string>; ready?: boolean } = {}): KarpenterNodePool {
  return {
    metadata: { name: over.name ?? 'general', uid: 'uid-general', annotations: { 'karpenter.sh/nodepool-hash': '123', 'karpenter.sh/nodepool-hash-version': 'v3' } },
    spec: {
      template: {
        metadata: { labels: { 'stowage.io/node-group': 'general' } },
        spec: {
          nodeClassRef: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' },
          taints: [{ key: 'size', value: 'general', effect: 'NoSchedule' }],
          startupTaints: [{ key: 'example.com/init', effect: 'NoSchedule' }],
          requirements: over.requirements ?? [
            { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['m5.xlarge', 'm5.2xlarge'] },
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
            { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
          ],
          expireAfter: 'Never',
        },
      },
      limits: over.limits ?? { nodes: '3', cpu: '24' },
    },
    status: { ...(over.ready === false ? { conditions: [{ type: 'Ready', status: 'False', message: 'NodeClass not ready' }] } : READY), resources: over.resources ?? { nodes: '1', cpu: '8', memory: '32Gi' } },
  };
}

function liveNode(name: string, instanceType: string, zone: string, allocatable: Record<string, number>): NodeView {
  return { name, labels: {}, annotations: {}, taints: [], allocatable, capacity: allocatable, unschedulable: false, ready: true, capacityType: 'on-demand', instanceType, zone, createdAt: 0 };
}

const nodes = [liveNode('big', 'm5.2xlarge', 'us-east-1a', { cpu: 7900, memory: 34_000_000_000, pods: 58 }), liveNode('other', 'c5.large', 'us-east-1b', { cpu: 1900, memory: 4e9, pods: 29 })];

test('a NodePool offers the types, capacity types and zones its requirements allow, priced from the table', () => {
  const { offers, refused } = nodePoolOffers([pool()], [], nodes, DEFAULT_PRICE_TABLE);
  assert.deepEqual(refused, []);
  assert.deepEqual(offers.map((o) => [o.id, o.usdPerHour]).sort(), [
    ['general/m5.2xlarge/on-demand/us-east-1a', DEFAULT_PRICE_TABLE.priceOf('m5.2xlarge', 'on-demand')],
    ['general/m5.xlarge/on-demand/us-east-1a', DEFAULT_PRICE_TABLE.priceOf('m5.xlarge', 'on-demand')],
  ]);
  const small = offers.find((o) => o.id.includes('m5.xlarge'))?.node as NodeView;
  assert.equal(small.instanceType, 'm5.xlarge');
  assert.equal(small.capacityType, 'on-demand');
  assert.equal(small.zone, 'us-east-1a');
  assert.equal(small.labels['stowage.io/node-group'], 'general');
  assert.equal(small.labels['karpenter.sh/nodepool'], 'general');
  assert.equal(small.labels['karpenter.kwok.sh/kwoknodeclass'], 'default');
  assert.deepEqual(small.taints, [{ key: 'size', value: 'general', effect: 'NoSchedule' }], 'the template taints, not the startup ones');
  // No m5.xlarge in the cluster: capacity less kube-reserved, on the safe side of what a node shows.
  assert.equal(small.capacity['cpu'], 4000);
  assert.ok((small.allocatable['cpu'] ?? 0) <= 3900 && (small.allocatable['cpu'] ?? 0) >= 3800, String(small.allocatable['cpu']));
  assert.ok((small.allocatable['memory'] ?? 0) < 16 * 1024 ** 3 - 10 * 1024 ** 2);
  // An m5.2xlarge runs already: its allocatable is what one shows.
  assert.equal(offers.find((o) => o.id.includes('m5.2xlarge'))?.node.allocatable['cpu'], 7900);
});

test('limits: a pool offers only types one more node of which stays within every limit, NodeClaims counted for nodes', () => {
  const full = nodePoolOffers([pool({ limits: { nodes: '1' } })], [], nodes, DEFAULT_PRICE_TABLE);
  assert.deepEqual(full.offers, []);
  assert.match(full.refused[0]?.reason ?? '', /limit nodes: 1 leaves no room for one more node \(1 in use\)/);
  // 8 of 12 cpus used: the 4-cpu type fits, the 8-cpu one does not.
  const cpu = nodePoolOffers([pool({ limits: { cpu: '12' } })], [], nodes, DEFAULT_PRICE_TABLE);
  assert.deepEqual(cpu.offers.map((o) => o.id), ['general/m5.xlarge/on-demand/us-east-1a']);
  // Status says one node; two NodeClaims of the pool exist (one still launching): the count is two.
  const claims: KarpenterNodeClaim[] = [1, 2].map((i) => ({ metadata: { name: `general-${i}`, labels: { 'karpenter.sh/nodepool': 'general' } } }));
  assert.deepEqual(nodePoolOffers([pool({ limits: { nodes: '2' } })], claims, nodes, DEFAULT_PRICE_TABLE).offers, []);
  assert.equal(nodePoolOffers([pool({ limits: { nodes: '3' } })], claims, nodes, DEFAULT_PRICE_TABLE).offers.length, 2);
});

test('requirements: NotIn, Gt on a provider label, a custom label; a pool not Ready or with a requirement Stowage cannot judge offers nothing', () => {
  const requirements: NodePoolRequirement[] = [
    { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm'] },
    { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['5'] },
    { key: 'karpenter.k8s.aws/instance-cpu', operator: 'Lt', values: ['5'] },
    { key: 'karpenter.sh/capacity-type', operator: 'NotIn', values: ['spot'] },
    { key: 'team', operator: 'In', values: ['b', 'a'] },
  ];
  const { offers } = nodePoolOffers([pool({ requirements, limits: {} })], [], nodes, DEFAULT_PRICE_TABLE);
  const types = [...new Set(offers.map((o) => o.node.instanceType))].sort();
  assert.ok(types.length > 0);
  for (const t of types) assert.match(t, /^[cm][6-9]\w*\.(large|xlarge)$/, t);
  assert.deepEqual([...new Set(offers.map((o) => o.node.zone))].sort(), ['us-east-1a', 'us-east-1b'], 'no zone requirement: the zones the cluster has');
  assert.ok(offers.every((o) => o.node.capacityType === 'on-demand' && o.node.labels['team'] === 'a'));
  assert.match(nodePoolOffers([pool({ ready: false })], [], nodes, DEFAULT_PRICE_TABLE).refused[0]?.reason ?? '', /^Not Ready: NodeClass not ready/);
  const odd = nodePoolOffers([pool({ requirements: [{ key: 'karpenter.k8s.aws/instance-hypervisor', operator: 'In', values: ['nitro'] }] })], [], nodes, DEFAULT_PRICE_TABLE);
  assert.deepEqual(odd.refused, [{ pool: 'general', reason: 'Cannot judge its requirement on "karpenter.k8s.aws/instance-hypervisor"' }]);
});

test('the NodeClaim of an offer: the template and the pool as the provisioner sets them, the offer pinned', () => {
  const choice = parseOfferId('general/m5.xlarge/on-demand/us-east-1a');
  assert.ok(choice !== undefined);
  assert.equal(offerId(choice), 'general/m5.xlarge/on-demand/us-east-1a');
  assert.equal(parseOfferId('general/m5.xlarge/reserved/us-east-1a'), undefined);
  const claim = nodeClaimFor(pool(), choice, 'general-abcde', { cpu: '3500m', memory: '2147483648', pods: '3' }, 'plan-1/replacement-for-big') as {
    metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string>; ownerReferences: unknown[] };
    spec: { requirements: NodePoolRequirement[]; taints: unknown[]; startupTaints: unknown[]; nodeClassRef: unknown; expireAfter: string; resources: unknown };
  };
  assert.equal(claim.metadata.name, 'general-abcde');
  assert.deepEqual(claim.metadata.labels, { 'stowage.io/node-group': 'general', 'karpenter.sh/nodepool': 'general', 'karpenter.kwok.sh/kwoknodeclass': 'default' });
  assert.deepEqual(claim.metadata.annotations, { [LAUNCH_ANNOTATION]: 'plan-1/replacement-for-big', 'karpenter.sh/nodepool-hash': '123', 'karpenter.sh/nodepool-hash-version': 'v3' });
  assert.deepEqual(claim.metadata.ownerReferences, [{ apiVersion: 'karpenter.sh/v1', kind: 'NodePool', name: 'general', uid: 'uid-general' }]);
  assert.deepEqual(claim.spec.requirements, [
    { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['m5.xlarge'] },
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
    { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] },
  ]);
  assert.deepEqual(claim.spec.nodeClassRef, { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' });
  assert.deepEqual(claim.spec.taints, [{ key: 'size', value: 'general', effect: 'NoSchedule' }]);
  assert.deepEqual(claim.spec.startupTaints, [{ key: 'example.com/init', effect: 'NoSchedule' }]);
  assert.equal(claim.spec.expireAfter, 'Never');
  assert.deepEqual(claim.spec.resources, { requests: { cpu: '3500m', memory: '2147483648', pods: '3' } });
  // Right before the launch: still offered; not once the pool is full.
  assert.equal(poolStillOffers(pool(), [], choice, DEFAULT_PRICE_TABLE), undefined);
  assert.match(poolStillOffers(pool({ resources: { nodes: '3' } }), [], choice, DEFAULT_PRICE_TABLE) ?? '', /limit nodes: 3/);
  assert.match(poolStillOffers(pool(), [], { ...choice, capacityType: 'spot' }, DEFAULT_PRICE_TABLE) ?? '', /do not allow a spot m5.xlarge/);
});

test('each pool\'s disruption budgets are read as its spec gives them; none set is none (the rule applies Karpenter\'s default)', () => {
  const budgets = [{ nodes: '0', schedule: '0 9 * * mon-fri', duration: '8h', reasons: ['Underutilized'] }, { nodes: '20%' }];
  const read = poolBudgets([{ metadata: { name: 'a' }, spec: { disruption: { budgets } } }, { metadata: { name: 'b' }, spec: {} }]);
  assert.deepEqual(Object.fromEntries(read), { a: budgets, b: [] });
});
