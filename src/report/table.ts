/**
 * The answer on the terminal: one row per arm with cost, capacity, uptime and the verdict, then
 * one line per arm with the verdict's sentence. A small column formatter: the table is plain
 * aligned text, so it survives copy-paste into an issue and `less`.
 */
import type { SimulationResult } from '../sim/result.js';
import { formatDuration, formatNumber } from './format.js';
import { summaryColumns, summaryRows } from './summary.js';
import type { ColumnSpec, SummaryRow, VerdictStatus } from './summary.js';

/** How {@link renderTable} lays the table out. */
export interface TableOptions {
  /**
   * Colour with ANSI escapes. Default off: the caller turns it on only for a TTY without
   * `NO_COLOR` set.
   */
  readonly color?: boolean;
  /**
   * Columns of the terminal (e.g. `process.stdout.columns`). When the table is wider, the verdict
   * column is left out (the verdict lines below still say it), then the table is split into a
   * cost block and an uptime block one under the other (more if still too wide), each starting
   * with the arm column; text lines are wrapped. Default: no limit.
   */
  readonly width?: number;
}

const _ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' } as const;
const _GAP = '  ';

/**
 * Renders the per-arm summary of a simulation as text for a terminal, ending in a newline.
 *
 * @example
 * process.stdout.write(renderTable(result, { color: process.stdout.isTTY && !process.env.NO_COLOR, width: process.stdout.columns }));
 */
export function renderTable(result: SimulationResult, options: TableOptions = {}): string {
  const color = options.color ?? false;
  const width = options.width !== undefined && options.width > 0 ? options.width : Number.POSITIVE_INFINITY;
  const paint = (text: string, ...styles: readonly (keyof typeof _ANSI)[]): string =>
    color && styles.length > 0 && text !== '' ? `${styles.map((s) => _ANSI[s]).join('')}${text}${_ANSI.reset}` : text;

  const columns = summaryColumns(result.baseline);
  const rows = summaryRows(result);
  const lines: string[] = [];

  lines.push(..._wrap(_heading(result), width, '').map((l) => paint(l, 'bold')));
  lines.push('');
  _fitColumns(columns, rows, width).forEach((block, i) => {
    if (i > 0) lines.push('');
    lines.push(..._renderBlock(block, rows, paint));
  });
  lines.push('');
  const armWidth = Math.max(...rows.map((r) => _width(r.arm)), 0);
  for (const row of rows) {
    const indent = ' '.repeat(armWidth + _GAP.length);
    const [first = '', ...rest] = _wrap(row.summary, width - indent.length, '');
    lines.push(`${paint(_pad(row.arm, armWidth, 'left'), 'bold')}${_GAP}${paint(first, ..._statusStyles(row.status))}`);
    for (const line of rest) lines.push(`${indent}${paint(line, ..._statusStyles(row.status))}`);
  }
  lines.push('');
  const notes = [
    '± is the half-width of the 95% confidence interval over seeds; ranges in brackets are 95% CIs.',
    'OD = on-demand. A1 = share of time with >= 1 Ready replica; A2 = with >= desired minus allowed disruptions Ready.',
    "Above bound: cost over the perfect-packing lower bound ($/day of the cheapest fractional set of the arm's node types holding the requested pods).",
  ];
  for (const note of notes) lines.push(..._wrap(note, width, '').map((l) => paint(l, 'dim')));
  return `${lines.join('\n')}\n`;
}

function _heading(result: SimulationResult): string {
  const seeds = result.seeds.length;
  return `Scenario "${result.scenario.name}" · ${formatDuration(result.scenario.durationSeconds)} simulated · ${formatNumber(seeds)} seed${seeds === 1 ? '' : 's'} · baseline ${result.baseline}`;
}

/**
 * Column blocks that fit `width`: all columns; else all but the verdict (the verdict lines below
 * still say it); else a cost block over an uptime block, each led by the arm column, and a group
 * still too wide is packed in order into as few blocks as fit.
 */
function _fitColumns(columns: readonly ColumnSpec[], rows: readonly SummaryRow[], width: number): readonly (readonly ColumnSpec[])[] {
  if (_blockWidth(columns, rows) <= width) return [columns];
  const withoutVerdict = columns.filter((c) => c.group !== 'verdict');
  if (_blockWidth(withoutVerdict, rows) <= width) return [withoutVerdict];
  const keys = columns.filter((c) => c.group === 'key');
  const blocks: ColumnSpec[][] = [];
  for (const group of ['cost', 'uptime'] as const) {
    let current: ColumnSpec[] = [...keys];
    for (const column of columns.filter((c) => c.group === group)) {
      if (current.length > keys.length && _blockWidth([...current, column], rows) > width) {
        blocks.push(current);
        current = [...keys];
      }
      current.push(column);
    }
    if (current.length > keys.length) blocks.push(current);
  }
  return blocks;
}

function _columnWidth(column: ColumnSpec, rows: readonly SummaryRow[]): number {
  return Math.max(_width(column.header), ...rows.map((r) => _width(r.cells[column.id])));
}

function _blockWidth(columns: readonly ColumnSpec[], rows: readonly SummaryRow[]): number {
  return columns.reduce((sum, c) => sum + _columnWidth(c, rows), 0) + _GAP.length * Math.max(columns.length - 1, 0);
}

function _renderBlock(columns: readonly ColumnSpec[], rows: readonly SummaryRow[], paint: (text: string, ...styles: readonly (keyof typeof _ANSI)[]) => string): readonly string[] {
  const widths = columns.map((c) => _columnWidth(c, rows));
  // Colour the text only, not its padding, so that trailing blanks can be trimmed.
  const line = (cells: readonly string[], style: (cell: string, index: number) => string): string =>
    cells
      .map((cell, i) => {
        const fill = ' '.repeat(Math.max(0, (widths[i] ?? 0) - _width(cell)));
        return columns[i]?.align === 'right' ? `${fill}${style(cell, i)}` : `${style(cell, i)}${fill}`;
      })
      .join(_GAP)
      .trimEnd();
  const out = [
    line(columns.map((c) => c.header), (cell) => paint(cell, 'bold')),
    line(widths.map((w) => '─'.repeat(w)), (cell) => paint(cell, 'dim')),
  ];
  for (const row of rows) {
    out.push(line(columns.map((c) => row.cells[c.id]), (cell, i) => {
      const id = columns[i]?.id;
      if (id === 'arm') return paint(cell, 'bold');
      if (id === 'verdict') return paint(cell, ..._statusStyles(row.status));
      return cell;
    }));
  }
  return out;
}

function _statusStyles(status: VerdictStatus): readonly (keyof typeof _ANSI)[] {
  switch (status) {
    case 'saves':
      return ['green'];
    case 'uptime-risk':
      return ['red'];
    case 'costs-more':
      return ['yellow'];
    case 'today':
    case 'baseline':
    case 'no-verdict':
      return ['dim'];
    case 'unclear':
      return [];
  }
}

/** Display width in terminal cells; the table only uses characters one cell wide. */
function _width(text: string): number {
  return [...text].length;
}

function _pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - _width(text)));
  return align === 'right' ? `${fill}${text}` : `${text}${fill}`;
}

/** Greedy word wrap; a word longer than the width stays whole on its own line. */
function _wrap(text: string, width: number, indent: string): readonly string[] {
  if (!Number.isFinite(width) || _width(text) <= width) return [text];
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (_width(candidate) <= width || current === '') current = candidate;
    else {
      lines.push(current);
      current = `${indent}${word}`;
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}
