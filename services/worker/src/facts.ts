// Gathering the facts decide() reads: the requesting Node and a SubjectAccessReview from the API
// server, the other claimants of the requested SANs (contest.ts, docs/adr/0019), and the Service
// ranges. A transient failure becomes an `unavailable` fact, which the policy turns
// into a retry and never into a deny. A 429 is rethrown: the API server wants every worker to slow down.
import { RetryableError } from '@stampede/kube';
import type { KubeClient, SubjectAccessReviewSpec } from '@stampede/kube';
import { nodeFactFromObject, requiredFacts } from '@stampede/policy';
import type { CsrRequest, Fact, Facts, NodeFact, Policy } from '@stampede/policy';
import { contestFact } from './contest.ts';
import type { ContestSources } from './contest.ts';
import type { Inventory } from './inventory.ts';
import { servedCertificateHost } from './served-certificate.ts';
import type { ServedCertificates } from './served-certificate.ts';
import type { ServiceRanges } from './service-ranges.ts';

export interface FactSources {
  readonly kube: Pick<KubeClient, 'getNode' | 'createSubjectAccessReview'>;
  readonly nodes: ContestSources['nodes'];
  readonly serviceRanges: Pick<ServiceRanges, 'current'>;
  /** The operator's inventory webhook; only when the policy requires it (config checks that). */
  readonly inventory?: Inventory;
  /** Reads the certificate a kubelet serves; only when the policy accepts it (config checks that). */
  readonly servedCertificates?: ServedCertificates;
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

/** A Node as read now from the API server, with the version it was read at. */
interface ReadNode {
  readonly state: 'known';
  readonly value: NodeFact;
  readonly resourceVersion: string;
}

async function readNode(
  sources: FactSources,
  nodeName: string | undefined,
  what: string,
  signal: AbortSignal,
): Promise<ReadNode | Exclude<Fact<NodeFact>, { state: 'known' }>> {
  if (nodeName === undefined) return { state: 'absent' };
  try {
    const node = await sources.kube.getNode(nodeName, { signal });
    if (node === undefined) return { state: 'absent' };
    const fact = nodeFactFromObject(node);
    if (!fact.ok) return unavailable(`${what}: ${fact.error}`);
    return {
      state: 'known',
      value: fact.value,
      resourceVersion: node.metadata?.resourceVersion ?? '',
    };
  } catch (error) {
    return asUnavailable(error, `GET ${what}`, signal);
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
  requester: ReadNode | Exclude<Fact<NodeFact>, { state: 'known' }>,
  requestedKeys: readonly string[],
  signal: AbortSignal,
): Promise<Facts['claimants']> {
  if (requester.state !== 'known') return unavailable('the requesting Node is not known');
  const contest: ContestSources = {
    nodes: sources.nodes,
    readNode: async name => {
      const read = await readNode(sources, name, `claimant Node ${name}`, signal);
      return read.state === 'known' ? { state: 'known', value: read.value } : read;
    },
  };
  const self = { node: requester.value, resourceVersion: requester.resourceVersion };
  return contestFact(contest, self, requestedKeys, signal);
}

async function serviceRangesFact(
  sources: FactSources,
  signal: AbortSignal,
): Promise<Facts['serviceRanges']> {
  try {
    return await sources.serviceRanges.current();
  } catch (error) {
    return asUnavailable(error, 'Service ranges', signal);
  }
}

async function inventoryFact(
  sources: FactSources,
  input: {
    readonly request: CsrRequest;
    readonly requestedKeys: readonly string[];
    readonly csr?: { readonly name: string; readonly uid: string };
    readonly nodeName: string | undefined;
  },
  signal: AbortSignal,
): Promise<NonNullable<Facts['inventory']>> {
  if (sources.inventory === undefined) return unavailable('no inventory is configured');
  if (input.csr === undefined || input.nodeName === undefined)
    return unavailable('no CSR or node to ask the inventory about');
  const question = {
    csrName: input.csr.name,
    csrUid: input.csr.uid,
    node: input.nodeName,
    username: input.request.username,
    sanKeys: input.requestedKeys,
  };
  return sources.inventory.review(question, signal);
}

async function servedCertificateFact(
  sources: FactSources,
  requester: ReadNode | Exclude<Fact<NodeFact>, { state: 'known' }>,
  requestedKeys: readonly string[],
  signal: AbortSignal,
): Promise<NonNullable<Facts['servedCertificate']>> {
  if (sources.servedCertificates === undefined) return unavailable('no served-certificate reader');
  if (requester.state !== 'known') return unavailable('the requesting Node is not known');
  const host = servedCertificateHost(requester.value, requestedKeys);
  if (host === undefined) return unavailable('no InternalIP of the Node that the CSR asks for');
  return sources.servedCertificates.read(host, requester.value.name, signal);
}

/**
 * The facts for one request; only what the policy needs is fetched. `requestedKeys` are the CSR's
 * well-formed SAN keys (requestedSanKeys): the contest looks at nothing else.
 */
export async function gatherFacts(
  sources: FactSources,
  input: {
    readonly request: CsrRequest;
    readonly policy: Policy;
    readonly requestedKeys: readonly string[];
    /** The CSR's name and uid, for the inventory's review. */
    readonly csr?: { readonly name: string; readonly uid: string };
  },
  signal: AbortSignal,
): Promise<Facts> {
  const { request, policy, requestedKeys } = input;
  const needed = requiredFacts(request, policy);
  const notNeeded = unavailable('not needed by the policy');
  const [read, authorization, serviceRanges, inventory] = await Promise.all([
    readNode(sources, needed.nodeName, 'Node', signal),
    needed.facts.includes('authorization')
      ? authorizationFact(sources, request, policy, signal)
      : notNeeded,
    needed.facts.includes('serviceRanges') ? serviceRangesFact(sources, signal) : notNeeded,
    needed.facts.includes('inventory')
      ? inventoryFact(sources, { ...input, nodeName: needed.nodeName }, signal)
      : notNeeded,
  ]);
  const [claimants, servedCertificate] = await Promise.all([
    needed.facts.includes('claimants')
      ? claimantsFact(sources, read, requestedKeys, signal)
      : notNeeded,
    // Only an inventory that cannot answer lets the served certificate count: no dial otherwise.
    needed.facts.includes('servedCertificate') && inventory.state !== 'known'
      ? servedCertificateFact(sources, read, requestedKeys, signal)
      : notNeeded,
  ]);
  const node: Fact<NodeFact> =
    read.state === 'known' ? { state: 'known', value: read.value } : read;
  return {
    nowMs: sources.now(),
    node,
    claimants,
    authorization,
    serviceRanges,
    inventory,
    servedCertificate,
  };
}
