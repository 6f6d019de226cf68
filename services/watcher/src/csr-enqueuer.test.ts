// The enqueuer's bounds at fleet size, over a fake list/watch and a fake queue (the list/watch and
// BullMQ themselves are tested against the real API server and Redis): a full pass reaches Redis
// in chunks, never two passes at once, and only with the CSRs Redis does not hold.
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

/** A queue that records bulk adds; `queued` says which uids it already holds (none by default). */
function recordingQueue(
  delayMs: number,
  queued: (uid: string) => boolean = () => false,
): {
  queue: ApprovalQueue;
  bulks: number[];
  sent: string[];
  most: () => number;
} {
  const bulks: number[] = [];
  const sent: string[] = [];
  let inFlight = 0;
  let most = 0;
  const queue = {
    enqueueBulk: async (items: readonly EnqueueItem[]) => {
      inFlight++;
      most = Math.max(most, inFlight);
      bulks.push(items.length);
      sent.push(...items.map(item => item.job.uid));
      await new Promise(resolve => setTimeout(resolve, delayMs));
      inFlight--;
    },
    withdraw: () => Promise.resolve(0),
    unqueued: (uids: readonly string[]) => Promise.resolve(uids.filter(uid => !queued(uid))),
  } as unknown as ApprovalQueue;
  return { queue, bulks, sent, most: () => most };
}

/** Runs an enqueuer until `done` says so (checked every 5 ms) or 10 s passed, then stops it. */
async function run(options: {
  readonly pending: number;
  readonly delayMs: number;
  readonly resyncMs: number;
  readonly queued?: (uid: string) => boolean;
  readonly done: (bulks: readonly number[]) => boolean;
}) {
  const abort = new AbortController();
  const recorded = recordingQueue(options.delayMs, options.queued);
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

  it('sends a full pass only the CSRs Redis does not hold, however many resyncs run', async () => {
    // Every tenth CSR lost its job; a pass sends those alone, in 3 bulk adds (50 + 50 + 20), so
    // 6 bulk adds are the list and at least one resync.
    const lost = (uid: string): boolean => Number(uid.slice('uid-'.length)) % 10 === 0;
    let bulkAdds = 0;
    const { sent } = await run({
      pending: 1_200,
      delayMs: 0,
      resyncMs: 20,
      queued: uid => !lost(uid),
      done: bulks => (bulkAdds = bulks.length) >= 6,
    });
    assert.ok(bulkAdds >= 6, `only ${bulkAdds} bulk adds`);
    assert.ok(sent.every(lost), 'a CSR whose job is queued was sent again');
    assert.equal(new Set(sent).size, 120, 'not every lost CSR was sent');
  });
});
