// One JSON logger per process, created in main.ts and passed down (never a module-level logger).
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino logger writing JSON lines to stdout, with `service` and `instance` on every line. */
export function createLogger(options: {
  readonly service: string;
  readonly instance: string;
  readonly level: LogLevel;
}): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, instance: options.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
  });
}
