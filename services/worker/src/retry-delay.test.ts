import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDecisionDelay } from './retry-delay.ts';

const base = {
  attemptsMade: 0,
  createdAtMs: 0,
  graceSeconds: 600,
  backoff: { initialMs: 1_000, maxMs: 30_000 },
  random: () => 1,
};

describe('retryDecisionDelay', () => {
  const cases: { name: string; attemptsMade: number; nowMs: number; expected: number }[] = [
    { name: 'backs off 1 s after the first retry', attemptsMade: 0, nowMs: 1_000, expected: 1_000 },
    {
      name: 'doubles up to the cap inside the window',
      attemptsMade: 10,
      nowMs: 60_000,
      expected: 30_000,
    },
    {
      name: 'wakes just after the grace window when backoff would overshoot it',
      attemptsMade: 10,
      nowMs: 590_000,
      expected: 10_050,
    },
    {
      name: 'never retries sooner than 50 ms, even at the very end of the window',
      attemptsMade: 10,
      nowMs: 600_000,
      expected: 50,
    },
    {
      name: 'uses plain backoff once the window is over',
      attemptsMade: 2,
      nowMs: 700_000,
      expected: 4_000,
    },
  ];
  for (const { name, attemptsMade, nowMs, expected } of cases) {
    it(name, () => {
      assert.equal(retryDecisionDelay({ ...base, attemptsMade, nowMs }), expected);
    });
  }
});
