// Redis must never drop a key on its own: an evicted job is a CSR nobody decides until the next
// relist, an evicted lock or deduplication key is duplicate work. BullMQ asks for `noeviction`;
// the services refuse to start on anything else unless the operator says so (REDIS_ALLOW_EVICTION).
import type { Redis } from 'ioredis';

/** Thrown at start-up when Redis may evict keys and the operator has not allowed it. */
export class EvictionPolicyError extends Error {}

/** `maxmemory_policy` from INFO memory (readable without CONFIG rights); undefined if not reported. */
export function maxmemoryPolicyFromInfo(info: string): string | undefined {
  const line = info.split(/\r?\n/).find(l => l.startsWith('maxmemory_policy:'));
  return line?.slice('maxmemory_policy:'.length).trim();
}

/**
 * Resolves the policy when it is `noeviction` (or allowed); rejects with EvictionPolicyError
 * otherwise, naming the policy and the way out.
 */
export async function checkEvictionPolicy(
  redis: Pick<Redis, 'info'>,
  options: { readonly allowEviction: boolean },
): Promise<string> {
  const policy = maxmemoryPolicyFromInfo(await redis.info('memory')) ?? '(not reported)';
  if (policy === 'noeviction' || options.allowEviction) return policy;
  throw new EvictionPolicyError(
    `Redis maxmemory-policy is ${policy}: Redis may evict queued CSRs, locks and deduplication keys. ` +
      'Set maxmemory-policy noeviction (the shipped redis.conf does), or REDIS_ALLOW_EVICTION=true to accept it.',
  );
}
