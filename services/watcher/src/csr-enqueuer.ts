// The CSR side of the watcher: list/watch kubelet-serving CSRs, keep the pending ones per requester,
// and enqueue them (deduplicated by uid, docs/adr/0005) on every change, after every (re)list and
// reconnect, and on two timers: a resync from the watch cache (often, no API call), so a flushed or
// replaced Redis loses nothing, and a full LIST from the API server (rarely), in case a watch ever
// missed an event (docs/adr/0016). A full pass sends only the CSRs Redis does not hold (docs/adr/0026).
import type { KubeClient, ListWatch, ListWatchStats, StoreChange } from '@stampede/kube';
import type { ApprovalQueue, EnqueueItem, QueueLogger } from '@stampede/queue';
import { projectPendingCsr } from './pending.ts';
import type { PendingCsr } from './pending.ts';
import { abandonedOf, planAll, planRequester } from './plan.ts';
import type { PlanOptions, PlannedJob } from './plan.ts';
import { newTraceContext } from './trace.ts';
import { ENQUEUE_CHUNK, chunksOf, singleFlight } from './batching.ts';
import { APPROVAL_QUEUE } from '@stampede/contracts';
import { SpanKind, SpanStatusCode, carrierOf, noopTracer } from '@stampede/telemetry';
import type { Span, Tracer } from '@stampede/telemetry';

export interface CsrEnqueuerOptions {
  readonly kube: KubeClient;
  readonly queue: ApprovalQueue;
  readonly logger: QueueLogger;
  readonly signal: AbortSignal;
  /** Which of a requester's pending CSRs are queued (docs/adr/0006, 0010, 0025). */
  readonly plan: PlanOptions;
  /** Every pending CSR of the watch cache offered again (no API call), this often. */
  readonly resyncIntervalMs: number;
  /** A full LIST from the API server and a bulk enqueue, this often. */
  readonly relistIntervalMs: number;
  /** A watch silent this long is stalled and started again (F20 of the fault catalogue). */
  readonly watchIdleTimeoutMs: number;
  /** One PRODUCER span per job, the root of the CSR's trace (docs/adr/0011). Default: no-op. */
  readonly tracer?: Tracer;
  /** Called with the number of jobs handed to Redis (for metrics). */
  readonly onEnqueued?: (count: number) => void;
}

export interface CsrEnqueuerStats {
  readonly listWatch: ListWatchStats;
  readonly pending: number;
  /** Jobs handed to Redis since start: every change, and what a full pass found unqueued. */
  readonly enqueued: number;
  readonly enqueueErrors: number;
  /** Jobs of abandoned CSRs removed from the queue since start. */
  readonly withdrawn: number;
  readonly resyncs: number;
  readonly relists: number;
  /** True when the last enqueue reached Redis. */
  readonly redisOk: boolean;
}

export interface CsrEnqueuer {
  stats(): CsrEnqueuerStats;
  /** Resolves when the list/watch loop and timers have stopped (after the signal aborted). */
  readonly done: Promise<void>;
}

/** Pending CSRs grouped by requester, kept in step with the list/watch store. */
class RequesterIndex {
  readonly #byRequester = new Map<string, Map<string, PendingCsr>>();
  /**
   * Per requester with pending CSRs: the creation time of its newest CSR that stopped being pending
   * while others of its still were (docs/adr/0025). Forgotten with its last pending CSR, and with a
   * restart: then an abandoned CSR may be approved after all, which is wasted work, never a wrong one.
   */
  readonly #newestGone = new Map<string, number>();

  apply(change: StoreChange<PendingCsr>): string[] {
    const touched = new Set<string>();
    if (change.previous !== undefined) {
      this.#remove(change.previous);
      touched.add(change.previous.requester);
    }
    if (change.type !== 'deleted') {
      this.#add(change.value);
      touched.add(change.value.requester);
    } else {
      this.#remove(change.value);
      touched.add(change.value.requester);
    }
    return [...touched];
  }

  pendingOf(requester: string): Iterable<PendingCsr> {
    return this.#byRequester.get(requester)?.values() ?? [];
  }

