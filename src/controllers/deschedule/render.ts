/**
 * A plan as people read it (`stowage deschedule --dry-run`), and as a document for `-o json|yaml`.
 */
import type { Plan } from '../../policy/deschedule/types.js';
import type { DrainLeftovers } from './drain-state.js';

/** The plan as a versioned document, the same fields the executor carries out. */
export function planDocument(plan: Plan, meta: { readonly planId: string; readonly context: string; readonly dryRun: boolean; readonly leftovers?: DrainLeftovers }): Record<string, unknown> {
  return {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'DeschedulingPlan',
    metadata: { name: meta.planId, context: meta.context, dryRun: meta.dryRun },
    status: {
      savingUsdPerHour: plan.savingUsdPerHour,
      ...(plan.launches === undefined || plan.launches.length === 0 ? {} : { launches: plan.launches.map((l) => ({ name: l.name, offer: { id: l.offer.id, instanceType: l.offer.node.instanceType, capacityType: l.offer.node.capacityType, zone: l.offer.node.zone, usdPerHour: l.offer.usdPerHour }, strategy: l.strategy, replaces: l.replaces, reason: l.reason })) }),
      drains: plan.drains,
      moves: plan.moves,
      skipped: plan.skipped,
      ...(meta.leftovers === undefined ? {} : { leftovers: meta.leftovers }),
    },
  };
}

function _table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Nodes to launch, drains, moves (in the order they run) and skipped nodes, as kubectl-style
 * tables; then the drain state an earlier run left, when there is any.
 */
export function renderPlanTable(plan: Plan, leftovers?: DrainLeftovers): string {
  const out: string[] = [];
  if (leftovers !== undefined && (leftovers.nodes.length > 0 || leftovers.surges.length > 0 || (leftovers.launches?.length ?? 0) > 0)) out.push(renderLeftovers(leftovers), '');
  out.push(`Projected saving: $${plan.savingUsdPerHour.toFixed(4)}/h from ${plan.drains.length} drain(s), ${plan.moves.length} move(s)`);
  if (plan.launches !== undefined && plan.launches.length > 0) {
    out.push('', _table(['LAUNCH', 'OFFER', '$/H', 'REPLACES', 'REASON'], plan.launches.map((l) => [l.name, l.offer.id, l.offer.usdPerHour.toFixed(4), l.replaces.join(','), l.reason.message])));
  }
  if (plan.drains.length > 0) {
    out.push('', _table(['NODE', 'STRATEGY', 'PODS', 'STAYING', 'SAVING $/H', 'REASON'], plan.drains.map((d) => [d.node, d.strategy, String(d.pods.length), String(d.staying.length), d.savingUsdPerHour.toFixed(4), d.reason.message])));
  }
  if (plan.moves.length > 0) {
    const moves = [...plan.moves].sort((a, b) => a.wave - b.wave);
    out.push('', _table(['WAVE', 'MODE', 'POD', 'FROM', 'TO', 'STRATEGY', 'REASON'], moves.map((m) => [String(m.wave), m.mode, `${m.pod.namespace}/${m.pod.name}`, m.fromNode, m.toNode, m.strategy, m.reason.message])));
  }
  if (plan.skipped.length > 0) {
    out.push('', _table(['SKIPPED NODE', 'STRATEGY', 'REASON'], plan.skipped.map((s) => [s.node, s.strategy, s.reason.message])));
  }
  return `${out.join('\n')}\n`;
}

/** The drain state an earlier run left, and what the next start does with it. */
export function renderLeftovers(leftovers: DrainLeftovers): string {
  const out = ['Left by an earlier run that stopped half-way (the next start deals with it before planning):'];
  if (leftovers.nodes.length > 0) {
    const rows = leftovers.nodes.map((n) => [
      n.node,
      n.tainted ? 'yes' : 'no',
      n.record === undefined ? (n.annotated ? 'unreadable' : 'none') : `plan "${n.record.planId}" (${n.record.strategy}) since ${n.record.startedAt}, ${n.record.pods.length} pod(s)`,
      n.onStart === 'keep' ? `keep: consolidated, held until ${n.record?.heldUntil ?? ''}` : 'roll back: untaint, clear the record',
    ]);
    out.push(_table(['NODE', 'DRAINING TAINT', 'DRAIN RECORD', 'ON START'], rows));
  }
  if (leftovers.surges.length > 0) {
    const rows = leftovers.surges.map((d) => [`${d.namespace}/${d.name}`, d.saved === undefined ? 'unreadable' : `${JSON.stringify(d.saved.strategy)} since ${d.saved.at}`, 'give it back once the rollout is done']);
    if (leftovers.nodes.length > 0) out.push('');
    out.push(_table(['DEPLOYMENT', 'SAVED STRATEGY', 'ON START'], rows));
  }
  const launches = leftovers.launches ?? [];
  if (launches.length > 0) {
    const rows = launches.map((l) => [
      l.claim,
      l.node ?? '(none yet)',
      `plan "${l.planId}"`,
      l.onStart === 'delete' ? 'delete: no pod on its node' : `keep: ${l.pods.length} pod(s) moved onto it`,
    ]);
    if (leftovers.nodes.length > 0 || leftovers.surges.length > 0) out.push('');
    out.push(_table(['NODECLAIM', 'NODE', 'LAUNCHED FOR', 'ON START'], rows));
  }
  return out.join('\n');
}
