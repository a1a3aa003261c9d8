/**
 * `stowage snapshot`'s table: one row per node, grouped by capacity type, with a subtotal per
 * group and the cluster total.
 */
import type { ClusterSummary, GroupSummary, NodeSummary } from '../core/cluster-summary.js';
import { formatBytes, formatCpu } from '../core/resources.js';
import { formatPercent, formatUsd } from './format.js';
import { renderTextTable, type TextColumn } from './text-table.js';

const COLUMNS: readonly TextColumn[] = [
  { header: 'node' },
  { header: 'capacity' },
  { header: 'instance' },
  { header: 'cpu alloc', align: 'right' },
  { header: 'cpu req', align: 'right' },
  { header: 'cpu %', align: 'right' },
  { header: 'mem alloc', align: 'right' },
  { header: 'mem req', align: 'right' },
  { header: 'mem %', align: 'right' },
  { header: 'pods', align: 'right' },
  { header: '$/h', align: 'right' },
];

function _figures(g: GroupSummary | NodeSummary): string[] {
  return [
    formatCpu(g.allocatable.cpu),
    formatCpu(g.requested.cpu),
    formatPercent(g.utilisation.cpu),
    formatBytes(g.allocatable.memory),
    formatBytes(g.requested.memory),
    formatPercent(g.utilisation.memory),
    String(g.requested.pods),
    formatUsd(g.usdPerHour, 3),
  ];
}

export function renderClusterSummary(summary: ClusterSummary): string {
  const rows: string[][] = [];
  for (const group of summary.groups) {
    for (const node of summary.nodes.filter((n) => n.capacityType === group.capacityType)) {
      const flags = [node.ready ? '' : 'NotReady', node.unschedulable ? 'cordoned' : ''].filter(Boolean).join(',');
      const instance = `${node.instanceType || '-'}${node.priceSource === 'estimate' ? ' (est.)' : ''}`;
      rows.push([flags ? `${node.name} (${flags})` : node.name, node.capacityType, instance, ..._figures(node)]);
    }
    rows.push([`${group.capacityType} total`, '', `${group.nodes} nodes`, ..._figures(group)]);
  }
  rows.push(['TOTAL', '', `${summary.totals.nodes} nodes`, ..._figures(summary.totals)]);
  return renderTextTable(COLUMNS, rows);
}
