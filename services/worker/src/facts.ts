// Gathering the facts decide() reads: the requesting Node and a SubjectAccessReview from the API
// server, the other claimants of its addresses from the worker's own Node watch (docs/adr/0019),
// and the Service ranges. A transient failure becomes an `unavailable` fact, which the policy turns
// into a retry and never into a deny. A 429 is rethrown: the API server wants every worker to slow down.
import { RetryableError } from '@stampede/kube';
import type { KubeClient, SubjectAccessReviewSpec } from '@stampede/kube';
import { nodeFactFromObject, reportedAddressKeys, requiredFacts } from '@stampede/policy';
import type { AddressClaimant, CsrRequest, Fact, Facts, NodeFact, Policy } from '@stampede/policy';
import type { NodeView } from './node-view.ts';
import type { ServiceRanges } from './service-ranges.ts';

export interface FactSources {
  readonly kube: Pick<KubeClient, 'getNode' | 'createSubjectAccessReview'>;
  readonly nodes: Pick<NodeView, 'synced' | 'claimants' | 'caughtUp'>;
  readonly serviceRanges: Pick<ServiceRanges, 'current'>;
  readonly now: () => number;
}

/** How long a job waits for the Node watch to reach the requesting Node's version before retrying. */
export const CATCH_UP_TIMEOUT_MS = 5_000;
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

/** A creation time that is not a number counts as the newest (as in the contest rule). */
const age = (c: AddressClaimant): number =>
  Number.isFinite(c.createdAtMs) ? c.createdAtMs : Infinity;

/**
 * Whether a claimant can change the contest: it is older than the requester (ties broken by name,
 * as the rule does), or the key is its own name. Newer claimants never win, so they are not read.
 */
function couldContest(key: string, claimant: AddressClaimant, requester: AddressClaimant): boolean {
  if (key === `dns:${claimant.node}`) return true;
  return (
    age(claimant) < age(requester) ||
    (age(claimant) === age(requester) && claimant.node < requester.node)
  );
}

/** The claimants the watch shows that could win against the requester, with the keys they claim. */
function suspects(sources: FactSources, requester: NodeFact): Map<string, string[]> {
  const self: AddressClaimant = { node: requester.name, createdAtMs: requester.createdAtMs };
  const found = new Map<string, string[]>();
  for (const key of reportedAddressKeys(requester)) {
    for (const claimant of sources.nodes.claimants(key)) {
      if (claimant.node === self.node || !couldContest(key, claimant, self)) continue;
      found.set(claimant.node, [...(found.get(claimant.node) ?? []), key]);
    }
  }
  return found;
}

/** Reads each suspect now: it contests only the keys it still reports. */
async function confirm(
  sources: FactSources,
  suspected: ReadonlyMap<string, readonly string[]>,
  signal: AbortSignal,
): Promise<Facts['claimants']> {
  const names = [...suspected.keys()];
  const reads = await Promise.all(
    names.map(name => readNode(sources, name, `claimant Node ${name}`, signal)),
  );
  const confirmed = new Map<string, AddressClaimant[]>();
  for (const [i, read] of reads.entries()) {
    if (read.state === 'absent') continue;
    if (read.state === 'unavailable') return read;
    const reports = reportedAddressKeys(read.value);
    const claimant = { node: read.value.name, createdAtMs: read.value.createdAtMs };
    for (const key of suspected.get(names[i] ?? '') ?? []) {
      if (reports.has(key)) confirmed.set(key, [...(confirmed.get(key) ?? []), claimant]);
    }
  }
  return { state: 'known', value: key => confirmed.get(key) ?? [] };
}

/**
 * Other Nodes reporting the requester's addresses. Absence comes from the worker's Node watch once
 * it has applied every change up to the version the requester was read at; presence is confirmed
 * by reading each claimant that could win from the API server now, so a deleted Node or a released
 * address in a lagging watch never denies anyone.
 */
async function claimantsFact(
  sources: FactSources,
  node: ReadNode | Exclude<Fact<NodeFact>, { state: 'known' }>,
  signal: AbortSignal,
): Promise<Facts['claimants']> {
  if (node.state !== 'known') return unavailable('the requesting Node is not known');
  if (!sources.nodes.synced()) return unavailable('the Node watch has not synced yet');
  const caught = await sources.nodes.caughtUp(node.resourceVersion, CATCH_UP_TIMEOUT_MS, signal);
  if (caught === 'timeout') {
    return unavailable(
      `the Node watch has not reached Node ${node.value.name}'s resourceVersion ${node.resourceVersion}`,
    );
  }
  if (caught === 'incomparable') {
    return unavailable(
      `resourceVersion ${node.resourceVersion} cannot be ordered against the Node watch`,
    );
  }
  return confirm(sources, suspects(sources, node.value), signal);
}

async function serviceRangesFact(
  sources: FactSources,
  signal: AbortSignal,
): Promise<Facts['serviceRanges']> {
  try {
    return await sources.serviceRanges.current(signal);
  } catch (error) {
    return asUnavailable(error, 'Service ranges', signal);
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
  const [read, authorization, serviceRanges] = await Promise.all([
    readNode(sources, needed.nodeName, 'Node', signal),
    needed.facts.includes('authorization')
      ? authorizationFact(sources, request, policy, signal)
      : notNeeded,
    needed.facts.includes('serviceRanges') ? serviceRangesFact(sources, signal) : notNeeded,
  ]);
  const claimants = needed.facts.includes('claimants')
    ? await claimantsFact(sources, read, signal)
    : notNeeded;
  const node: Fact<NodeFact> =
    read.state === 'known' ? { state: 'known', value: read.value } : read;
  return { nowMs: sources.now(), node, claimants, authorization, serviceRanges };
}
