// The pipeline's invariants, counted from the API server's audit log (see audit-log.ts) rather
// than from the objects' final state: the API server refuses a second Approved condition and a
// second Event of the same name, so the objects look right even when a CSR was processed twice.
// The log shows every attempt: each write to /approval with its response code and the condition it
// carried, and each Event created. One thing it cannot show: whether a write answered 5xx took
// effect (the API server's timeout filter answers 504 while the write it gave up on still commits;
// seen here after a SIGSTOP of the API server). Such a write counts as the decision when the final
// object shows one and no accepted write explains it.
import { AssertionError } from 'node:assert';
import type { AuditEvent } from './audit-log.ts';
import type { CertificateSigningRequest } from './csr.ts';

/** What a CSR should get: the test knows, the checker holds the pipeline to it. */
export type Expected = 'approve' | 'deny' | 'ignore';

export interface CsrExpectation {
  readonly name: string;
  /** Tells a re-created CSR of the same name from the old one. */
  readonly uid?: string;
  readonly expect: Expected;
}

export type Decision = 'Approved' | 'Denied';

/** 2xx took effect, 4xx did not, anything else (5xx, a panic) may have. */
export type Outcome = 'accepted' | 'refused' | 'unknown';

export function outcomeOf(code: number): Outcome {
  if (code >= 200 && code < 300) return 'accepted';
  return code >= 400 && code < 500 ? 'refused' : 'unknown';
}

/** One call on a CSR's /approval subresource, as the API server answered it. */
export interface ApprovalWrite {
  readonly user: string;
  readonly verb: string;
  readonly code: number;
  readonly outcome: Outcome;
  /** The Approved/Denied condition the body carried (the last one: the adapter appends). */
  readonly decision: Decision | undefined;
  readonly at: string;
}

export interface CsrAudit {
  readonly name: string;
  readonly uid: string | undefined;
  readonly expect: Expected;
  readonly writes: readonly ApprovalWrite[];
  /**
   * Writes the API server accepted with a decision in them (must be ≤ 1); with none accepted, the
   * final object's decision when a write of unknown outcome was made (`fromObject`).
   */
  readonly decisions: readonly Decision[];
  readonly fromObject: boolean;
  /**
   * Events about this CSR the API server created: 2xx creates, or one when a create was answered
   * 409 AlreadyExists (the names are deterministic) and no create was seen accepted.
   */
  readonly events: number;
  /** Event creates beyond those (409 AlreadyExists and the like): repeated work, harmless. */
  readonly eventAttempts: number;
}

export interface InvariantReport {
  readonly csrs: readonly CsrAudit[];
  /** More than one accepted decision. */
  readonly decidedTwice: readonly CsrAudit[];
  /** A decision other than the expected one, or any write at all to a CSR to be ignored. */
  readonly wrong: readonly CsrAudit[];
  /** Expected to be approved or denied, and no decision was accepted. */
  readonly undecided: readonly CsrAudit[];
  /** Events ≠ accepted decisions (an Event lost, or one too many). */
  readonly eventMismatch: readonly CsrAudit[];
  /** Write attempts beyond the one that decided: duplicate work, reported, not a failure. */
  readonly extraWrites: number;
  /** Approval writes to CSRs the test did not name (another test's, the canary). */
  readonly unexpected: number;
}

interface EventBody {
  readonly regarding?: { readonly kind?: string; readonly name?: string; readonly uid?: string };
}

interface ApprovalBody {
  readonly metadata?: { readonly uid?: string };
  readonly status?: { readonly conditions?: readonly { readonly type?: string }[] };
}

const complete = (e: AuditEvent): boolean => e.stage === 'ResponseComplete' || e.stage === 'Panic';

const codeOf = (e: AuditEvent): number =>
  e.stage === 'Panic' ? 500 : (e.responseStatus?.code ?? 0);

function isApproval(e: AuditEvent): boolean {
  const ref = e.objectRef;
  return (
    ref?.apiGroup === 'certificates.k8s.io' &&
    ref.resource === 'certificatesigningrequests' &&
    ref.subresource === 'approval' &&
    (e.verb === 'update' || e.verb === 'patch')
  );
}