  newestGoneOf = (requester: string): number => this.#newestGone.get(requester) ?? 0;

  #add(csr: PendingCsr): void {
    let group = this.#byRequester.get(csr.requester);
    if (group === undefined) {
      group = new Map<string, PendingCsr>();
      this.#byRequester.set(csr.requester, group);
    }
    group.set(csr.name, csr);
  }

  #remove(csr: PendingCsr): void {
    const group = this.#byRequester.get(csr.requester);
    if (group?.delete(csr.name) !== true) return;
    if (group.size === 0) {
      this.#byRequester.delete(csr.requester);
      this.#newestGone.delete(csr.requester);
    } else if (csr.createdAtMs > this.newestGoneOf(csr.requester)) {
      this.#newestGone.set(csr.requester, csr.createdAtMs);
    }
  }
}

const toItem = ({ csr, priority }: PlannedJob, span: Span): EnqueueItem => ({
  job: {
    uid: csr.uid,
    name: csr.name,
    trace: carrierOf(span) ?? newTraceContext(),
  },
  priority,
});

/**
 * A new trace per enqueue: the PRODUCER span (messaging semantic conventions) whose context the job
 * carries, so the worker's process span is its child. A root, never a child of a watch: a watch is
 * not a span (it lasts hours), and a relist re-enqueues each CSR on its own.
 */
function startEnqueueSpan(tracer: Tracer, { csr }: PlannedJob, why: string): Span {
  return tracer.startSpan(`send ${APPROVAL_QUEUE}`, {
    kind: SpanKind.PRODUCER,
    root: true,
    attributes: {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': APPROVAL_QUEUE,
      'stampede.csr.name': csr.name,
      'stampede.csr.uid': csr.uid,
      'stampede.node.requester': csr.requester,
      'stampede.enqueue.reason': why,
    },
  });
}

