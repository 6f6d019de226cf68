// decide(): the one entry point of the policy core. Pure and synchronous; it never throws.
import { parseCsr } from './csr/pkcs10.ts';
import { evaluate, triage } from './evaluate.ts';
import type { Policy } from './policy.ts';
import type { CsrRequest, Decision, Facts, SignatureVerifier } from './types.ts';

/**
 * Decides one kubelet-serving CSR (design/policy.md):
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
  try {
    const ignored = triage(request);
    if (ignored !== undefined) return { kind: 'ignore', reason: ignored };
    const tooLarge = request.request.length > policy.maxRequestBytes;
    const parsed = tooLarge ? undefined : parseCsr(request.request);
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
