/**
 * A plan as people read it (`stowage deschedule --dry-run`), and as a document for `-o json|yaml`.
 */
import type { Plan } from '../../policy/deschedule/types.js';

/** The plan as a versioned document, the same fields the executor carries out. */
export function planDocument(plan: Plan, meta: { readonly planId: string; readonly context: string; readonly dryRun: boolean }): Record<string, unknown> {
  return {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'DeschedulingPlan',
    metadata: { name: meta.planId, context: meta.context, dryRun: meta.dryRun },
    status: { savingUsdPerHour: plan.savingUsdPerHour, drains: plan.drains, moves: plan.moves, skipped: plan.skipped },
  };
}

function _table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Drains, moves (in the order they run) and skipped nodes, as three kubectl-style tables. */
export function renderPlanTable(plan: Plan): string {
  const out: string[] = [];
  out.push(`Projected saving: $${plan.savingUsdPerHour.toFixed(4)}/h from ${plan.drains.length} drain(s), ${plan.moves.length} move(s)`);
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
