// `kubectl stampede explain`: one live CSR decided with the worker's own code, read with the user's
// kubeconfig. The facts come from the worker's gatherFacts over the worker's own Node view and
// Service ranges (a LIST and a watch each, for as long as the command runs), and the decision from
// the policy's decideParsed, so what is printed is what a worker would decide. Nothing is written.
import { toReport } from '@stampede/cli/report';
import type { CheckReport } from '@stampede/cli/report';
import { ForbiddenError, NotFoundError } from '@stampede/kube';
import type { CertificateSigningRequest, KubeClient } from '@stampede/kube';
import {
  csrRequestFromObject,
  decideParsed,
  nodeNameFromUsername,
  parseRequest,
  requestedSanKeys,
} from '@stampede/policy';
import type { Decision, Policy, SignatureVerifier } from '@stampede/policy';
import {
  conditionOf,
  gatherFacts,
  startNodeView,
  startServiceRanges,
} from '@stampede/worker/facts';
import type { FactSources, NodeView, ServiceRanges } from '@stampede/worker/facts';

/** What the plugin reads with the user's credentials (get/list/watch; create SAR when allowed). */
export type ExplainKube = Pick<
  KubeClient,
  | 'getCsr'
  | 'getNode'
  | 'getService'
  | 'createSubjectAccessReview'
  | 'watchNodes'
  | 'watchServiceCidrs'
>;

export interface Views {
  readonly nodes: NodeView;
  readonly serviceRanges: ServiceRanges;
  /** Stops both watches. */
  readonly close: () => void;
}

/**
 * Starts the worker's Node view and Service ranges and waits, at most `timeoutMs`, until both have
 * listed (the condition a worker waits for before its first job). Past it the facts are whatever
 * the views can say, which the policy turns into a retry, as it would for a worker.
 */
export async function startViews(
  kube: ExplainKube,
  options: { readonly timeoutMs: number; readonly now: () => number },
): Promise<Views> {
  const controller = new AbortController();
  const nodes = startNodeView({ kube, signal: controller.signal, now: options.now });
  const serviceRanges = startServiceRanges({ kube, signal: controller.signal, now: options.now });
  const synced = (): boolean => {
    const ranges = serviceRanges.stats();
    return nodes.synced() && (ranges.synced || ranges.lastErrorStatus === 404);
  };
  const deadline = Date.now() + options.timeoutMs;
  while (!synced() && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  return {
    nodes,
    serviceRanges,
    close: () => {
      controller.abort();
    },
  };
}

/** Whether the SubjectAccessReview was asked, skipped for lack of permission, or not needed. */
export type AccessReviewNote =
  | { readonly state: 'asked'; readonly allowed: boolean; readonly reason: string }
  | { readonly state: 'skipped'; readonly reason: string }
  | { readonly state: 'not-needed' };

/** The settled condition on the CSR as read (whoever wrote it). */
export interface Recorded {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

export interface Explanation {
  readonly report: CheckReport;
  /** The condition a worker would write for this decision (approve, deny without leave-pending). */
  readonly wouldWrite?: {
    readonly type: string;
    readonly reason: string;
    readonly message: string;
  };
  readonly accessReview: AccessReviewNote;
  /** Set when the CSR is already settled: it was then evaluated as if it were still pending. */
  readonly recorded?: Recorded;
  readonly createdAt: string | undefined;
}

/** The condition that settled the CSR, if any. */
function recordedOf(csr: CertificateSigningRequest): Recorded | undefined {
  const settled = csr.status?.conditions?.find(
    c => c.type === 'Approved' || c.type === 'Denied' || c.type === 'Failed',
  );
  if (settled === undefined) return undefined;
  return { type: settled.type, reason: settled.reason ?? '', message: settled.message ?? '' };
}

/** The answer shown when the user may not ask: assumed allowed, as `stampede check` assumes. */
export const ASSUMED_ALLOWED = 'assumed allowed (as deploy/ grants every node)';

/**
 * The kube calls gatherFacts makes, with the SubjectAccessReview noted: a 403 on creating it means
 * the user may not ask, so it is skipped and assumed allowed rather than turned into a retry.
 */
function sourcesFor(
  kube: ExplainKube,
  views: Views,
  now: () => number,
): { sources: FactSources; note: () => AccessReviewNote } {
  let note: AccessReviewNote = { state: 'not-needed' };
  const sources: FactSources = {
    now,
    nodes: views.nodes,
    serviceRanges: views.serviceRanges,
    kube: {
      getNode: (name, options) => kube.getNode(name, options),
      createSubjectAccessReview: async (spec, options) => {
        try {
          const review = await kube.createSubjectAccessReview(spec, options);
          note = { state: 'asked', allowed: review.allowed, reason: review.reason };
          return review;
        } catch (error) {
          if (!(error instanceof ForbiddenError)) throw error;
          note = { state: 'skipped', reason: error.message };
          return { allowed: true, denied: false, reason: ASSUMED_ALLOWED };
        }
      },
    },
  };
  return { sources, note: () => note };
}

/** A CSR the user named that does not exist. */
export class NoSuchCsrError extends Error {}

export interface ExplainOptions {
  readonly kube: ExplainKube;
  readonly views: Views;
  readonly policy: Policy;
  readonly verifier: SignatureVerifier;
  readonly now: () => number;
  readonly signal: AbortSignal;
}

/** Reads the CSR named `name` and decides it as a worker would (a settled one as if pending). */
export async function explainCsr(options: ExplainOptions, name: string): Promise<Explanation> {
  let csr: CertificateSigningRequest;
  try {
    csr = await options.kube.getCsr(name, { signal: options.signal });
  } catch (error) {
    if (error instanceof NotFoundError) throw new NoSuchCsrError(`no CSR named ${name}`);
    throw error;
  }
  return explainObject(options, csr);
}

/** Decides a CSR object as read (used by `explain` and by `pending` for each pending CSR). */
export async function explainObject(
  options: ExplainOptions,
  csr: CertificateSigningRequest,
): Promise<Explanation> {
  const recorded = recordedOf(csr);
  // A worker ignores a settled CSR; to say what it decided (or would now), read it as pending.
  const evaluated = recorded === undefined ? csr : { ...csr, status: {} };
  const name = csr.metadata?.name ?? '';
  const createdAt = csr.metadata?.creationTimestamp;
  const mapped = csrRequestFromObject(evaluated);
  if (!mapped.ok) {
    const decision: Decision = {
      kind: 'ignore',
      reason: { code: 'Unmappable', message: mapped.error },
    };
    return {
      report: toReport(decision, name, undefined),
      accessReview: { state: 'not-needed' },
      createdAt,
    };
  }
  const request = mapped.value;
  const parsed = parseRequest(request, options.policy);
  const requestedKeys = requestedSanKeys(parsed, options.policy);
  const { sources, note } = sourcesFor(options.kube, options.views, options.now);
  const csrRef = { name, uid: request.uid };
  const facts = await gatherFacts(
    sources,
    { request, policy: options.policy, requestedKeys, csr: csrRef },
    options.signal,
  );
  const decision = decideParsed({ request, parsed }, options.policy, facts, options.verifier);
  const condition = conditionOf(decision);
  return {
    report: toReport(decision, name, nodeNameFromUsername(request.username)),
    ...(condition === undefined ? {} : { wouldWrite: condition }),
    accessReview: note(),
    ...(recorded === undefined ? {} : { recorded }),
    createdAt,
  };
}
