/**
 * Number, money, share and duration formatting shared by the terminal table, the HTML report and
 * the charts. Deterministic: no locale, no clock; the same value always prints the same way.
 */

const _XML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for XML or HTML element content and quoted attribute values. Control characters
 * that XML 1.0 forbids even as references are dropped, so the output is always well-formed.
 *
 * @example escapeXml('<b>&') // '&lt;b&gt;&amp;'
 */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex -- these are exactly the characters XML forbids
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => _XML_ENTITIES[c] ?? c);
}

/**
 * Formats a number with a fixed count of decimals and comma thousands separators; `n/a` for NaN.
 *
 * @example formatNumber(12345.678, 1) // '12,345.7'
 */
export function formatNumber(value: number, decimals = 0): string {
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  const fixed = Math.abs(value).toFixed(decimals);
  const [whole = '0', fraction] = fixed.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const negative = value < 0 && Number(fixed) !== 0;
  return `${negative ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** Decimals that keep about three significant digits for amounts of this size (at most 2). */
export function autoDecimals(value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude >= 100 || magnitude === 0) return 0;
  if (magnitude >= 10) return 1;
  return 2;
}

/** US dollars, e.g. `$1,234`, `$56.7`, `$0.42`; `decimals` defaults to {@link autoDecimals}. */
export function formatUsd(value: number, decimals = autoDecimals(value)): string {
  const text = formatNumber(Math.abs(value), decimals);
  return value < 0 && text !== formatNumber(0, decimals) ? `-$${text}` : `$${text}`;
}

/** A share (0.42) as a percentage (`42%`), with `decimals` decimals. */
export function formatPercent(share: number, decimals = 0): string {
  return `${formatNumber(share * 100, decimals)}%`;
}

/**
 * An availability share as a percentage with three decimals, so that the "nines" that matter stay
 * visible: `99.987%`. Exactly 1 prints `100%`; a value below 1 never rounds up to 100. Without
 * `unit`, the `%` is left out (for columns whose title says it).
 */
export function formatUptime(share: number, unit = true): string {
  const sign = unit ? '%' : '';
  if (share >= 1) return `100${sign}`;
  const text = formatNumber(share * 100, 3);
  return text === '100.000' ? `>99.999${sign}` : `${text}${sign}`;
}

/** A duration in seconds, in the largest unit that keeps it readable: `45 s`, `4.2 min`, `3.1 h`, `2.5 d`. */
export function formatDuration(seconds: number): string {
  if (Number.isNaN(seconds)) return 'n/a';
  const magnitude = Math.abs(seconds);
  if (magnitude < 60) return `${formatNumber(seconds, magnitude < 10 && magnitude !== Math.round(magnitude) ? 1 : 0)} s`;
  if (magnitude < 3600) return `${_trimZero(formatNumber(seconds / 60, 1))} min`;
  if (magnitude < 86_400) return `${_trimZero(formatNumber(seconds / 3600, 1))} h`;
  return `${_trimZero(formatNumber(seconds / 86_400, 1))} d`;
}

/**
 * A confidence interval `low–high` with the unit once at the end (`38–44%`); when either end is
 * negative, `low to high` instead, so a minus sign is never read as a dash.
 */
export function formatRange(low: number, high: number, format: (value: number) => string, unit = ''): string {
  const separator = low < 0 || high < 0 ? ' to ' : '–';
  return `${format(low)}${separator}${format(high)}${unit}`;
}

/** Decimals for percentages of these shares: one when every one of them is under 10%, else none. */
export function percentDecimals(...shares: readonly number[]): number {
  return shares.every((s) => Math.abs(s) < 0.1) ? 1 : 0;
}

/**
 * Shortens text to at most `maxChars` characters, ending in `…` when cut. Cut before escaping,
 * so that an entity is never split.
 */
export function truncate(text: string, maxChars: number): string {
  const chars = [...text];
  if (chars.length <= maxChars) return text;
  if (maxChars <= 1) return chars.slice(0, Math.max(0, maxChars)).join('');
  return `${chars.slice(0, maxChars - 1).join('')}…`;
}

function _trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}
