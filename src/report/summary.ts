/**
 * The per-arm summary that the terminal table and the HTML report both show: one row of formatted
 * cells per arm, and a verdict a person can act on. Formatting lives here once so the two never
 * disagree.
 */
import type { ArmChurn, ArmResult, Estimate, SimulationResult, TodayResult } from '../sim/result.js';
import { formatDuration, formatNumber, formatPercent, formatRange, formatUptime, formatUsd, autoDecimals, percentDecimals } from './format.js';

/** The columns of the summary, in display order. */
export const SummaryColumn = {
  arm: 'arm',
  usdPerDay: 'usdPerDay',
  saving: 'saving',
  aboveBound: 'aboveBound',
  nodeHours: 'nodeHours',
  utilisation: 'utilisation',
  usage: 'usage',
  uptimeA1: 'uptimeA1',
  uptimeA2: 'uptimeA2',
  outages: 'outages',
  outageCauses: 'outageCauses',
  evictions: 'evictions',
  churn: 'churn',
  pendingP99: 'pendingP99',
  verdict: 'verdict',
} as const;
export type SummaryColumn = (typeof SummaryColumn)[keyof typeof SummaryColumn];

/** Which part of the answer a column belongs to; a narrow terminal shows the parts one under the other. */
export type ColumnGroup = 'cost' | 'uptime' | 'verdict';

/** How a column is titled and aligned. */
export interface ColumnSpec {
  readonly id: SummaryColumn;
  readonly header: string;
  /** What the column means, for the HTML header's tooltip and the "how to read" notes. */
  readonly help: string;
  readonly align: 'left' | 'right';
  readonly group: ColumnGroup | 'key';
}

/**
 * What a verdict says, for colouring it: `saves` (cheaper, with a CI above zero, and uptime
 * non-inferior), `costs-more` (dearer, CI below zero), `unclear` (the saving's CI spans zero),
 * `uptime-risk` (uptime not shown non-inferior, whatever the saving), `baseline`, or `no-verdict`
 * (the simulator gave none); `today` is the cluster as it runs now (a run from a snapshot), not an arm.
 */
export type VerdictStatus = 'today' | 'baseline' | 'saves' | 'costs-more' | 'unclear' | 'uptime-risk' | 'no-verdict';

/** One arm's row: formatted cells keyed by column, its verdict and the sentence that explains it. */
export interface SummaryRow {
  readonly arm: string;
  readonly description: string;
  readonly status: VerdictStatus;
  readonly cells: Readonly<Record<SummaryColumn, string>>;
  /** The verdict in a few words, e.g. `saves 41% (38–44%), uptime non-inferior`. */
  readonly verdict: string;
  /** The simulator's one-sentence summary, or the verdict again when it gave none. */
  readonly summary: string;
}

