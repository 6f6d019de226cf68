// Gathering the facts decide() reads (design/policy.md): the requesting Node from the API server,
// the other claimants of its addresses from the Redis address index, and a SubjectAccessReview.
// A transient failure becomes an `unavailable` fact, which the policy turns into a retry and never
// into a deny. A 429 is rethrown: the API server wants every worker to slow down.
import { RetryableError } from '@stampede/kube';
import type { KubeClient, SubjectAccessReviewSpec } from '@stampede/kube';
import { nodeFactFromObject, reportedAddressKeys, requiredFacts } from '@stampede/policy';
import type { AddressClaimant, CsrRequest, Fact, Facts, NodeFact, Policy } from '@stampede/policy';
import type { AddressIndex } from '@stampede/queue';

export interface FactSources {
  readonly kube: Pick<KubeClient, 'getNode' | 'createSubjectAccessReview'>;
  readonly index: Pick<AddressIndex, 'lookup'>;
  readonly now: () => number;
}

const unavailable = (reason: string): { state: 'unavailable'; reason: string } => ({
  state: 'unavailable',
  reason,
});

/** Throttling and cancellation propagate; any other failure is a transient, unavailable fact. */
function asUnavailable(error: unknown, what: string, signal: AbortSignal) {
  if (signal.aborted) throw error;
  if (error instanceof RetryableError && error.kind === 'throttled') throw error;
  const detail = error instanceof Error ? error.message : String(error);
  return unavailable(`${what} failed: ${detail.slice(0, 200)}`);
}

async function nodeFact(
  sources: FactSources,
  nodeName: string | undefined,
  signal: AbortSignal,
): Promise<Fact<NodeFact>> {
  if (nodeName === undefined) return { state: 'absent' };
  try {
    const node = await sources.kube.getNode(nodeName, { signal });
    if (node === undefined) return { state: 'absent' };
    const fact = nodeFactFromObject(node);
    return fact.ok ? { state: 'known', value: fact.value } : unavailable(fact.error);
  } catch (error) {
    return asUnavailable(error, 'GET Node', signal);
  }
}

export function accessReviewSpec(request: CsrRequest, policy: Policy): SubjectAccessReviewSpec {
  const extra = Object.fromEntries(
    Object.entries(request.extra).map(([key, values]) => [key, [...values]]),
  );
  return {
    user: request.username,
    ...(request.requesterUid === undefined ? {} : { uid: request.requesterUid }),
    groups: [...request.groups],
    extra,
    resourceAttributes: {
      group: 'certificates.k8s.io',
      resource: 'certificatesigningrequests',
      verb: 'create',
      subresource: policy.subjectAccessReview.subresource,
    },
  };
}

async function authorizationFact(
  sources: FactSources,
  request: CsrRequest,
  policy: Policy,
  signal: AbortSignal,
): Promise<Facts['authorization']> {
  try {
    const review = await sources.kube.createSubjectAccessReview(accessReviewSpec(request, policy), {
      signal,
    });
    // An authorizer error with no allow is an incomplete answer, not a refusal.
    if (!review.allowed && review.evaluationError !== undefined && review.evaluationError !== '') {
      return unavailable(`SubjectAccessReview evaluation error: ${review.evaluationError}`);
    }
    return { state: 'known', value: { allowed: review.allowed, reason: review.reason } };
  } catch (error) {
    return asUnavailable(error, 'SubjectAccessReview', signal);
  }
}

async function claimantsFact(
  sources: FactSources,
  node: Fact<NodeFact>,
  signal: AbortSignal,
): Promise<Facts['claimants']> {
  if (node.state !== 'known') return unavailable('the requesting Node is not known');
  try {
    const lookup = await sources.index.lookup([...reportedAddressKeys(node.value)]);
    if (!lookup.synced) return unavailable('the Node address index is not synced yet');
    const requester = node.value.name;
    const byKey = lookup.claimants;
    const claimants = (key: string): readonly AddressClaimant[] =>
      (byKey.get(key) ?? []).filter(claimant => claimant.node !== requester);
    return { state: 'known', value: claimants };
  } catch (error) {
    return asUnavailable(error, 'address index lookup', signal);
  }
}

/** The facts for one request; only what the policy needs is fetched. */
export async function gatherFacts(
  sources: FactSources,
  request: CsrRequest,
  policy: Policy,
  signal: AbortSignal,
): Promise<Facts> {
  const needed = requiredFacts(request, policy);
  const notNeeded = unavailable('not needed by the policy');
  const [node, authorization] = await Promise.all([
    nodeFact(sources, needed.nodeName, signal),
    needed.facts.includes('authorization')
      ? authorizationFact(sources, request, policy, signal)
      : notNeeded,
  ]);
  const claimants = needed.facts.includes('claimants')
    ? await claimantsFact(sources, node, signal)
    : notNeeded;
  return { nowMs: sources.now(), node, claimants, authorization };
}
