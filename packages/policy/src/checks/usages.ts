// Rule 9: spec.usages is exactly one of the allowed sets (no client auth, nothing else).
import { show, violation } from './context.ts';
import type { CheckContext, CheckResult } from './context.ts';

/** Rule 9: set-equal to an allowed usage set, without duplicates. */
export function checkUsages(ctx: CheckContext): CheckResult {
  const { usages } = ctx.request;
  const key = [...usages].sort().join(',');
  const unique = new Set(usages).size === usages.length;
  if (unique && ctx.policy.allowedUsageSets.includes(key)) return undefined;
  const allowed = ctx.policy.allowedUsageSets
    .map(set => `{${set.split(',').join(', ')}}`)
    .join(' or ');
  const requested = usages.map(show).join(', ');
  return violation('DisallowedUsages', `usages {${requested}} are not ${allowed}`);
}