/** The column specs; `baseline` names the arm savings are measured against. */
export function summaryColumns(baseline: string): readonly ColumnSpec[] {
  return [
    { id: 'arm', header: 'Arm', help: 'The configuration simulated', align: 'left', group: 'key' },
    { id: 'usdPerDay', header: '$/day ± CI', help: 'Mean cost per simulated day over seeds, ± the half-width of its 95% confidence interval', align: 'right', group: 'cost' },
    { id: 'saving', header: `Saving vs ${baseline}`, help: `Share of ${baseline}'s cost saved (negative: dearer), with its 95% confidence interval`, align: 'right', group: 'cost' },
    {
      id: 'aboveBound',
      header: 'Above bound',
      help: "How far the cost is above the perfect-packing lower bound (the cheapest fractional set of the arm's node types holding the requested pods, LP relaxation), with its 95% confidence interval; then the bound's $/day",
      align: 'right',
      group: 'cost',
    },
    { id: 'nodeHours', header: 'Node-h OD / spot', help: 'Node-hours of on-demand and of spot capacity per run', align: 'right', group: 'cost' },
    { id: 'utilisation', header: 'Req util', help: 'Mean over time of requested / allocatable resources (cpu and memory averaged)', align: 'right', group: 'cost' },
    {
      id: 'usage',
      header: 'CPU use/spread/hot',
      help: 'Load as kubectl top would show it: mean CPU in use over allocatable / spread of the nodes\' CPU-in-use shares (standard deviation, averaged over time; lower is more even) / share of node time above 80% CPU in use',
      align: 'right',
      group: 'cost',
    },
    { id: 'uptimeA1', header: 'A1 % mean/worst', help: 'Share of time with at least one Ready replica, in %: mean over services / worst service', align: 'right', group: 'uptime' },
    { id: 'uptimeA2', header: 'A2 % mean/worst', help: 'Share of time with at least (desired − allowed disruptions) Ready replicas, in %: mean over services / worst service', align: 'right', group: 'uptime' },
    { id: 'outages', header: 'Outages n/time', help: 'Outages (no Ready replica) per run, and their total duration', align: 'right', group: 'uptime' },
    {
      id: 'outageCauses',
      header: 'Cause: out/A2',
      help: 'Outages and A2 dips per run by what took the replicas down: stowage (its evictions and surges, and pods it moved that the autoscaler took down soon after; meant to be 0), spot (reclaims), autoscaler (drains), naive (restarts), scale-down, rollout (a Deployment rollout replacing pods), no capacity (replicas that never came)',
      align: 'left',
      group: 'uptime',
    },
    { id: 'evictions', header: 'Evictions', help: 'Pods evicted per run (descheduling, consolidation, spot reclaims, restarts)', align: 'right', group: 'uptime' },
    {
      id: 'churn',
      header: `Churn vs ${baseline}`,
      help: `What the saving costs in disruption: evictions and node launches per run more than ${baseline} (paired by seed), then each per dollar saved over the run (when the arm saves)`,
      align: 'right',
      group: 'uptime',
    },
    { id: 'pendingP99', header: 'p99 pending', help: '99th percentile of the time a pod waits to be scheduled and started', align: 'right', group: 'uptime' },
    { id: 'verdict', header: 'Verdict', help: `Saving against ${baseline} and whether uptime is non-inferior to it`, align: 'left', group: 'verdict' },
  ];
}

/** Builds the summary rows, in the result's arm order, after the `today` row of a run from a snapshot. */
export function summaryRows(result: SimulationResult): readonly SummaryRow[] {
  const arms = result.arms.map((arm) => _row(arm, arm.name === result.baseline));
  return result.today === undefined ? arms : [_todayRow(result.today, result.arms.find((a) => a.name === result.baseline)), ...arms];
}

/** The name of the row of the cluster as it runs now. */
export const TODAY_ROW = 'today';

/**
 * The cluster as it runs now: its cost and capacity, no uptime (it is not simulated), and how the
 * baseline compares, so the rows read today → baseline → each arm.
 */
function _todayRow(today: TodayResult, baseline: ArmResult | undefined): SummaryRow {
  const usdDecimals = autoDecimals(today.usdPerDay);
  const hourDecimals = Math.min(autoDecimals(today.nodeHoursOnDemand + today.nodeHoursSpot), 1);
  const usd = formatUsd(today.usdPerDay, usdDecimals);
  let versus = '';
  if (baseline !== undefined && today.usdPerDay > 0) {
    const change = baseline.metrics.usdPerDay.mean / today.usdPerDay - 1;
    const pct = formatNumber(Math.abs(change) * 100, Math.abs(change) >= 0.1 ? 0 : 1);
    const baselineUsd = formatUsd(baseline.metrics.usdPerDay.mean, autoDecimals(baseline.metrics.usdPerDay.mean));
    versus = `; ${baseline.name}, the same workloads under the autoscaler, costs ${baselineUsd}/day (${pct}% ${change <= 0 ? 'less' : 'more'})`;
  }
  const cells: Record<SummaryColumn, string> = {
    arm: TODAY_ROW,
    usdPerDay: usd,
    saving: '—',
    aboveBound: '—',
    nodeHours: `${formatNumber(today.nodeHoursOnDemand, hourDecimals)} / ${formatNumber(today.nodeHoursSpot, hourDecimals)}`,
    utilisation: formatPercent(today.requestedUtilisation),
    usage: '—',
    uptimeA1: '—',
    uptimeA2: '—',
    outages: '—',
    outageCauses: '—',
    evictions: '—',
    churn: '—',
    pendingP99: '—',
    verdict: 'the cluster now',
  };
  return { arm: TODAY_ROW, description: today.description, status: 'today', cells, verdict: 'the cluster now', summary: `${today.description}: ${usd}/day${versus}` };
}

