// Redis connections for the two roles BullMQ distinguishes (docs: going-to-production). A producer
// fails fast, so the watcher notices Redis is gone and its readiness drops; a worker waits forever
// for Redis to come back, because BullMQ's blocking reads must never give up.
import { Redis } from 'ioredis';
import type { SentinelConfig } from '@stampede/runtime';

export type RedisRole = 'producer' | 'worker';

export interface RedisConnectionOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS. */
  readonly url: string;
  readonly role: RedisRole;
  /** Shown by `CLIENT LIST`, e.g. `stampede-watcher`. */
  readonly name: string;
  /** Cap of the reconnect backoff. Default 5 000 ms. */
  readonly maxReconnectDelayMs?: number;
  /**
   * Find the primary through Redis Sentinel instead of the URL's host and port. The URL's user,
   * password, db and scheme (rediss = TLS) still apply to the primary.
   */
  readonly sentinel?: SentinelConfig | undefined;
}

/** What the URL says about the primary when sentinels say where it is. */
function primaryOptions(url: string): {
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls?: Record<string, never>;
} {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.slice(1) || '0');
  return {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    db: Number.isInteger(db) ? db : 0,
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** How long a pending command may wait for any byte from Redis before the socket counts as dead. */
export const SOCKET_TIMEOUT_MS = 15_000;

/** Exponential reconnect backoff from 100 ms to the cap, with up to 20 % jitter. */
export function reconnectDelay(attempt: number, capMs: number, random: () => number): number {
  const base = Math.min(capMs, 100 * 2 ** Math.min(attempt - 1, 16));
  return Math.round(base * (0.8 + 0.2 * random()));
}

/**
 * Opens a connection. `rediss://` turns on TLS with certificate verification; credentials come from
 * the URL. The caller must attach an `error` listener (ioredis emits one per failed reconnect).
 */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  const cap = options.maxReconnectDelayMs ?? 5_000;
  const producer = options.role === 'producer';
  const retryStrategy = (attempt: number): number => reconnectDelay(attempt, cap, Math.random);
  const common = {
    maxRetriesPerRequest: producer ? 1 : null,
    enableOfflineQueue: !producer,
    connectTimeout: producer ? 5_000 : 10_000,
    // A connection that stays open but goes silent (a lost NAT or conntrack entry, a peer cut off
    // without a FIN) is never noticed by TCP while something on the path still acknowledges, and a
    // worker would wait on it forever. No reply within this while a command is pending: the socket
    // is dropped and the reconnect strategy runs. Above BullMQ's 10 s ceiling for a blocking
    // BZPOPMIN, so an idle worker's wait for a job is never cut short.
    socketTimeout: SOCKET_TIMEOUT_MS,
    connectionName: options.name,
    retryStrategy,
    // The default for BullMQ; keyPrefix is forbidden by BullMQ and never set.
    enableReadyCheck: true,
  };
  const sentinel = options.sentinel;
  if (sentinel === undefined) return new Redis(options.url, common);
  return new Redis({
    ...common,
    ...primaryOptions(options.url),
    name: sentinel.primaryName,
    sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
    ...(sentinel.password === undefined ? {} : { sentinelPassword: sentinel.password }),
    // Asking the sentinels again after a failover uses the same backoff as a lost connection.
    sentinelRetryStrategy: retryStrategy,
    // A primary that was demoted answers READONLY: drop the connection and ask the sentinels.
    reconnectOnError: error => error.message.startsWith('READONLY'),
  });
}

/** The URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
