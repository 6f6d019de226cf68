// What Redis holds during a run: used_memory (INFO memory), queue depth, a job's own size, and the
// BullMQ timestamps of every finished job (enqueued, taken by a worker, finished), which split a
// CSR's time-to-approve into watch → enqueue, queue wait and worker processing.
import { Redis } from 'ioredis';
import { APPROVAL_QUEUE, QUEUE_PREFIX } from '@stampede/contracts';

const QUEUE = `${QUEUE_PREFIX}:${APPROVAL_QUEUE}`;

export interface JobTimes {
  readonly id: string;
  readonly csrName: string;
  /** Date.now() when the watcher added the job. */
  readonly enqueuedAt: number;
  /** Date.now() when a worker took it (its last attempt). */
  readonly processedAt: number;
  readonly finishedAt: number;
  readonly attempts: number;
  readonly outcome: string;
}

export class RedisProbe {
  readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
    this.redis.on('error', () => undefined);
  }

  /** INFO memory's used_memory and used_memory_peak. */
  async memory(): Promise<{ used: number; peak: number }> {
    const info = await this.redis.info('memory');
    const field = (name: string): number =>
      Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return { used: field('used_memory'), peak: field('used_memory_peak') };
  }

  /** Jobs not yet finished: waiting + prioritized + delayed + active. */
  async unfinished(): Promise<number> {
    const [wait, prioritized, delayed, active] = await Promise.all([
      this.redis.llen(`${QUEUE}:wait`),
      this.redis.zcard(`${QUEUE}:prioritized`),
      this.redis.zcard(`${QUEUE}:delayed`),
      this.redis.llen(`${QUEUE}:active`),
    ]);
    return wait + prioritized + delayed + active;
  }

  /** MEMORY USAGE of one unfinished job's hash (and its deduplication key), for the breakdown. */
  async sampleJobBytes(): Promise<{ jobHash: number; dedupKey: number } | undefined> {
    const ids = [
      ...(await this.redis.zrange(`${QUEUE}:prioritized`, '0', '0')),
      ...(await this.redis.lrange(`${QUEUE}:wait`, '0', '0')),
    ];
    const id = ids[0];
    if (id === undefined) return undefined;
    const jobHash = Number(
      await this.redis.call('MEMORY', 'USAGE', `${QUEUE}:${id}`, 'SAMPLES', '0'),
    );
    const dedupId = await this.redis.hget(`${QUEUE}:${id}`, 'deid');
    const dedupKey =
      dedupId === null
        ? 0
        : Number(
            await this.redis.call('MEMORY', 'USAGE', `${QUEUE}:de:${dedupId}`, 'SAMPLES', '0'),
          );
    return { jobHash, dedupKey: Number.isFinite(dedupKey) ? dedupKey : 0 };
  }

  /** Timestamps of every completed job still kept (removeOnComplete keeps the last 10,000). */
  async completedJobs(): Promise<JobTimes[]> {
    const ids = await this.redis.zrange(`${QUEUE}:completed`, '0', '-1');
    const out: JobTimes[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const pipeline = this.redis.pipeline();
      const batch = ids.slice(i, i + 500);
      for (const id of batch)
        pipeline.hmget(
          `${QUEUE}:${id}`,
          'data',
          'timestamp',
          'processedOn',
          'finishedOn',
          'attemptsMade',
          'returnvalue',
        );
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([error, value], j) => {
        if (error !== null) return;
        const [data, timestamp, processedOn, finishedOn, attempts, returnvalue] = value as (
          string | null
        )[];
        let csrName: string;
        try {
          csrName = (JSON.parse(data ?? '{}') as { name?: string }).name ?? '';
        } catch {
          return;
        }
        out.push({
          id: batch[j] ?? '',
          csrName,
          enqueuedAt: Number(timestamp),
          processedAt: Number(processedOn),
          finishedAt: Number(finishedOn),
          attempts: Number(attempts ?? 0),
          outcome: parseReturn(returnvalue ?? null),
        });
      });
    }
    return out;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await Promise.resolve();
  }
}

function parseReturn(text: string | null): string {
  if (text === null) return '';
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : text;
  } catch {
    return text;
  }
}
