// Redis connections for the two roles BullMQ distinguishes (docs: going-to-production). A producer
// fails fast, so the watcher notices Redis is gone and its readiness drops; a worker waits forever
// for Redis to come back, because BullMQ's blocking reads must never give up.
import { Redis } from 'ioredis';

export type RedisRole = 'producer' | 'worker';

export interface RedisConnectionOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS. */
  readonly url: string;
  readonly role: RedisRole;
  /** Shown by `CLIENT LIST`, e.g. `stampede-watcher`. */
  readonly name: string;
  /** Cap of the reconnect backoff. Default 5 000 ms. */
  readonly maxReconnectDelayMs?: number;
}

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
  return new Redis(options.url, {
    maxRetriesPerRequest: producer ? 1 : null,
    enableOfflineQueue: !producer,
    connectTimeout: producer ? 5_000 : 10_000,
    connectionName: options.name,
    retryStrategy: attempt => reconnectDelay(attempt, cap, Math.random),
    // The default for BullMQ; keyPrefix is forbidden by BullMQ and never set.
    enableReadyCheck: true,
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
