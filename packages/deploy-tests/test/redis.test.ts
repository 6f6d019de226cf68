// The in-cluster Redis configuration (deploy/components/redis-in-cluster/redis.conf), started the way
// the StatefulSet starts it (password on stdin) with Debian's redis-server, then used by the real
// queue code: what BullMQ needs is on, and the cost of a queued CSR is measured.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { APPROVAL_QUEUE, QUEUE_PREFIX } from '@stampede/contracts';
import { freePort, redisCommand } from '@stampede/harness';
import { createApprovalQueue, createRedisConnection, waitForReady } from '@stampede/queue';
import { DEPLOY } from './support/render.ts';

const CONF = join(DEPLOY, 'components', 'redis-in-cluster', 'redis.conf');
const PASSWORD = 'c0ffee'.repeat(8);

describe('the shipped redis.conf', () => {
  let server: ChildProcess;
  let dir: string;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stampede-redis-conf-'));
    port = await freePort();
    // As the StatefulSet does: `printf 'requirepass …' | redis-server redis.conf --dir … -` (`-`, stdin,
    // must come last), with overrides
    // for a test (port, directory, loopback only).
    server = spawn(
      'redis-server',
      [CONF, '--port', String(port), '--dir', dir, '--bind', '127.0.0.1', '-'],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    server.stdin?.on('error', () => undefined);
    server.stdin?.end(`requirepass ${PASSWORD}\n`);
    const state = { exited: false };
    server.on('exit', () => {
      state.exited = true;
    });
    const probe = createRedisConnection({
      url: `redis://:${PASSWORD}@127.0.0.1:${port}`,
      role: 'producer',
      name: 'probe',
    });
    probe.on('error', () => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await waitForReady(probe, 1_000);
        break;
      } catch (error) {
        if (state.exited)
          throw new Error('redis-server refused the shipped redis.conf (see stderr)', {
            cause: error,
          });
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
    probe.disconnect();
  });

  after(() => {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = async () => {
    const redis = createRedisConnection({
      url: `redis://:${PASSWORD}@127.0.0.1:${port}`,
      role: 'producer',
      name: 'deploy-test',
    });
    redis.on('error', () => undefined);
    await waitForReady(redis, 5_000);
    return redis;
  };

  it('turns on AOF (fsync every second) and noeviction, and has a memory ceiling', async () => {
    const redis = await connect();
    try {
      const get = async (key: string): Promise<string> => (await redis.config('GET', key))[1] ?? '';
      assert.equal(await get('appendonly'), 'yes');
      assert.equal(await get('appendfsync'), 'everysec');
      assert.equal(await get('maxmemory-policy'), 'noeviction');
      assert.equal(await get('save'), '');
      assert.ok(Number(await get('maxmemory')) > 0, 'maxmemory is set');
    } finally {
      redis.disconnect();
    }
  });

  it('refuses clients without the password, and FLUSHALL for everyone', async () => {
    await assert.rejects(redisCommand(port, ['GET', 'x']), /NOAUTH/);
    const redis = await connect();
    try {
      await assert.rejects(redis.call('FLUSHALL'), /unknown command/i);
    } finally {
      redis.disconnect();
    }
  });

  it('holds queued CSRs in `prioritized` (what the HPA counts) at under 1 KB each (ADR 18)', async () => {
    const COUNT = 5_000;
    const redis = await connect();
    const queue = createApprovalQueue(redis);
    try {
      const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
      const items = Array.from({ length: COUNT }, (_, i) => ({
        job: {
          uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          name: `csr-${i.toString(36).padStart(5, '0')}`,
          resourceVersion: String(100_000 + i),
          // As the watcher sends them: every job carries its trace context.
          trace: {
            traceparent: `00-${(i + 1).toString(16).padStart(32, '0')}-${'1'.padStart(16, '0')}-01`,
          },
        },
        priority: 1 + (i % 3),
      }));
      for (let i = 0; i < COUNT; i += 500) await queue.enqueueBulk(items.slice(i, i + 500));
      const usedAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
      const counts = await queue.counts();
      // The watcher gives every job a priority (>= 1), so BullMQ keeps them in the prioritized
      // set, not the wait list: a depth metric of `waiting` alone would read 0 during a storm.
      assert.equal(counts['prioritized'], COUNT);
      assert.equal(counts['waiting'] ?? 0, 0);
      assert.equal(await redis.llen(`${QUEUE_PREFIX}:${APPROVAL_QUEUE}:wait`), 0);
      const perJob = (usedAfter - before) / COUNT;
      process.stderr.write(`redis: ${perJob.toFixed(0)} bytes of used_memory per queued CSR\n`);
      assert.ok(perJob < 1024, `${perJob.toFixed(0)} bytes per queued CSR`);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});
