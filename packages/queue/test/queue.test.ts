// The approval queue on a real redis-server: deduplication, retries, throttling, priorities,
// shutdown. Each test uses its own Redis database contents (flushed before each test).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis } from '@stampede/harness';
import type { RedisServer } from '@stampede/harness';
import type { CsrJob } from '@stampede/contracts';
import {
  MalformedJobError,
  RetryLaterError,
  ThrottledError,
  createApprovalQueue,
  createApprovalWorker,
  createRedisConnection,
  waitForReady,
} from '@stampede/queue';
import type { ApprovalQueue, ApprovalWorker, JobContext, JobRetention } from '@stampede/queue';

const noop = (): void => undefined;
const silent = { debug: noop, info: noop, warn: noop, error: noop };
const csrJob = (name = 'csr-a'): CsrJob => ({ uid: randomUUID(), name, resourceVersion: '1' });

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('approval queue on a real Redis', () => {
  let server: RedisServer;
  let producerConnection: Redis;
  let workerConnection: Redis;
  let queue: ApprovalQueue;
  const workers: ApprovalWorker[] = [];

  before(async () => {
    server = await startRedis();
    producerConnection = createRedisConnection({ url: server.url, role: 'producer', name: 'p' });
    workerConnection = createRedisConnection({ url: server.url, role: 'worker', name: 'w' });
    producerConnection.on('error', () => undefined);
    workerConnection.on('error', () => undefined);
    await waitForReady(producerConnection, 5_000);
    queue = createApprovalQueue(producerConnection);
  });

  beforeEach(async () => {
    await Promise.all(workers.splice(0).map(w => w.close(1_000)));
    await producerConnection.flushall();
  });

  after(async () => {
    await Promise.all(workers.splice(0).map(w => w.close(1_000)));
    await queue.close();
    producerConnection.disconnect();
    workerConnection.disconnect();
    await server.stop();
  });

  type Handler = (job: CsrJob, context: JobContext) => string | Promise<string>;

  function startWorker(
    handler: Handler,
    concurrency = 4,
    limiter?: { max: number; durationMs: number },
    retention?: JobRetention,
  ): ApprovalWorker {
    const worker = createApprovalWorker({
      connection: workerConnection,
      processor: async (job, context) => await handler(job, context),
      logger: silent,
      concurrency,
      ...(limiter === undefined ? {} : { limiter }),
      ...(retention === undefined ? {} : { retention }),
      backoff: { initialMs: 20, maxMs: 100 },
    });
    workers.push(worker);
    return worker;
  }

  const count = async (): Promise<number> => {
    const counts = await queue.counts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  it('keeps one job per uid however often and by however many producers it is enqueued', async () => {
    const job = csrJob();
    const second = createApprovalQueue(producerConnection);
    await Promise.all([
      queue.enqueue({ job }),
      second.enqueue({ job }),
      queue.enqueueBulk([{ job }, { job }, { job: { ...job, resourceVersion: '2' } }]),
    ]);
    await second.close();
    assert.equal(await count(), 1);
  });

  it('withdraws a waiting job, after which the CSR can be enqueued again', async () => {
    const [kept, gone] = [csrJob('kept'), csrJob('gone')];
    await queue.enqueueBulk([{ job: kept }, { job: gone }]);
    assert.equal(await queue.withdraw([gone.uid, randomUUID()]), 1);
    assert.equal(await count(), 1);
    await queue.enqueue({ job: gone });
    assert.equal(await count(), 2);
  });

  it('names the CSRs with no unfinished job: never queued, finished, or with only a stale key left', async () => {
    const [waiting, never, stale, finished] = [csrJob('w'), csrJob('n'), csrJob('s'), csrJob('f')];
    await queue.enqueueBulk([{ job: waiting }, { job: stale }]);
    // The job is lost but its deduplication key stays (what an outage can leave): BullMQ's add
    // recovers such a key, so the CSR must count as unqueued, or no full pass would queue it again.
    const staleId = await queue.queue.getDeduplicationJobId(`csr:${stale.uid}`);
    assert.ok(staleId !== null);
    await producerConnection.del(queue.queue.toKey(staleId));
    await producerConnection.zrem(queue.queue.toKey('prioritized'), staleId);
    assert.deepEqual(await queue.unqueued([waiting.uid, never.uid, stale.uid]), [
      never.uid,
      stale.uid,
    ]);
    await queue.enqueueBulk([{ job: waiting }, { job: stale }]);
    assert.equal(await count(), 2, 'BullMQ dedups the waiting job and re-adds the stale one');

    await queue.enqueue({ job: finished });
    startWorker(() => 'done', 1); // completed jobs are kept: their hashes stay, their keys go
    await until(async () => (await queue.counts())['completed'] === 3);
    assert.deepEqual(await queue.unqueued([finished.uid, waiting.uid]), [
      finished.uid,
      waiting.uid,
    ]);
    assert.deepEqual(await queue.unqueued([]), []);
  });

  it('does not withdraw a job a worker holds', async () => {
    const job = csrJob();
    let release = noop;
    const held = new Promise<void>(resolve => (release = resolve));
    let started = false;
    startWorker(async () => {
      started = true;
      await held;
      return 'done';
    });
    await queue.enqueue({ job });
    await until(() => started);
    assert.equal(await queue.withdraw([job.uid]), 0);
    release();
  });

  it('enqueues a CSR again once its earlier job completed', async () => {
    const job = csrJob();
    let runs = 0;
    startWorker(() => {
      runs++;
      return 'done';
    });
    await queue.enqueue({ job });
    await until(() => runs === 1);
    await until(async () => (await queue.counts())['completed'] === 1);
    await queue.enqueue({ job });
    await until(() => runs === 2);
  });

  it('keeps only as many finished jobs as the worker retains, with no retention in the jobs', async () => {
    let runs = 0;
    startWorker(
      () => {
        runs++;
        return 'done';
      },
      1,
      undefined,
      { count: 2 },
    );
    const jobs = Array.from({ length: 5 }, () => ({ job: csrJob() }));
    await queue.enqueueBulk(jobs);
    await until(() => runs === 5);
    await until(async () => (await queue.counts())['completed'] === 2);
    const stored = await queue.queue.getJobs(['completed']);
    assert.ok(stored.every(job => job.opts.removeOnComplete === undefined));
  });

  it('enqueues a CSR again once its earlier job failed', async () => {
    const job = csrJob();
    let runs = 0;
    startWorker(() => {
      runs++;
      throw new MalformedJobError('fails for good');
    });
    await queue.enqueue({ job });
    await until(async () => (await queue.counts())['failed'] === 1);
    await queue.enqueue({ job });
    await until(() => runs === 2);
  });

  it('re-creates jobs after Redis was flushed', async () => {
    const jobs = [csrJob('a'), csrJob('b')];
    await queue.enqueueBulk(jobs.map(job => ({ job })));
    await producerConnection.flushall();
    assert.equal(await count(), 0);
    await queue.enqueueBulk(jobs.map(job => ({ job })));
    assert.equal(await count(), 2);
  });

  it('fails a malformed job alone, at once, and processes the others', async () => {
    const seen: string[] = [];
    startWorker(job => {
      seen.push(job.name);
      return 'done';
    });
    await queue.queue.add('decide-csr', { uid: 'x', name: 'bad', request: 'PEM…' } as never);
    await queue.enqueueBulk([{ job: csrJob('good-1') }, { job: csrJob('good-2') }]);
    await until(async () => (await queue.counts())['completed'] === 2);
    const [failed] = await queue.queue.getFailed();
    assert.ok(failed);
    assert.equal(failed.attemptsMade, 1);
    assert.match(failed.failedReason, /malformed job: .*unrecognized key/i);
    assert.deepEqual(seen.sort(), ['good-1', 'good-2']);
  });

  it('retries after the delay a RetryLaterError asks for', async () => {
    const times: number[] = [];
    startWorker(() => {
      times.push(Date.now());
      if (times.length === 1) throw new RetryLaterError('node not found yet', 600);
      return 'done';
    });
    await queue.enqueue({ job: csrJob() });
    await until(() => times.length === 2);
    const gap = (times[1] ?? 0) - (times[0] ?? 0);
    assert.ok(gap >= 550, `retried after ${gap} ms`);
  });

  it('retries any other error with backoff, keeping the job', async () => {
    let runs = 0;
    startWorker(() => {
      runs++;
      if (runs < 3) throw new Error('API server unreachable');
      return 'done';
    });
    await queue.enqueue({ job: csrJob() });
    await until(async () => (await queue.counts())['completed'] === 1);
    const [done] = await queue.queue.getCompleted();
    assert.equal(done?.attemptsMade, 3, 'two failed attempts and the one that completed');
  });

  it('pauses every worker for Retry-After on a ThrottledError without using an attempt', async () => {
    const starts: { name: string; at: number }[] = [];
    let throttled = false;
    startWorker(job => {
      starts.push({ name: job.name, at: Date.now() });
      if (!throttled) {
        throttled = true;
        throw new ThrottledError('429', 800);
      }
      return 'done';
    }, 1);
    await queue.enqueue({ job: csrJob('first'), priority: 1 });
    await until(() => starts.length === 1);
    await queue.enqueue({ job: csrJob('second'), priority: 1 });
    await until(async () => (await queue.counts())['completed'] === 2);
    const pausedFor = (starts[1]?.at ?? 0) - (starts[0]?.at ?? 0);
    assert.ok(pausedFor >= 700, `next job started ${pausedFor} ms after the 429`);
    const completed = await queue.queue.getCompleted();
    assert.deepEqual(
      completed.map(job => job.attemptsMade),
      [1, 1],
    );
  });

  it('limits the rate across all workers of the queue together', async () => {
    const starts: number[] = [];
    const handler = (): string => {
      starts.push(Date.now());
      return 'done';
    };
    startWorker(handler, 10, { max: 4, durationMs: 1_000 });
    startWorker(handler, 10, { max: 4, durationMs: 1_000 });
    await queue.enqueueBulk(Array.from({ length: 12 }, (_, i) => ({ job: csrJob(`rate-${i}`) })));
    await until(() => starts.length === 12, 15_000);
    const spread = Math.max(...starts) - Math.min(...starts);
    assert.ok(spread >= 1_900, `12 jobs at 4/s by two workers took ${spread} ms`);
  });

  it('takes lower priority numbers first, so a flooding requester queues behind the rest', async () => {
    const order: string[] = [];
    await queue.enqueueBulk([
      ...Array.from({ length: 5 }, (_, i) => ({ job: csrJob(`flood-${i}`), priority: i + 1 })),
      { job: csrJob('quiet-node'), priority: 1 },
    ]);
    startWorker(job => {
      order.push(job.name);
      return 'done';
    }, 1);
    await until(() => order.length === 6);
    assert.ok(order.indexOf('quiet-node') <= 1, order.join(','));
  });

  it('releases in-flight jobs at shutdown past the deadline, without failing them', async () => {
    let started = false;
    const worker = startWorker(async (_job, context) => {
      started = true;
      await new Promise((_resolve, reject) => {
        context.signal.addEventListener('abort', () => {
          reject(new Error('aborted'));
        });
      });
      return 'never';
    });
    workers.splice(workers.indexOf(worker), 1);
    await queue.enqueue({ job: csrJob() });
    await until(() => started);
    const { released } = await worker.close(200);
    assert.equal(released, true);
    const counts = await queue.counts();
    assert.equal(counts['failed'], 0);
    assert.equal((counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0), 1);
  });

  it('finishes in-flight jobs at shutdown within the deadline', async () => {
    let finished = false;
    const worker = startWorker(async () => {
      await sleep(150);
      finished = true;
      return 'done';
    });
    workers.splice(workers.indexOf(worker), 1);
    await queue.enqueue({ job: csrJob() });
    await until(async () => (await queue.counts())['active'] === 1);
    const { released } = await worker.close(5_000);
    assert.equal(released, false);
    assert.equal(finished, true);
    assert.equal((await queue.counts())['completed'], 1);
  });
});
