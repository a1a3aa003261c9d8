/**
 * CostAware, Stowage's own score: a node scores higher the less the pod's share of it costs per
 * hour, so cheaper dollars per requested resource win and spot beats on-demand whenever its price
 * is lower. The pod's share is its dominant share of the node (the larger of its cpu and memory
 * fractions, with the scheduler's non-zero defaults), so a pod that fills half a node pays half
 * its price.
 */
import type { NodeView, PodView } from '../../core/model.js';
import type { PriceTable } from '../../core/pricing.js';
import { MAX_NODE_SCORE } from './plugin.js';
import type { ScorePlugin } from './plugin.js';
import { nonZeroRequests } from './state.js';
import type { FitState, NodeInfo } from './state.js';

/**
 * What running `pod` on `node` costs per hour in US dollars: the node's hourly price times the
 * pod's dominant share of its allocatable cpu and memory. The price is the table's, or its estimate
 * from the node's size for an instance type the table does not list. Undefined when the node has
 * neither cpu nor memory allocatable.
 */
export function podHourlyCostOnNode(prices: PriceTable, pod: PodView, node: NodeView): number | undefined {
  const price = prices.hourlyPriceOfNode(node).usdPerHour;
  const requests = nonZeroRequests(pod);
  const cpu = node.allocatable['cpu'] ?? 0;
  const memory = node.allocatable['memory'] ?? 0;
  if (cpu === 0 && memory === 0) return undefined;
  const share = Math.max(cpu === 0 ? 0 : requests.cpu / cpu, memory === 0 ? 0 : requests.memory / memory);
  return price * share;
}

/**
 * Scores each node by `100 × (1 − cost / highest cost)` over the nodes scored (truncated, as
 * upstream's reverse normalization): the dearest node scores 0, a node at 30% of its cost 70.
 * A node without cpu or memory allocatable scores 0. Without a price table, spot nodes score 100
 * and the others 0, so the preference for spot holds even then.
 */
export const costAwareScore: ScorePlugin<'CostAware'> = {
  name: 'CostAware',
  score(state: FitState, pod: PodView, nodes: readonly NodeInfo[], out: Float64Array): void {
    const prices = state.prices;
    const n = nodes.length;
    if (prices === undefined) {
      for (let i = 0; i < n; i++) out[i] = (nodes[i] as NodeInfo).view.capacityType === 'spot' ? MAX_NODE_SCORE : 0;
      return;
    }
    // The costs first (-1 for a node without cpu or memory: a cost is never negative), then each against the highest.
    let highest = 0;
    for (let i = 0; i < n; i++) {
      const cost = podHourlyCostOnNode(prices, pod, (nodes[i] as NodeInfo).view) ?? -1;
      out[i] = cost;
      if (cost > highest) highest = cost;
    }
    for (let i = 0; i < n; i++) {
      const cost = out[i] as number;
      out[i] = cost < 0 ? 0 : highest === 0 ? MAX_NODE_SCORE : MAX_NODE_SCORE - Math.trunc((MAX_NODE_SCORE * cost) / highest);
    }
  },
};