const isEventCreate = (e: AuditEvent): boolean =>
  e.verb === 'create' && e.objectRef?.resource === 'events';

function decisionIn(body: ApprovalBody | undefined): Decision | undefined {
  const settled = (body?.status?.conditions ?? [])
    .map(c => c.type)
    .filter((t): t is Decision => t === 'Approved' || t === 'Denied');
  return settled.at(-1);
}

/** Both keys a request is filed under: an expectation without a uid finds it by name. */
function keysOf(name: string | undefined, uid: string | undefined): string[] {
  const keys = [`name:${name ?? ''}`];
  if (uid !== undefined && uid !== '') keys.push(`uid:${uid}`);
  return keys;
}

function approvalWrite(e: AuditEvent): { keys: string[]; write: ApprovalWrite } {
  const body = e.requestObject as ApprovalBody | undefined;
  return {
    keys: keysOf(e.objectRef?.name, e.objectRef?.uid ?? body?.metadata?.uid),
    write: {
      user: e.user?.username ?? '',
      verb: e.verb,
      code: codeOf(e),
      outcome: outcomeOf(codeOf(e)),
      decision: decisionIn(body),
      at: e.stageTimestamp ?? '',
    },
  };
}

/** The keys of the CSR an Event is about, or undefined for an Event about something else. */
function eventKeys(e: AuditEvent): string[] | undefined {
  const regarding = (e.requestObject as EventBody | undefined)?.regarding;
  if (regarding?.kind !== 'CertificateSigningRequest') return undefined;
  return keysOf(regarding.name, regarding.uid);
}

interface Tally {
  accepted: number;
  refused: number;
  unknown: number;
  /** 409 on create: an Event of that name exists. */
  exists: number;
}

const emptyTally = (): Tally => ({ accepted: 0, refused: 0, unknown: 0, exists: 0 });

/** Per CSR (by uid and by name): its writes to /approval and its Event creates. */
function collect(events: readonly AuditEvent[]) {
  const writes = new Map<string, ApprovalWrite[]>();
  const created = new Map<string, Tally>();
  for (const e of events.filter(complete)) {
    if (isApproval(e)) {
      const { keys, write } = approvalWrite(e);
      for (const key of keys) writes.set(key, [...(writes.get(key) ?? []), write]);
      continue;
    }
    const keys = isEventCreate(e) ? eventKeys(e) : undefined;
    for (const key of keys ?? []) {
      const tally = created.get(key) ?? emptyTally();
      tally[outcomeOf(codeOf(e))]++;
      if (codeOf(e) === 409) tally.exists++;
      created.set(key, tally);
    }
  }
  return { writes, created };
}

/** The Approved/Denied condition on the final object, if it is the same object. */
function finalDecision(
  x: CsrExpectation,
  finals: readonly CertificateSigningRequest[],
): Decision | undefined {
  const object = finals.find(
    f => f.metadata.name === x.name && (x.uid === undefined || f.metadata.uid === x.uid),
  );
  return decisionIn(object);
}

function decisionsOf(
  writes: readonly ApprovalWrite[],
  final: () => Decision | undefined,
): { decisions: Decision[]; fromObject: boolean } {
  const accepted = writes.flatMap(w =>
    w.outcome === 'accepted' && w.decision !== undefined ? [w.decision] : [],
  );
  if (accepted.length > 0) return { decisions: accepted, fromObject: false };
  const maybe = writes.some(w => w.outcome === 'unknown' && w.decision !== undefined);
  const decided = maybe ? final() : undefined;
  return { decisions: decided === undefined ? [] : [decided], fromObject: decided !== undefined };
}

function eventsOf(tally: Tally): { events: number; eventAttempts: number } {
  // A 409 on create proves an Event of that (deterministic) name exists, even when the create that
  // made it left no audit line: an API server SIGKILLed after the commit and before the line.
  const proven = tally.accepted === 0 && tally.exists > 0 ? 1 : 0;
  const events = tally.accepted + proven;
  return { events, eventAttempts: tally.accepted + tally.refused + tally.unknown - events };
}

