import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from './list-watch.ts';

describe('backoffDelay', () => {
  const cases: { name: string; attempt: number; min: number; max: number }[] = [
    {
      name: 'waits between half and all of the initial delay at first',
      attempt: 0,
      min: 250,
      max: 500,
    },
    { name: 'doubles per attempt', attempt: 3, min: 2000, max: 4000 },
    { name: 'is capped', attempt: 10, min: 15_000, max: 30_000 },
    { name: 'does not overflow on huge attempt counts', attempt: 10_000, min: 15_000, max: 30_000 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      for (let i = 0; i < 200; i++) {
        const ms = backoffDelay(c.attempt, 500, 30_000);
        assert.ok(ms >= c.min && ms <= c.max, `${ms} not in [${c.min}, ${c.max}]`);
      }
    });
  }
});
