import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startRedis, type RedisServer } from '@stampede/harness';

describe('startRedis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('serves on a loopback URL with AOF on, RDB off and noeviction', async () => {
    assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await redis.command('PING'), 'PONG');
    assert.deepEqual(await redis.command('CONFIG', 'GET', 'appendonly'), ['appendonly', 'yes']);
    assert.deepEqual(await redis.command('CONFIG', 'GET', 'appendfsync'), [
      'appendfsync',
      'always',
    ]);
    assert.deepEqual(await redis.command('CONFIG', 'GET', 'save'), ['save', '']);
    assert.deepEqual(await redis.command('CONFIG', 'GET', 'maxmemory-policy'), [
      'maxmemory-policy',
      'noeviction',
    ]);
  });

  it('keeps data across a restart on the same port (AOF)', async () => {
    const { port, pid } = redis;
    await redis.command('SET', 'survives-restart', 'yes');
    await redis.restart();
    assert.equal(redis.port, port);
    assert.notEqual(redis.pid, pid);
    assert.equal(await redis.command('GET', 'survives-restart'), 'yes');
  });

  it('keeps acknowledged writes across a SIGKILL (appendfsync always)', async () => {
    await redis.command('SET', 'survives-kill', 'yes');
    await redis.kill();
    assert.equal(redis.running, false);
    await assert.rejects(redis.command('PING'));
    await redis.start();
    assert.equal(await redis.command('GET', 'survives-kill'), 'yes');
  });

  it('loses everything on flush, also across a restart', async () => {
    await redis.command('SET', 'flushed', 'yes');
    await redis.flush();
    assert.equal(await redis.command('GET', 'flushed'), null);
    await redis.restart();
    assert.equal(await redis.command('DBSIZE'), 0);
  });

  it('removes its directory on stop', async () => {
    const other = await startRedis();
    assert.ok(existsSync(other.dir));
    await other.stop();
    assert.equal(existsSync(other.dir), false);
    assert.equal(other.pid, undefined);
  });
});
