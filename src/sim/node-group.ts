/**
 * A node group's description, apart from the cloud that launches its nodes, so the cluster model
 * can name a node's group without importing the cloud model (which imports the cluster).
 */
import type { Resources, Taint } from '../core/model.js';
import type { InstanceTypeSpec } from './scenario.js';

/** The capacity types a simulated node group offers (never `unknown`: the simulator made every node). */
export type SimCapacityType = 'spot' | 'on-demand';

/** A Cluster Autoscaler node group: one instance type, one zone, one capacity type. */
export interface NodeGroup {
  /** `m5.xlarge/us-east-1a/spot`. */
  readonly id: string;
  /** Prefix of node names: `m5-xlarge-a-spot`. */
  readonly namePrefix: string;
  readonly instanceType: InstanceTypeSpec;
  readonly zone: string;
  readonly capacityType: SimCapacityType;
  /** Spot pool key: `m5.xlarge/us-east-1a`. */
  readonly pool: string;
  /** $/h of one node of this group. */
  readonly hourlyPrice: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly allocatable: Resources;
  readonly capacity: Resources;
  readonly minSize: number;
  readonly maxSize: number;
}
