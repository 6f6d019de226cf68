// Rule 15: a requested lifetime, when set, lies within the policy's bounds.
import { violation } from './context.ts';
import type { CheckContext, CheckResult } from './context.ts';

/** Rule 15: `spec.expirationSeconds` between expirationSeconds.min and .max when set. */
export function checkExpiration(ctx: CheckContext): CheckResult {
  const seconds = ctx.request.expirationSeconds;
  if (seconds === undefined) return undefined;
  const { min, max } = ctx.policy.expirationSeconds;
  if (!Number.isSafeInteger(seconds)) {
    return violation('ExpirationTooShort', `expirationSeconds ${seconds} is not a whole number`);
  }
  if (seconds < min) {
    return violation('ExpirationTooShort', `expirationSeconds ${seconds} is less than ${min}`);
  }
  if (seconds > max) {
    return violation('ExpirationTooLong', `expirationSeconds ${seconds} is more than ${max}`);
  }
  return undefined;
}
