// Rules 3–4: the requester is a node identity.
import { isDns1123Subdomain } from '../dns.ts';
import { show, violation } from './context.ts';
import type { CheckContext, CheckResult } from './context.ts';

const NODE_PREFIX = 'system:node:';
export const REQUIRED_GROUPS: readonly string[] = ['system:nodes', 'system:authenticated'];

/** The node name in `system:node:<nodeName>`, or undefined unless it is a DNS-1123 subdomain. */
export function nodeNameFromUsername(username: string): string | undefined {
  if (!username.startsWith(NODE_PREFIX)) return undefined;
  const name = username.slice(NODE_PREFIX.length);
  return isDns1123Subdomain(name) ? name : undefined;
}

/** Rule 3: `spec.username` is `system:node:<nodeName>`. */
export function checkUsername(ctx: CheckContext): CheckResult {
  if (ctx.nodeName !== undefined) return undefined;
  return violation(
    'InvalidUsername',
    `username ${show(ctx.request.username)} is not system:node:<nodeName> with a DNS-1123 node name`,
  );
}

/** Rule 4: `spec.groups` contains system:nodes and system:authenticated. */
export function checkGroups(ctx: CheckContext): CheckResult {
  return REQUIRED_GROUPS.filter(group => !ctx.request.groups.includes(group)).map(group =>
    violation('MissingGroup', `requester is not in group ${group}`),
  );
}
