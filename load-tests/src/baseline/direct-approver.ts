// The baseline the benchmark compares stampede with: a minimal direct approver in one process, no
// queue. It list/watches kubelet-serving CSRs and Nodes with @stampede/kube, keeps the Nodes (and
// the worker's index of who reports which address, and its Service ranges) in memory, and for each pending CSR asks for a
// SubjectAccessReview, decides with the same pure policy and the same facts, writes the approval
// conditioned on the version it saw, and records an Event, with at most `concurrency` CSRs in flight.
// It is what a controller-runtime approver with an informer cache does, minus leader election.
import { ConflictError, RetryableError } from '@stampede/kube';
import type {
  ApprovalCondition,
  CertificateSigningRequest,
  KubeClient,
  ListWatch,
  StoreChange,
  SubjectAccessReviewSpec,
} from '@stampede/kube';
import {
  csrRequestFromObject,
  decide,
  nodeFactFromObject,
  requiredFacts,
  triage,
} from '@stampede/policy';
import { ClaimsIndex, nodeClaims, startServiceRanges } from '@stampede/worker';
import type {
  CsrRequest,
  Decision,
  Facts,
  NodeFact,
  Policy,
  SignatureVerifier,
} from '@stampede/policy';

export interface DirectApproverLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface DirectApproverOptions {
  readonly kube: KubeClient;
  readonly policy: Policy;
  readonly verifier: SignatureVerifier;
  readonly logger: DirectApproverLogger;
  readonly signal: AbortSignal;
  readonly concurrency: number;
  readonly instance: string;
  readonly now?: () => number;
}

export interface DirectApprover {
  /** Resolves once both the CSR and the Node list/watch have synced. */
  synced(): Promise<void>;
  stats(): Readonly<Record<string, number>>;
  readonly done: Promise<void>;
}

export const BASELINE_CONTROLLER = 'stampede.io/load-test-baseline';

const pendingOnly = (csr: CertificateSigningRequest): CertificateSigningRequest | undefined =>
  (csr.status?.conditions ?? []).length === 0 && (csr.status?.certificate ?? '') === ''
    ? csr
    : undefined;

const toNodeFact = (node: unknown): NodeFact | undefined => {
  const fact = nodeFactFromObject(node);
  return fact.ok ? fact.value : undefined;
};

function conditionOf(decision: Decision): ApprovalCondition | undefined {
  if (decision.kind === 'approve')
    return { type: 'Approved', reason: decision.reason, message: decision.message };
  if (decision.kind === 'deny' && !decision.leavePending)
    return { type: 'Denied', reason: decision.reason, message: decision.message };
  return undefined;
}

