import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyFailure,
  classifyStatus,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
} from './classify.ts';
import type { KubeApiError } from './errors.ts';
import {
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  NotFoundError,
  PermanentError,
  RetryableError,
} from './errors.ts';

const now = Date.parse('2026-03-01T12:00:00Z');

describe('parseRetryAfter', () => {
  const cases: { name: string; value: string | undefined; expected: number | undefined }[] = [
    { name: 'reads delta-seconds', value: '1', expected: 1000 },
    { name: 'reads zero seconds', value: '0', expected: 0 },
    { name: 'trims whitespace', value: ' 7 ', expected: 7000 },
    { name: 'reads an IMF-fixdate', value: 'Sun, 01 Mar 2026 12:00:30 GMT', expected: 30_000 },
    {
      name: 'clamps a date in the past to zero',
      value: 'Sun, 01 Mar 2026 11:00:00 GMT',
      expected: 0,
    },
    { name: 'caps a huge delay', value: '999999999', expected: MAX_RETRY_AFTER_MS },
    { name: 'ignores an absent header', value: undefined, expected: undefined },
    { name: 'ignores an empty header', value: '', expected: undefined },
    { name: 'ignores a negative number', value: '-5', expected: undefined },
    { name: 'ignores a fraction', value: '1.5', expected: undefined },
    { name: 'ignores garbage', value: 'soon', expected: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(parseRetryAfter(c.value, now), c.expected);
    });
  }
});

describe('classifyStatus', () => {
  const status = (code: number, reason: string, details?: object): object => ({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message: `${reason} happened`,
    reason,
    code,
    ...(details === undefined ? {} : { details }),
  });
  const cases: {
    name: string;
    status: number;
    body?: unknown;
    retryAfter?: string;
    expected: new (...args: never[]) => KubeApiError;
    retryAfterMs?: number;
    kind?: string;
  }[] = [
    {
      name: 'makes 429 retryable with the Retry-After header',
      status: 429,
      body: status(429, 'TooManyRequests', { retryAfterSeconds: 1 }),
      retryAfter: '3',
      expected: RetryableError,
      retryAfterMs: 3000,
      kind: 'throttled',
    },
    {
      name: 'falls back to details.retryAfterSeconds without a header',
      status: 429,
      body: status(429, 'TooManyRequests', { retryAfterSeconds: 2 }),
      expected: RetryableError,
      retryAfterMs: 2000,
      kind: 'throttled',
    },
    {
      name: 'makes 500 retryable',
      status: 500,
      body: status(500, 'InternalError'),
      expected: RetryableError,
      kind: 'server',
    },
    {
      name: 'makes 503 with a non-JSON body retryable',
      status: 503,
      body: undefined,
      expected: RetryableError,
      kind: 'server',
    },
    {
      name: 'makes 504 a retryable timeout',
      status: 504,
      expected: RetryableError,
      kind: 'timeout',
    },
    {
      name: 'makes 408 a retryable timeout',
      status: 408,
      expected: RetryableError,
      kind: 'timeout',
    },
    {
      name: 'maps 409 to ConflictError',
      status: 409,
      body: status(409, 'Conflict'),
      expected: ConflictError,
    },
    {
      name: 'maps 404 to NotFoundError',
      status: 404,
      body: status(404, 'NotFound'),
      expected: NotFoundError,
    },
    {
      name: 'maps 410 to GoneError',
      status: 410,
      body: status(410, 'Expired'),
      expected: GoneError,
    },
    { name: 'maps 401 to ForbiddenError', status: 401, expected: ForbiddenError },
    {
      name: 'maps 403 to ForbiddenError',
      status: 403,
      body: status(403, 'Forbidden'),
      expected: ForbiddenError,
    },
    {
      name: 'maps 422 to InvalidError',
      status: 422,
      body: status(422, 'Invalid'),
      expected: InvalidError,
    },
    {
      name: 'maps 400 to PermanentError',
      status: 400,
      body: status(400, 'BadRequest'),
      expected: PermanentError,
    },
    { name: 'maps 413 to PermanentError', status: 413, expected: PermanentError },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const error = classifyStatus({
        method: 'GET',
        path: '/x',
        status: c.status,
        body: c.body,
        retryAfter: c.retryAfter,
        nowMs: now,
      });
      assert.ok(error instanceof c.expected, `${error.name} is not ${c.expected.name}`);
      assert.equal(error.name, c.expected.name);
      assert.equal(error.status, c.status);
      if (error instanceof RetryableError) {
        assert.equal(error.retryAfterMs, c.retryAfterMs);
        assert.equal(error.kind, c.kind);
      }
    });
  }

  it('keeps the reason and message of the API server Status', () => {
    const error = classifyStatus({
      method: 'PUT',
      path: '/apis/certificates.k8s.io/v1/certificatesigningrequests/a/approval',
      status: 409,
      body: status(409, 'Conflict'),
      nowMs: now,
    });
    assert.equal(error.reason, 'Conflict');
    assert.match(error.message, /HTTP 409: Conflict happened/);
  });

  it('never classifies a transient status as permanent', () => {
    for (let code = 500; code < 600; code++) {
      const error = classifyStatus({
        method: 'GET',
        path: '/',
        status: code,
        body: undefined,
        nowMs: now,
      });
      assert.ok(error instanceof RetryableError, String(code));
    }
  });
});

describe('classifyFailure', () => {
  const cases: { name: string; error: unknown; kind: string }[] = [
    {
      name: 'makes a reset connection retryable',
      error: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      kind: 'network',
    },
    {
      name: 'makes a refused connection retryable',
      error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
      kind: 'network',
    },
    {
      name: 'makes a headers timeout a retryable timeout',
      error: Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
      kind: 'timeout',
    },
    {
      name: 'reads the code of a wrapped cause',
      error: new Error('fetch failed', {
        cause: Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
      }),
      kind: 'timeout',
    },
    {
      name: 'makes a TLS failure retryable, never a deny',
      error: Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      kind: 'network',
    },
    { name: 'makes an unknown throw retryable', error: 'boom', kind: 'network' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const error = classifyFailure({ method: 'GET', path: '/x', error: c.error });
      assert.ok(error instanceof RetryableError);
      assert.equal(error.kind, c.kind);
      assert.equal(error.status, undefined);
    });
  }
});
