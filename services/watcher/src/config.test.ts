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
        redisSentinel: undefined,
        redisAllowEviction: false,
        kubeconfig: undefined,
        resyncIntervalMs: 30_000,
        relistIntervalMs: 600_000,
        watchIdleTimeoutMs: 90_000,
        perNodeInFlight: 3,
        abandonedAfterMs: 900_000,
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
      REDIS_ALLOW_EVICTION: 'maybe',
      RESYNC_INTERVAL_SECONDS: '120',
      RELIST_INTERVAL_SECONDS: '0',
      WATCH_IDLE_TIMEOUT_SECONDS: '0',
      PER_NODE_IN_FLIGHT: 'many',
      LOG_LEVEL: 'loud',
    });
    const errors = result.ok ? [] : result.errors;
    assert.deepEqual(
      errors.map(e => e.split(':')[0]),
      [
        'REDIS_URL',
        'REDIS_ALLOW_EVICTION',
        'RESYNC_INTERVAL_SECONDS',
        'RELIST_INTERVAL_SECONDS',
        'WATCH_IDLE_TIMEOUT_SECONDS',
        'PER_NODE_IN_FLIGHT',
        'LOG_LEVEL',
      ],
    );
  });

  it('accepts eviction only when REDIS_ALLOW_EVICTION is true', () => {
    const allowed = loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_ALLOW_EVICTION: 'true' });
    assert.equal(allowed.ok && allowed.config.redisAllowEviction, true);
    const refused = loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_ALLOW_EVICTION: 'false' });
    assert.equal(refused.ok && refused.config.redisAllowEviction, false);
  });

  it('finds Redis through Sentinel when REDIS_SENTINELS is set, with the sentinels password', () => {
    const result = loadConfig({
      REDIS_URL: 'redis://:secret@ignored:6379/2',
      REDIS_SENTINELS: 'stampede@10.0.0.1:26379,10.0.0.2:26379',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    assert.deepEqual(result.ok ? result.config.redisSentinel : result.errors, {
      primaryName: 'stampede',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      password: 'sentinel-secret',
    });
  });

  it('names REDIS_SENTINELS when it is not name@host:port', () => {
    const result = loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: '10.0.0.1:26379' });
    assert.match(result.ok ? '' : (result.errors[0] ?? ''), /^REDIS_SENTINELS: must be name@/);
  });

  it('says REDIS_URL is required when it is missing', () => {
    const result = loadConfig({});
    assert.match(result.ok ? '' : (result.errors[0] ?? ''), /^REDIS_URL: is required/);
  });
});
