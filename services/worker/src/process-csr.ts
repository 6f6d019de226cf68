// One job, start to end: read the CSR (never trust the job), check it is the same object, decide,
// write the decision conditioned on the version read, and record an Event. Every step is safe to
// repeat: a redelivered or concurrent job reads the decided CSR and writes nothing new.
import { ConflictError, NotFoundError, RetryableError } from '@stampede/kube';
import type {
  ApprovalCondition,
  CertificateSigningRequest,
  CsrCondition,
  KubeClient,
} from '@stampede/kube';
import {
  csrRequestFromObject,
  decideParsed,
  parseRequest,
  requestedSanKeys,
  triage,
} from '@stampede/policy';
import type { CsrRequest, Policy, SignatureVerifier } from '@stampede/policy';
import { RetryLaterError, ThrottledError } from '@stampede/queue';
import type { ApprovalProcessor, BackoffOptions, JobContext, QueueLogger } from '@stampede/queue';
import { APPROVAL_QUEUE } from '@stampede/contracts';
import type { CsrJob } from '@stampede/contracts';
import {
  SpanKind,
  annotateActiveSpan,
  contextFromCarrier,
  inSpan,
  noopTracer,
} from '@stampede/telemetry';
import type { Tracer } from '@stampede/telemetry';
import { gatherFacts } from './facts.ts';
import type { FactSources } from './facts.ts';
import { readCsr, readsAfter } from './read-csr.ts';
import type { CsrReads } from './read-csr.ts';
import { retryDecisionDelay } from './retry-delay.ts';
import { REPORTING_CONTROLLER, conditionOf, writtenByUs } from './condition.ts';

// The conditions and the Events' controller name live in condition.ts, which `kubectl stampede`
// imports without the queue and tracing this module needs.
export { REPORTING_CONTROLLER, conditionOf, writtenByUs } from './condition.ts';

export type EventPolicy = 'all' | 'denials';

/** Re-reads after 409 Conflict within one attempt; beyond that the job backs off. */
const MAX_CONFLICTS = 5;

export interface ProcessDeps {
  readonly kube: Pick<
    KubeClient,
    'getCsr' | 'updateApproval' | 'createEvent' | 'getNode' | 'createSubjectAccessReview'
  >;
  /** The worker's own Node watch: who else reports an address (docs/adr/0019). */
  readonly nodes: FactSources['nodes'];
  readonly serviceRanges: FactSources['serviceRanges'];
  /** The operator's inventory webhook, when the policy requires it (docs/adr/0022). */
  readonly inventory?: FactSources['inventory'];
  /** Reads the certificate a kubelet serves, when the policy accepts it (docs/adr/0024). */
  readonly servedCertificates?: FactSources['servedCertificates'];
  readonly policy: Policy;
  /** Where the CSR is read first: the watch cache ('cache-first', docs/adr/0020) or etcd (default). */
  readonly csrReads?: CsrReads;
  readonly verifier: SignatureVerifier;
  readonly logger: QueueLogger;
  readonly now: () => number;
  readonly backoff: BackoffOptions;
  /** The Event's reportingInstance, e.g. the pod name. */
  readonly instance: string;
  /**
   * Which decisions get an Event (docs/adr/0023). 'all' (default): every approval and denial.
   * 'denials': an approval is recorded by its condition alone, one write fewer per approved CSR.
   */
  readonly events?: EventPolicy;
  /** Spans per job and step (docs/adr/0011). Default: no-op. */
  readonly tracer?: Tracer;
  /** Called once per finished job (for metrics); createdAtMs is set for written decisions. */
  readonly onOutcome?: (outcome: {
    readonly outcome: Outcome;
    readonly reason: string | undefined;
    readonly createdAtMs: number | undefined;
  }) => void;
}

/** The outcome of one attempt, kept as the job's return value and logged. */
export type Outcome =
  'approved' | 'denied' | 'left-pending' | 'ignored' | 'already-decided' | 'gone' | 'superseded';

type Step =
  | { readonly done: Outcome; readonly reason?: string; readonly createdAtMs?: number }
  | { readonly conflict: true };

const tracerOf = (deps: ProcessDeps): Tracer => deps.tracer ?? noopTracer();

const isSettledCondition = (c: CsrCondition): boolean =>
  c.type === 'Approved' || c.type === 'Denied';

async function recordEvent(
  deps: ProcessDeps,
  csr: CertificateSigningRequest,
  condition: Pick<ApprovalCondition, 'type' | 'reason' | 'message'>,
  signal: AbortSignal,
): Promise<void> {
  const approved = condition.type === 'Approved';
  // The Approved condition already says who approved and why; its Event only repeats it.
  if (approved && deps.events === 'denials') return;
  const attributes = { 'stampede.event.reason': condition.reason };
  await inSpan(tracerOf(deps), 'emit event', { attributes }, () =>
    deps.kube.createEvent(
      {
        csr,
        type: approved ? 'Normal' : 'Warning',
        reason: condition.reason,
        action: approved ? 'Approve' : 'Deny',
        note: condition.message,
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: deps.instance,
        // Named after the CSR uid and the condition: a retry finds it and never adds a second one.
        dedupeKey: condition.type,
      },
      { signal },
    ),
  );
}

