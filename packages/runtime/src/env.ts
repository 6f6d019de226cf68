// Configuration from the environment: one zod schema per service, parsed once at start, and an
// error that names every bad variable at once (never print-and-continue).
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { parseSentinels, type SentinelConfig } from './redis-sentinels.ts';

export type ConfigResult<T> =
  | { readonly ok: true; readonly config: T }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Parses `env` with `schema`; each error is `NAME: problem`. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): ConfigResult<z.output<S>> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map(
      issue =>
        `${issue.path.length > 0 ? issue.path.join('.') : '(environment)'}: ${issue.message}`,
    ),
  };
}

/** One variable of a `--help` listing. */
export interface EnvDoc {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
}

/** Formats `--help`: usage line, then one line per variable with its default. */
export function formatHelp(usage: string, variables: readonly EnvDoc[]): string {
  const width = Math.max(...variables.map(v => v.name.length));
  const lines = variables.map(v => {
    const fallback = v.default === undefined ? '' : ` (default ${v.default})`;
    return `  ${v.name.padEnd(width)}  ${v.description}${fallback}`;
  });
  return `${usage}\n\nEnvironment:\n${lines.join('\n')}\n`;
}

/** An integer variable in [min, max] with a default. */
export function intVar(
  min: number,
  max: number,
  fallback: number,
): z.ZodDefault<z.ZodCoercedNumber> {
  return z.coerce.number().int().min(min).max(max).default(fallback);
}

/** The variables every pipeline service reads the same way (spread into its own schema). */
export interface CommonServiceVariables {
  /** Where Redis and the API server are: first in a schema, so their errors come first. */
  readonly connection: {
    readonly REDIS_URL: z.ZodString;
    readonly REDIS_SENTINELS: z.ZodType<SentinelConfig | undefined, string | undefined>;
    readonly REDIS_SENTINEL_PASSWORD: z.ZodOptional<z.ZodString>;
    readonly REDIS_ALLOW_EVICTION: z.ZodType<boolean, string | undefined>;
    readonly KUBECONFIG_PATH: z.ZodOptional<z.ZodString>;
  };
  /** The health server, log level and instance name: last. */
  readonly process: {
    readonly HEALTH_PORT: z.ZodDefault<z.ZodCoercedNumber>;
    readonly HEALTH_HOST: z.ZodDefault<z.ZodString>;
    readonly LOG_LEVEL: z.ZodDefault<z.ZodEnum<{ [K in LogLevel]: K }>>;
    readonly POD_NAME: z.ZodOptional<z.ZodString>;
  };
}

export function commonServiceVariables(healthPort: number): CommonServiceVariables {
  return {
    connection: {
      REDIS_URL: z
        .string({ error: 'is required (redis://[user:password@]host:port or rediss://…)' })
        .refine(
          value => /^rediss?:\/\//.test(value) && URL.canParse(value),
          'must be a redis:// or rediss:// URL',
        ),
      REDIS_SENTINELS: z
        .string()
        .optional()
        .transform((value, ctx): SentinelConfig | undefined => {
          if (value === undefined || value === '') return undefined;
          const parsed = parseSentinels(value);
          if ('error' in parsed) {
            ctx.addIssue({ code: 'custom', message: parsed.error });
            return z.NEVER;
          }
          return parsed;
        }),
      REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
      REDIS_ALLOW_EVICTION: z
        .string()
        .optional()
        .transform((value, ctx): boolean => {
          if (value === undefined || value === '' || value === 'false') return false;
          if (value === 'true') return true;
          ctx.addIssue({ code: 'custom', message: 'must be true or false' });
          return z.NEVER;
        }),
      KUBECONFIG_PATH: z.string().min(1).optional(),
    },
    process: {
      HEALTH_PORT: intVar(0, 65_535, healthPort),
      HEALTH_HOST: z.string().min(1).default('0.0.0.0'),
      LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
      POD_NAME: z.string().min(1).optional(),
    },
  };
}

/** `--help` lines for the same variables, in the same two groups. */
export function commonServiceDocs(options: {
  healthPort: number;
  podName: string;
}): Readonly<Record<'connection' | 'process', readonly EnvDoc[]>> {
  return {
    connection: [
      { name: 'REDIS_URL', description: 'redis:// or rediss:// URL, password included (required)' },
      {
        name: 'REDIS_SENTINELS',
        description:
          'name@host:port[,host:port…]: find the primary through Sentinel (REDIS_URL then gives only user, password, db, TLS)',
      },
      { name: 'REDIS_SENTINEL_PASSWORD', description: 'AUTH password of the sentinels, if any' },
      {
        name: 'REDIS_ALLOW_EVICTION',
        description:
          'true: start even when Redis may evict keys (maxmemory-policy other than noeviction); queued CSRs can then be lost until the next relist',
        default: 'false',
      },
      {
        name: 'KUBECONFIG',
        description: 'kubeconfig path(s); unset in a pod means in-cluster config',
      },
      { name: 'KUBECONFIG_PATH', description: 'one kubeconfig file, wins over KUBECONFIG' },
    ],
    process: [
      {
        name: 'HEALTH_PORT',
        description: '/healthz, /readyz and /metrics port (0: any free port)',
        default: String(options.healthPort),
      },
      { name: 'HEALTH_HOST', description: 'address the health server binds', default: '0.0.0.0' },
      { name: 'LOG_LEVEL', description: LOG_LEVELS.join(', '), default: 'info' },
      { name: 'POD_NAME', description: options.podName, default: 'the hostname' },
    ],
  };
}

/**
 * The first lines of every service's main.ts: `--help` (or `-h`) prints `help` and exits 0; a
 * configuration with errors prints every one under the service's name and exits 2.
 */
export function configOrExit<T>(options: {
  readonly service: string;
  readonly help: string;
  readonly argv: readonly string[];
  readonly load: () => ConfigResult<T>;
}): T {
  if (options.argv.includes('--help') || options.argv.includes('-h')) {
    process.stdout.write(options.help);
    process.exit(0);
  }
  const loaded = options.load();
  if (!loaded.ok) {
    process.stderr.write(
      `${options.service}: invalid configuration:\n  ${loaded.errors.join('\n  ')}\n`,
    );
    process.exit(2);
  }
  return loaded.config;
}
