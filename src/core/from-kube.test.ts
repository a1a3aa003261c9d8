import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  nodeFromKube,
  ownerResolver,
  pdbFromKube,
  podFromKube,
  podNonZeroRequests,
  podRequests,
  spreadSelectorResolver,
  toMillis,
  workloadFromKube,
  type KubeContainer,
  type KubeJob,
  type KubePod,
  type KubePodSpec,
  type KubeService,
  type KubeReplicaSet,
} from './from-kube.js';
import type { WorkloadRef } from './model.js';
import { QuantityError } from './quantity.js';

const GI = 1024 ** 3;
const MI = 1024 ** 2;
const container = (requests: Record<string, string | number>, restartPolicy?: string): KubeContainer => ({
  name: 'c',
  resources: { requests },
  ...(restartPolicy === undefined ? {} : { restartPolicy }),
});
const sidecar = (requests: Record<string, string>) => container(requests, 'Always');

describe('podRequests', () => {
  // Upstream component-helpers TestPodResourceRequests, plus overhead, pod-level and rounding cases.
  const CASES: readonly (readonly [string, KubePodSpec, Record<string, number>])[] = [
    ['no containers', {}, { pods: 1 }],
    ['no requests are 0, not a default', { containers: [{ name: 'c' }, { name: 'd', resources: {} }] }, { pods: 1 }],
    [
      'containers are summed',
      { containers: [container({ cpu: '250m', memory: '64Mi' }), container({ cpu: '1.5', memory: '1Gi' })] },
      { cpu: 1750, memory: GI + 64 * MI, pods: 1 },
    ],
    [
      'larger init container wins (upstream "nil options, larger init container")',
      { initContainers: [container({ cpu: '4' })], containers: [container({ cpu: '1' }), container({ cpu: '1' })] },
      { cpu: 4000, pods: 1 },
    ],
    [
      'larger containers win (upstream "nil options, larger containers")',
      { initContainers: [container({ cpu: '2' })], containers: [container({ cpu: '1' }), container({ cpu: '3' })] },
      { cpu: 4000, pods: 1 },
    ],
    ['max is per resource', { initContainers: [container({ cpu: '4', memory: '1Gi' })], containers: [container({ cpu: '1', memory: '2Gi' })] }, { cpu: 4000, memory: 2 * GI, pods: 1 }],
    ['restartable init container adds to the sum', { initContainers: [sidecar({ cpu: '1' })], containers: [container({ cpu: '1' })] }, { cpu: 2000, pods: 1 }],
    [
      'multiple restartable init containers: max(5, 3+2+1+1) = 7',
      { initContainers: [container({ cpu: '5' }), sidecar({ cpu: '1' }), sidecar({ cpu: '2' }), sidecar({ cpu: '3' })], containers: [container({ cpu: '1' })] },
      { cpu: 7000, pods: 1 },
    ],
    [
      'an init container counts only the sidecars started before it: 5 + (1+2) = 8',
      {
        initContainers: [container({ cpu: '5' }), sidecar({ cpu: '1' }), sidecar({ cpu: '2' }), container({ cpu: '5' }), sidecar({ cpu: '3' })],
        containers: [container({ cpu: '1' })],
      },
      { cpu: 8000, pods: 1 },
    ],
    ['restartable-init, init and regular: max(10+100, 10+200) = 210', { initContainers: [sidecar({ cpu: '10' }), container({ cpu: '200' })], containers: [container({ cpu: '100' })] }, { cpu: 210000, pods: 1 }],
    [
      'overhead is added after the max',
      { overhead: { cpu: '250m', memory: '120Mi' }, initContainers: [container({ cpu: '2' })], containers: [container({ cpu: '1', memory: '1Gi' })] },
      { cpu: 2250, memory: GI + 120 * MI, pods: 1 },
    ],
    [
      'pod-level requests replace cpu and memory only, before overhead',
      {
        resources: { requests: { cpu: '3', memory: '4Gi', 'ephemeral-storage': '9Gi' } },
        overhead: { cpu: '100m' },
        containers: [container({ cpu: '1', memory: '1Gi', 'ephemeral-storage': '1Gi' })],
      },
      { cpu: 3100, memory: 4 * GI, 'ephemeral-storage': GI, pods: 1 },
    ],
    ['pod-level hugepages count too', { resources: { requests: { 'hugepages-2Mi': '8Mi' } }, containers: [container({ cpu: '1' })] }, { cpu: 1000, 'hugepages-2Mi': 8 * MI, pods: 1 }],
    [
      'extended resources and storage are summed in their own units',
      { containers: [container({ 'nvidia.com/gpu': '1', 'ephemeral-storage': '1G' }), container({ 'nvidia.com/gpu': 2 })] },
      { 'nvidia.com/gpu': 3, 'ephemeral-storage': 1e9, pods: 1 },
    ],
    // Exact sums before conversion: the scheduler rounds the pod total, not each container.
    ['fractions are summed exactly, then rounded up', { containers: [container({ cpu: '0.5m', memory: '0.5' }), container({ cpu: '0.5m', memory: '0.4' })] }, { cpu: 1, memory: 1, pods: 1 }],
    ['YAML numbers are quantities', { containers: [container({ cpu: 0.5, memory: 1e9 })] }, { cpu: 500, memory: 1e9, pods: 1 }],
  ];
  for (const [name, spec, expected] of CASES) {
    it(name, () => assert.deepEqual(podRequests(spec), expected));
  }

  it('podNonZeroRequests gives 100m/200Mi to each container that names no cpu or memory request, as kube-scheduler 1.36', () => {
    const spec = (s: KubePodSpec): { cpu: number; memory: number } => podNonZeroRequests(s, podRequests(s));
    // Upstream's NonMissingContainerRequests: per container, per resource, only when the key is absent.
    assert.deepEqual(spec({ containers: [{ name: 'a' }, { name: 'b' }] }), { cpu: 200, memory: 400 * MI });
    assert.deepEqual(spec({ containers: [container({ cpu: '1' }), { name: 'b' }] }), { cpu: 1100, memory: 400 * MI });
    // A request named as 0 stays 0.
    assert.deepEqual(spec({ containers: [container({ cpu: '0', memory: '0' })] }), { cpu: 0, memory: 0 });
    // Init containers get the defaults too, then the max with the containers' sum, as for requests.
    assert.deepEqual(spec({ initContainers: [{ name: 'i' }], containers: [container({ cpu: '50m', memory: '10Mi' })] }), { cpu: 100, memory: 200 * MI });
    // A sidecar adds its defaults to the sum.
    assert.deepEqual(spec({ initContainers: [{ name: 's', restartPolicy: 'Always' }], containers: [container({ cpu: '1' })] }), { cpu: 1100, memory: 400 * MI });
    // Pod-level requests: defaults only for a resource the pod names nowhere.
    assert.deepEqual(spec({ resources: { requests: { cpu: '2' } }, containers: [{ name: 'a' }, { name: 'b' }] }), { cpu: 2000, memory: 400 * MI });
    assert.deepEqual(spec({ overhead: { cpu: '250m' }, containers: [{ name: 'a' }] }), { cpu: 350, memory: 200 * MI });
  });

  it('names the resource and pod of a bad quantity', () => {
    const pod: KubePod = { metadata: { namespace: 'shop', name: 'cart-1' }, spec: { containers: [container({ cpu: '12x' })] } };
    assert.throws(() => podFromKube(pod, ownerResolver([], [])), (error: unknown) => {
      assert.ok(error instanceof QuantityError);
      assert.equal(error.message, 'Invalid quantity "12x" for resource "cpu" in pod "shop/cart-1": unknown suffix "x"');
      return true;
    });
  });
});

