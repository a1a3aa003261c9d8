/**
 * Plain Kubernetes objects for the webhook's unit tests, shaped as informers and AdmissionReviews
 * deliver them.
 */
import type { KubeNode, KubePod, KubeWorkload } from '../../core/from-kube.js';
import { DEFAULT_WEBHOOK_CONFIG, type WebhookConfig } from '../../config/webhook-config.js';
import type { PlacedCapacityType } from '../../policy/placement/decide.js';
import { PlacementIndex } from './placement-index.js';
import type { AdmissionRequest } from './review.js';

export const NS = 'shop';

export function node(name: string, type: PlacedCapacityType | undefined, over: { cpu?: string; pods?: string; taints?: { key: string; value?: string; effect: string }[]; ready?: boolean; unschedulable?: boolean } = {}): KubeNode {
  return {
    // Real nodes always carry kubernetes.io/os; pods' node affinity often requires it.
    metadata: { name, labels: { 'kubernetes.io/os': 'linux', ...(type === undefined ? {} : { 'node.kubernetes.io/capacity': type }) } },
    spec: { ...(over.taints ? { taints: over.taints } : {}), ...(over.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: { cpu: over.cpu ?? '4', memory: '16Gi', pods: over.pods ?? '110' },
      capacity: { cpu: over.cpu ?? '4', memory: '16Gi', pods: over.pods ?? '110' },
      conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
    },
  };
}

export function deployment(name: string, replicas: number, annotations: Record<string, string> = {}): KubeWorkload {
  return { metadata: { name, namespace: NS, uid: `deploy-${name}`, annotations }, spec: { replicas, selector: { matchLabels: { app: name } } } };
}

export function statefulSet(name: string, replicas: number, annotations: Record<string, string> = {}): KubeWorkload {
  return { metadata: { name, namespace: NS, uid: `sts-${name}`, annotations }, spec: { replicas, selector: { matchLabels: { app: name } } } };
}

export function replicaSet(deploymentName: string, hash: string) {
  return {
    metadata: {
      name: `${deploymentName}-${hash}`,
      namespace: NS,
      uid: `rs-${deploymentName}-${hash}`,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName, uid: `deploy-${deploymentName}`, controller: true }],
    },
  };
}

export interface PodOptions {
  readonly nodeName?: string;
  readonly cpu?: string;
  readonly annotations?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly phase?: string;
  readonly deleting?: boolean;
  readonly spec?: Record<string, unknown>;
}

/** A pod of a Deployment's ReplicaSet `<deployment>-<hash>`. */
export function rsPod(deploymentName: string, hash: string, name: string, options: PodOptions = {}): KubePod {
  return _pod(name, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deploymentName}-${hash}`, uid: `rs-${deploymentName}-${hash}`, controller: true }, { 'pod-template-hash': hash, app: deploymentName }, options);
}

export function stsPod(setName: string, ordinal: number, options: PodOptions = {}): KubePod {
  return _pod(`${setName}-${ordinal}`, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: setName, uid: `sts-${setName}`, controller: true }, { app: setName }, options);
}

export function barePod(name: string, options: PodOptions = {}): KubePod {
  return _pod(name, undefined, {}, options);
}

function _pod(name: string, owner: Record<string, unknown> | undefined, labels: Record<string, string>, options: PodOptions): KubePod {
  return {
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      labels: { ...labels, ...options.labels },
      annotations: options.annotations ?? {},
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(owner ? { ownerReferences: [owner] } : {}),
      ...(options.deleting ? { deletionTimestamp: '2026-01-01T00:01:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'app', resources: { requests: { cpu: options.cpu ?? '100m', memory: '64Mi' } } }],
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      ...options.spec,
    },
    status: { phase: options.phase ?? (options.nodeName ? 'Running' : 'Pending') },
  };
}

/** An AdmissionRequest for creating `pod`, as the apiserver sends it for a generateName pod. */
export function createRequest(pod: KubePod, uid: string, over: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const { name: _name, ...metadata } = pod.metadata ?? {};
  const generated = pod.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet';
  return {
    uid,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    subResource: '',
    namespace: pod.metadata?.namespace ?? NS,
    // ReplicaSet pods have no name at admission, only a generateName.
    name: generated ? '' : (pod.metadata?.name ?? ''),
    operation: 'CREATE',
    object: (generated ? { ...pod, metadata: { ...metadata, generateName: `${pod.metadata?.ownerReferences?.[0]?.name ?? ''}-` } } : pod) as Record<string, unknown>,
    dryRun: false,
    ...over,
  };
}

/** The default cluster of the e2e tests: two on-demand and two spot nodes of 4 cpu. */
export function twoByTwo(config: WebhookConfig = DEFAULT_WEBHOOK_CONFIG, onReservationSeen?: (id: string) => void): PlacementIndex {
  const index = new PlacementIndex({ capacityTypeRules: config.capacityTypeRules, capacityLabel: config.capacityLabel, ...(onReservationSeen ? { onReservationSeen } : {}) });
  for (const n of [node('od-1', 'on-demand'), node('od-2', 'on-demand'), node('spot-1', 'spot'), node('spot-2', 'spot')]) index.upsertNode(n);
  index.upsertNamespace({ metadata: { name: NS } });
  return index;
}
