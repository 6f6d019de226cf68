import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, RetryableError } from '@stampede/kube';
import type { Decision } from '@stampede/policy';
import { RetryLaterError, ThrottledError } from '@stampede/queue';
import { conditionOf, toQueueError, writtenByUs } from './process-csr.ts';
import { CREATED_MS, conflict, decided, notFound, pending, runJob } from './process-csr.fakes.ts';
import { serverError, throttled } from './process-csr.fakes.ts';
import type { Script } from './process-csr.fakes.ts';

const retryable = (kind: 'throttled' | 'server' | 'network', retryAfterMs?: number) =>
  new RetryableError({
    message: kind,
    method: 'GET',
    path: '/x',
    kind,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

describe('toQueueError', () => {
  const backoff = { initialMs: 1_000, maxMs: 30_000 };

  it('turns a 429 into a queue-wide pause for its Retry-After', () => {
    const mapped = toQueueError(retryable('throttled', 3_000), 0, backoff);
    assert.ok(mapped instanceof ThrottledError);
    assert.equal(mapped.retryAfterMs, 3_000);
  });

  it('pauses 1 s on a 429 without Retry-After', () => {
    const mapped = toQueueError(retryable('throttled'), 0, backoff);
    assert.equal(mapped instanceof ThrottledError && mapped.retryAfterMs, 1_000);
  });

  it('waits at least Retry-After on a 5xx that sends one', () => {
    const mapped = toQueueError(retryable('server', 5_000), 0, backoff);
    assert.equal(mapped instanceof RetryLaterError && mapped.delayMs, 5_000);
  });

  it('leaves other errors to the normal backoff', () => {
    const network = retryable('network');
    assert.equal(toQueueError(network, 0, backoff), network);
    const conflict = new ConflictError({ message: 'c', method: 'PUT', path: '/x' });
    assert.equal(toQueueError(conflict, 0, backoff), conflict);
  });
});

describe('conditionOf', () => {
  it('writes an approval with a message that says stampede wrote it', () => {
    const condition = conditionOf({
      kind: 'approve',
      reason: 'AutoApproved',
      message: 'passed all',
    });
    assert.deepEqual(condition, {
      type: 'Approved',
      reason: 'AutoApproved',
      message: 'stampede approved: passed all',
    });
  });

  it('keeps a message that already says so', () => {
    const message = 'stampede approved a serving certificate for Node n1';
    assert.equal(
      conditionOf({ kind: 'approve', reason: 'AutoApproved', message })?.message,
      message,
    );
  });

  it('writes a denial with every violation after the prefix', () => {
    const condition = conditionOf({
      kind: 'deny',
      reason: 'SanNotOwned',
      message: 'IP SAN 10.0.0.1 is not an address of Node n2',
      violations: [],
      leavePending: false,
    });
    assert.equal(
      condition?.message,
      'stampede denied: IP SAN 10.0.0.1 is not an address of Node n2',
    );
  });

  const nothing: { name: string; decision: Decision }[] = [
    {
      name: 'writes nothing for a leave-pending deny',
      decision: { kind: 'deny', reason: 'X', message: 'm', violations: [], leavePending: true },
    },
    {
      name: 'writes nothing for a retry',
      decision: { kind: 'retry', fact: 'node', reason: { code: 'NodeNotFound', message: 'm' } },
    },
    {
      name: 'writes nothing for an ignore',
      decision: { kind: 'ignore', reason: { code: 'AlreadyDecided', message: 'm' } },
    },
  ];
  for (const { name, decision } of nothing) {
    it(name, () => {
      assert.equal(conditionOf(decision), undefined);
    });
  }
});

describe('writtenByUs', () => {
  const cases: { name: string; type: string; message: string; expected: boolean }[] = [
    {
      name: 'recognises our approval',
      type: 'Approved',
      message: 'stampede approved: ok',
      expected: true,
    },
    {
      name: 'recognises our denial',
      type: 'Denied',
      message: 'stampede denied: no',
      expected: true,
    },
    {
      name: 'does not claim a kubectl approval',
      type: 'Approved',
      message: 'This CSR was approved by kubectl certificate approve.',
      expected: false,
    },
    {
      name: 'does not claim a Failed condition',
      type: 'Failed',
      message: 'stampede denied: no',
      expected: false,
    },
    {
      name: 'does not take an approval text on a denial',
      type: 'Denied',
      message: 'stampede approved: ok',
      expected: false,
    },
  ];
  for (const { name, type, message, expected } of cases) {
    it(name, () => {
      assert.equal(writtenByUs({ type, message }), expected);
    });
  }
});

// One job end to end over fakes (process-csr.fakes.ts) that fail on any CSR-side call the case
// does not script: each case lists exactly what the job asks of the API server, in order.
describe('createProcessCsr: one job against the API server', () => {
  const ours = (type: 'Approved' | 'Denied') =>
    decided(type, `stampede ${type === 'Approved' ? 'approved' : 'denied'}: earlier`);
  const byKubectl = decided('Approved', 'This CSR was approved by kubectl certificate approve.');

  interface Case {
    readonly name: string;
    readonly script: Script;
    readonly calls: readonly string[];
    /** The job's return value, or the error it ends with (checked by `error`). */
    readonly result?: string;
    readonly error?: (error: unknown) => void;
    readonly options?: Parameters<typeof runJob>[1];
  }

  const retriesAfter = (delayMs: number) => (error: unknown) => {
    assert.ok(error instanceof RetryLaterError, String(error));
    assert.equal(error.delayMs, delayMs);
  };

  const cases: Case[] = [
    {
      name: 'approves a valid CSR on the version it read, then records its Event',
      script: { getCsr: [pending('1')], updateApproval: ['ok'], createEvent: ['created'] },
      calls: ['GET csr-1', 'PUT csr-1@1 Approved', 'EVENT csr-1@2 Approved'],
      result: 'approved:AutoApproved',
    },
    {
      name: 'denies a CSR asking for client auth, then records its Event',
      script: {
        getCsr: [pending('1', { usages: ['digital signature', 'server auth', 'client auth'] })],
        updateApproval: ['ok'],
        createEvent: ['created'],
      },
      calls: ['GET csr-1', 'PUT csr-1@1 Denied', 'EVENT csr-1@2 Denied'],
      result: 'denied:DisallowedUsages',
    },
    {
      name: 'takes an Event that already exists after its own write as recorded',
      script: { getCsr: [pending('1')], updateApproval: ['ok'], createEvent: ['exists'] },
      calls: ['GET csr-1', 'PUT csr-1@1 Approved', 'EVENT csr-1@2 Approved'],
      result: 'approved:AutoApproved',
    },
    {
      name: 'reads the CSR again after a 409 and writes on the new version',
      script: {
        getCsr: [pending('1'), pending('2')],
        updateApproval: [conflict(), 'ok'],
        createEvent: ['created'],
      },
      calls: [
        'GET csr-1',
        'PUT csr-1@1 Approved',
        'GET csr-1',
        'PUT csr-1@2 Approved',
        'EVENT csr-1@3 Approved',
      ],
      result: 'approved:AutoApproved',
    },
    {
      name: 'after a 409 finds the CSR approved by another stampede worker, and writes no second decision',
      script: {
        getCsr: [pending('1'), ours('Approved')],
        updateApproval: [conflict()],
        createEvent: ['exists'],
      },
      calls: ['GET csr-1', 'PUT csr-1@1 Approved', 'GET csr-1', 'EVENT csr-1@2 Approved'],
      result: 'already-decided:AlreadyDecided',
    },
    {
      name: 'gives up after 5 conflicts in a row and leaves the job to its backoff',
      script: {
        getCsr: ['1', '2', '3', '4', '5'].map(rv => pending(rv)),
        updateApproval: Array.from({ length: 5 }, conflict),
      },
      calls: ['1', '2', '3', '4', '5'].flatMap(rv => ['GET csr-1', `PUT csr-1@${rv} Approved`]),
      error: error => {
        assert.ok(error instanceof Error && !(error instanceof RetryLaterError), String(error));
        assert.match(error.message, /5 conflicts in a row/);
      },
    },
    {
      name: 'writes nothing for a CSR that is gone',
      script: { getCsr: [notFound()] },
      calls: ['GET csr-1'],
      result: 'gone',
    },
    {
      name: 'ends as gone when the CSR is deleted between its read and the approval',
      script: { getCsr: [pending('1')], updateApproval: [notFound()] },
      calls: ['GET csr-1', 'PUT csr-1@1 Approved'],
      result: 'gone',
    },
    {
      name: 'writes nothing when the name belongs to a new object (the job is for the old uid)',
      script: { getCsr: [pending('9', { uid: 'uid-2' })] },
      calls: ['GET csr-1'],
      result: 'superseded',
    },
    {
      name: 'writes nothing for an object it cannot map to a request (fails closed)',
      script: { getCsr: [pending('1', { request: '!!!' })] },
      calls: ['GET csr-1'],
      result: 'ignored:Unmappable: spec.request is not base64',
    },
    {
      name: 'restores the Event of an approval it wrote before a crash lost the Event',
      script: { getCsr: [ours('Approved')], createEvent: ['created'] },
      calls: ['GET csr-1', 'EVENT csr-1@2 Approved'],
      result: 'already-decided:AlreadyDecided',
    },
    {
      name: 'restores the Event of its own denial the same way',
      script: { getCsr: [ours('Denied')], createEvent: ['created'] },
      calls: ['GET csr-1', 'EVENT csr-1@2 Denied'],
      result: 'already-decided:AlreadyDecided',
    },
    {
      name: 'with Events for denials only, approves with the condition alone',
      script: { getCsr: [pending('1')], updateApproval: ['ok'] },
      calls: ['GET csr-1', 'PUT csr-1@1 Approved'],
      options: { events: 'denials' },
      result: 'approved:AutoApproved',
    },
    {
      name: 'with Events for denials only, still records a denial’s Event',
      script: {
        getCsr: [pending('1', { usages: ['digital signature', 'server auth', 'client auth'] })],
        updateApproval: ['ok'],
        createEvent: ['created'],
      },
      calls: ['GET csr-1', 'PUT csr-1@1 Denied', 'EVENT csr-1@2 Denied'],
      options: { events: 'denials' },
      result: 'denied:DisallowedUsages',
    },
    {
      name: 'with Events for denials only, restores no Event for its own approval',
      script: { getCsr: [ours('Approved')] },
      calls: ['GET csr-1'],
      options: { events: 'denials' },
      result: 'already-decided:AlreadyDecided',
    },
    {
      name: 'with Events for denials only, restores the Event of its own denial',
      script: { getCsr: [ours('Denied')], createEvent: ['created'] },
      calls: ['GET csr-1', 'EVENT csr-1@2 Denied'],
      options: { events: 'denials' },
      result: 'already-decided:AlreadyDecided',
    },
    {
      name: 'writes nothing, not even an Event, for a CSR someone else decided',
      script: { getCsr: [byKubectl] },
      calls: ['GET csr-1'],
      result: 'already-decided:AlreadyDecided',
    },
    {
      name: 'fails the attempt when the Event cannot be written, so a retry restores it',
      script: { getCsr: [pending('1')], updateApproval: ['ok'], createEvent: [serverError()] },
      calls: ['GET csr-1', 'PUT csr-1@1 Approved', 'EVENT csr-1@2 Approved'],
      error: error => {
        assert.ok(error instanceof RetryableError, String(error));
      },
    },
    {
      name: 'retries a 5xx with Retry-After no sooner than it says',
      script: { getCsr: [serverError(5_000)] },
      calls: ['GET csr-1'],
      error: retriesAfter(5_000),
    },
    {
      name: 'retries a 5xx with a short Retry-After after its own backoff when that is longer',
      script: { getCsr: [serverError(100)] },
      calls: ['GET csr-1'],
      options: { attemptsMade: 3 },
      error: retriesAfter(8_000),
    },
    {
      name: 'pauses the whole queue for a 429 for its Retry-After',
      script: { getCsr: [throttled(2_000)] },
      calls: ['GET csr-1'],
      error: error => {
        assert.ok(error instanceof ThrottledError, String(error));
        assert.equal(error.retryAfterMs, 2_000);
      },
    },
    {
      name: 'retries, and writes nothing, when the SubjectAccessReview fails',
      script: { getCsr: [pending('1')], accessReview: serverError() },
      calls: ['GET csr-1'],
      options: { nowMs: CREATED_MS + 3_600_000 },
      error: error => {
        assert.ok(error instanceof RetryLaterError, String(error));
      },
    },
    {
      name: 'retries, and writes nothing, when the SubjectAccessReview has an evaluation error',
      script: {
        getCsr: [pending('1')],
        accessReview: {
          allowed: false,
          denied: false,
          reason: '',
          evaluationError: 'webhook down',
        },
      },
      calls: ['GET csr-1'],
      error: error => {
        assert.ok(error instanceof RetryLaterError, String(error));
      },
    },
    {
      name: 'denies when the SubjectAccessReview says no',
      script: {
        getCsr: [pending('1')],
        accessReview: { allowed: false, denied: false, reason: 'no RBAC' },
        updateApproval: ['ok'],
        createEvent: ['created'],
      },
      calls: ['GET csr-1', 'PUT csr-1@1 Denied', 'EVENT csr-1@2 Denied'],
      result: 'denied:NotAuthorized',
    },
    {
      name: 'looks again just after the grace window ends while the Node does not exist yet',
      script: { getCsr: [pending('1')], node: undefined },
      calls: ['GET csr-1'],
      // Created 9.9 s ago with 10 s of grace: 100 ms to go, then 50 ms to be sure it is over.
      options: { grace: 10, nowMs: CREATED_MS + 9_900 },
      error: retriesAfter(150),
    },
    {
      name: 'denies NodeNotFound once the grace window is over',
      script: {
        getCsr: [pending('1')],
        node: undefined,
        updateApproval: ['ok'],
        createEvent: ['created'],
      },
      calls: ['GET csr-1', 'PUT csr-1@1 Denied', 'EVENT csr-1@2 Denied'],
      options: { grace: 10, nowMs: CREATED_MS + 10_001 },
      result: 'denied:NodeNotFound',
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const run = await runJob(c.script, c.options);
      assert.deepEqual(run.unexpected, [], 'calls the script did not expect');
      assert.deepEqual(run.calls, c.calls);
      if (c.error === undefined) {
        assert.equal(run.error, undefined, String(run.error));
        assert.equal(run.result, c.result);
      } else {
        assert.equal(run.result, undefined, 'the job should have failed');
        c.error(run.error);
      }
    });
  }

  it('waits with plain backoff for a missing Node while the grace window is far from over', async () => {
    const run = await runJob(
      { getCsr: [pending('1')], node: undefined },
      { grace: 600, nowMs: CREATED_MS + 1_000 },
    );
    assert.ok(run.error instanceof RetryLaterError, String(run.error));
    // The first retry: half to all of the initial 1 s, at random.
    assert.ok(run.error.delayMs >= 500 && run.error.delayMs <= 1_000, String(run.error.delayMs));
  });

  it('after an Event lost to a failure, the next attempt restores it and writes no second decision', async () => {
    const first = await runJob({
      getCsr: [pending('1')],
      updateApproval: ['ok'],
      createEvent: [serverError()],
    });
    assert.ok(first.error instanceof RetryableError);
    const second = await runJob(
      { getCsr: [ours('Approved')], createEvent: ['created'] },
      { attemptsMade: 1 },
    );
    assert.deepEqual(second.unexpected, []);
    assert.deepEqual(second.calls, ['GET csr-1', 'EVENT csr-1@2 Approved']);
  });
});
