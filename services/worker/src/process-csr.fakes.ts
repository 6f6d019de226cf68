// Fakes for process-csr.test.ts. The CSR-side calls (GET, the approval write, the Event) answer
// from a script, one answer per call, and any call past the script fails the test: what the job
// does to the API server is exactly what the case says. The fact sources (Node GET, the
// SubjectAccessReview, the Node view, Service ranges) answer from a fixed world, so a change in
// how facts are gathered does not break these cases; a GET of a Node the world lacks still fails.
import { ConflictError, NotFoundError, RetryableError } from '@stampede/kube';
import type { AccessReviewResult, ApprovalCondition, CsrEventInput } from '@stampede/kube';
import type { CertificateSigningRequest, CsrCondition, Node } from '@stampede/kube';
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { defaultPolicy } from '@stampede/policy';
import { kubeletCsr } from '@stampede/testing';
import { createProcessCsr } from './process-csr.ts';
import type { EventPolicy, ProcessDeps } from './process-csr.ts';
import type { CsrReads } from './read-csr.ts';

export const CREATED_MS = Date.parse('2026-12-01T10:00:00Z');
/** The clock of every case: a minute after the CSR was created (past the Node grace window). */
export const NOW_MS = CREATED_MS + 60_000;
export const BACKOFF = { initialMs: 1_000, maxMs: 30_000 };

const request = Buffer.from(
  kubeletCsr({ nodeName: 'n1', dnsNames: ['n1'], ips: ['10.1.0.1'] }).pemText,
).toString('base64');

/** A pending kubelet-serving CSR from Node n1, as the API server returns it. */
export function pending(
  resourceVersion = '1',
  overrides: { uid?: string; usages?: string[]; request?: string; createdMs?: number } = {},
): CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: {
      name: 'csr-1',
      uid: overrides.uid ?? 'uid-1',
      resourceVersion,
      creationTimestamp: new Date(overrides.createdMs ?? CREATED_MS).toISOString(),
    },
    spec: {
      request: overrides.request ?? request,
      signerName: 'kubernetes.io/kubelet-serving',
      usages: overrides.usages ?? ['digital signature', 'server auth'],
      username: 'system:node:n1',
      groups: ['system:nodes', 'system:authenticated'],
    },
    status: {},
  };
}

/** The same CSR with a settled condition on it, at a later version. */
export function decided(
  type: 'Approved' | 'Denied',
  message: string,
  resourceVersion = '2',
): CertificateSigningRequest {
  const condition: CsrCondition = {
    type,
    status: 'True',
    reason: type === 'Approved' ? 'AutoApproved' : 'SanNotOwned',
    message,
  };
  return { ...pending(resourceVersion), status: { conditions: [condition] } };
}

export const node = (createdMs = CREATED_MS - 3_600_000): Node => ({
  metadata: {
    name: 'n1',
    uid: 'node-uid-1',
    resourceVersion: '7',
    creationTimestamp: new Date(createdMs).toISOString(),
  },
  status: {
    addresses: [
      { type: 'Hostname', address: 'n1' },
      { type: 'InternalIP', address: '10.1.0.1' },
    ],
  },
});

const init = (message: string) => ({ message, method: 'GET', path: '/x' });
export const conflict = (): Error =>
  new ConflictError({ ...init('conflict'), method: 'PUT', status: 409 });