describe('podFromKube', () => {
  const pod: KubePod = {
    metadata: {
      namespace: 'shop',
      name: 'cart-7f9c-abcde',
      uid: 'uid-1',
      labels: { app: 'cart', 'pod-template-hash': '7f9c' },
      annotations: { 'kubernetes.io/config.mirror': 'abc' },
      creationTimestamp: '2024-05-01T12:00:00Z',
      deletionTimestamp: new Date(Date.UTC(2024, 4, 1, 12, 5)),
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-a-controller', uid: 'x' },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-7f9c', uid: 'rs-uid', controller: true },
      ],
    },
    spec: {
      nodeName: 'node-1',
      priority: 1000,
      priorityClassName: 'high',
      containers: [container({ cpu: '500m', memory: '256Mi' })],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }, { key: 'x', operator: 'Weird' }] }],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n'] }] } }],
        },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cart' } }, topologyKey: 'kubernetes.io/hostname' }],
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 50, podAffinityTerm: { namespaceSelector: {}, topologyKey: 'topology.kubernetes.io/zone' } },
          ],
        },
      },
      tolerations: [
        { key: 'spot', operator: 'Exists', effect: 'NoSchedule' },
        { operator: 'Exists' },
        { key: 'n', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'alpha', operator: 'Gt', value: '5' },
        { key: 'bad', effect: 'Sometimes' },
      ],
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'cart' } }, minDomains: 3 },
        { maxSkew: 2, topologyKey: 'x', whenUnsatisfiable: 'Whatever' },
      ],
      volumes: [
        { name: 'cache', emptyDir: {} },
        { name: 'shm', emptyDir: { medium: 'Memory' } },
        { name: 'data', persistentVolumeClaim: { claimName: 'data-cart' } },
        { name: 'scratch', ephemeral: { volumeClaimTemplate: {} } },
        { name: 'config', hostPath: undefined },
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] },
  };

  it('maps every field', () => {
    const view = podFromKube(pod, () => ({ kind: 'Deployment', namespace: 'shop', name: 'cart' }));
    assert.deepEqual(view, {
      namespace: 'shop',
      name: 'cart-7f9c-abcde',
      uid: 'uid-1',
      labels: { app: 'cart', 'pod-template-hash': '7f9c' },
      annotations: { 'kubernetes.io/config.mirror': 'abc' },
      requests: { cpu: 500, memory: 256 * MI, pods: 1 },
      nonZero: { cpu: 500, memory: 256 * MI },
      nodeName: 'node-1',
      phase: 'Running',
      ready: true,
      priority: 1000,
      priorityClassName: 'high',
      schedulerName: 'default-scheduler',
      owner: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      controllerRef: { kind: 'ReplicaSet', name: 'cart-7f9c', uid: 'rs-uid' },
      constraints: {
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        nodeAffinity: {
          required: [
            {
              matchExpressions: [
                { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] },
                // An unknown operator becomes a requirement that never matches.
                { key: 'x', operator: 'In', values: [] },
              ],
            },
          ],
          preferred: [{ weight: 10, preference: { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n'] }] } }],
        },
        podAntiAffinity: {
          required: [{ labelSelector: { matchLabels: { app: 'cart' } }, topologyKey: 'kubernetes.io/hostname' }],
          preferred: [{ weight: 50, term: { namespaceSelector: {}, topologyKey: 'topology.kubernetes.io/zone' } }],
        },
        tolerations: [
          { key: 'spot', operator: 'Exists', effect: 'NoSchedule' },
          { operator: 'Exists' },
          { key: 'n', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 300 },
        ],
        topologySpread: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'cart' } }, minDomains: 3 }],
      },
      createdAt: 1714564800000,
      deletionRequestedAt: 1714565100000,
      hasLocalStorage: true,
      isMirror: true,
      pvcNames: ['data-cart', 'cart-7f9c-abcde-scratch'],
    });
  });

  it('defaults what a fresh pod lacks', () => {
    const view = podFromKube({ metadata: { namespace: 'a', name: 'b' }, spec: { containers: [] } }, ownerResolver([], []));
    assert.equal(view.phase, 'Pending');
    assert.equal(view.ready, false);
    assert.equal(view.nodeName, '');
    assert.equal(view.priority, 0);
    assert.equal(view.createdAt, 0);
    assert.equal('deletionRequestedAt' in view, false);
    assert.equal('controllerRef' in view, false);
    assert.equal(view.hasLocalStorage, false);
    assert.equal(view.isMirror, false);
    assert.deepEqual(view.constraints, {});
    assert.deepEqual(view.owner, { kind: 'None', namespace: 'a', name: 'b' });
  });

  it('reads readiness and phase from status', () => {
    const resolve = ownerResolver([], []);
    assert.equal(podFromKube({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }, resolve).ready, false);
    assert.equal(podFromKube({ status: { phase: 'Succeeded' } }, resolve).phase, 'Succeeded');
    assert.equal(podFromKube({ status: { phase: 'Evicted' } }, resolve).phase, 'Unknown');
  });

  it('treats memory-backed emptyDir as not local storage, hostPath as local', () => {
    const resolve = ownerResolver([], []);
    assert.equal(podFromKube({ spec: { volumes: [{ name: 'a', emptyDir: { medium: 'Memory' } }] } }, resolve).hasLocalStorage, false);
    assert.equal(podFromKube({ spec: { volumes: [{ name: 'a', hostPath: { path: '/var/log' } }] } }, resolve).hasLocalStorage, true);
    assert.equal(podFromKube({ spec: { volumes: [{ name: 'a', emptyDir: { medium: '' } }] } }, resolve).hasLocalStorage, true);
  });
});

