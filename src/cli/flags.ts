/**
 * Parsers for flag values shared by the subcommands, with errors that name the flag.
 */
import { CliError } from './errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a Go-style duration (`500ms`, `30s`, `1m30s`, `2h`, `1d`) into milliseconds.
 * A bare `0` is allowed; any other bare number is rejected because its unit would be a guess.
 */
export function parseDuration(value: string, flag: string): number {
  const text = value.trim();
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length || !Number.isFinite(total)) {
    throw new CliError(`Invalid ${flag} "${value}": expected a duration like "500ms", "30s", "1m30s" or "2h"`);
  }
  return total;
}

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new CliError(`Invalid --output "${value}": use one of ${OUTPUT_FORMATS.join(', ')}`);
}
