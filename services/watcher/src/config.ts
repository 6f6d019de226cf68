// The watcher's configuration: environment variables only, validated at start; an error names every
// bad variable. This file and main.ts are the only ones that read process.env.
import { hostname } from 'node:os';
import { z } from 'zod';
import {
  commonServiceDocs,
  commonServiceVariables,
  formatHelp,
  intVar,
  parseEnv,
  withSentinelPassword,
} from '@stampede/runtime';
import type { ConfigResult, EnvDoc, LogLevel, SentinelConfig } from '@stampede/runtime';

export interface WatcherConfig {
  readonly redisUrl: string;
  /** Find the Redis primary through these sentinels (REDIS_SENTINELS). */
  readonly redisSentinel: SentinelConfig | undefined;
  /** Start even when Redis may evict keys (REDIS_ALLOW_EVICTION). */
  readonly redisAllowEviction: boolean;
  /** A kubeconfig path; unset means in-cluster, else $KUBECONFIG / ~/.kube/config. */
  readonly kubeconfig: string | undefined;
  /** Pending CSRs re-enqueued from the watch cache and the Node index re-synced, this often. */
  readonly resyncIntervalMs: number;
  /** A full CSR LIST from the API server, this often. */
  readonly relistIntervalMs: number;
  readonly watchIdleTimeoutMs: number;
  readonly perNodeInFlight: number;
  /** A CSR filed this long before its requester's newest is abandoned, not queued; 0: never. */
  readonly abandonedAfterMs: number;
  readonly healthPort: number;
  readonly healthHost: string;
  readonly logLevel: LogLevel;
  readonly instance: string;
}

const HEALTH_PORT = 8080;
const variablesOf = commonServiceVariables(HEALTH_PORT);

const schema = z
  .object({
    ...variablesOf.connection,
    RESYNC_INTERVAL_SECONDS: intVar(1, 60, 30),
    RELIST_INTERVAL_SECONDS: intVar(1, 86_400, 600),
    WATCH_IDLE_TIMEOUT_SECONDS: intVar(1, 3_600, 90),
    PER_NODE_IN_FLIGHT: intVar(1, 1_000, 3),
    // The kubelet's wait for a certificate before it files a new CSR (client-go's certificate manager).
    ABANDONED_AFTER_SECONDS: intVar(0, 86_400, 900),
    ...variablesOf.process,
  })
  .transform((env): WatcherConfig => ({
    redisUrl: env.REDIS_URL,
    redisSentinel: withSentinelPassword(env.REDIS_SENTINELS, env.REDIS_SENTINEL_PASSWORD),
    redisAllowEviction: env.REDIS_ALLOW_EVICTION,
    kubeconfig: env.KUBECONFIG_PATH,
    resyncIntervalMs: env.RESYNC_INTERVAL_SECONDS * 1_000,
    relistIntervalMs: env.RELIST_INTERVAL_SECONDS * 1_000,
    watchIdleTimeoutMs: env.WATCH_IDLE_TIMEOUT_SECONDS * 1_000,
    perNodeInFlight: env.PER_NODE_IN_FLIGHT,
    abandonedAfterMs: env.ABANDONED_AFTER_SECONDS * 1_000,
    healthPort: env.HEALTH_PORT,
    healthHost: env.HEALTH_HOST,
    logLevel: env.LOG_LEVEL,
    instance: env.POD_NAME ?? hostname(),
  }));

const common = commonServiceDocs({ healthPort: HEALTH_PORT, podName: 'instance name in logs' });

const variables: readonly EnvDoc[] = [
  ...common.connection,
  {
    name: 'RESYNC_INTERVAL_SECONDS',
    description: 're-enqueue pending CSRs from the watch cache, re-sync the Node index; 1-60',
    default: '30',
  },
  {
    name: 'RELIST_INTERVAL_SECONDS',
    description: 'a full CSR LIST from the API server, then re-enqueue; 1-86400',
    default: '600',
  },
  {
    name: 'WATCH_IDLE_TIMEOUT_SECONDS',
    description:
      'a CSR watch silent this long (no event, no bookmark: those come every minute) is stalled: watch again; 1-3600',
    default: '90',
  },
  {
    name: 'PER_NODE_IN_FLIGHT',
    description: "a requester's oldest pending CSRs queued at once (its newest too)",
    default: '3',
  },
  {
    name: 'ABANDONED_AFTER_SECONDS',
    description:
      "a CSR filed this long before its requester's newest is not queued (its kubelet gave up); 0: never",
    default: '900',
  },
  ...common.process,
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