describe('ownerResolver', () => {
  const rs = (name: string, owner?: { apiVersion: string; kind: string; name: string }): KubeReplicaSet => ({
    metadata: { namespace: 'shop', name, ...(owner === undefined ? {} : { ownerReferences: [{ ...owner, uid: 'u', controller: true }] }) },
  });
  const replicaSets = [
    rs('cart-7f9c', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart' }),
    rs('bare-rs'),
    rs('canary-5d8b', { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'canary' }),
  ];
  const jobs: KubeJob[] = [
    { metadata: { namespace: 'shop', name: 'report-28571234', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', uid: 'u', controller: true }] } },
    { metadata: { namespace: 'shop', name: 'migrate' } },
  ];
  const resolve = ownerResolver(replicaSets, jobs);
  const podOwnedBy = (apiVersion: string, kind: string, name: string, labels: Record<string, string> = {}): KubePod => ({
    metadata: { namespace: 'shop', name: 'p', labels, ownerReferences: [{ apiVersion, kind, name, uid: 'u', controller: true }] },
  });

  const CASES: readonly (readonly [string, KubePod, WorkloadRef])[] = [
    ['no owner is None', { metadata: { namespace: 'shop', name: 'solo' } }, { kind: 'None', namespace: 'shop', name: 'solo' }],
    [
      'a non-controller owner is None',
      { metadata: { namespace: 'shop', name: 'solo', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u' }] } },
      { kind: 'None', namespace: 'shop', name: 'solo' },
    ],
    ['ReplicaSet → Deployment', podOwnedBy('apps/v1', 'ReplicaSet', 'cart-7f9c'), { kind: 'Deployment', namespace: 'shop', name: 'cart' }],
    ['a bare ReplicaSet stays itself', podOwnedBy('apps/v1', 'ReplicaSet', 'bare-rs'), { kind: 'ReplicaSet', namespace: 'shop', name: 'bare-rs' }],
    ['a ReplicaSet of an Argo Rollout is Other', podOwnedBy('apps/v1', 'ReplicaSet', 'canary-5d8b'), { kind: 'Other', namespace: 'shop', name: 'canary' }],
    [
      'an unseen ReplicaSet → Deployment by pod-template-hash',
      podOwnedBy('apps/v1', 'ReplicaSet', 'web-6c4d9', { 'pod-template-hash': '6c4d9' }),
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
    ],
    ['an unseen ReplicaSet without the hash stays itself', podOwnedBy('apps/v1', 'ReplicaSet', 'web-6c4d9'), { kind: 'ReplicaSet', namespace: 'shop', name: 'web-6c4d9' }],
    ['Job → CronJob', podOwnedBy('batch/v1', 'Job', 'report-28571234'), { kind: 'CronJob', namespace: 'shop', name: 'report' }],
    ['a bare Job stays itself', podOwnedBy('batch/v1', 'Job', 'migrate'), { kind: 'Job', namespace: 'shop', name: 'migrate' }],
    ['an unseen Job stays itself', podOwnedBy('batch/v1', 'Job', 'other'), { kind: 'Job', namespace: 'shop', name: 'other' }],
    ['StatefulSet', podOwnedBy('apps/v1', 'StatefulSet', 'db'), { kind: 'StatefulSet', namespace: 'shop', name: 'db' }],
    ['DaemonSet', podOwnedBy('apps/v1', 'DaemonSet', 'agent'), { kind: 'DaemonSet', namespace: 'shop', name: 'agent' }],
    ['ReplicationController', podOwnedBy('v1', 'ReplicationController', 'legacy'), { kind: 'ReplicationController', namespace: 'shop', name: 'legacy' }],
    ['a CRD reusing a kind name is Other', podOwnedBy('apps.kruise.io/v1beta1', 'StatefulSet', 'kdb'), { kind: 'Other', namespace: 'shop', name: 'kdb' }],
    ['an unknown kind is Other', podOwnedBy('example.com/v1', 'Workflow', 'wf'), { kind: 'Other', namespace: 'shop', name: 'wf' }],
    ['a mirror pod (owned by its Node) is Other', podOwnedBy('v1', 'Node', 'node-1'), { kind: 'Other', namespace: 'shop', name: 'node-1' }],
  ];
  for (const [name, pod, expected] of CASES) {
    it(name, () => assert.deepEqual(resolve(pod), expected));
  }

  it('does not mix namespaces', () => {
    const pod: KubePod = { metadata: { namespace: 'other', name: 'p', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-7f9c', controller: true }] } };
    assert.deepEqual(resolve(pod), { kind: 'ReplicaSet', namespace: 'other', name: 'cart-7f9c' });
  });
});

describe('spreadSelectorResolver', () => {
  // Upstream helper.DefaultSelector (v1.36.3, pkg/scheduler/framework/plugins/helper/spread.go).
  const pod = (labels: Record<string, string>, owner?: { apiVersion: string; kind: string; name: string }): KubePod => ({
    metadata: { namespace: 'shop', name: 'p', labels, ...(owner === undefined ? {} : { ownerReferences: [{ ...owner, uid: 'u', controller: true }] }) },
  });
  const services: KubeService[] = [
    { metadata: { namespace: 'shop', name: 'api' }, spec: { selector: { app: 'api' } } },
    { metadata: { namespace: 'shop', name: 'api-tier' }, spec: { selector: { tier: 'front' } } },
    { metadata: { namespace: 'shop', name: 'headless' }, spec: {} },
    { metadata: { namespace: 'other', name: 'api' }, spec: { selector: { app: 'api', zone: 'x' } } },
  ];
  const replicaSets = [{ metadata: { namespace: 'shop', name: 'api-7f' }, spec: { selector: { matchLabels: { app: 'api', 'pod-template-hash': '7f' } } } }];
  const statefulSets = [{ metadata: { namespace: 'shop', name: 'db' }, spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] } } }];
  const replicationControllers = [{ metadata: { namespace: 'shop', name: 'old' }, spec: { selector: { app: 'old' } } }];
  const resolve = spreadSelectorResolver({ services, replicaSets, statefulSets, replicationControllers });

  it('merges the selectors of the Services of the namespace that select a bare pod', () => {
    assert.deepEqual(resolve(pod({ app: 'api', tier: 'front' })), { matchLabels: { app: 'api', tier: 'front' } });
    assert.deepEqual(resolve(pod({ app: 'api' })), { matchLabels: { app: 'api' } });
    // No Service and no controller: an empty selector, so no default spread.
    assert.equal(resolve(pod({ app: 'web' })), undefined);
  });

  it('adds the ReplicaSet or StatefulSet selector, and merges a ReplicationController map', () => {
    assert.deepEqual(resolve(pod({ app: 'api', 'pod-template-hash': '7f' }, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7f' })), {
      matchLabels: { app: 'api', 'pod-template-hash': '7f' },
    });
    assert.deepEqual(resolve(pod({ app: 'db' }, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' })), { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] });
    assert.deepEqual(resolve(pod({ app: 'old' }, { apiVersion: 'v1', kind: 'ReplicationController', name: 'old' })), { matchLabels: { app: 'old' } });
    // A Job's pod spreads by Services only; a ReplicaSet the resolver does not know adds nothing.
    assert.equal(resolve(pod({ app: 'batch' }, { apiVersion: 'batch/v1', kind: 'Job', name: 'j' })), undefined);
    assert.equal(resolve(pod({ app: 'x' }, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone' })), undefined);
  });

  it('podFromKube sets spreadSelector from the resolver, and leaves it out without one', () => {
    const kube = pod({ app: 'api' });
    assert.deepEqual(podFromKube(kube, ownerResolver([], []), resolve).spreadSelector, { matchLabels: { app: 'api' } });
    assert.equal('spreadSelector' in podFromKube(kube, ownerResolver([], [])), false);
  });
});

describe('nodeFromKube', () => {
  it('maps every field', () => {
    const view = nodeFromKube({
      metadata: {
        name: 'ip-10-0-0-1',
        labels: { 'node.kubernetes.io/instance-type': 'm5.large', 'topology.kubernetes.io/zone': 'us-east-1a', 'karpenter.sh/capacity-type': 'spot' },
        annotations: { a: 'b' },
        creationTimestamp: new Date(Date.UTC(2024, 1, 29, 12, 34, 56)),
      },
      spec: { taints: [{ key: 'spot', value: 'true', effect: 'NoSchedule' }, { key: 'odd', effect: 'Sometimes' }, { key: 'soft', effect: 'PreferNoSchedule' }] },
      status: {
        allocatable: { cpu: '1930m', memory: '7548492Ki', pods: '29', 'ephemeral-storage': '76224326324' },
        capacity: { cpu: '2', memory: '7934868Ki', pods: '29' },
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      },
    });
    assert.deepEqual(view, {
      name: 'ip-10-0-0-1',
      labels: { 'node.kubernetes.io/instance-type': 'm5.large', 'topology.kubernetes.io/zone': 'us-east-1a', 'karpenter.sh/capacity-type': 'spot' },
      annotations: { a: 'b' },
      taints: [
        { key: 'spot', value: 'true', effect: 'NoSchedule' },
        { key: 'soft', effect: 'PreferNoSchedule' },
      ],
      allocatable: { cpu: 1930, memory: 7548492 * 1024, pods: 29, 'ephemeral-storage': 76224326324 },
      capacity: { cpu: 2000, memory: 7934868 * 1024, pods: 29 },
      unschedulable: false,
      ready: true,
      capacityType: 'spot',
      instanceType: 'm5.large',
      zone: 'us-east-1a',
      createdAt: 1709210096000,
    });
  });

  it('falls back to the beta labels and reads cordon and readiness', () => {
    const view = nodeFromKube({
      metadata: { name: 'n', labels: { 'beta.kubernetes.io/instance-type': 'c5.large', 'failure-domain.beta.kubernetes.io/zone': 'eu-west-1b' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
    });
    assert.equal(view.instanceType, 'c5.large');
    assert.equal(view.zone, 'eu-west-1b');
    assert.equal(view.unschedulable, true);
    assert.equal(view.ready, false);
    assert.equal(view.capacityType, 'unknown');
    assert.deepEqual(view.allocatable, {});
  });

  it('uses the given capacity rules', () => {
    const view = nodeFromKube({ metadata: { name: 'n', labels: { lifecycle: 'Ec2Spot' } } }, [{ label: 'lifecycle', spot: ['Ec2Spot'], onDemand: [] }]);
    assert.equal(view.capacityType, 'spot');
  });

  it('names the resource and node of a bad quantity', () => {
    assert.throws(() => nodeFromKube({ metadata: { name: 'n1' }, status: { allocatable: { memory: '8 Gi' } } }), {
      name: 'QuantityError',
      message: 'Invalid quantity "8 Gi" for resource "memory" in node "n1": unexpected " " at index 1',
    });
  });
});

describe('pdbFromKube', () => {
  it('maps spec and status', () => {
    assert.deepEqual(
      pdbFromKube({
        metadata: { namespace: 'shop', name: 'cart' },
        spec: { selector: { matchLabels: { app: 'cart' } }, minAvailable: '50%' },
        status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
      }),
      { namespace: 'shop', name: 'cart', selector: { matchLabels: { app: 'cart' } }, minAvailable: '50%', disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
    );
  });
  it('keeps an integer maxUnavailable and defaults a missing status to 0', () => {
    assert.deepEqual(pdbFromKube({ metadata: { namespace: 'a', name: 'b' }, spec: { maxUnavailable: 1 } }), {
      namespace: 'a',
      name: 'b',
      maxUnavailable: 1,
      disruptionsAllowed: 0,
      currentHealthy: 0,
      desiredHealthy: 0,
      expectedPods: 0,
    });
  });
  it('leaves out a missing selector (matches nothing) but keeps an empty one (matches all)', () => {
    assert.equal('selector' in pdbFromKube({ spec: {} }), false);
    assert.deepEqual(pdbFromKube({ spec: { selector: {} } }).selector, {});
  });
});

describe('workloadFromKube', () => {
  const meta = { namespace: 'shop', name: 'cart', labels: { team: 'a' }, annotations: { note: 'x' } };
  const selector = { matchLabels: { app: 'cart' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] };
  it('maps a Deployment with its replicas and selector', () => {
    assert.deepEqual(workloadFromKube({ metadata: meta, spec: { replicas: 3, selector } }, 'Deployment'), {
      ref: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      replicas: 3,
      selector: { matchLabels: { app: 'cart' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
      annotations: { note: 'x' },
      labels: { team: 'a' },
    });
  });
  it('defaults replicas to 1 where the kind has them, and omits them elsewhere', () => {
    assert.equal(workloadFromKube({ metadata: meta, spec: { selector } }, 'StatefulSet').replicas, 1);
    assert.equal(workloadFromKube({ metadata: meta, spec: { replicas: 0 } }, 'ReplicaSet').replicas, 0);
    assert.equal('replicas' in workloadFromKube({ metadata: meta, spec: { selector } }, 'DaemonSet'), false);
    assert.equal('replicas' in workloadFromKube({ metadata: meta, spec: { selector } }, 'Job'), false);
  });
  it('gives a CronJob no selector', () => {
    const view = workloadFromKube({ metadata: meta, spec: { jobTemplate: { spec: {} } } }, 'CronJob');
    assert.deepEqual(view, { ref: { kind: 'CronJob', namespace: 'shop', name: 'cart' }, annotations: { note: 'x' }, labels: { team: 'a' } });
  });
  it("turns a ReplicationController's map selector into matchLabels, or its template labels", () => {
    assert.deepEqual(workloadFromKube({ metadata: meta, spec: { replicas: 2, selector: { app: 'old' } } }, 'ReplicationController').selector, { matchLabels: { app: 'old' } });
    assert.deepEqual(workloadFromKube({ metadata: meta, spec: { template: { metadata: { labels: { app: 't' } } } } }, 'ReplicationController').selector, {
      matchLabels: { app: 't' },
    });
  });
});

describe('toMillis', () => {
  // Expected values computed independently with Date.parse.
  const CASES: readonly (readonly [string, number])[] = [
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59Z', -1000],
    ['2024-02-29T12:34:56Z', 1709210096000],
    ['2024-05-01T12:00:00.123456789Z', 1714564800123],
    ['2024-05-01T14:00:00+02:00', 1714564800000],
    ['2023-12-31T23:59:59-05:30', 1704086999000],
    ['2000-03-01T00:00:00Z', 951868800000],
    ['2100-02-28T00:00:00Z', 4107456000000],
    ['2024-05-01t12:00:00z', 1714564800000],
  ];
  for (const [text, expected] of CASES) {
    it(`reads ${text}`, () => assert.equal(toMillis(text), expected));
  }
  it('reads Date-like objects and absence', () => {
    assert.equal(toMillis({ getTime: () => 42 }), 42);
    assert.equal(toMillis(undefined), undefined);
  });
  it('rejects malformed timestamps', () => {
    assert.throws(() => toMillis('2024-05-01'), { name: 'RangeError', message: 'Invalid timestamp "2024-05-01": expected RFC 3339, like "2024-05-01T12:00:00Z"' });
    assert.throws(() => toMillis('2023-02-29T00:00:00Z'), { message: 'Invalid timestamp "2023-02-29T00:00:00Z": no such date or time' });
    assert.throws(() => toMillis('2024-13-01T00:00:00Z'), RangeError);
    assert.throws(() => toMillis({ getTime: () => Number.NaN }), RangeError);
  });
});
