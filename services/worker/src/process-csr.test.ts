import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, RetryableError } from '@stampede/kube';
import type { CertificateSigningRequest } from '@stampede/kube';
import { RetryLaterError, ThrottledError } from '@stampede/queue';
import { decidedBy, toQueueError } from './process-csr.ts';

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

describe('decidedBy', () => {
  const csr = (
    managedFields: { manager: string; subresource?: string }[],
  ): CertificateSigningRequest => ({
    metadata: { name: 'csr-1', managedFields },
    spec: { request: '', signerName: 'kubernetes.io/kubelet-serving' },
  });

  it('recognises our own /approval write', () => {
    assert.equal(
      decidedBy(csr([{ manager: 'stampede-worker', subresource: 'approval' }]), 'stampede-worker'),
      true,
    );
  });

  it('does not claim an approval made with kubectl', () => {
    assert.equal(
      decidedBy(csr([{ manager: 'kubectl', subresource: 'approval' }]), 'stampede-worker'),
      false,
    );
  });

  it('does not count our writes to other parts of the object', () => {
    assert.equal(decidedBy(csr([{ manager: 'stampede-worker' }]), 'stampede-worker'), false);
  });
});
