import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('needs only REDIS_URL and fills in the defaults', () => {
    const result = loadConfig({ REDIS_URL: 'rediss://:secret@redis:6380/0', POD_NAME: 'w-0' });
    assert.deepEqual(result, {
      ok: true,
      config: {
        redisUrl: 'rediss://:secret@redis:6380/0',
        kubeconfig: undefined,
        resyncIntervalMs: 30_000,
        relistIntervalMs: 600_000,
        perNodeInFlight: 3,
        healthPort: 8080,
        healthHost: '0.0.0.0',
        logLevel: 'info',
        instance: 'w-0',
      },
    });
  });

  it('names every bad variable', () => {
    const result = loadConfig({
      REDIS_URL: 'http://redis',
      RESYNC_INTERVAL_SECONDS: '120',
      RELIST_INTERVAL_SECONDS: '0',
      PER_NODE_IN_FLIGHT: 'many',
      LOG_LEVEL: 'loud',
    });
    const errors = result.ok ? [] : result.errors;
    assert.deepEqual(
      errors.map(e => e.split(':')[0]),
      [
        'REDIS_URL',
        'RESYNC_INTERVAL_SECONDS',
        'RELIST_INTERVAL_SECONDS',
        'PER_NODE_IN_FLIGHT',
        'LOG_LEVEL',
      ],
    );
  });

  it('says REDIS_URL is required when it is missing', () => {
    const result = loadConfig({});
    assert.match(result.ok ? '' : (result.errors[0] ?? ''), /^REDIS_URL: is required/);
  });
});
