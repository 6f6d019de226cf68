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

/** How often the services read the policy again after start-up. */
export const EVICTION_RECHECK_MS = 10_000;

/** Logged when a running service finds Redis may now evict keys. */
export const EVICTING_NOW =
  'Redis maxmemory-policy now allows eviction: queued CSRs, locks and deduplication keys may be ' +
  'dropped once memory is full; set maxmemory-policy noeviction (not ready until then)';

export interface EvictionWatch {
  /** The policy last read, and whether it is safe (noeviction, or allowed by the operator). */
  current(): { readonly ok: boolean; readonly policy: string };
  stop(): void;
}

/**
 * Reads the policy again every `intervalMs`: a Redis reconfigured, or a replica promoted with
 * another config, can start evicting long after the start-up check. An unsafe policy is reported
 * (`onUnsafe`, and current().ok false for the readiness check) rather than stopping decisions: the
 * keys are only at risk once memory is full, and an operator must see it before then. A failed read
 * keeps the last answer; the connection's own check reports Redis being away.
 */
export function watchEvictionPolicy(
  redis: Pick<Redis, 'info'>,
  options: {
    readonly allowEviction: boolean;
    readonly initial: string;
    readonly intervalMs: number;
    readonly onUnsafe: (policy: string) => void;
  },
): EvictionWatch {
  const safe = (policy: string) => policy === 'noeviction' || options.allowEviction;
  let last = { ok: safe(options.initial), policy: options.initial };
  const timer = setInterval(() => {
    redis.info('memory').then(
      info => {
        const policy = maxmemoryPolicyFromInfo(info) ?? '(not reported)';
        const ok = safe(policy);
        if (!ok && (last.ok || last.policy !== policy)) options.onUnsafe(policy);
        last = { ok, policy };
      },
      () => undefined,
    );
  }, options.intervalMs);
  timer.unref();
  return {
    current: () => last,
    stop: () => {
      clearInterval(timer);
    },
  };
}
