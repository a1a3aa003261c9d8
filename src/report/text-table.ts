/**
 * Plain aligned text tables for the terminal, kubectl style: upper-case headers, columns
 * separated by three spaces, numbers right-aligned.
 */

export interface TextColumn {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/** Renders rows under headers; every row must have one cell per column. Ends with a newline. */
export function renderTextTable(columns: readonly TextColumn[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return c.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('   ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header.toUpperCase())), ...rows.map(line)].join('\n')}\n`;
}
