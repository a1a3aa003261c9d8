/**
 * Spot or on-demand: read from the node labels each provisioner sets, because Kubernetes itself
 * has no field for it.
 */
import { CapacityType } from './model.js';
import type { Labels } from './labels.js';

/** One label that tells the capacity type, and which of its values mean spot or on-demand. */
export interface CapacityTypeRule {
  readonly label: string;
  readonly spot: readonly string[];
  readonly onDemand: readonly string[];
}

/**
 * The labels the common provisioners set, most specific first. A node with none of them (or with
 * a value no rule lists) is `unknown`, which pricing treats as on-demand.
 */
export const DEFAULT_CAPACITY_TYPE_RULES: readonly CapacityTypeRule[] = [
  // Generic label used by several tools (and by Stowage's own dev clusters).
  { label: 'node.kubernetes.io/capacity', spot: ['spot'], onDemand: ['on-demand'] },
  // Karpenter; capacity reservations ("reserved") are paid for like on-demand.
  { label: 'karpenter.sh/capacity-type', spot: ['spot'], onDemand: ['on-demand', 'reserved'] },
  // EKS managed node groups.
  { label: 'eks.amazonaws.com/capacityType', spot: ['SPOT'], onDemand: ['ON_DEMAND'] },
  // GKE sets these to "true" on Spot and preemptible VMs and omits them otherwise.
  { label: 'cloud.google.com/gke-spot', spot: ['true'], onDemand: [] },
  { label: 'cloud.google.com/gke-preemptible', spot: ['true'], onDemand: [] },
  // AKS spot node pools; regular pools do not carry the label.
  { label: 'kubernetes.azure.com/scalesetpriority', spot: ['spot'], onDemand: [] },
];

/**
 * The capacity type the first matching rule gives: a rule matches when the node has its label
 * with one of its listed values. `unknown` when none does.
 */
export function capacityTypeOf(labels: Labels, rules: readonly CapacityTypeRule[] = DEFAULT_CAPACITY_TYPE_RULES): CapacityType {
  for (const rule of rules) {
    const value = labels[rule.label];
    if (typeof value !== 'string') continue;
    if (rule.spot.includes(value)) return CapacityType.Spot;
    if (rule.onDemand.includes(value)) return CapacityType.OnDemand;
  }
  return CapacityType.Unknown;
}

/** A node label requirement: `key=value`. */
export interface LabelRequirement {
  readonly key: string;
  readonly value: string;
}

/**
 * The label a pod should require (by nodeSelector or node affinity) to land on `capacityType`:
 * the first rule, in rule order, whose label some node in `nodes` carries with a value that rule
 * maps to `capacityType`, with that node's value. Undefined when no node does, because requiring
 * a label no node has would leave the pod pending.
 *
 * @example
 * ```ts
 * capacityTypeLabelFor('spot', DEFAULT_CAPACITY_TYPE_RULES, snapshot.nodes);
 * // { key: 'karpenter.sh/capacity-type', value: 'spot' }
 * ```
 */
export function capacityTypeLabelFor(
  capacityType: typeof CapacityType.Spot | typeof CapacityType.OnDemand,
  rules: readonly CapacityTypeRule[],
  nodes: Iterable<{ readonly labels: Labels }>,
): LabelRequirement | undefined {
  const nodeList = [...nodes];
  for (const rule of rules) {
    const values = capacityType === CapacityType.Spot ? rule.spot : rule.onDemand;
    if (values.length === 0) continue;
    for (const node of nodeList) {
      const value = node.labels[rule.label];
      if (typeof value === 'string' && values.includes(value)) return { key: rule.label, value };
    }
  }
  return undefined;
}
