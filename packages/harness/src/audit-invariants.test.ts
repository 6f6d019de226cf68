// The checker over a recorded audit log (fixtures/audit.jsonl, from fixtures/record-audit.ts): a
// worker approved `good` and denied `thief` with one Event each and left `foreign` (another
// signer) alone; then, as admin, a stale write on `good` (409), `good` written back as read (200: a
// second decision the API server accepts), `foreign` approved by hand, and `good`'s Event created
// again (409).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAuditLog } from './audit-log.ts';
import type { AuditEvent } from './audit-log.ts';
import { assertInvariants, checkInvariants, summarize, violations } from './audit-invariants.ts';
import type { CsrExpectation, Expected } from './audit-invariants.ts';
import type { CertificateSigningRequest } from './csr.ts';

const log = parseAuditLog(readFileSync(join(import.meta.dirname, 'fixtures/audit.jsonl'), 'utf8'));
const byWorker = log.filter(e => e.user?.username?.endsWith(':stampede-worker') === true);

/** The uid the API server gave each CSR, as the log records it. */
const uidOf = (name: string): string => {
  const write = log.find(e => e.objectRef?.name === name && e.objectRef.subresource);
  assert.ok(write?.objectRef?.uid, `no write to ${name} in the fixture`);
  return write.objectRef.uid;
};

const expect = (name: string, expected: Expected, uid = uidOf(name)): CsrExpectation => ({
  name,
  uid,
  expect: expected,
});

const asExpected = [
  expect('good', 'approve'),
  expect('thief', 'deny'),
  expect('foreign', 'ignore'),
];