/**
 * The verdict in a few words. Saving and extra cost are shown as positive numbers with their CI,
 * so "costs 3% more (1–5%)" reads the right way round.
 */
export function describeVerdict(arm: ArmResult, isBaseline: boolean): { readonly status: VerdictStatus; readonly text: string } {
  if (isBaseline) return { status: 'baseline', text: 'baseline' };
  const verdict = arm.verdict;
  if (verdict === undefined) return { status: 'no-verdict', text: 'no verdict' };
  const saving = verdict.savingVsBaseline;
  const costPart = _describeSaving(saving);
  const uptimePart = verdict.uptimeNonInferior ? 'uptime non-inferior' : `uptime may be worse (margin ${formatNumber(verdict.nonInferiorityMargin * 100, _marginDecimals(verdict.nonInferiorityMargin))} pp)`;
  let status: VerdictStatus;
  if (!verdict.uptimeNonInferior) status = 'uptime-risk';
  else if (saving.low > 0) status = 'saves';
  else if (saving.high < 0) status = 'costs-more';
  else status = 'unclear';
  return { status, text: `${costPart}, ${uptimePart}` };
}

/** `mean ± half-width` of an estimate, with decimals fitted to the mean. */
export function formatEstimate(estimate: Estimate, format: (value: number) => string): string {
  return `${format(estimate.mean)} ± ${format((estimate.high - estimate.low) / 2)}`;
}

function _describeSaving(saving: Estimate): string {
  const decimals = percentDecimals(saving.mean, saving.low, saving.high);
  const pct = (share: number): string => formatNumber(share * 100, decimals);
  if (saving.mean >= 0) return `saves ${pct(saving.mean)}% (${formatRange(saving.low, saving.high, pct, '%')})`;
  // Extra cost is minus the saving, so its interval's ends swap.
  return `costs ${pct(-saving.mean)}% more (${formatRange(-saving.high, -saving.low, pct, '%')})`;
}

function _marginDecimals(margin: number): number {
  const pp = Math.abs(margin * 100);
  if (pp === 0 || pp >= 1) return 0;
  if (pp >= 0.1) return 1;
  return 2;
}

function _row(arm: ArmResult, isBaseline: boolean): SummaryRow {
  const m = arm.metrics;
  const { status, text } = describeVerdict(arm, isBaseline);
  const usdDecimals = autoDecimals(m.usdPerDay.mean);
  const hourDecimals = Math.min(autoDecimals(m.nodeHoursOnDemand.mean + m.nodeHoursSpot.mean), 1);
  const saving = arm.verdict?.savingVsBaseline;
  const cells: Record<SummaryColumn, string> = {
    arm: arm.name,
    usdPerDay: formatEstimate(m.usdPerDay, (v) => formatUsd(v, usdDecimals)),
    saving: isBaseline ? '—' : saving === undefined ? 'n/a' : _formatSavingCell(saving),
    aboveBound: m.aboveBound === undefined || m.boundUsdPerDay === undefined ? 'n/a' : `${_formatSavingCell(m.aboveBound)} of ${formatUsd(m.boundUsdPerDay.mean, autoDecimals(m.boundUsdPerDay.mean))}`,
    nodeHours: `${formatNumber(m.nodeHoursOnDemand.mean, hourDecimals)} / ${formatNumber(m.nodeHoursSpot.mean, hourDecimals)}`,
    utilisation: formatPercent(m.meanRequestedUtilisation.mean),
    usage: m.meanUsageUtilisation === undefined ? '—' : `${formatPercent(m.meanUsageUtilisation.mean)} / ${formatNumber(m.nodeUsageSpread?.mean ?? 0, 2)} / ${formatPercent(m.hotNodeShare?.mean ?? 0, 1)}`,
    uptimeA1: `${formatUptime(m.uptimeA1.mean, false)} / ${formatUptime(m.worstServiceA1.mean, false)}`,
    uptimeA2: `${formatUptime(m.uptimeA2.mean, false)} / ${formatUptime(m.worstServiceA2.mean, false)}`,
    outages: `${formatNumber(m.outages.mean, m.outages.mean >= 100 ? 0 : 1)} / ${formatDuration(m.outageSeconds.mean)}`,
    outageCauses: formatCauses(m.outagesByCause, m.a2DipsByCause),
    evictions: formatNumber(m.evictions.mean, m.evictions.mean >= 10 || m.evictions.mean === Math.round(m.evictions.mean) ? 0 : 1),
    churn: isBaseline ? '—' : formatChurn(arm.verdict?.churn),
    pendingP99: formatDuration(m.pendingP99Seconds.mean),
    verdict: text,
  };
  const summary = isBaseline ? `baseline: ${arm.description}` : arm.verdict?.summary.trim() || text;
  return { arm: arm.name, description: arm.description, status, cells, verdict: text, summary };
}

