// What a Redis must offer besides noeviction (eviction.ts), checked once at start-up so that a
// service on the wrong Redis stops with a message naming the fix instead of looking healthy:
// - not Redis Cluster: every key shares the hash tag {stampede}, but the services speak to one
//   node and would meet MOVED on every command a node does not own;
// - scripts: BullMQ moves every job with Lua scripts (EVALSHA). A user refused them (an ACL
//   without @scripting) still connects, pings and answers INFO, and then fails every operation.
import type { Redis } from 'ioredis';

/** Thrown at start-up when Redis lacks something the queue needs. */
export class RedisRequirementError extends Error {}

/** `cluster_enabled` from INFO cluster. */
export function clusterEnabled(info: string): boolean {
  return info.split(/\r?\n/).some(line => line.trim() === 'cluster_enabled:1');
}

// Declared read-only (no-writes): a full Redis (maxmemory reached) still runs it.
const PROBE = '#!lua flags=no-writes\nreturn 1';

/** Resolves if this Redis will do; rejects with RedisRequirementError naming what is missing. */
export async function checkRedisRequirements(redis: Pick<Redis, 'eval' | 'info'>): Promise<void> {
  if (clusterEnabled(await redis.info('cluster'))) {
    throw new RedisRequirementError(
      'Redis Cluster is not supported: point REDIS_URL at a standalone primary, or use Sentinel',
    );
  }
  try {
    await redis.eval(PROBE, 0);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Anything but a refusal (a dropped connection) is not ours to explain.
    if (!message.startsWith('NOPERM')) throw error;
    throw new RedisRequirementError(
      `the Redis user may not run scripts (${message}); BullMQ needs EVAL and EVALSHA: ` +
        'grant the user +@scripting',
    );
  }
}
