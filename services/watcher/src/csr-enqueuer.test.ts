// The enqueuer's bounds at fleet size, over a fake list/watch and a fake queue (the list/watch and
// BullMQ themselves are tested against the real API server and Redis): a full pass reaches Redis
// in chunks, and never two passes at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeClient, ListWatch, ListWatchStats } from '@stampede/kube';
import type { ApprovalQueue, EnqueueItem } from '@stampede/queue';
import { ENQUEUE_CHUNK } from './batching.ts';
import { startCsrEnqueuer } from './csr-enqueuer.ts';
import type { PendingCsr } from './pending.ts';

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function pendingCsrs(count: number): Map<string, PendingCsr> {
  const store = new Map<string, PendingCsr>();
  for (let i = 0; i < count; i++) {
    const name = `csr-${i}`;
    store.set(name, {
      uid: `uid-${i}`,
      name,
      resourceVersion: String(i + 1),
      requester: `system:node:node-${i}`,
      createdAtMs: 1_700_000_000_000 + i,
    });
  }
  return store;
}

/** A list/watch already synced on `store`, that calls onSynced once the enqueuer holds it. */
function syncedKube(store: Map<string, PendingCsr>): Pick<KubeClient, 'watchCsrs' | 'listCsrs'> {
  const stats = { synced: true, connected: true } as ListWatchStats;
  return {
    watchCsrs: (options => {
      setTimeout(() => options.onSynced?.(), 0);
      const listWatch: ListWatch<PendingCsr> = {
        store,
        stats: () => stats,
        synced: () => Promise.resolve(),
        done: new Promise(() => undefined),
      };
      return listWatch;
    }) as KubeClient['watchCsrs'],
    listCsrs: () => Promise.resolve({ items: [], resourceVersion: '1' }),
  };
}

function recordingQueue(delayMs: number): {
  queue: ApprovalQueue;
  bulks: number[];
  most: () => number;
} {
  const bulks: number[] = [];
  let inFlight = 0;
  let most = 0;
  const queue = {
    enqueueBulk: async (items: readonly EnqueueItem[]) => {
      inFlight++;
      most = Math.max(most, inFlight);
      bulks.push(items.length);
      await new Promise(resolve => setTimeout(resolve, delayMs));
      inFlight--;
    },
    withdraw: () => Promise.resolve(0),
  } as unknown as ApprovalQueue;
  return { queue, bulks, most: () => most };
}

/** Runs an enqueuer until `done` says so (checked every 5 ms) or 10 s passed, then stops it. */
async function run(options: {
  readonly pending: number;
  readonly delayMs: number;
  readonly resyncMs: number;
  readonly done: (bulks: readonly number[]) => boolean;
}) {
  const abort = new AbortController();
  const recorded = recordingQueue(options.delayMs);
  startCsrEnqueuer({
    kube: syncedKube(pendingCsrs(options.pending)) as KubeClient,
    queue: recorded.queue,
    logger: silent,
    signal: abort.signal,
    plan: { window: 3, abandonedAfterMs: 0 },
    resyncIntervalMs: options.resyncMs,
    relistIntervalMs: 3_600_000,
    watchIdleTimeoutMs: 90_000,
  });
  const deadline = performance.now() + 10_000;
  while (!options.done(recorded.bulks) && performance.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 5));
  }
  abort.abort();
  return recorded;
}

describe('the CSR enqueuer at fleet size', () => {
  it('hands a full pass of 1,200 pending CSRs to Redis in chunks, never all at once', async () => {
    const sum = (bulks: readonly number[]): number => bulks.reduce((a, b) => a + b, 0);
    const { bulks } = await run({
      pending: 1_200,
      delayMs: 0,
      resyncMs: 60_000,
      done: sent => sum(sent) >= 1_200,
    });
    assert.deepEqual(bulks, [ENQUEUE_CHUNK, ENQUEUE_CHUNK, 1_200 - 2 * ENQUEUE_CHUNK]);
  });

  it('never sends two full passes at once when resyncs fall due faster than Redis takes them', async () => {
    // Three passes' worth of bulk adds (3 each), however slowly a busy machine runs the timers.
    const recorded = await run({
      pending: 1_200,
      delayMs: 40,
      resyncMs: 10,
      done: sent => sent.length >= 9,
    });
    // More than one pass ran, so the resyncs did fall due while one was being sent.
    assert.ok(recorded.bulks.length >= 9, `only ${recorded.bulks.length} bulk adds`);
    assert.equal(recorded.most(), 1);
  });
});