/** A CSR decided earlier: if we decided it, make sure its Event exists (a crash may have lost it). */
async function settled(
  deps: ProcessDeps,
  csr: CertificateSigningRequest,
  code: string,
  signal: AbortSignal,
): Promise<Step> {
  const condition = csr.status?.conditions?.find(isSettledCondition);
  if (condition === undefined || !writtenByUs(condition)) {
    return { done: code === 'AlreadyDecided' ? 'already-decided' : 'ignored', reason: code };
  }
  await recordEvent(
    deps,
    csr,
    {
      type: condition.type as 'Approved' | 'Denied',
      reason: condition.reason ?? condition.type,
      message: condition.message ?? '',
    },
    signal,
  );
  return { done: 'already-decided', reason: code };
}

type Read =
  | { readonly step: Step }
  | { readonly csr: CertificateSigningRequest; readonly request: CsrRequest };

/** GET the CSR the job points at; only the same object (uid) is evaluated. */
async function read(
  deps: ProcessDeps,
  job: CsrJob,
  reads: CsrReads,
  signal: AbortSignal,
): Promise<Read> {
  const got = await readCsr(deps.kube, job, reads, signal);
  if ('gone' in got) return { step: { done: 'gone' } };
  // Same name, different object: deleted and re-created. The new one has its own job.
  if ('superseded' in got) return { step: { done: 'superseded' } };
  annotateActiveSpan({ 'stampede.csr.read_from': got.from });
  const csr = got.found;
  const mapped = csrRequestFromObject(csr);
  // The API server validated the object; if it still does not map, write nothing (fail closed).
  if (!mapped.ok) return { step: { done: 'ignored', reason: `Unmappable: ${mapped.error}` } };
  return { csr, request: mapped.value };
}

/** Writes an approve or deny conditioned on the version read, then its Event. */
async function write(
  deps: ProcessDeps,
  csr: CertificateSigningRequest,
  condition: ApprovalCondition,
  signal: AbortSignal,
): Promise<Step> {
  let updated: CertificateSigningRequest;
  try {
    const attributes = { 'stampede.decision': condition.type, 'stampede.reason': condition.reason };
    updated = await inSpan(tracerOf(deps), 'write approval', { attributes }, () =>
      deps.kube.updateApproval(csr, condition, { signal }),
    );
  } catch (error) {
    if (error instanceof ConflictError) return { conflict: true };
    // Deleted between the read and the write: nothing is left to decide (a CSR re-created under
    // the same name answers 409 instead, and has a job of its own).
    if (error instanceof NotFoundError) return { done: 'gone' };
    throw error;
  }
  await recordEvent(deps, updated, condition, signal);
  return { done: condition.type === 'Approved' ? 'approved' : 'denied', reason: condition.reason };
}

/** The inventory with a span around each review, or nothing when none is configured. */
function tracedInventory(
  inventory: ProcessDeps['inventory'],
  tracer: Tracer,
): Pick<FactSources, 'inventory'> {
  if (inventory === undefined) return {};
  return {
    inventory: {
      review: (question, signal) =>
        inSpan(tracer, 'inventory review', { kind: SpanKind.CLIENT }, () =>
          inventory.review(question, signal),
        ),
    },
  };
}

/** The fact sources with a span around each lookup (children of "gather facts"). */
function tracedServed(
  served: NonNullable<ProcessDeps['servedCertificates']>,
  tracer: Tracer,
): NonNullable<FactSources['servedCertificates']> {
  return {
    read: (host, nodeName, signal) =>
      inSpan(
        tracer,
        'read served certificate',
        { kind: SpanKind.CLIENT, attributes: { 'server.address': host } },
        () => served.read(host, nodeName, signal),
      ),
  };
}

function tracedSources(deps: ProcessDeps): FactSources {
  const tracer = tracerOf(deps);
  return {
    now: deps.now,
    kube: {
      getNode: (name, options) =>
        inSpan(tracer, 'get node', { attributes: { 'stampede.node.name': name } }, () =>
          deps.kube.getNode(name, options),
        ),
      createSubjectAccessReview: (spec, options) =>
        inSpan(tracer, 'subject access review', { attributes: { 'enduser.id': spec.user } }, () =>
          deps.kube.createSubjectAccessReview(spec, options),
        ),
    },
    nodes: {
      live: () => deps.nodes.live(),
      claimants: key => deps.nodes.claimants(key),
      caughtUp: (resourceVersion, timeoutMs, signal) =>
        inSpan(
          tracer,
          'node view catch-up',
          { attributes: { 'stampede.node.resource_version': resourceVersion } },
          () => deps.nodes.caughtUp(resourceVersion, timeoutMs, signal),
        ),
    },
    serviceRanges: deps.serviceRanges,
    ...tracedInventory(deps.inventory, tracer),
    ...(deps.servedCertificates === undefined
      ? {}
      : { servedCertificates: tracedServed(deps.servedCertificates, tracer) }),
  };
}