export const notFound = (): Error => new NotFoundError({ ...init('not found'), status: 404 });
export const serverError = (retryAfterMs?: number): Error =>
  new RetryableError({
    ...init('503'),
    status: 503,
    kind: 'server',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
export const throttled = (retryAfterMs: number): Error =>
  new RetryableError({ ...init('429'), status: 429, kind: 'throttled', retryAfterMs });

type Answer<T> = T | Error;

export interface Script {
  readonly getCsr?: readonly Answer<CertificateSigningRequest>[];
  /** 'ok' returns the CSR with the condition, at the next version. */
  readonly updateApproval?: readonly Answer<'ok'>[];
  readonly createEvent?: readonly Answer<'created' | 'exists'>[];
  /** The world the facts come from. Default: Node n1 exists and owns its SANs; SAR allows. */
  readonly node?: Node | undefined;
  readonly accessReview?: Answer<AccessReviewResult>;
}

/** A job run against a script: what it called, and how it ended. */
export interface Run {
  /** The CSR-side calls in order, e.g. "GET csr-1", "PUT csr-1@1 Approved", "EVENT csr-1@2 Approved". */
  readonly calls: string[];
  /** Calls nothing in the script answered. */
  readonly unexpected: string[];
  readonly result: string | undefined;
  readonly error: unknown;
  /** The requesting Node's reads, as "n1@<resourceVersion>" or "n1@quorum". */
  readonly nodeReads: string[];
}

function next<T>(queue: Answer<T>[], what: string, unexpected: string[]): Promise<T> {
  const answer = queue.shift();
  if (answer === undefined) {
    unexpected.push(what);
    return Promise.reject(new Error(`unexpected call: ${what}`));
  }
  return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
}

function fakeKube(
  script: Script,
  calls: string[],
  unexpected: string[],
  nodeReads: string[],
): ProcessDeps['kube'] {
  const gets = [...(script.getCsr ?? [])];
  const writes = [...(script.updateApproval ?? [])];
  const events = [...(script.createEvent ?? [])];
  const world = 'node' in script ? script.node : node();
  return {
    getCsr: (name, options) => {
      // A quorum read is "GET name"; a read from the watch cache names its resourceVersion.
      const rv = options?.resourceVersion;
      const what = rv === undefined ? `GET ${name}` : `GET ${name}?resourceVersion=${rv}`;
      calls.push(what);
      return next(gets, what, unexpected);
    },
    updateApproval: async (csr: CertificateSigningRequest, condition: ApprovalCondition) => {
      const what = `PUT ${csr.metadata?.name ?? ''}@${csr.metadata?.resourceVersion ?? ''} ${condition.type}`;
      calls.push(what);
      await next(writes, what, unexpected);
      const conditions = [...(csr.status?.conditions ?? []), { ...condition, status: 'True' }];
      const version = String(Number(csr.metadata?.resourceVersion ?? '0') + 1);
      return {
        ...csr,
        metadata: { ...csr.metadata, resourceVersion: version },
        status: { conditions },
      };
    },
    createEvent: (input: CsrEventInput) => {
      const { metadata } = input.csr;
      const what = `EVENT ${metadata?.name ?? ''}@${metadata?.resourceVersion ?? ''} ${input.dedupeKey ?? 'no-dedupe-key'}`;
      calls.push(what);
      return next(events, what, unexpected);
    },
    getNode: (name, options) => {
      nodeReads.push(`${name}@${options?.resourceVersion ?? 'quorum'}`);
      if (name !== 'n1') {
        unexpected.push(`GET Node ${name}`);
        return Promise.reject(new Error(`unexpected GET Node ${name}`));
      }
      return Promise.resolve(world);
    },
    createSubjectAccessReview: () => {
      const review = script.accessReview ?? { allowed: true, denied: false, reason: 'RBAC' };
      return review instanceof Error ? Promise.reject(review) : Promise.resolve(review);
    },
  };
}

// The job's log lines are not what these cases check: kept, unread, for a failing case's debugger.
const lines: string[] = [];
const keep = (_: object, message: string): void => {
  lines.push(message);
  if (lines.length > 100) lines.shift();
};
const quiet = { debug: keep, info: keep, warn: keep, error: keep };

/** Runs one attempt of the job {csr-1, uid-1} against the script. */
export async function runJob(
  script: Script,
  options: {
    readonly attemptsMade?: number;
    readonly nowMs?: number;
    readonly grace?: number;
    /** Where the job reads the CSR (docs/adr/0020); default: ProcessDeps' own default. */
    readonly csrReads?: CsrReads;
    readonly events?: EventPolicy;
  } = {},
): Promise<Run> {
  const calls: string[] = [];
  const unexpected: string[] = [];
  const nodeReads: string[] = [];
  const process = createProcessCsr({
    ...(options.csrReads === undefined ? {} : { csrReads: options.csrReads }),
    ...(options.events === undefined ? {} : { events: options.events }),
    kube: fakeKube(script, calls, unexpected, nodeReads),
    nodes: {
      live: () => true,
      claimants: () => [],
      caughtUp: () => Promise.resolve('caught-up'),
    },
    serviceRanges: { current: () => Promise.resolve({ state: 'known', value: ['10.96.0.0/16'] }) },
    policy: { ...defaultPolicy, nodeGraceSeconds: options.grace ?? defaultPolicy.nodeGraceSeconds },
    verifier: createNodeSignatureVerifier(),
    logger: quiet,
    now: () => options.nowMs ?? NOW_MS,
    backoff: BACKOFF,
    instance: 'worker-test',
  });
  const job = { uid: 'uid-1', name: 'csr-1', resourceVersion: '1' };
  const context = {
    jobId: 'job-1',
    attemptsMade: options.attemptsMade ?? 0,
    attemptsStarted: (options.attemptsMade ?? 0) + 1,
    signal: new AbortController().signal,
  };
  try {
    const result = await process(job, context);
    return { calls, unexpected, result, error: undefined, nodeReads };
  } catch (error) {
    return { calls, unexpected, result: undefined, error, nodeReads };
  }
}
