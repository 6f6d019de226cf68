// One JSON logger per process, created in main.ts and passed down (never a module-level logger).
import { pino } from 'pino';
import type { Logger } from 'pino';
import { redactString, redactValue } from './redact.ts';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A pino logger writing JSON lines to stdout (or `destination`), with `service` and `instance` on
 * every line, the fields `mixin` returns (e.g. trace_id and span_id of the active span), and every
 * secret censored (redact.ts) in fields and in the message.
 */
export function createLogger(options: {
  readonly service: string;
  readonly instance: string;
  readonly level: LogLevel;
  readonly mixin?: () => object;
  readonly destination?: pino.DestinationStream;
}): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: { service: options.service, instance: options.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: label => ({ level: label }),
      log: object => redactValue(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map(arg => (typeof arg === 'string' ? redactString(arg) : arg));
        method.apply(this, redacted as Parameters<typeof method>);
      },
    },
    ...(options.mixin === undefined ? {} : { mixin: options.mixin }),
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