/**
 * Holds the audit log to what each CSR should get. `finals` (the CSRs as they are now) settle
 * writes of unknown outcome; without them such a write decides nothing.
 */
export function checkInvariants(
  events: readonly AuditEvent[],
  expectations: readonly CsrExpectation[],
  finals: readonly CertificateSigningRequest[] = [],
): InvariantReport {
  const { writes, created } = collect(events);
  const csrs = expectations.map((x): CsrAudit => {
    const key = x.uid === undefined ? `name:${x.name}` : `uid:${x.uid}`;
    const mine = writes.get(key) ?? [];
    return {
      name: x.name,
      uid: x.uid,
      expect: x.expect,
      writes: mine,
      ...decisionsOf(mine, () => finalDecision(x, finals)),
      ...eventsOf(created.get(key) ?? emptyTally()),
    };
  });
  const wanted: Record<Expected, Decision | undefined> = {
    approve: 'Approved',
    deny: 'Denied',
    ignore: undefined,
  };
  const named = new Set(expectations.map(x => x.name));
  const unexpected = [...writes]
    .filter(([key]) => key.startsWith('name:') && !named.has(key.slice(5)))
    .reduce((n, [, list]) => n + list.length, 0);
  return {
    csrs,
    decidedTwice: csrs.filter(c => c.decisions.length > 1),
    wrong: csrs.filter(c =>
      c.expect === 'ignore'
        ? c.writes.length > 0 || c.events > 0
        : c.decisions.some(d => d !== wanted[c.expect]),
    ),
    undecided: csrs.filter(c => c.expect !== 'ignore' && c.decisions.length === 0),
    eventMismatch: csrs.filter(c => c.events !== c.decisions.length),
    extraWrites: csrs.reduce((n, c) => n + Math.max(0, c.writes.length - 1), 0),
    unexpected,
  };
}

const show = (c: CsrAudit): string =>
  `${c.name} (expected ${c.expect}): writes [${c.writes
    .map(w => `${w.decision ?? 'none'}→${w.code}`)
    .join(', ')}]${c.fromObject ? ' (decision read from the object)' : ''}, ${c.events} Event(s)`;

/** Each broken invariant, one line per CSR; empty when all hold. */
export function violations(report: InvariantReport): string[] {
  return [
    ...report.decidedTwice.map(c => `decided more than once: ${show(c)}`),
    ...report.wrong.map(c => `wrong decision: ${show(c)}`),
    ...report.undecided.map(c => `left undecided: ${show(c)}`),
    ...report.eventMismatch.map(c => `Events ≠ decisions: ${show(c)}`),
  ];
}

/** One line for a test's output: what was counted, duplicate work included. */
export function summarize(report: InvariantReport): string {
  const count = (e: Expected) => report.csrs.filter(c => c.expect === e).length;
  const writes = report.csrs.reduce((n, c) => n + c.writes.length, 0);
  const refusedEvents = report.csrs.reduce((n, c) => n + c.eventAttempts, 0);
  const unknown = report.csrs.reduce(
    (n, c) => n + c.writes.filter(w => w.outcome === 'unknown').length,
    0,
  );
  return (
    `${report.csrs.length} CSRs (${count('approve')} approve, ${count('deny')} deny, ` +
    `${count('ignore')} ignore): ${writes} approval writes (${report.extraWrites} beyond one per ` +
    `CSR; ${unknown} of unknown outcome), ${refusedEvents} Event creates refused, ` +
    `${violations(report).length} violations`
  );
}

/** Throws, listing every broken invariant, unless all hold. */
export function assertInvariants(report: InvariantReport, context = 'invariants'): void {
  const broken = violations(report);
  if (broken.length === 0) return;
  throw new AssertionError({
    message: `${context}: ${broken.length} broken\n  ${broken.join('\n  ')}`,
  });
}
