/**
 * What the cluster's autoscaler can add, for the webhook's room check: with Karpenter, the
 * NodePools' offers (`nodePoolOffers`: Ready pools, requirements, limits with the NodeClaims in
 * flight counted), one empty template per pool, capacity type and zone and per shape no other
 * offer of the three holds more of (a pod that fits none of them fits no node the pool would
 * launch). Classified by the webhook's own capacity rules, as its real nodes are. Without
 * Karpenter (or without its NodePools in the cache) nothing can grow: the webhook falls back as
 * it always did when no node has room.
 */
import { capacityTypeOf, type CapacityTypeRule } from '../../core/capacity.js';
import type { NodeView } from '../../core/model.js';
import type { PriceTable } from '../../core/pricing.js';
import { nodePoolOffers, parseOfferId, type KarpenterNodeClaim, type KarpenterNodePool } from '../../kube/node-pools.js';

const _SHAPE = ['cpu', 'memory', 'pods'] as const;

/**
 * The templates the room check tries when no node has room (see the module comment): for each
 * pool, capacity type and zone, the offers no other offer of the three dominates in cpu, memory
 * and pods.
 *
 * @example
 * growableTemplates(pools, claims, nodes, prices, rules); // [{ name: 'general-offer', capacityType: 'on-demand', ... }]
 */
export function growableTemplates(
  pools: readonly KarpenterNodePool[],
  claims: readonly KarpenterNodeClaim[],
  nodes: readonly NodeView[],
  prices: PriceTable,
  rules: readonly CapacityTypeRule[],
): NodeView[] {
  const byKey = new Map<string, NodeView[]>();
  for (const offer of nodePoolOffers(pools, claims, nodes, prices).offers) {
    const choice = parseOfferId(offer.id);
    if (choice === undefined) continue;
    const key = `${choice.pool}/${choice.capacityType}/${choice.zone}`;
    const list = byKey.get(key) ?? [];
    list.push(offer.node);
    byKey.set(key, list);
  }
  const templates: NodeView[] = [];
  for (const list of byKey.values()) {
    const kept = list.filter((n) => !list.some((m) => m !== n && _dominates(m, n)));
    // Equal shapes keep one (the first); names differ per kept shape so two never clash.
    const seen = new Set<string>();
    for (const node of kept) {
      const shape = _SHAPE.map((r) => node.allocatable[r] ?? 0).join('/');
      if (seen.has(shape)) continue;
      seen.add(shape);
      const name = `${node.name}-${node.instanceType}-${node.capacityType}-${node.zone || 'any'}`;
      // A hostname as every node has one: topology spread over hostnames skips a node without it.
      templates.push({ ...node, name, labels: { ...node.labels, 'kubernetes.io/hostname': name }, capacityType: capacityTypeOf(node.labels, rules) });
    }
  }
  return templates;
}

/** Whether `a` holds at least as much as `b` of every resource and more of one. */
function _dominates(a: NodeView, b: NodeView): boolean {
  let more = false;
  for (const r of _SHAPE) {
    const x = a.allocatable[r] ?? 0;
    const y = b.allocatable[r] ?? 0;
    if (x < y) return false;
    if (x > y) more = true;
  }
  return more;
}
