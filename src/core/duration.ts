/**
 * Go-style durations (`500ms`, `30s`, `1m30s`, `2h`, `7d`), shared by command-line flags and
 * scenario files so both accept exactly the same spellings.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration into milliseconds, or returns undefined when the text is not one. A bare `0`
 * is allowed; any other bare number is not, because its unit would be a guess.
 *
 * @example parseDurationMs('1m30s') // 90000
 */
export function parseDurationMs(value: string): number | undefined {
  const text = value.trim();
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length || !Number.isFinite(total)) return undefined;
  return total;
}
