/** Node fixtures the e2e tests share. */
import type { NodeFixture } from '../../../src/devcluster/nodes.js';

/** One on-demand node ("on-demand") and two spot nodes ("spot-1", "spot-2") of `cpu` and `memory` each. */
export function onDemandAndSpot(cpu: string, memory: string): NodeFixture {
  const capacity = { cpu, memory, pods: '110' };
  return {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'NodeFixture',
    nodes: [
      { name: 'on-demand', count: 1, capacityType: 'on-demand', instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity },
      { name: 'spot', count: 2, capacityType: 'spot', instanceType: 'm5.xlarge', labels: {}, annotations: {}, taints: [], capacity },
    ],
  };
}
