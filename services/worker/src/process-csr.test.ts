import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, RetryableError } from '@stampede/kube';
import type { Decision } from '@stampede/policy';
import { RetryLaterError, ThrottledError } from '@stampede/queue';
import { conditionOf, toQueueError, writtenByUs } from './process-csr.ts';

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
