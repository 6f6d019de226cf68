// decide(): the one entry point of the policy core. Pure and synchronous; it never throws.
import { requestedSans, wellFormedSans } from './checks/sans.ts';
import { parseCsr } from './csr/pkcs10.ts';
import { evaluate, triage } from './evaluate.ts';
import type { Policy } from './policy.ts';
import type { CsrRequest, Decision, Facts, ParseResult, SignatureVerifier } from './types.ts';

/** `spec.request` parsed as decide() parses it; undefined when above maxRequestBytes. */
export function parseRequest(request: CsrRequest, policy: Policy): ParseResult | undefined {
  return request.request.length > policy.maxRequestBytes ? undefined : parseCsr(request.request);
}

/**
 * The canonical keys (`dns:…`, `ip:…`, as in Facts.claimants) of the well-formed SANs of a parsed
 * request, at most maxSans of them (more is a deny anyway). The shell asks who else reports these and
 * nothing else: a Node's own address list is the Node's to write, and may be huge.
 */
export function requestedSanKeys(parsed: ParseResult | undefined, policy: Policy): string[] {
  if (parsed?.ok !== true) return [];
  const keys = wellFormedSans(requestedSans(parsed.csr.sans)).map(san => san.key);
  return [...new Set(keys)].slice(0, policy.maxSans);
}

/**
 * Decides one kubelet-serving CSR (the rules: packages/policy/README.md):
 * 1. triage (rules 1–2): another signer, or already settled → `ignore`;
 * 2. parse `spec.request` (a request above maxRequestBytes is not parsed at all);
 * 3. every fact-free rule (3–13 but the Service ranges, 15, and the allow-lists of 14) → `deny` with
 *    all violations at once, even while the Node is missing;
 * 4. facts: a fact `unavailable` → `retry`; the Node absent → `retry` until `nodeGraceSeconds` after
 *    the CSR's creation, then `deny NodeNotFound`;
 * 5. the rules that read facts (Service IP ranges, ownership, contested SANs, SubjectAccessReview)
 *    → `deny` or `approve`.
 *
 * `facts` need only hold what `requiredFacts()` lists. The verifier is called at most once, and only
 * for an algorithm and key the policy allows.
 *
 * If a bug makes any step throw, the result is `ignore` with reason `InternalError`: nothing is
 * written (never an approval, never a deny), and the watcher's periodic re-list brings the CSR back.
 */
export function decide(
  request: CsrRequest,
  policy: Policy,
  facts: Facts,
  verifier: SignatureVerifier,
): Decision {
  return decideParsed({ request, parsed: parseRequest(request, policy) }, policy, facts, verifier);
}

/** decide() for a request the shell already parsed with parseRequest (the worker parses once). */
export function decideParsed(
  prepared: { readonly request: CsrRequest; readonly parsed: ParseResult | undefined },
  policy: Policy,
  facts: Facts,
  verifier: SignatureVerifier,
): Decision {
  const { request, parsed } = prepared;
  try {
    const ignored = triage(request);
    if (ignored !== undefined) return { kind: 'ignore', reason: ignored };
    return evaluate({ request, parsed, policy, facts, verifier });
  } catch (error) {
    const detail = error instanceof Error ? error.message : 'unknown error';
    return {
      kind: 'ignore',
      reason: {
        code: 'InternalError',
        message: `policy evaluation failed: ${detail.slice(0, 200)}`,
      },
    };
  }
}
