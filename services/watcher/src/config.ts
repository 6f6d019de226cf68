// The watcher's configuration: environment variables only, validated at start; an error names every
// bad variable. This file and main.ts are the only ones that read process.env.
import { hostname } from 'node:os';
import { z } from 'zod';
import { LOG_LEVELS, formatHelp, parseEnv } from '@stampede/runtime';
import type { ConfigResult, EnvDoc, LogLevel } from '@stampede/runtime';

export interface WatcherConfig {
  readonly redisUrl: string;
  /** A kubeconfig path; unset means in-cluster, else $KUBECONFIG / ~/.kube/config. */
  readonly kubeconfig: string | undefined;
  readonly relistIntervalMs: number;
  readonly perNodeInFlight: number;
  readonly healthPort: number;
  readonly healthHost: string;
  readonly logLevel: LogLevel;
  readonly instance: string;
}

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const redisUrl = z
  .string({ error: 'is required (redis://[user:password@]host:port or rediss://…)' })
  .refine(
    value => /^rediss?:\/\//.test(value) && URL.canParse(value),
    'must be a redis:// or rediss:// URL',
  );

const schema = z
  .object({
    REDIS_URL: redisUrl,
    KUBECONFIG_PATH: z.string().min(1).optional(),
    RELIST_INTERVAL_SECONDS: int(1, 60, 30),
    PER_NODE_IN_FLIGHT: int(1, 1_000, 3),
    HEALTH_PORT: int(0, 65_535, 8080),
    HEALTH_HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    POD_NAME: z.string().min(1).optional(),
  })
  .transform((env): WatcherConfig => ({
    redisUrl: env.REDIS_URL,
    kubeconfig: env.KUBECONFIG_PATH,
    relistIntervalMs: env.RELIST_INTERVAL_SECONDS * 1_000,
    perNodeInFlight: env.PER_NODE_IN_FLIGHT,
    healthPort: env.HEALTH_PORT,
    healthHost: env.HEALTH_HOST,
    logLevel: env.LOG_LEVEL,
    instance: env.POD_NAME ?? hostname(),
  }));

const variables: readonly EnvDoc[] = [
  { name: 'REDIS_URL', description: 'redis:// or rediss:// URL, password included (required)' },
  { name: 'KUBECONFIG', description: 'kubeconfig path(s); unset in a pod means in-cluster config' },
  { name: 'KUBECONFIG_PATH', description: 'one kubeconfig file, wins over KUBECONFIG' },
  {
    name: 'RELIST_INTERVAL_SECONDS',
    description: 'full relist + re-enqueue period, 1-60',
    default: '30',
  },
  {
    name: 'PER_NODE_IN_FLIGHT',
    description: "a requester's oldest pending CSRs queued at once (its newest too)",
    default: '3',
  },
  {
    name: 'HEALTH_PORT',
    description: '/healthz and /readyz port (0: any free port)',
    default: '8080',
  },
  { name: 'HEALTH_HOST', description: 'address the health server binds', default: '0.0.0.0' },
  { name: 'LOG_LEVEL', description: LOG_LEVELS.join(', '), default: 'info' },
  { name: 'POD_NAME', description: 'instance name in logs', default: 'the hostname' },
];

export const HELP = formatHelp(
  'usage: stampede-watcher [--help]\n\nLists and watches kubelet-serving CSRs and Nodes; enqueues pending CSRs into Redis\n(BullMQ) and keeps the Node address index there. Run two replicas.',
  variables,
);

export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
): ConfigResult<WatcherConfig> {
  return parseEnv(schema, env);
}
