import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconnectDelay, redactRedisUrl } from './connection.ts';
import { RetryLaterError } from './errors.ts';
import { clampPriority } from './producer.ts';
import { backoffDelay, retryDelay } from './worker.ts';

describe('backoffDelay', () => {
  const cases: { name: string; attempts: number; random: number; expected: number }[] = [
    {
      name: 'waits between half and all of 1 s after the first failure',
      attempts: 1,
      random: 0,
      expected: 500,
    },
    { name: 'doubles with each failure', attempts: 3, random: 1, expected: 4_000 },
    { name: 'never waits longer than the cap', attempts: 30, random: 1, expected: 30_000 },
    { name: 'treats attempt 0 like the first', attempts: 0, random: 1, expected: 1_000 },
  ];
  for (const { name, attempts, random, expected } of cases) {
    it(name, () => {
      assert.equal(
        backoffDelay(attempts, {}, () => random),
        expected,
      );
    });
  }
});

describe('retryDelay', () => {
  it('uses the delay a RetryLaterError asks for, above the cap too', () => {
    assert.equal(retryDelay(1, new RetryLaterError('grace window', 45_000), {}), 45_000);
  });

  it('falls back to the capped backoff for any other error', () => {
    const delay = retryDelay(2, new Error('ECONNRESET'), { initialMs: 100, maxMs: 1_000 });
    assert.ok(delay >= 100 && delay <= 200, String(delay));
  });
});

describe('reconnectDelay', () => {
  it('starts at 100 ms and stays below the cap', () => {
    assert.equal(
      reconnectDelay(1, 5_000, () => 1),
      100,
    );
    assert.equal(
      reconnectDelay(40, 5_000, () => 1),
      5_000,
    );
    assert.equal(
      reconnectDelay(40, 5_000, () => 0),
      4_000,
    );
  });
});

describe('clampPriority', () => {
  const cases: { name: string; input: number | undefined; expected: number }[] = [
    { name: 'defaults to 1, the soonest a prioritized job can be', input: undefined, expected: 1 },
    { name: 'never gives 0, which would jump every prioritized job', input: 0, expected: 1 },
    { name: 'caps at the largest BullMQ priority', input: 10_000_000, expected: 2_097_151 },
    { name: 'drops fractions', input: 3.7, expected: 3 },
    { name: 'maps NaN to the default', input: Number.NaN, expected: 1 },
  ];
  for (const { name, input, expected } of cases) {
    it(name, () => {
      assert.equal(clampPriority(input), expected);
    });
  }
});

describe('redactRedisUrl', () => {
  it('hides the password and keeps the rest', () => {
    assert.equal(
      redactRedisUrl('rediss://default:s3cret@redis.example:6380/2'),
      'rediss://default:***@redis.example:6380/2',
    );
  });

  it('does not echo an unparseable URL, which may hold a secret', () => {
    assert.equal(redactRedisUrl('not a url s3cret'), '(unparseable REDIS_URL)');
  });
});
