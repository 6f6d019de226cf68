// BullMQ moves every job with Lua scripts (EVALSHA). A Redis user refused them (an ACL without
// @scripting) still connects, pings and answers INFO, and then fails every queue operation: the
// service would look healthy and do nothing. So each service runs one script at start-up and stops
// with a message that names the fix.
import type { Redis } from 'ioredis';

/** Thrown at start-up when the Redis user may not run scripts. */
export class RedisScriptingError extends Error {}

// Declared read-only (no-writes): a full Redis (maxmemory reached) still runs it.
const PROBE = '#!lua flags=no-writes\nreturn 1';

/** Resolves if the connection may run a script; rejects with RedisScriptingError if Redis says no. */
export async function checkScripting(redis: Pick<Redis, 'eval'>): Promise<void> {
  try {
    await redis.eval(PROBE, 0);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Anything but a refusal (a dropped connection) is not ours to explain.
    if (!message.startsWith('NOPERM')) throw error;
    throw new RedisScriptingError(
      `the Redis user may not run scripts (${message}); BullMQ needs EVAL and EVALSHA: ` +
        'grant the user +@scripting',
    );
  }
}
