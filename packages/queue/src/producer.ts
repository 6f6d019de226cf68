// The producer side of the approval queue: typed, deduplicated enqueue (docs/adr/0005).
import { Queue } from 'bullmq';
import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { APPROVAL_JOB, APPROVAL_QUEUE, QUEUE_PREFIX, deduplicationId } from '@stampede/contracts';
import type { CsrJob } from '@stampede/contracts';

/** One job to enqueue. */
export interface EnqueueItem {
  readonly job: CsrJob;
  /**
   * 1 (soonest) to 2 097 151. The watcher passes the CSR's rank among its requester's pending CSRs (oldest first),
   * so one flooding requester queues behind everyone else (docs/adr/0006, 0010). Default 1.
   */
  readonly priority?: number;
}

export interface ApprovalQueue {
  /** Adds a job unless one for the same CSR uid is waiting, delayed or active. */
  enqueue(item: EnqueueItem): Promise<void>;
  /** The same, for many jobs in one round trip. */
  enqueueBulk(items: readonly EnqueueItem[]): Promise<void>;
  /**
   * Removes the unfinished job of each CSR uid unless a worker holds it: for CSRs nobody needs any
   * more (the watcher's abandoned ones). Returns how many were removed.
   */
  withdraw(uids: readonly string[]): Promise<number>;
  /**
   * Those of these CSR uids that have no unfinished job, by the test BullMQ's deduplicated add makes
   * (a deduplication key naming a job that still exists), read-only and in two round trips. The
   * watcher's full passes ask it first, so a resync of 100,000 pending CSRs that are all queued
   * builds no job, span or add script (docs/adr/0026).
   */
  unqueued(uids: readonly string[]): Promise<string[]>;
  /** Waiting, prioritized, delayed, active, completed and failed counts. */
  counts(): Promise<Readonly<Record<string, number>>>;
  /** The underlying BullMQ queue, for dashboards and tests. */
  readonly queue: Queue<CsrJob>;
  close(): Promise<void>;
}

const MAX_PRIORITY = 2_097_151;

/**
 * Attempts per job. With the worker's backoff capped at 30 s this spans well over the policy's
 * 10-minute grace window; a job that still runs out fails, and the watcher's next relist enqueues
 * the CSR afresh if it is still pending.
 */
export const APPROVAL_ATTEMPTS = 60;

/** The custom backoff type; its delays come from the worker's backoffStrategy (worker.ts). */
export const APPROVAL_BACKOFF = 'stampede';

export function clampPriority(priority: number | undefined): number {
  if (priority === undefined || !Number.isFinite(priority)) return 1;
  return Math.min(MAX_PRIORITY, Math.max(1, Math.trunc(priority)));
}

/**
 * Deduplication, not a custom jobId: the key lives only while the job is unfinished, so a completed
 * or failed job never blocks a later enqueue of a CSR that is still pending, and finished jobs can be
 * kept for inspection without that cost. A flushed Redis has no keys: the next enqueue creates jobs.
 * Only what differs per job or has no queue-wide default is here: every option is stored in each
 * job's hash, so retention is the worker's (worker.ts, JobRetention).
 */
function jobOptions(item: EnqueueItem): JobsOptions {
  return {
    deduplication: { id: deduplicationId(item.job.uid) },
    priority: clampPriority(item.priority),
    attempts: APPROVAL_ATTEMPTS,
    backoff: { type: APPROVAL_BACKOFF },
  };
}

/**
 * Entries kept in the queue's events stream. Nothing of ours reads it (no QueueEvents); BullMQ's
 * default of 10 000 cost about 80 bytes per CSR of a large storm.
 */
export const EVENTS_STREAM_MAX_LEN = 1_000;

/**
 * The producer. `connection` should be a producer connection (createRedisConnection role
 * `producer`): adds fail fast while Redis is down instead of piling up in memory.
 */
export function createApprovalQueue(connection: Redis): ApprovalQueue {
  const queue = new Queue<CsrJob>(APPROVAL_QUEUE, {
    connection,
    prefix: QUEUE_PREFIX,
    streams: { events: { maxLen: EVENTS_STREAM_MAX_LEN } },
  });
  return {
    queue,
    async enqueue(item) {
      await queue.add(APPROVAL_JOB, item.job, jobOptions(item));
    },
    async enqueueBulk(items) {
      if (items.length === 0) return;
      await queue.addBulk(
        items.map(item => ({ name: APPROVAL_JOB, data: item.job, opts: jobOptions(item) })),
      );
    },
    async withdraw(uids) {
      let removed = 0;
      for (const uid of uids) {
        const id = await queue.getDeduplicationJobId(deduplicationId(uid));
        // remove() refuses a job a worker holds (it returns 0): that one runs to its end.
        if (id !== null) removed += await queue.remove(id);
      }
      return removed;
    },
    async unqueued(uids) {
      if (uids.length === 0) return [];
      const jobIds = await connection.mget(
        uids.map(uid => `${queue.toKey('de')}:${deduplicationId(uid)}`),
      );
      const named = jobIds.filter(id => id !== null);
      if (named.length === 0) return [...uids];
      const pipeline = connection.pipeline();
      for (const id of named) pipeline.exists(queue.toKey(id));
      const answers = (await pipeline.exec()) ?? [];
      // A key whose job is gone is stale (BullMQ's add recovers it), so that CSR is unqueued too,
      // and so is one whose answer failed: an add too many is deduplicated, one too few is lost.
      const live = new Set(named.filter((_, i) => answers[i]?.[1] === 1));
      return uids.filter((_, i) => {
        const id = jobIds[i];
        return id === null || id === undefined || !live.has(id);
      });
    },
    async counts() {
      return queue.getJobCounts(
        'waiting',
        'prioritized',
        'delayed',
        'active',
        'completed',
        'failed',
      );
    },
    async close() {
      await queue.close();
    },
  };
}
