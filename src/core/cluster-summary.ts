/**
 * What a cluster costs now and how full its nodes are, per node, per capacity type and in total:
 * the figures `stowage snapshot` prints.
 */
import type { CapacityType, ClusterSnapshot, NodeView, Resources } from './model.js';
import type { PriceTable } from './pricing.js';

/** The resources the summary reports: cpu in millicores, memory in bytes, pods as a count. */
export interface SummaryResources {
  readonly cpu: number;
  readonly memory: number;
  readonly pods: number;
}

export interface NodeSummary {
  readonly name: string;
  readonly capacityType: CapacityType;
  readonly instanceType: string;
  readonly zone: string;
  readonly allocatable: SummaryResources;
  readonly requested: SummaryResources;
  /** requested / allocatable for cpu and memory, 0 when nothing is allocatable. */
  readonly utilisation: { readonly cpu: number; readonly memory: number };
  readonly usdPerHour: number;
  /** 'table' when the instance type is priced, 'estimate' when priced from its size. */
  readonly priceSource: 'table' | 'estimate';
  readonly unschedulable: boolean;
  readonly ready: boolean;
}

export interface GroupSummary {
  readonly nodes: number;
  readonly allocatable: SummaryResources;
  readonly requested: SummaryResources;
  readonly utilisation: { readonly cpu: number; readonly memory: number };
  readonly usdPerHour: number;
}

export interface ClusterSummary {
  readonly nodes: readonly NodeSummary[];
  readonly groups: readonly (GroupSummary & { readonly capacityType: CapacityType })[];
  readonly totals: GroupSummary;
}

const CAPACITY_ORDER: readonly CapacityType[] = ['on-demand', 'spot', 'unknown'];

function _pick(r: Resources | undefined): SummaryResources {
  return { cpu: r?.cpu ?? 0, memory: r?.memory ?? 0, pods: r?.pods ?? 0 };
}

function _sum(a: SummaryResources, b: SummaryResources): SummaryResources {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, pods: a.pods + b.pods };
}

function _share(used: number, total: number): number {
  return total > 0 ? used / total : 0;
}

function _group(nodes: readonly NodeSummary[]): GroupSummary {
  const zero: SummaryResources = { cpu: 0, memory: 0, pods: 0 };
  const allocatable = nodes.reduce((acc, n) => _sum(acc, n.allocatable), zero);
  const requested = nodes.reduce((acc, n) => _sum(acc, n.requested), zero);
  return {
    nodes: nodes.length,
    allocatable,
    requested,
    utilisation: { cpu: _share(requested.cpu, allocatable.cpu), memory: _share(requested.memory, allocatable.memory) },
    usdPerHour: nodes.reduce((acc, n) => acc + n.usdPerHour, 0),
  };
}

/**
 * Sums the requests of the pods bound to each node (pods that finished hold nothing) and prices
 * each node. Nodes sort by capacity type, then name.
 */
export function summarizeCluster(snapshot: ClusterSnapshot, prices: PriceTable): ClusterSummary {
  const requested = new Map<string, SummaryResources>();
  for (const pod of snapshot.pods) {
    if (pod.nodeName === '' || pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
    requested.set(pod.nodeName, _sum(requested.get(pod.nodeName) ?? { cpu: 0, memory: 0, pods: 0 }, _pick(pod.requests)));
  }
  const byOrder = (a: NodeView, b: NodeView): number =>
    CAPACITY_ORDER.indexOf(a.capacityType) - CAPACITY_ORDER.indexOf(b.capacityType) || a.name.localeCompare(b.name);
  const nodes = [...snapshot.nodes].sort(byOrder).map((node): NodeSummary => {
    const allocatable = _pick(node.allocatable);
    const req = requested.get(node.name) ?? { cpu: 0, memory: 0, pods: 0 };
    const price = prices.hourlyPriceOfNode(node);
    return {
      name: node.name,
      capacityType: node.capacityType,
      instanceType: node.instanceType,
      zone: node.zone,
      allocatable,
      requested: req,
      utilisation: { cpu: _share(req.cpu, allocatable.cpu), memory: _share(req.memory, allocatable.memory) },
      usdPerHour: price.usdPerHour,
      priceSource: price.source,
      unschedulable: node.unschedulable,
      ready: node.ready,
    };
  });
  const groups = CAPACITY_ORDER.map((capacityType) => ({ capacityType, ..._group(nodes.filter((n) => n.capacityType === capacityType)) })).filter(
    (g) => g.nodes > 0,
  );
  return { nodes, groups, totals: _group(nodes) };
}
