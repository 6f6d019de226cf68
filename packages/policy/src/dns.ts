// DNS names as the policy compares them: ASCII-lowercase, one trailing dot removed.

const UPPER = /[A-Z]/g;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Lowercases ASCII letters only and removes one trailing dot. Unicode case mapping is deliberately not
 * used: `'\u212A'.toLowerCase()` is `k`, which would let a non-ASCII name compare equal to an ASCII one.
 */
export function normaliseDnsName(raw: string): string {
  const lower = raw.replace(UPPER, c => c.toLowerCase());
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Why `name` (already normalised) is not an RFC 1123 hostname, or undefined when it is one:
 * at most 253 characters, labels of 1–63 letters, digits and inner hyphens, no wildcard.
 */
export function hostnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  if (name.includes('*')) return 'is a wildcard';
  for (const label of name.split('.')) {
    if (label.length === 0) return 'has an empty label';
    if (label.length > 63) return 'has a label longer than 63 characters';
    if (!LABEL.test(label)) return 'is not a valid hostname (letters, digits, inner hyphens)';
  }
  return undefined;
}

/** Kubernetes' DNS-1123 subdomain, the rule for object names such as a Node's (lowercase only). */
export function isDns1123Subdomain(name: string): boolean {
  return name.length > 0 && name.length <= 253 && SUBDOMAIN.test(name);
}

/**
 * Whether a name (already normalised) ends in an all-digit label: `10.0.0.11`, `167772171`,
 * `node.123`. RFC 1123 §2.1 keeps host names apart from dotted-decimal addresses by the top-level
 * label, which is never all digits; a client that meets such a name may well read it as an address.
 */
export function isIpLiteralName(name: string): boolean {
  return /^[0-9]+$/.test(name.slice(name.lastIndexOf('.') + 1));
}
