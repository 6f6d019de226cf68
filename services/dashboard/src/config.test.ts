import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopback, loadConfig } from './config.ts';

const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };

describe('loadConfig', () => {
  it('binds to loopback, read-only, without credentials by default', () => {
    const loaded = loadConfig(redis);
    assert.ok(loaded.ok);
    assert.equal(loaded.config.host, '127.0.0.1');
    assert.equal(loaded.config.readOnly, true);
    assert.equal(loaded.config.credentials, undefined);
  });

  it('refuses a non-loopback address without credentials', () => {
    const loaded = loadConfig({ ...redis, DASHBOARD_HOST: '0.0.0.0' });
    assert.equal(loaded.ok, false);
    assert.match(JSON.stringify(loaded), /not loopback/);
  });

  it('accepts a non-loopback address with credentials', () => {
    const env = {
      ...redis,
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_USER: 'u',
      DASHBOARD_PASSWORD: 'p',
    };
    const loaded = loadConfig(env);
    assert.ok(loaded.ok);
    assert.deepEqual(loaded.config.credentials, { username: 'u', password: 'p' });
  });

  it('refuses a user without a password', () => {
    assert.equal(loadConfig({ ...redis, DASHBOARD_USER: 'u' }).ok, false);
  });

  it('allows writes only when DASHBOARD_READ_ONLY is exactly false', () => {
    const writable = loadConfig({ ...redis, DASHBOARD_READ_ONLY: 'false' });
    assert.ok(writable.ok);
    assert.equal(writable.config.readOnly, false);
    assert.equal(loadConfig({ ...redis, DASHBOARD_READ_ONLY: 'no' }).ok, false);
  });

  it('drops a trailing slash from JAEGER_UI_URL', () => {
    const loaded = loadConfig({ ...redis, JAEGER_UI_URL: 'http://jaeger:16686/' });
    assert.ok(loaded.ok);
    assert.equal(loaded.config.jaegerUiUrl, 'http://jaeger:16686');
  });
});

describe('isLoopback', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
    it(`treats ${host} as loopback`, () => {
      assert.equal(isLoopback(host), true);
    });
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'dashboard.example']) {
    it(`treats ${host} as reachable from elsewhere`, () => {
      assert.equal(isLoopback(host), false);
    });
  }
});
