// The consumer side: a BullMQ worker around a typed processor. This is the one place that maps the
// processor's error classes (errors.ts) onto BullMQ's mechanisms, so a processor stays plain code.
import { Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Job, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { APPROVAL_QUEUE, QUEUE_PREFIX, parseCsrJob } from '@stampede/contracts';
import type { CsrJob } from '@stampede/contracts';
import { MalformedJobError, RetryLaterError, ThrottledError } from './errors.ts';
import type { QueueLogger } from './logger.ts';

/** What the processor knows about the delivery of a job. */
export interface JobContext {
  readonly jobId: string;
  /** Failed attempts so far (0 on the first try). */
  readonly attemptsMade: number;
  /** Times the job was taken by a worker, including this one; above attemptsMade + 1 after a stall. */
  readonly attemptsStarted: number;
  /** Aborted when the worker shuts down past its deadline; pass it to every I/O call. */
  readonly signal: AbortSignal;
}

/**
 * Handles one valid job. Resolve with a short outcome label (kept as the job's return value).
 * Throw RetryLaterError or any error to retry with backoff, ThrottledError to pause the whole queue,
 * MalformedJobError to fail the job at once.
 */
export type ApprovalProcessor = (job: CsrJob, context: JobContext) => Promise<string>;

export interface BackoffOptions {
  /** First retry delay. Default 1 000 ms. */
  readonly initialMs?: number;
  /** Longest retry delay. Default 30 000 ms. */
  readonly maxMs?: number;
}

/** How long finished jobs stay visible (Bull Board), applied by the worker that finishes them. */
export interface JobRetention {
  /** Seconds a completed job stays visible. Default 3 600. */
  readonly completedAgeSeconds?: number;
  /** Seconds a failed job stays visible. Default 86 400. */
  readonly failedAgeSeconds?: number;
  /** At most this many of each. Default 10 000. */
  readonly count?: number;
}

export interface ApprovalWorkerOptions {
  /** A worker connection (createRedisConnection role `worker`: maxRetriesPerRequest null). */
  readonly connection: Redis;
  readonly processor: ApprovalProcessor;
  readonly logger: QueueLogger;
  /** Jobs processed at once by this process. */
  readonly concurrency: number;
  /**
   * Global limit across every worker of the queue: at most `max` jobs started per `durationMs`.
   * Protects the API server; a job makes about five API calls.
   */
  readonly limiter?: { readonly max: number; readonly durationMs: number };
  readonly backoff?: BackoffOptions;
  /** Shown in Bull Board and stored on each job it processes (e.g. the pod name). */
  readonly name?: string;
  /** BullMQ lock duration and stalled-check interval: a killed worker's jobs return to waiting
   * within about twice this. Default 30 000 ms. */
  readonly lockDurationMs?: number;
  readonly retention?: JobRetention;
}

export interface ApprovalWorker {
  readonly worker: Worker<CsrJob>;
  /** True while the worker is running and its Redis connection is ready. */
  isReady(): boolean;
  /**
   * Stops taking jobs and waits for the active ones up to `deadlineMs`; then aborts them, puts them
   * back to waiting for another worker, and closes. Never rejects.
   */
  close(deadlineMs: number): Promise<{ readonly released: boolean }>;
}

/** Capped exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(
  attemptsMade: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const initial = options.initialMs ?? 1_000;
  const cap = options.maxMs ?? 30_000;
  const ceiling = Math.min(cap, initial * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 20));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** The BullMQ backoff: the processor's own delay when it gave one, else the capped exponential. */
export function retryDelay(
  attemptsMade: number,
  error: Error | undefined,
  options: BackoffOptions,
): number {
  if (error instanceof RetryLaterError) return Math.max(0, Math.round(error.delayMs));
  return backoffDelay(attemptsMade, options, Math.random);
}

interface Shutdown {
  releasing: boolean;
}

function contextOf(job: Job<CsrJob>, signal: AbortSignal | undefined): JobContext {
  return {
    jobId: job.id ?? '',
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    signal: signal ?? new AbortController().signal,
  };
}

interface RunDeps {
  readonly options: ApprovalWorkerOptions;
  readonly limiterQueue: Queue;
  readonly shutdown: Shutdown;
}

async function mapFailure(error: unknown, job: Job<CsrJob>, deps: RunDeps, token?: string) {
  if (error instanceof MalformedJobError) return new UnrecoverableError(error.message);
  if (error instanceof ThrottledError) {
    deps.options.logger.warn(
      { 'job.id': job.id, retryAfterMs: error.retryAfterMs },
      'throttled: pausing the queue for every worker',
    );
    await deps.limiterQueue.rateLimit(Math.max(1, error.retryAfterMs));
    return Worker.RateLimitError();
  }
  if (deps.shutdown.releasing) {
    await job.moveToWait(token);
    return new WaitingError('released at shutdown');
  }
  return error;
}

function createRun(deps: RunDeps) {
  return async (job: Job<CsrJob>, token?: string, signal?: AbortSignal): Promise<string> => {
    const parsed = parseCsrJob(job.data);
    if (!parsed.ok) {
      deps.options.logger.error({ 'job.id': job.id, error: parsed.error }, 'malformed job');
      throw new UnrecoverableError(`malformed job: ${parsed.error}`);
    }
    try {
      return await deps.options.processor(parsed.job, contextOf(job, signal));
    } catch (error) {
      throw await mapFailure(error, job, deps, token);
    }
  };
}

/**
 * BullMQ's retention options. They live on the worker, not in each job's options, which BullMQ
 * stores in every job's hash.
 */
function keepJobs(
  retention: JobRetention,
): Pick<WorkerOptions, 'removeOnComplete' | 'removeOnFail'> {
  const count = retention.count ?? 10_000;
  return {
    removeOnComplete: { age: retention.completedAgeSeconds ?? 3_600, count },
    removeOnFail: { age: retention.failedAgeSeconds ?? 86_400, count },
  };
}

/** Starts a worker on the approval queue. */
export function createApprovalWorker(options: ApprovalWorkerOptions): ApprovalWorker {
  const shutdown: Shutdown = { releasing: false };
  const limiterQueue = new Queue(APPROVAL_QUEUE, {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
  });
  const backoff = options.backoff ?? {};
  const worker = new Worker<CsrJob>(
    APPROVAL_QUEUE,
    createRun({ options, limiterQueue, shutdown }),
    {
      connection: options.connection,
      prefix: QUEUE_PREFIX,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      // Look for stalled jobs as often as a lock can expire, so a killed worker's jobs come back
      // within one to two lock durations.
      stalledInterval: options.lockDurationMs ?? 30_000,
      ...keepJobs(options.retention ?? {}),
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.limiter === undefined
        ? {}
        : { limiter: { max: options.limiter.max, duration: options.limiter.durationMs } }),
      settings: {
        backoffStrategy: (attemptsMade, _type, error) => retryDelay(attemptsMade, error, backoff),
      },
    },
  );
  worker.on('error', error => {
    options.logger.error({ err: error }, 'queue worker error');
  });
  limiterQueue.on('error', error => {
    options.logger.error({ err: error }, 'queue error');
  });
  return {
    worker,
    isReady: () => worker.isRunning() && options.connection.status === 'ready',
    close: deadlineMs => closeWorker({ worker, limiterQueue, shutdown, deadlineMs }),
  };
}

async function closeWorker(input: {
  worker: Worker<CsrJob>;
  limiterQueue: Queue;
  shutdown: Shutdown;
  deadlineMs: number;
}): Promise<{ released: boolean }> {
  const { worker, limiterQueue, shutdown } = input;
  const closing = worker.close().then(
    () => true,
    () => true,
  );
  let released = false;
  if (!(await within(closing, input.deadlineMs))) {
    released = true;
    shutdown.releasing = true;
    worker.cancelAllJobs('worker shutting down');
    if (!(await within(closing, 5_000))) await worker.close(true).catch(() => undefined);
  }
  await limiterQueue.close().catch(() => undefined);
  return { released };
}

/** Resolves true if `promise` settles within `ms`, false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>(resolve => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
