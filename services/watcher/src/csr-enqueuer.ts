// The CSR side of the watcher: list/watch kubelet-serving CSRs, keep the pending ones per requester,
// and enqueue them (deduplicated by uid, docs/adr/0005) on every change, after every (re)list and
// reconnect, and on a relist timer, so a flushed or replaced Redis loses nothing.
import type { KubeClient, ListWatch, ListWatchStats, StoreChange } from '@stampede/kube';
import type { ApprovalQueue, EnqueueItem, QueueLogger } from '@stampede/queue';
import { projectPendingCsr } from './pending.ts';
import type { PendingCsr } from './pending.ts';
import { planAll, planRequester } from './plan.ts';
import type { PlannedJob } from './plan.ts';
import { newTraceContext } from './trace.ts';

export interface CsrEnqueuerOptions {
  readonly kube: KubeClient;
  readonly queue: ApprovalQueue;
  readonly logger: QueueLogger;
  readonly signal: AbortSignal;
  /** Pending CSRs of one requester queued at once (docs/adr/0006, 0010). */
  readonly perRequesterWindow: number;
  /** A full LIST from the API server and a bulk enqueue, this often. */
  readonly relistIntervalMs: number;
}

export interface CsrEnqueuerStats {
  readonly listWatch: ListWatchStats;
  readonly pending: number;
  /** Jobs handed to Redis (before deduplication) since start. */
  readonly enqueued: number;
  readonly enqueueErrors: number;
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
    group?.delete(csr.name);
    if (group?.size === 0) this.#byRequester.delete(csr.requester);
  }
}

const toItem = ({ csr, priority }: PlannedJob): EnqueueItem => ({
  job: {
    uid: csr.uid,
    name: csr.name,
    resourceVersion: csr.resourceVersion,
    trace: newTraceContext(),
  },
  priority,
});

export function startCsrEnqueuer(options: CsrEnqueuerOptions): CsrEnqueuer {
  const { logger, signal } = options;
  const requesters = new RequesterIndex();
  const dirty = new Set<string>();
  const counters = { enqueued: 0, enqueueErrors: 0, relists: 0, redisOk: true };
  let flushScheduled = false;

  async function enqueue(jobs: readonly PlannedJob[], why: string): Promise<boolean> {
    if (jobs.length === 0) return true;
    try {
      await options.queue.enqueueBulk(jobs.map(toItem));
      counters.enqueued += jobs.length;
      counters.redisOk = true;
      logger.debug({ count: jobs.length, why }, 'enqueued pending CSRs');
      return true;
    } catch (error) {
      counters.enqueueErrors++;
      counters.redisOk = false;
      logger.warn({ err: error, count: jobs.length, why }, 'enqueue failed; will retry');
      return false;
    }
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
      planRequester(requesters.pendingOf(requester), options.perRequesterWindow),
    );
    if (!(await enqueue(jobs, 'change'))) {
      for (const name of names) dirty.add(name);
      scheduleFlush(1_000);
    }
  }

  function enqueueAll(why: string): void {
    const jobs = planAll(listWatch.store.values(), options.perRequesterWindow);
    void enqueue(jobs, why);
  }

  const listWatch: ListWatch<PendingCsr> = options.kube.watchCsrs({
    signal,
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
      const { items } = await options.kube.listCsrs({ signal });
      const pending = items.flatMap(item => projectPendingCsr(item) ?? []);
      counters.relists++;
      await enqueue(planAll(pending, options.perRequesterWindow), 'relist');
    } catch (error) {
      if (!signal.aborted) logger.warn({ err: error }, 'periodic relist failed; will retry');
    }
  }

  const timer = setInterval(() => {
    void relist();
  }, options.relistIntervalMs);
  const done = new Promise<void>(resolve => {
    signal.addEventListener('abort', () => {
      clearInterval(timer);
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
