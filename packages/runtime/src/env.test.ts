import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { formatHelp, parseEnv } from './env.ts';

const schema = z.object({
  REDIS_URL: z.url(),
  CONCURRENCY: z.coerce.number().int().min(1).default(10),
});

describe('parseEnv', () => {
  it('applies defaults and coerces numbers', () => {
    assert.deepEqual(parseEnv(schema, { REDIS_URL: 'redis://localhost:6379' }), {
      ok: true,
      config: { REDIS_URL: 'redis://localhost:6379', CONCURRENCY: 10 },
    });
  });

  it('names every bad variable at once', () => {
    const result = parseEnv(schema, { REDIS_URL: 'not a url', CONCURRENCY: '0' });
    const errors = result.ok ? [] : result.errors;
    assert.equal(errors.length, 2);
    assert.match(errors[0] ?? '', /^REDIS_URL: /);
    assert.match(errors[1] ?? '', /^CONCURRENCY: /);
  });
});

describe('formatHelp', () => {
  it('lists each variable with its default, aligned', () => {
    const help = formatHelp('usage: x', [
      { name: 'REDIS_URL', description: 'Redis' },
      { name: 'LOG', description: 'level', default: 'info' },
    ]);
    assert.equal(
      help,
      'usage: x\n\nEnvironment:\n  REDIS_URL  Redis\n  LOG        level (default info)\n',
    );
  });
});
