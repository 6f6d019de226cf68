// The dashboard's configuration from the environment: parsed once in main.ts, never read elsewhere.
import { parseSentinels, withSentinelPassword } from '@stampede/runtime';
import type { SentinelConfig } from '@stampede/runtime';

export interface DashboardConfig {
  readonly redisUrl: string;
  /** Find the Redis primary through these sentinels (REDIS_SENTINELS). */
  readonly redisSentinel: SentinelConfig | undefined;
  readonly host: string;
  readonly port: number;
  /** Basic-auth credentials; required unless the dashboard binds to loopback only. */
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  /** True unless DASHBOARD_READ_ONLY=false: every write endpoint answers 405. */
  readonly readOnly: boolean;
  /** Jaeger UI base address (e.g. http://jaeger:16686): each job links to its trace. */
  readonly jaegerUiUrl: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export const HELP = `stampede-dashboard: Bull Board over the stampede approval queue

  REDIS_URL               redis://[user:password@]host:port[/db]  (required)
  REDIS_SENTINELS         name@host:port[,host:port…]: find the primary through Sentinel
                          (REDIS_URL then gives only user, password, db and TLS)
  REDIS_SENTINEL_PASSWORD AUTH password of the sentinels, if any
  DASHBOARD_HOST          address to bind (default 127.0.0.1)
  DASHBOARD_PORT          port (default 3000)
  DASHBOARD_USER          basic-auth user      } required unless DASHBOARD_HOST is a loopback
  DASHBOARD_PASSWORD      basic-auth password  } address; the dashboard refuses to start otherwise
  DASHBOARD_READ_ONLY     true (default): every write endpoint answers 405; false allows
                          retry, promote, clean, … (treat dashboard access as Redis access)
  JAEGER_UI_URL           e.g. http://jaeger:16686: each job links to its trace
  LOG_LEVEL               info (default), debug, warn, …
  POD_NAME                instance name in logs (default dashboard)
`;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function parseLevel(value: string | undefined, errors: string[]): DashboardConfig['logLevel'] {
  const level = value ?? 'info';
  const known = LEVELS.find(l => l === level);
  if (known === undefined) errors.push(`LOG_LEVEL: must be one of ${LEVELS.join(', ')}`);
  return known ?? 'info';
}

function parseCredentials(
  env: Readonly<Record<string, string | undefined>>,
  host: string,
  errors: string[],
): DashboardConfig['credentials'] {
  const username = env['DASHBOARD_USER'] ?? '';
  const password = env['DASHBOARD_PASSWORD'] ?? '';
  if ((username === '') !== (password === '')) {
    errors.push('DASHBOARD_USER and DASHBOARD_PASSWORD: set both or neither');
  }
  if (username === '' || password === '') {
    if (!isLoopback(host)) {
      errors.push(
        `DASHBOARD_HOST=${host} is not loopback: set DASHBOARD_USER and DASHBOARD_PASSWORD (refusing to serve the queue without credentials)`,
      );
    }
    return undefined;
  }
  return { username, password };
}

function check(errors: string[], ok: boolean, message: string): void {
  if (!ok) errors.push(message);
}

function parseSentinel(
  env: Readonly<Record<string, string | undefined>>,
  errors: string[],
): SentinelConfig | undefined {
  const text = env['REDIS_SENTINELS'] ?? '';
  if (text === '') return undefined;
  const parsed = parseSentinels(text);
  if ('error' in parsed) {
    errors.push(`REDIS_SENTINELS: ${parsed.error}`);
    return undefined;
  }
  const password = env['REDIS_SENTINEL_PASSWORD'] ?? '';
  return withSentinelPassword(parsed, password === '' ? undefined : password);
}

function optionalUrl(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value.replace(/\/+$/, '');
}

export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; config: DashboardConfig } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const redisUrl = env['REDIS_URL'] ?? '';
  check(errors, /^rediss?:\/\//.test(redisUrl), 'REDIS_URL: must be a redis:// or rediss:// URL');
  const host = env['DASHBOARD_HOST'] ?? '127.0.0.1';
  const port = Number(env['DASHBOARD_PORT'] ?? '3000');
  check(
    errors,
    Number.isInteger(port) && port >= 0 && port <= 65_535,
    'DASHBOARD_PORT: must be 0-65535',
  );
  const readOnlyText = env['DASHBOARD_READ_ONLY'] ?? 'true';
  check(
    errors,
    readOnlyText === 'true' || readOnlyText === 'false',
    'DASHBOARD_READ_ONLY: must be true or false',
  );
  const jaegerUiUrl = optionalUrl(env['JAEGER_UI_URL']);
  check(
    errors,
    jaegerUiUrl === undefined || /^https?:\/\//.test(jaegerUiUrl),
    'JAEGER_UI_URL: must be an http(s) URL',
  );
  const credentials = parseCredentials(env, host, errors);
  const logLevel = parseLevel(env['LOG_LEVEL'], errors);
  const redisSentinel = parseSentinel(env, errors);
  if (errors.length > 0) return { ok: false, errors };
  const readOnly = readOnlyText !== 'false';
  return {
    ok: true,
    config: { redisUrl, redisSentinel, host, port, credentials, readOnly, jaegerUiUrl, logLevel },
  };
}