async function attempt(
  deps: ProcessDeps,
  job: CsrJob,
  context: JobContext,
  reads: CsrReads,
): Promise<Step> {
  const { signal } = context;
  const tracer = tracerOf(deps);
  const got = await inSpan(tracer, 'fetch csr', {}, () => read(deps, job, reads, signal));
  if ('step' in got) return got.step;
  const { csr, request } = got;
  annotateActiveSpan({
    'stampede.csr.signer': request.signerName,
    'stampede.node.name': request.username.replace(/^system:node:/, ''),
  });
  const ignored = triage(request);
  if (ignored !== undefined) return settled(deps, csr, ignored.code, signal);

  // Parsed once: the contest reads only the requested SANs, and decide() reuses the parse.
  const parsed = parseRequest(request, deps.policy);
  const keys = requestedSanKeys(parsed, deps.policy);
  const facts = await inSpan(tracer, 'gather facts', {}, () =>
    gatherFacts(
      tracedSources(deps),
      // read() made sure the CSR is the job's (same name, same uid).
      { request, policy: deps.policy, requestedKeys: keys, csr: { name: job.name, uid: job.uid } },
      signal,
    ),
  );
  const decision = await inSpan(tracer, 'decide', {}, span => {
    const decided = decideParsed({ request, parsed }, deps.policy, facts, deps.verifier);
    span.setAttribute('stampede.decision', decided.kind);
    return Promise.resolve(decided);
  });
  if (decision.kind === 'ignore') return { done: 'ignored', reason: decision.reason.code };
  if (decision.kind === 'retry') {
    const delayMs = retryDecisionDelay({
      attemptsMade: context.attemptsMade,
      createdAtMs: request.createdAtMs,
      graceSeconds: deps.policy.nodeGraceSeconds,
      nowMs: deps.now(),
      backoff: deps.backoff,
      random: Math.random,
    });
    throw new RetryLaterError(`${decision.reason.code}: ${decision.reason.message}`, delayMs);
  }
  const condition = conditionOf(decision);
  if (condition === undefined) return { done: 'left-pending', reason: decision.reason };
  const written = await write(deps, csr, condition, signal);
  return 'done' in written ? { ...written, createdAtMs: request.createdAtMs } : written;
}

/** Kubernetes errors → what the queue should do (packages/queue errors). */
export function toQueueError(
  error: unknown,
  attemptsMade: number,
  backoff: BackoffOptions,
): unknown {
  if (!(error instanceof RetryableError)) return error;
  if (error.kind === 'throttled') {
    return new ThrottledError(error.message, error.retryAfterMs ?? 1_000, { cause: error });
  }
  if (error.retryAfterMs !== undefined) {
    // A 5xx with Retry-After: wait at least that long, longer if backoff says so.
    const floor = Math.max(error.retryAfterMs, (backoff.initialMs ?? 1_000) * 2 ** attemptsMade);
    return new RetryLaterError(error.message, Math.min(floor, backoff.maxMs ?? 30_000), {
      cause: error,
    });
  }
  return error;
}

/** The processor the worker runs for each job. */
export function createProcessCsr(deps: ProcessDeps): ApprovalProcessor {
  return (job, context) =>
    inSpan(
      tracerOf(deps),
      `process ${APPROVAL_QUEUE}`,
      {
        kind: SpanKind.CONSUMER,
        // The watcher's enqueue span is the parent: one trace per CSR event, across processes.
        parent: contextFromCarrier(job.trace),
        attributes: {
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': APPROVAL_QUEUE,
          'messaging.message.id': context.jobId,
          'stampede.csr.name': job.name,
          'stampede.csr.uid': job.uid,
          'stampede.attempt': context.attemptsMade + 1,
        },
      },
      () => processJob(deps, job, context),
    );
}

async function processJob(deps: ProcessDeps, job: CsrJob, context: JobContext): Promise<string> {
  const started = deps.now();
  const fields = {
    'job.id': context.jobId,
    'csr.name': job.name,
    'csr.uid': job.uid,
    attempt: context.attemptsMade + 1,
  };
  try {
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
      const step = await attempt(
        deps,
        job,
        context,
        readsAfter(conflicts, deps.csrReads ?? 'quorum'),
      );
      if ('done' in step) {
        annotateActiveSpan({
          'stampede.outcome': step.done,
          ...(step.reason === undefined ? {} : { 'stampede.reason': step.reason }),
        });
        deps.onOutcome?.({
          outcome: step.done,
          reason: step.reason,
          createdAtMs: step.createdAtMs,
        });
        deps.logger.info(
          { ...fields, outcome: step.done, reason: step.reason, ms: deps.now() - started },
          `csr ${step.done}`,
        );
        return step.reason === undefined ? step.done : `${step.done}:${step.reason}`;
      }
      deps.logger.debug(fields, 'conflict writing the approval; reading the CSR again');
    }
    throw new Error(`${MAX_CONFLICTS} conflicts in a row writing the approval`);
  } catch (error) {
    deps.logger.warn(
      { ...fields, err: error instanceof Error ? error.message : String(error) },
      'csr not decided this attempt',
    );
    throw toQueueError(error, context.attemptsMade, deps.backoff);
  }
}
