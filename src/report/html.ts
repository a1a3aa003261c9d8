/**
 * The HTML report: one self-contained file (inline CSS, charts as inline SVG, no script, nothing
 * fetched) that answers the question for a reader who was not at the terminal, plus the raw
 * result as JSON beside it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SimulationResult } from '../sim/result.js';
import { escapeXml, formatDuration, formatNumber, formatUptime } from './format.js';
import { summaryColumns, summaryRows } from './summary.js';
import type { SummaryRow, VerdictStatus } from './summary.js';
import { renderCharts } from './svg.js';

/** File names written by {@link writeHtmlReport}. */
export const REPORT_FILES = { html: 'report.html', json: 'result.json' } as const;

/**
 * Writes `report.html` and `result.json` into `dir` (created if missing) and returns the path of
 * the HTML file.
 *
 * @example const path = await writeHtmlReport(result, 'reports/2026-01-01');
 */
export async function writeHtmlReport(result: SimulationResult, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const htmlPath = resolve(join(dir, REPORT_FILES.html));
  await writeFile(join(dir, REPORT_FILES.json), `${JSON.stringify(result, null, 2)}\n`, 'utf8');
  await writeFile(htmlPath, renderHtmlReport(result), 'utf8');
  return htmlPath;
}

/** The report as an HTML string; pure, for tests and for callers that serve it themselves. */
export function renderHtmlReport(result: SimulationResult): string {
  const e = escapeXml;
  const rows = summaryRows(result);
  // The verdicts have their own section above the table, which then fits a page's width.
  const columns = summaryColumns(result.baseline).filter((c) => c.group !== 'verdict');
  const charts = renderCharts(result);
  const title = `Stowage simulation: ${result.scenario.name}`;
  const seeds = result.seeds.map((s) => String(s)).join(', ');

  const tableHead = columns.map((c) => `<th scope="col" title="${e(c.help)}" class="${c.align}">${e(c.header)}</th>`).join('');
  const tableBody = rows
    .map((row) => {
      const cells = columns.map((c) => {
        if (c.id === 'arm') return `<th scope="row" title="${e(row.description)}">${e(row.arm)}</th>`;
        return `<td class="${c.align}">${e(row.cells[c.id])}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');

  const verdicts = rows.map((row) => _verdictItem(row)).join('\n');
  const figures = charts
    // The SVG carries its own title, so the figure has none.
    .map((chart) => `<figure id="${e(chart.id)}">\n${chart.svg.trimEnd()}\n<figcaption>${e(chart.caption)}</figcaption>\n</figure>`)
    .join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${_CSS}</style>
</head>
<body>
<header>
<h1>${e(title)}</h1>
<p class="meta">Scenario <strong>${e(result.scenario.name)}</strong> (${e(result.scenario.source)}),
${e(formatDuration(result.scenario.durationSeconds))} simulated, ${e(formatNumber(result.seeds.length))} seed${result.seeds.length === 1 ? '' : 's'}: ${e(seeds)}.
Baseline <strong>${e(result.baseline)}</strong>. Stowage ${e(result.stowageVersion)}, ${e(formatDuration(result.wallSeconds))} of wall time.</p>
</header>
<main>
<section id="answer">
<h2>The answer</h2>
<ul class="verdicts">
${verdicts}
</ul>
</section>
<section id="summary">
<h2>Summary per arm</h2>
<div class="scroll">
<table>
<thead><tr>${tableHead}</tr></thead>
<tbody>
${tableBody}
</tbody>
</table>
</div>
<p class="note">Means over seeds; ± is the half-width of the 95% confidence interval and ranges in brackets are 95% confidence intervals. OD = on-demand. "Above bound" is how far each arm's cost is above the perfect-packing lower bound: the cheapest fractional set of the arm's node types that holds the pods the workloads request (an LP relaxation, averaged over samples), DaemonSet pods counted on every node. Hover a column title for its definition.</p>
</section>
<section id="charts">
<h2>Charts</h2>
${figures}
</section>
${_perServiceSection(result)}
<section id="how-to-read">
<h2>How to read this</h2>
<ul>
<li><strong>Arms</strong> are configurations run on the same scenario with the same seeds, so their differences come from the configuration, not from luck. ${e(result.baseline)} is the baseline every saving is measured against.</li>
<li><strong>Cost</strong> is what the simulated cloud bills per second for the nodes running, on-demand or spot. <em>Saving</em> is the share of ${e(result.baseline)}'s cost an arm does not spend; negative means it costs more.</li>
<li><strong>Uptime</strong>: A1 is the share of time a service has at least one Ready replica (is it up at all); A2 the share with at least its desired replicas minus what its PodDisruptionBudget allows to be down (is it at full strength). "Mean" is over services, "worst" is the service that fared worst.</li>
<li><strong>Confidence intervals</strong> (95%, Student t over seeds) say how much a number could move with other seeds. Two arms whose intervals overlap widely may not really differ.</li>
<li><strong>Non-inferior</strong> means the data rule out, at 95% confidence, that the arm's uptime is worse than ${e(result.baseline)}'s by more than the stated margin, comparing the same seeds. "Uptime may be worse" means that could not be ruled out: it is not proof of harm, but do not enable that arm on this evidence.</li>
<li><strong>Time series</strong> in the charts come from the first seed only; the table and the verdicts use all seeds.</li>
<li>Every number is in <code>${e(REPORT_FILES.json)}</code> beside this file.</li>
</ul>
</section>
</main>
</body>
</html>
`;
}

const _CSS = `
:root { color-scheme: light; --ink: #222; --muted: #555; --line: #ddd; --good: #00694d; --bad: #b33f00; --warn: #8a6100; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; font: 15px/1.5 "DejaVu Sans", Verdana, Arial, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 .3em; }
h2 { font-size: 1.25em; margin: 1.8em 0 .6em; border-bottom: 1px solid var(--line); padding-bottom: .2em; }
.meta, .note, figcaption { color: var(--muted); }
.note, figcaption { font-size: .9em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .8em; font-variant-numeric: tabular-nums; }
th, td { padding: .3em .45em; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); cursor: help; }
th.right, td.right { text-align: right; }
th.left, td.left, tbody th { text-align: left; }
.saves { color: var(--good); }
.uptime-risk { color: var(--bad); }
.costs-more { color: var(--warn); }
.today, .baseline, .no-verdict, .unclear { color: var(--muted); }
ul.verdicts { list-style: none; padding: 0; }
ul.verdicts li { margin: .3em 0; padding: .4em .7em; border-left: 4px solid var(--line); }
ul.verdicts li.saves { border-color: var(--good); }
ul.verdicts li.uptime-risk { border-color: var(--bad); }
ul.verdicts li.costs-more { border-color: var(--warn); }
ul.verdicts li span.detail { color: var(--muted); }
ul.verdicts li, ul.verdicts li strong { color: var(--ink); }
ul.verdicts li strong { display: inline-block; min-width: 4.5em; }
.badge { display: inline-block; min-width: 8.5em; font-weight: bold; }
figure { margin: 1.5em 0; }
figcaption { margin-top: .3em; }
figure svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
code { font-family: "DejaVu Sans Mono", monospace; }
`;

function _verdictItem(row: SummaryRow): string {
  const e = escapeXml;
  const label: Record<VerdictStatus, string> = {
    today: 'today',
    baseline: 'baseline',
    saves: 'saves, safe',
    'costs-more': 'costs more',
    unclear: 'no clear saving',
    'uptime-risk': 'uptime at risk',
    'no-verdict': 'no verdict',
  };
  const detail = row.summary !== row.verdict && row.status !== 'baseline' ? ` <span class="detail">${e(row.summary)}</span>` : '';
  const text =
    row.status === 'baseline' ? `${e(row.description)}; savings and uptime below are measured against it.` : row.status === 'today' ? `${e(row.summary)}.` : `${e(row.verdict)}.${detail}`;
  return `<li class="${row.status}"><strong>${e(row.arm)}</strong> <span class="badge ${row.status}">${e(label[row.status])}</span> ${text}</li>`;
}

/** A1 / A2 per service and arm, so that a loss hidden by the mean over services shows. */
function _perServiceSection(result: SimulationResult): string {
  const e = escapeXml;
  const services = [...new Set(result.arms.flatMap((a) => a.metrics.perService.map((s) => s.service)))];
  if (services.length === 0) return '';
  const head = `<tr><th scope="col" class="left">Service</th>${result.arms.map((a) => `<th scope="col" class="right">${e(a.name)}</th>`).join('')}</tr>`;
  const body = services
    .map((service) => {
      const cells = result.arms.map((arm) => {
        const s = arm.metrics.perService.find((p) => p.service === service);
        return `<td class="right">${s === undefined ? '—' : `${e(formatUptime(s.a1.mean))} / ${e(formatUptime(s.a2.mean))}`}</td>`;
      });
      return `<tr><th scope="row">${e(service)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<section id="per-service">
<h2>Uptime per service</h2>
<div class="scroll">
<table>
<thead>${head}</thead>
<tbody>
${body}
</tbody>
</table>
</div>
<p class="note">Each cell: A1 / A2, mean over seeds.</p>
</section>`;
}