describe('checkInvariants over a recorded audit log', () => {
  it('finds nothing wrong with what the worker did', () => {
    const report = checkInvariants(byWorker, asExpected);
    assert.deepEqual(violations(report), []);
    assert.deepEqual(
      report.csrs.map(c => [c.name, c.decisions, c.events]),
      [
        ['good', ['Approved'], 1],
        ['thief', ['Denied'], 1],
        ['foreign', [], 0],
      ],
    );
    assert.equal(report.extraWrites, 0);
    assertInvariants(report);
  });

  it('counts a second accepted decision, though the object shows one condition', () => {
    const report = checkInvariants(log, asExpected);
    assert.deepEqual(
      report.decidedTwice.map(c => [c.name, c.decisions]),
      [['good', ['Approved', 'Approved']]],
    );
  });

  it('reports refused writes and Event creates as duplicate work, not as violations', () => {
    const [good] = checkInvariants(log, [expect('good', 'approve')]).csrs;
    assert.ok(good);
    assert.deepEqual(
      good.writes.map(w => [w.user.split(':').at(-1), w.code]),
      [
        ['stampede-worker', 200],
        ['stampede-harness-admin', 409],
        ['stampede-harness-admin', 200],
      ],
    );
    assert.equal(good.eventAttempts, 1);
    const report = checkInvariants(log, [expect('good', 'approve')]);
    assert.equal(report.extraWrites, 2);
    assert.match(
      summarize(report),
      /3 approval writes \(2 beyond one per CSR; 0 of unknown outcome\), 1 Event creates/,
    );
  });

  it('flags any write to a CSR that was to be left alone', () => {
    const report = checkInvariants(log, asExpected);
    assert.deepEqual(
      report.wrong.map(c => c.name),
      ['foreign'],
    );
  });

  it('flags a denial where an approval was due, and an approval where a denial was', () => {
    const report = checkInvariants(byWorker, [expect('good', 'deny'), expect('thief', 'approve')]);
    assert.deepEqual(
      report.wrong.map(c => c.name),
      ['good', 'thief'],
    );
  });

  it('flags a CSR to be decided that never was', () => {
    const report = checkInvariants(byWorker, [expect('missing', 'approve', 'no-such-uid')]);
    assert.deepEqual(
      report.undecided.map(c => c.name),
      ['missing'],
    );
  });

  it('does not credit a re-created CSR with the decision on the old object of its name', () => {
    const report = checkInvariants(byWorker, [expect('good', 'approve', 'the-new-uid')]);
    assert.deepEqual(
      report.undecided.map(c => c.name),
      ['good'],
    );
    assert.equal(report.csrs[0]?.events, 0, "the old object's Event is not the new one's");
  });

  it('finds writes by name when the test gives no uid', () => {
    const report = checkInvariants(byWorker, [{ name: 'good', expect: 'approve' }]);
    assert.deepEqual(violations(report), []);
  });

  it('flags a decision without its Event, and an Event too many', () => {
    const withoutEvents = byWorker.filter(e => e.objectRef?.resource !== 'events');
    assert.deepEqual(
      checkInvariants(withoutEvents, asExpected).eventMismatch.map(c => c.name),
      ['good', 'thief'],
    );
    const event = byWorker.find(e => e.objectRef?.name?.startsWith('thief.') === true);
    assert.ok(event);
    const twice: AuditEvent[] = [...byWorker, { ...event, auditID: 'again' }];
    assert.deepEqual(
      checkInvariants(twice, asExpected).eventMismatch.map(c => c.name),
      ['thief'],
    );
  });

  it('counts a write only once its response is complete', () => {
    const started = byWorker.map(e => ({ ...e, stage: 'ResponseStarted' }));
    const report = checkInvariants(started, asExpected);
    assert.deepEqual(
      report.undecided.map(c => c.name),
      ['good', 'thief'],
    );
  });

  // The API server's timeout filter answers 504 and the write it gave up on commits anyway.
  const timedOut = (e: AuditEvent): AuditEvent =>
    e.objectRef?.name === 'good' ? { ...e, responseStatus: { code: 504 } } : e;

  it('takes a write answered 504 as the decision when the object shows it took effect', () => {
    const finals: CertificateSigningRequest[] = [
      {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: 'good', uid: uidOf('good') },
        spec: { request: '', signerName: 'kubernetes.io/kubelet-serving' },
        status: { conditions: [{ type: 'Approved', status: 'True' }] },
      },
    ];
    const report = checkInvariants(byWorker.map(timedOut), [expect('good', 'approve')], finals);
    assert.deepEqual(violations(report), []);
    assert.deepEqual([report.csrs[0]?.decisions, report.csrs[0]?.fromObject], [['Approved'], true]);
  });

  it('without the object, counts a write answered 504 as no decision', () => {
    const report = checkInvariants(byWorker.map(timedOut), [expect('good', 'approve')]);
    assert.deepEqual(
      report.undecided.map(c => c.name),
      ['good'],
    );
  });

  it('counts an Event whose create timed out once a later create finds it exists', () => {
    const event = byWorker.find(e => e.objectRef?.name?.startsWith('good.') === true);
    assert.ok(event);
    const lost: AuditEvent[] = [
      ...byWorker.filter(e => e !== event),
      { ...event, responseStatus: { code: 504 } },
      { ...event, auditID: 'retry', responseStatus: { code: 409 } },
    ];
    const [good] = checkInvariants(lost, [expect('good', 'approve')]).csrs;
    assert.deepEqual([good?.events, good?.eventAttempts], [1, 1]);
  });

  it('counts writes to CSRs the test did not name apart', () => {
    assert.equal(checkInvariants(log, [expect('good', 'approve')]).unexpected, 2);
  });

  it('says which invariant broke, and for which CSR', () => {
    assert.throws(
      () => {
        assertInvariants(checkInvariants(log, asExpected), 'fixture');
      },
      (error: Error) => {
        assert.match(error.message, /fixture: 4 broken/);
        assert.ok(
          error.message.includes(
            'decided more than once: good (expected approve): writes [Approved→200, Approved→409, Approved→200]',
          ),
          error.message,
        );
        assert.ok(error.message.includes('wrong decision: foreign'), error.message);
        return true;
      },
    );
  });
});
