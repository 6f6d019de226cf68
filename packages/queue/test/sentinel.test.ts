// Redis Sentinel: a real primary, a real replica and a real sentinel. The connection finds the
// primary through the sentinel, and after the primary dies (SIGKILL) and the sentinel promotes the
// replica, the same connection writes to the new primary with no restart of ours.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisSentinel, startRedis } from '@stampede/harness';
import type { RedisServer } from '@stampede/harness';
import type { CsrJob } from '@stampede/contracts';
import { createApprovalQueue, createRedisConnection, waitForReady } from '@stampede/queue';
import type { ApprovalQueue } from '@stampede/queue';
import { parseSentinels } from '@stampede/runtime';

const QUEUE_KEYS = '{stampede}:csr-approvals';
const csrJob = (): CsrJob => ({ uid: randomUUID(), name: 'csr-s', resourceVersion: '1' });

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('a connection through Redis Sentinel', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let sentinel: RedisSentinel;
  let connection: Redis;
  let queue: ApprovalQueue;

  before(async () => {
    primary = await startRedis();
    replica = await startRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    sentinel = await RedisSentinel.start({ primaryPort: primary.port });
    // A failover needs the sentinel to know the replica (it learns it from the primary's INFO).
    await until(
      'the sentinel to see the replica',
      async () => {
        const replicas = await sentinel.replicas();
        return replicas > 0 ? replicas : undefined;
      },
      20_000,
    );
    const config = parseSentinels(sentinel.spec);
    assert.ok(!('error' in config));
    // The URL's host is not used with sentinels: only its credentials, db and scheme are.
    connection = createRedisConnection({
      url: 'redis://ignored.invalid:1/0',
      role: 'producer',
      name: 'sentinel-test',
      sentinel: config,
    });
    connection.on('error', () => undefined);
    await waitForReady(connection, 10_000);
    queue = createApprovalQueue(connection);
    queue.queue.on('error', () => undefined);
  });

  after(async () => {
    await queue.close();
    connection.disconnect();
    await sentinel.stop();
    await Promise.all([replica.stop(), primary.stop()]);
  });

  it('writes to the primary the sentinel names', async () => {
    const job = csrJob();
    await queue.enqueue({ job });
    assert.equal(await primary.command('EXISTS', `${QUEUE_KEYS}:de:csr:${job.uid}`), 1);
  });

  it('follows a failover to the promoted replica with the same connection', async () => {
    const before = csrJob();
    await queue.enqueue({ job: before });
    // Replication is asynchronous: kill the primary only once the replica has the job.
    await until(
      'the job on the replica',
      async () =>
        (await replica.command('EXISTS', `${QUEUE_KEYS}:de:csr:${before.uid}`)) === 1
          ? true
          : undefined,
      10_000,
    );
    await primary.kill();
    await until(
      'the sentinel to promote the replica',
      async () => ((await sentinel.primaryPort()) === replica.port ? true : undefined),
      30_000,
    );
    // A producer fails fast while it reconnects, so the caller retries, as the watcher does.
    const after = csrJob();
    await until(
      'an enqueue on the new primary',
      async () => {
        await queue.enqueue({ job: after });
        return true;
      },
      30_000,
    );
    assert.equal(await replica.command('EXISTS', `${QUEUE_KEYS}:de:csr:${after.uid}`), 1);
    assert.equal(await replica.command('EXISTS', `${QUEUE_KEYS}:de:csr:${before.uid}`), 1);
    const role = await replica.command('ROLE');
    assert.ok(Array.isArray(role) && role[0] === 'master', 'the replica is the primary now');
  });
});
