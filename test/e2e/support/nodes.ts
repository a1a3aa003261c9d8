/** Node fixtures the e2e tests share. */
import type { NodeFixture } from '../../../src/devcluster/nodes.js';

/**
 * `onDemand` on-demand and `spot` spot m5.xlarge nodes of `cpu` and `memory` each, named
 * "on-demand" and "spot" when there is one of a kind, "on-demand-1", "on-demand-2", … otherwise.
 */
export function capacityNodes(onDemand: number, spot: number, cpu = '4', memory = '16Gi'): NodeFixture {
  const capacity = { cpu, memory, pods: '110' };
  const group = (name: string, count: number, capacityType: 'on-demand' | 'spot') => ({ name, count, capacityType, instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity });
  return { apiVersion: 'stowage.io/v1alpha1', kind: 'NodeFixture', nodes: [group('on-demand', onDemand, 'on-demand'), group('spot', spot, 'spot')] };
}

/** One on-demand node ("on-demand") and two spot nodes ("spot-1", "spot-2") of `cpu` and `memory` each. */
export function onDemandAndSpot(cpu: string, memory: string): NodeFixture {
  return capacityNodes(1, 2, cpu, memory);
}
