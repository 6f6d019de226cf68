// The API server's own record of what was written: an audit log that tests read to count effects,
// instead of trusting the services' logs or counters. The policy keeps the log small: the request
// bodies of every call on a CSR's /approval subresource (what condition each write tried to add)
// and of every Event created, and each SubjectAccessReview with its answer (what a worker was
// told), nothing else. Pass `apiserverArgs` to startControlPlane (or
// System.start's `controlPlane`) as `extraArgs.apiserver`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkInvariants, violations } from './audit-invariants.ts';
import type { CsrExpectation, InvariantReport } from './audit-invariants.ts';
import type { CertificateSigningRequest } from './csr.ts';
import { unregisterDir } from './teardown.ts';
import { makeTempDir, removeTempDir } from './util.ts';

export interface AuditEvent {
  readonly auditID?: string;
  readonly stage: string;
  readonly verb: string;
  readonly requestURI?: string;
  readonly user?: { readonly username?: string };
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly apiGroup?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly uid?: string;
  };
  readonly responseStatus?: { readonly code?: number; readonly reason?: string };
  readonly requestObject?: unknown;
  readonly responseObject?: unknown;
  readonly requestReceivedTimestamp?: string;
  readonly stageTimestamp?: string;
}

// Request level: the body is what tells an approval from a denial. RequestReceived and
// ResponseStarted are omitted so each request is one line, written once its response code is known.
export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
  - level: Request
    resources:
      - group: certificates.k8s.io
        resources: [certificatesigningrequests/approval]
  - level: Request
    verbs: [create]
    resources:
      - group: events.k8s.io
        resources: [events]
  - level: RequestResponse
    verbs: [create]
    resources:
      - group: authorization.k8s.io
        resources: [subjectaccessreviews]
  - level: None
`;

/** An audit log file for one API server, in a temp dir of its own. */
export class AuditLog {
  readonly dir: string;
  readonly path: string;
  readonly policyPath: string;

  constructor(dir = makeTempDir('audit')) {
    this.dir = dir;
    this.path = join(dir, 'audit.log');
    this.policyPath = join(dir, 'audit-policy.yaml');
    writeFileSync(this.policyPath, AUDIT_POLICY);
  }

  /**
   * kube-apiserver flags. Blocking mode: no event is dropped when the log falls behind (the batch
   * mode's buffer may drop). A request's event lands just after its response: read with a poll.
   */
  get apiserverArgs(): string[] {
    return [
      `--audit-policy-file=${this.policyPath}`,
      `--audit-log-path=${this.path}`,
      '--audit-log-mode=blocking',
      '--audit-log-format=json',
      '--audit-log-maxsize=0', // never rotate: the whole test's history stays in one file
    ];
  }

  /** Every complete event so far (a line being written is left for the next read). */
  events(): AuditEvent[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    return parseAuditLog(text.slice(0, text.lastIndexOf('\n') + 1));
  }

  /**
   * Polls until every CSR to be decided is, with its Event (or `timeoutMs` passes), then looks
   * once more after `quietMs`, so that a second decision or Event arriving late is counted too.
   * `finals` reads the CSRs as they are, to settle writes the API server answered 5xx (see
   * checkInvariants). Returns the report either way: the caller asserts on it.
   */
  async settle(
    expectations: readonly CsrExpectation[],
    options: {
      readonly timeoutMs?: number;
      readonly quietMs?: number;
      readonly finals?: () => Promise<readonly CertificateSigningRequest[]>;
    } = {},
  ): Promise<InvariantReport> {
    const finals = options.finals ?? (() => Promise.resolve([]));
    const check = async () => checkInvariants(this.events(), expectations, await finals());
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const report = await check();
      if (violations(report).length === 0 || Date.now() > deadline) break;
      await sleep(250);
    }
    await sleep(options.quietMs ?? 1_000);
    return check();
  }

  remove(): void {
    removeTempDir(this.dir);
  }

  /** Leaves the log on disk when the process exits (the teardown deletes registered temp dirs). */
  keep(): void {
    unregisterDir(this.dir);
  }
}

/** JSON lines, one audit event each. */
export function parseAuditLog(text: string): AuditEvent[] {
  return text
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => JSON.parse(line) as AuditEvent);
}