export function startCsrEnqueuer(options: CsrEnqueuerOptions): CsrEnqueuer {
  const { logger, signal } = options;
  const tracer = options.tracer ?? noopTracer();
  const requesters = new RequesterIndex();
  const dirty = new Set<string>();
  const counters = {
    enqueued: 0,
    enqueueErrors: 0,
    withdrawn: 0,
    resyncs: 0,
    relists: 0,
    redisOk: true,
  };
  let flushScheduled = false;

  async function enqueue(jobs: readonly PlannedJob[], why: string): Promise<boolean> {
    for (const chunk of chunksOf(jobs, ENQUEUE_CHUNK)) {
      if (!(await enqueueChunk(chunk, why))) return false;
    }
    return true;
  }

  // A full pass re-offers every pending CSR, and nearly all of them are queued already: it asks
  // Redis which are not before it builds a job and a trace for each (docs/adr/0026). A change
  // is a new or updated CSR, seldom queued, so it goes straight to enqueue.
  async function enqueueUnqueued(jobs: readonly PlannedJob[], why: string): Promise<boolean> {
    for (const chunk of chunksOf(jobs, ENQUEUE_CHUNK)) {
      let missing: Set<string>;
      try {
        missing = new Set(await options.queue.unqueued(chunk.map(({ csr }) => csr.uid)));
        counters.redisOk = true;
      } catch (error) {
        return failed(error, chunk.length, why);
      }
      const unqueued = chunk.filter(({ csr }) => missing.has(csr.uid));
      if (unqueued.length > 0 && !(await enqueueChunk(unqueued, why))) return false;
    }
    return true;
  }

  async function enqueueChunk(jobs: readonly PlannedJob[], why: string): Promise<boolean> {
    const traced = jobs.map(job => ({ job, span: startEnqueueSpan(tracer, job, why) }));
    const spans = traced.map(({ span }) => span);
    try {
      await options.queue.enqueueBulk(traced.map(({ job, span }) => toItem(job, span)));
      counters.enqueued += jobs.length;
      counters.redisOk = true;
      options.onEnqueued?.(jobs.length);
      logger.debug({ count: jobs.length, why }, 'enqueued pending CSRs');
      return true;
    } catch (error) {
      for (const span of spans)
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'enqueue failed' });
      return failed(error, jobs.length, why);
    } finally {
      for (const span of spans) span.end();
    }
  }

  function failed(error: unknown, count: number, why: string): false {
    counters.enqueueErrors++;
    counters.redisOk = false;
    logger.warn({ err: error, count, why }, 'enqueue failed; will retry');
    return false;
  }

  // Changes arrive one by one; batch them into one bulk enqueue per turn of the event loop.
  function scheduleFlush(delayMs = 0): void {
    if (flushScheduled || signal.aborted) return;
    flushScheduled = true;
    setTimeout(() => {
      flushScheduled = false;
      void flush();
    }, delayMs).unref();
  }

  async function flush(): Promise<void> {
    const names = [...dirty];
    dirty.clear();
    const jobs = names.flatMap(requester =>
      planRequester(
        requesters.pendingOf(requester),
        options.plan,
        requesters.newestGoneOf(requester),
      ),
    );
    if (!(await enqueue(jobs, 'change'))) {
      for (const name of names) dirty.add(name);
      scheduleFlush(1_000);
      return;
    }
    await withdrawAbandoned(names);
  }

  // A change is when a requester's newest CSR arrives, so it is when older ones become abandoned:
  // their jobs, queued while they were wanted, are taken back. Best effort: a job left behind only
  // approves a CSR its kubelet no longer reads.
  async function withdrawAbandoned(names: readonly string[]): Promise<void> {
    const uids = names.flatMap(requester =>
      abandonedOf(
        requesters.pendingOf(requester),
        options.plan.abandonedAfterMs,
        requesters.newestGoneOf(requester),
      ).map(c => c.uid),
    );
    if (uids.length === 0) return;
    try {
      const removed = await options.queue.withdraw(uids);
      counters.withdrawn += removed;
      if (removed > 0) logger.info({ count: removed }, 'withdrew the jobs of abandoned CSRs');
    } catch (error) {
      logger.warn({ err: error, count: uids.length }, 'withdrawing abandoned CSRs failed');
    }
  }

  // One full pass at a time: a resync that fell due while the last one is still sending (a slow
  // Redis, 100,000 pending CSRs) runs once after it instead of piling more jobs up in memory.
  const fullPass = singleFlight(async (why: string) => {
    await enqueueUnqueued(
      planAll(listWatch.store.values(), options.plan, requesters.newestGoneOf),
      why,
    );
  });
  function enqueueAll(why: string): void {
    void fullPass(why);
  }

  const listWatch: ListWatch<PendingCsr> = options.kube.watchCsrs({
    signal,
    idleTimeoutMs: options.watchIdleTimeoutMs,
    project: projectPendingCsr,
    onChange: change => {
      for (const requester of requesters.apply(change)) dirty.add(requester);
      scheduleFlush();
    },
    onSynced: () => {
      enqueueAll('list');
    },
    onConnect: () => {
      enqueueAll('reconnect');
    },
  });

  async function relist(): Promise<void> {
    try {
      // Projected page by page: the LIST never holds every whole CSR at once.
      const { items } = await options.kube.listCsrs({ signal, project: projectPendingCsr });
      counters.relists++;
      await enqueueUnqueued(planAll(items, options.plan, requesters.newestGoneOf), 'relist');
    } catch (error) {
      if (!signal.aborted) logger.warn({ err: error }, 'periodic relist failed; will retry');
    }
  }

  const timers = [
    setInterval(() => {
      // Only once the cache holds a full LIST: before that it is a partial view.
      if (!listWatch.stats().synced) return;
      counters.resyncs++;
      enqueueAll('resync');
    }, options.resyncIntervalMs),
    setInterval(() => {
      void relist();
    }, options.relistIntervalMs),
  ];
  const done = new Promise<void>(resolve => {
    signal.addEventListener('abort', () => {
      for (const timer of timers) clearInterval(timer);
      void listWatch.done.then(resolve);
    });
  });

  return {
    done,
    stats: () => ({
      listWatch: listWatch.stats(),
      pending: listWatch.store.size,
      ...counters,
    }),
  };
}
