// When to look at a CSR again after decide() said `retry`. Plain capped backoff, except that the
// next attempt never lands later than just after the grace window ends: that is when a still-missing
// Node turns into a NodeNotFound deny, and the kubelet is waiting.
import { backoffDelay } from '@stampede/queue';
import type { BackoffOptions } from '@stampede/queue';

/** Evaluate this long after the grace window ends, so the core sees it as over. */
const AFTER_GRACE_MS = 50;
const MIN_DELAY_MS = 50;

export function retryDecisionDelay(input: {
  /** Attempts that failed before this one. */
  readonly attemptsMade: number;
  readonly createdAtMs: number;
  readonly graceSeconds: number;
  readonly nowMs: number;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
}): number {
  const delay = backoffDelay(input.attemptsMade + 1, input.backoff, input.random);
  const graceEndsInMs = input.createdAtMs + input.graceSeconds * 1_000 - input.nowMs;
  if (graceEndsInMs < 0) return delay;
  return Math.max(MIN_DELAY_MS, Math.min(delay, graceEndsInMs + AFTER_GRACE_MS));
}
