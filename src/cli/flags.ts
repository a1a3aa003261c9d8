/**
 * Parsers for flag values shared by the subcommands, with errors that name the flag.
 */
import { parseDurationMs } from '../core/duration.js';
import { CliError } from './errors.js';

/**
 * Parses a Go-style duration flag (`500ms`, `30s`, `1m30s`, `2h`, `1d`) into milliseconds,
 * failing with a message that names the flag.
 */
export function parseDuration(value: string, flag: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    throw new CliError(`Invalid ${flag} "${value}": expected a duration like "500ms", "30s", "1m30s" or "2h"`);
  }
  return ms;
}

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new CliError(`Invalid --output "${value}": use one of ${OUTPUT_FORMATS.join(', ')}`);
}
