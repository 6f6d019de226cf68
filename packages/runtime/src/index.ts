export { LOG_LEVELS, createLogger } from './logger.ts';
export type { LogLevel, Logger } from './logger.ts';
export { startHealthServer } from './health.ts';
export type { CheckResult, HealthCheck, HealthServer, HealthServerOptions } from './health.ts';
export {
  commonServiceDocs,
  commonServiceVariables,
  configOrExit,
  formatHelp,
  intVar,
  parseEnv,
} from './env.ts';
export type { ConfigResult, EnvDoc } from './env.ts';
export { parseSentinels, sentinelsText, withSentinelPassword } from './redis-sentinels.ts';
export type { SentinelConfig } from './redis-sentinels.ts';
export { CENSORED, redactString, redactValue } from './redact.ts';