/**
 * Churn against the baseline, e.g. `+412 ev / +12 nodes; 1.7 / 0.05 per $`: extra evictions and
 * node launches per run, then each per dollar saved; `n/a` for a result without it.
 */
export function formatChurn(churn: ArmChurn | undefined): string {
  if (churn === undefined) return 'n/a';
  const signed = (v: number): string => `${v > 0 ? '+' : ''}${formatNumber(v, Math.abs(v) >= 10 || v === Math.round(v) ? 0 : 1)}`;
  const per = (v: number): string => formatNumber(v, Math.abs(v) >= 10 ? 0 : Math.abs(v) >= 1 ? 1 : 2);
  const extra = `${signed(churn.evictions.mean)} ev / ${signed(churn.nodeLaunches.mean)} nodes`;
  if (churn.evictionsPerUsdSaved === undefined || churn.nodeLaunchesPerUsdSaved === undefined) return extra;
  return `${extra}; ${per(churn.evictionsPerUsdSaved)} / ${per(churn.nodeLaunchesPerUsdSaved)} per $`;
}

/** Short names of the outage causes, Stowage's first: it is the one meant to stay at zero. */
const _CAUSE_LABELS: readonly (readonly [string, string])[] = [
  ['stowage', 'stowage'],
  ['spot-reclaim', 'spot'],
  ['autoscaler-drain', 'autoscaler'],
  ['naive-restart', 'naive'],
  ['scale-down', 'scale-down'],
  ['rollout', 'rollout'],
  ['no-capacity', 'no capacity'],
];

/**
 * Outages / A2 dips per run by cause, e.g. `stowage 0/0 · spot 0.4/1.2`: Stowage's always, the
 * others when any run had one. Empty (`—`) for a result without attribution.
 */
export function formatCauses(outages: Readonly<Record<string, Estimate>> | undefined, dips: Readonly<Record<string, Estimate>> | undefined): string {
  if (outages === undefined && dips === undefined) return '—';
  const n = (e: Estimate | undefined): string => {
    const v = e?.mean ?? 0;
    return formatNumber(v, v === Math.round(v) || v >= 100 ? 0 : 1);
  };
  const parts: string[] = [];
  for (const [cause, label] of _CAUSE_LABELS) {
    const o = outages?.[cause];
    const d = dips?.[cause];
    if (cause !== 'stowage' && (o?.mean ?? 0) === 0 && (d?.mean ?? 0) === 0) continue;
    parts.push(`${label} ${n(o)}/${n(d)}`);
  }
  return parts.join(' · ');
}

function _formatSavingCell(saving: Estimate): string {
  const decimals = percentDecimals(saving.mean, saving.low, saving.high);
  const pct = (share: number): string => formatNumber(share * 100, decimals);
  return `${pct(saving.mean)}% (${formatRange(saving.low, saving.high, pct, '%')})`;
}
