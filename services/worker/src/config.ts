// The worker's configuration: environment variables and an optional policy file (YAML or JSON),
// validated at start; the error names every bad variable and every bad policy field.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { defaultPolicy, loadPolicy } from '@stampede/policy';
import type { Policy } from '@stampede/policy';
import {
  commonServiceDocs,
  commonServiceVariables,
  formatHelp,
  intVar as int,
  parseEnv,
  withSentinelPassword,
} from '@stampede/runtime';
import type { ConfigResult, EnvDoc, LogLevel, SentinelConfig } from '@stampede/runtime';

export interface WorkerConfig {
  readonly redisUrl: string;
  /** Find the Redis primary through these sentinels (REDIS_SENTINELS). */
  readonly redisSentinel: SentinelConfig | undefined;
  /** Start even when Redis may evict keys (REDIS_ALLOW_EVICTION). */
  readonly redisAllowEviction: boolean;
  readonly kubeconfig: string | undefined;
  readonly policy: Policy;
  readonly policyFile: string | undefined;
  readonly concurrency: number;
  /** Jobs started per second across all workers; undefined means no limit. */
  readonly rateLimitPerSecond: number | undefined;
  readonly shutdownDeadlineMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly lockDurationMs: number;
  readonly kubeMaxConnections: number;
  readonly healthPort: number;
  readonly healthHost: string;
  readonly logLevel: LogLevel;
  readonly instance: string;
}

const HEALTH_PORT = 8081;
const variablesOf = commonServiceVariables(HEALTH_PORT);

const schema = z.object({
  ...variablesOf.connection,
  POLICY_FILE: z.string().min(1).optional(),
  CONCURRENCY: int(1, 1_000, 10),
  RATE_LIMIT_JOBS_PER_SECOND: int(0, 100_000, 20),
  SHUTDOWN_DEADLINE_SECONDS: int(1, 3_600, 20),
  BACKOFF_INITIAL_MS: int(10, 600_000, 1_000),
  BACKOFF_MAX_MS: int(10, 3_600_000, 30_000),
  LOCK_DURATION_MS: int(1_000, 600_000, 30_000),
  KUBE_MAX_CONNECTIONS: int(1, 1_024, 16),
  ...variablesOf.process,
});

const common = commonServiceDocs({
  healthPort: HEALTH_PORT,
  podName: 'instance name in logs and Events',
});

const variables: readonly EnvDoc[] = [
  ...common.connection,
  { name: 'POLICY_FILE', description: 'policy (YAML or JSON); unset means the default policy' },
  { name: 'CONCURRENCY', description: 'jobs processed at once by this process', default: '10' },
  {
    name: 'RATE_LIMIT_JOBS_PER_SECOND',
    description: 'jobs started per second by all workers together, ~5 API calls each; 0: none',
    default: '20',
  },
  {
    name: 'SHUTDOWN_DEADLINE_SECONDS',
    description: 'finish in-flight jobs before releasing them',
    default: '20',
  },
  { name: 'BACKOFF_INITIAL_MS', description: 'first retry delay', default: '1000' },
  { name: 'BACKOFF_MAX_MS', description: 'longest retry delay', default: '30000' },
  {
    name: 'LOCK_DURATION_MS',
    description: "a killed worker's jobs are retaken after this",
    default: '30000',
  },
  {
    name: 'KUBE_MAX_CONNECTIONS',
    description: 'keep-alive connections to the API server',
    default: '16',
  },
  ...common.process,
];

export const HELP = formatHelp(
  'usage: stampede-worker [--help]\n\nTakes CSR jobs from Redis (BullMQ), decides each with the policy and approves or denies it\nthrough the API server. Stateless; run as many as needed.',
  variables,
);

type ReadFile = (path: string) => string;

function readPolicy(path: string | undefined, readFile: ReadFile): ConfigResult<Policy> {
  if (path === undefined) return { ok: true, config: defaultPolicy };
  let document: unknown;
  try {
    document = parseYaml(readFile(path));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [`POLICY_FILE ${path}: ${detail.split('\n')[0] ?? ''}`] };
  }
  const loaded = loadPolicy(document);
  if (loaded.ok) return { ok: true, config: loaded.policy };
  return { ok: false, errors: loaded.errors.map(error => `POLICY_FILE ${path}: ${error}`) };
}

export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile = path => readFileSync(path, 'utf8'),
): ConfigResult<WorkerConfig> {
  const parsed = parseEnv(schema, env);
  const policy = readPolicy(parsed.ok ? parsed.config.POLICY_FILE : env['POLICY_FILE'], readFile);
  const errors = [...(parsed.ok ? [] : parsed.errors), ...(policy.ok ? [] : policy.errors)];
  if (!parsed.ok || !policy.ok) return { ok: false, errors };
  const e = parsed.config;
  if (e.BACKOFF_MAX_MS < e.BACKOFF_INITIAL_MS) {
    return { ok: false, errors: ['BACKOFF_MAX_MS: must be at least BACKOFF_INITIAL_MS'] };
  }
  return {
    ok: true,
    config: {
      redisUrl: e.REDIS_URL,
      redisSentinel: withSentinelPassword(e.REDIS_SENTINELS, e.REDIS_SENTINEL_PASSWORD),
      redisAllowEviction: e.REDIS_ALLOW_EVICTION,
      kubeconfig: e.KUBECONFIG_PATH,
      policy: policy.config,
      policyFile: e.POLICY_FILE,
      concurrency: e.CONCURRENCY,
      rateLimitPerSecond:
        e.RATE_LIMIT_JOBS_PER_SECOND === 0 ? undefined : e.RATE_LIMIT_JOBS_PER_SECOND,
      shutdownDeadlineMs: e.SHUTDOWN_DEADLINE_SECONDS * 1_000,
      backoff: { initialMs: e.BACKOFF_INITIAL_MS, maxMs: e.BACKOFF_MAX_MS },
      lockDurationMs: e.LOCK_DURATION_MS,
      kubeMaxConnections: e.KUBE_MAX_CONNECTIONS,
      healthPort: e.HEALTH_PORT,
      healthHost: e.HEALTH_HOST,
      logLevel: e.LOG_LEVEL,
      instance: e.POD_NAME ?? hostname(),
    },
  };
}
