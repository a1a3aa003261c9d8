/** What the e2e tests read of pods and nodes, in one place. */
import type { V1Pod } from '@kubernetes/client-node';
import type { NodeFixture } from '../../../src/devcluster/nodes.js';
import type { TestCluster } from './cluster.js';

/** One on-demand node ("on-demand") and two spot nodes ("spot-1", "spot-2") of 4 cpu: the descheduler tests' cluster. */
export const ONE_ON_DEMAND_TWO_SPOT: NodeFixture = {
  apiVersion: 'stowage.io/v1alpha1',
  kind: 'NodeFixture',
  nodes: [
    { name: 'on-demand', count: 1, capacityType: 'on-demand', instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity: { cpu: '4', memory: '16Gi', pods: '110' } },
    { name: 'spot', count: 2, capacityType: 'spot', instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity: { cpu: '4', memory: '16Gi', pods: '110' } },
  ],
};

/** The pod's Ready condition is True. */
export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A Ready replica that is not on its way out. */
export function serves(pod: V1Pod): boolean {
  return isReady(pod) && pod.metadata?.deletionTimestamp === undefined;
}

/** Cordons (or uncordons) each named node, as `kubectl cordon` does. */
export async function setCordoned(c: TestCluster, names: readonly string[], unschedulable: boolean): Promise<void> {
  for (const name of names) await c.core.patchNode({ name, body: [{ op: 'replace', path: '/spec/unschedulable', value: unschedulable }] });
}

/** A DeschedulerConfiguration for tests: pods movable at any age, consolidation off (spot-reschedule), two minutes per replacement. */
export const SPOT_RESCHEDULE_CONFIG = [
  'apiVersion: stowage.io/v1alpha1',
  'kind: DeschedulerConfiguration',
  'spec:',
  '  deschedule:',
  '    eviction: { minPodAgeSeconds: 0 }',
  '    strategies: { consolidate: { enabled: false } }',
  '  replacementTimeoutSeconds: 120',
  '',
].join('\n');
