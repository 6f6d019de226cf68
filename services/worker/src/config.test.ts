import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultPolicy } from '@stampede/policy';
import { loadConfig } from './config.ts';

const files: Record<string, string> = {
  'good.yaml': 'nodeGraceSeconds: 5\n',
  'bad.yaml': 'maxSans: -1\nunknownField: true\n',
  'broken.yaml': 'a: [unclosed\n',
};
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: ${path}`);
  return text;
};
const errorsOf = (env: Record<string, string>): readonly string[] => {
  const result = loadConfig(env, readFile);
  return result.ok ? [] : result.errors;
};

describe('loadConfig', () => {
  it('uses the default policy and defaults when only REDIS_URL is set', () => {
    const result = loadConfig({ REDIS_URL: 'redis://r:6379' }, readFile);
    assert.ok(result.ok);
    assert.equal(result.config.policy, defaultPolicy);
    assert.equal(result.config.concurrency, 10);
    assert.equal(result.config.rateLimitPerSecond, 20);
    assert.deepEqual(result.config.backoff, { initialMs: 1_000, maxMs: 30_000 });
  });

  it('loads the policy file', () => {
    const result = loadConfig({ REDIS_URL: 'redis://r', POLICY_FILE: 'good.yaml' }, readFile);
    assert.equal(result.ok && result.config.policy.nodeGraceSeconds, 5);
  });

  it('turns a rate limit of 0 into no limit', () => {
    const result = loadConfig(
      { REDIS_URL: 'redis://r', RATE_LIMIT_JOBS_PER_SECOND: '0' },
      readFile,
    );
    assert.equal(result.ok && result.config.rateLimitPerSecond, undefined);
  });

  it('names every bad variable and every bad policy field together', () => {
    const errors = errorsOf({ CONCURRENCY: '0', POLICY_FILE: 'bad.yaml' });
    assert.ok(
      errors.some(e => e.startsWith('REDIS_URL: ')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some(e => e.startsWith('CONCURRENCY: ')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some(e => e.startsWith('POLICY_FILE bad.yaml: maxSans')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some(e => e.includes('unknownField: unknown field')),
      errors.join('\n'),
    );
  });

  it('reports an unreadable or unparseable policy file by name', () => {
    assert.match(
      errorsOf({ REDIS_URL: 'redis://r', POLICY_FILE: 'missing.yaml' })[0] ?? '',
      /POLICY_FILE missing\.yaml: ENOENT/,
    );
    assert.match(
      errorsOf({ REDIS_URL: 'redis://r', POLICY_FILE: 'broken.yaml' })[0] ?? '',
      /POLICY_FILE broken\.yaml: /,
    );
  });

  it('refuses a backoff cap below the first delay', () => {
    assert.deepEqual(
      errorsOf({ REDIS_URL: 'redis://r', BACKOFF_INITIAL_MS: '5000', BACKOFF_MAX_MS: '1000' }),
      ['BACKOFF_MAX_MS: must be at least BACKOFF_INITIAL_MS'],
    );
  });
});