export function startDirectApprover(options: DirectApproverOptions): DirectApprover {
  const { kube, policy, logger, signal } = options;
  const now = options.now ?? Date.now;
  const index = new ClaimsIndex();
  const ranges = startServiceRanges({ kube, signal, now });
  const counters: Record<string, number> = {};
  const count = (outcome: string): void => {
    counters[outcome] = (counters[outcome] ?? 0) + 1;
  };
  const queued: string[] = [];
  const queuedSet = new Set<string>();
  const inFlight = new Set<string>();
  /** Changed while in flight: looked at again when that attempt ends. */
  const dirty = new Set<string>();

  const nodes: ListWatch<NodeFact> = kube.watchNodes({
    signal,
    project: toNodeFact,
    onChange: (change: StoreChange<NodeFact>) => {
      index.replace(
        change.previous === undefined ? undefined : nodeClaims(change.previous),
        change.type === 'deleted' ? undefined : nodeClaims(change.value),
      );
    },
  });

  function schedule(name: string): void {
    if (inFlight.has(name)) {
      dirty.add(name);
      return;
    }
    if (queuedSet.has(name)) return;
    queuedSet.add(name);
    queued.push(name);
    pump();
  }

  function later(name: string, delayMs: number): void {
    setTimeout(() => {
      if (!signal.aborted) schedule(name);
    }, delayMs).unref();
  }

  function pump(): void {
    while (inFlight.size < options.concurrency && queued.length > 0 && nodes.stats().synced) {
      const name = queued.shift();
      if (name === undefined) return;
      queuedSet.delete(name);
      inFlight.add(name);
      void handle(name).finally(() => {
        inFlight.delete(name);
        if (dirty.delete(name)) schedule(name);
        pump();
      });
    }
  }

  async function facts(request: CsrRequest): Promise<Facts> {
    const needed = requiredFacts(request, policy);
    const node = needed.nodeName === undefined ? undefined : nodes.store.get(needed.nodeName);
    const nodeFact: Facts['node'] =
      node === undefined ? { state: 'absent' } : { state: 'known', value: node };
    const claimants: Facts['claimants'] = { state: 'known', value: key => index.claimants(key) };
    let authorization: Facts['authorization'] = { state: 'unavailable', reason: 'not needed' };
    if (needed.facts.includes('authorization')) {
      const review = await kube.createSubjectAccessReview(accessReviewSpec(request, policy), {
        signal,
      });
      authorization = { state: 'known', value: { allowed: review.allowed, reason: review.reason } };
    }
    const serviceRanges = needed.facts.includes('serviceRanges')
      ? await ranges.current()
      : { state: 'unavailable' as const, reason: 'not needed' };
    return { nowMs: now(), node: nodeFact, claimants, authorization, serviceRanges };
  }

  /** Writes the decision, conditioned on the version decided on, and its Event. */
  async function write(
    csr: CertificateSigningRequest,
    condition: ApprovalCondition,
  ): Promise<void> {
    const approved = condition.type === 'Approved';
    const updated = await kube.updateApproval(csr, condition, { signal });
    await kube.createEvent(
      {
        csr: updated,
        type: approved ? 'Normal' : 'Warning',
        reason: condition.reason,
        action: approved ? 'Approve' : 'Deny',
        note: condition.message,
        reportingController: BASELINE_CONTROLLER,
        reportingInstance: options.instance,
        dedupeKey: condition.type,
      },
      { signal },
    );
  }

  async function handle(name: string): Promise<void> {
    const csr = csrs.store.get(name);
    if (csr === undefined) return;
    const mapped = csrRequestFromObject(csr);
    if (!mapped.ok || triage(mapped.value) !== undefined) return;
    const started = now();
    try {
      const decision = decide(mapped.value, policy, await facts(mapped.value), options.verifier);
      if (decision.kind === 'retry') {
        count('retry');
        later(name, 1_000);
        return;
      }
      const condition = conditionOf(decision);
      if (condition === undefined) return;
      await write(csr, condition);
      const outcome = condition.type === 'Approved' ? 'approved' : 'denied';
      count(outcome);
      logger.info({ 'csr.name': name, outcome, ms: now() - started }, `csr ${outcome}`);
    } catch (error) {
      if (signal.aborted) return;
      // A conflict means a newer version is on its way through the watch, which schedules it again.
      if (error instanceof ConflictError) {
        count('conflict');
        return;
      }
      count(error instanceof RetryableError ? 'retryable-error' : 'error');
      logger.warn({ 'csr.name': name, err: String(error) }, 'csr not decided this attempt');
      later(name, 1_000);
    }
  }

  const csrs: ListWatch<CertificateSigningRequest> = kube.watchCsrs({
    signal,
    project: pendingOnly,
    onChange: change => {
      if (change.type !== 'deleted') schedule(change.key);
    },
  });

  void nodes.synced().then(pump, () => undefined);
  return {
    async synced() {
      await Promise.all([csrs.synced(), nodes.synced()]);
    },
    stats: () => ({ ...counters, pending: csrs.store.size, inFlight: inFlight.size }),
    done: Promise.all([csrs.done, nodes.done]).then(() => undefined),
  };
}

/** The SubjectAccessReview the worker asks for: may the requester create …/selfnodeserver? */
export function accessReviewSpec(request: CsrRequest, policy: Policy): SubjectAccessReviewSpec {
  return {
    user: request.username,
    ...(request.requesterUid === undefined ? {} : { uid: request.requesterUid }),
    groups: [...request.groups],
    extra: Object.fromEntries(
      Object.entries(request.extra).map(([key, values]) => [key, [...values]]),
    ),
    resourceAttributes: {
      group: 'certificates.k8s.io',
      resource: 'certificatesigningrequests',
      verb: 'create',
      subresource: policy.subjectAccessReview.subresource,
    },
  };
}
