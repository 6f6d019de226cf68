// Rule 5: the request is one well-formed PEM block holding a PKCS#10 request (the parser enforces
// the encoding; these checks report its verdict and what it leaves to policy).
import { parsedCsr, show, violation } from './context.ts';
import type { CheckContext, CheckResult } from './context.ts';

export const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** Rule 5: not larger than `maxRequestBytes` (decide() does not parse a larger request at all). */
export function checkRequestSize(ctx: CheckContext): CheckResult {
  const size = ctx.request.request.length;
  if (size <= ctx.policy.maxRequestBytes) return undefined;
  return violation(
    'RequestTooLarge',
    `request is ${size} bytes, more than maxRequestBytes ${ctx.policy.maxRequestBytes}`,
  );
}

/** Rule 5: the parser read the request completely. */
export function checkParsed(ctx: CheckContext): CheckResult {
  if (ctx.parsed === undefined || ctx.parsed.ok) return undefined;
  return violation(ctx.parsed.failure.code, ctx.parsed.failure.message);
}

/**
 * Rule 5: version 1 (encoded 0) and no attribute but a single extensionRequest with one value.
 * A kubelet sends nothing else; Go ignores other attributes, and the signer never copies them.
 */
export function checkAttributes(ctx: CheckContext): CheckResult {
  const csr = parsedCsr(ctx);
  if (csr === undefined) return undefined;
  const found = [];
  if (csr.version !== 0) {
    found.push(violation('MalformedRequest', `request version is ${csr.version + 1}, not 1`));
  }
  const requests = csr.attributes.filter(a => a.oid === OID_EXTENSION_REQUEST);
  if (requests.length > 1 || requests.some(a => a.values.length !== 1)) {
    found.push(
      violation('MalformedRequest', 'request must hold one extensionRequest with one value'),
    );
  }
  for (const attribute of csr.attributes) {
    if (attribute.oid === OID_EXTENSION_REQUEST) continue;
    found.push(
      violation('DisallowedAttribute', `request attribute ${show(attribute.oid)} is not allowed`),
    );
  }
  return found;
}
