/**
 * JSON logs for the long-running controllers (webhook, descheduler, scheduler): one object per
 * line on stderr, with the component name, so they can be shipped and queried like any
 * Kubernetes component's structured logs. `STOWAGE_LOG_LEVEL` sets the level (default info).
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function createLogger(component: string, options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.STOWAGE_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`Invalid log level "${level}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  return pino(
    {
      level,
      base: { component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
