// The Node side of the watcher: list/watch Nodes, keep a small projection of each, and mirror it
// into the Redis address index (docs/adr/0007): every change at once, and a full sync after each
// LIST and on the relist timer, which also heals a flushed Redis and refreshes the synced marker.
import type { KubeClient, ListWatch, ListWatchStats, StoreChange } from '@stampede/kube';
import type { AddressIndex, IndexedNode, QueueLogger } from '@stampede/queue';
import { projectIndexedNode } from './node-projection.ts';

export interface NodeIndexerOptions {
  readonly kube: KubeClient;
  readonly index: AddressIndex;
  readonly logger: QueueLogger;
  readonly signal: AbortSignal;
  readonly syncIntervalMs: number;
}

export interface NodeIndexerStats {
  readonly listWatch: ListWatchStats;
  readonly nodes: number;
  readonly syncs: number;
  readonly writeErrors: number;
  /** ms since the epoch of the last completed full sync; 0 before the first. */
  readonly lastSyncAtMs: number;
}

export interface NodeIndexer {
  stats(): NodeIndexerStats;
  readonly done: Promise<void>;
}

export function startNodeIndexer(options: NodeIndexerOptions): NodeIndexer {
  const { logger, signal, index } = options;
  const counters = { syncs: 0, writeErrors: 0, lastSyncAtMs: 0 };
  let syncing: Promise<void> | undefined;

  async function write(change: StoreChange<IndexedNode>): Promise<void> {
    try {
      if (change.type === 'deleted')
        await index.remove(change.value.name, change.value.resourceVersion);
      else await index.put(change.value);
    } catch (error) {
      counters.writeErrors++;
      logger.warn(
        { err: error, node: change.key },
        'address index write failed; next sync heals it',
      );
    }
  }

  async function fullSync(): Promise<void> {
    const stats = listWatch.stats();
    if (!stats.synced) return;
    const nodes = [...listWatch.store.values()];
    try {
      const result = await index.sync(nodes, stats.resourceVersion, options.syncIntervalMs * 3);
      counters.syncs++;
      counters.lastSyncAtMs = Date.now();
      logger.debug({ nodes: nodes.length, ...result }, 'address index synced');
    } catch (error) {
      counters.writeErrors++;
      if (!signal.aborted) logger.warn({ err: error }, 'address index sync failed; will retry');
    }
  }

  function sync(): void {
    // One sync at a time; a request during a sync is covered by the next timer tick.
    syncing ??= fullSync().finally(() => {
      syncing = undefined;
    });
  }

  const listWatch: ListWatch<IndexedNode> = options.kube.watchNodes({
    signal,
    project: projectIndexedNode,
    onChange: change => {
      void write(change);
    },
    onSynced: sync,
  });

  const timer = setInterval(sync, options.syncIntervalMs);
  const done = new Promise<void>(resolve => {
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      void Promise.all([listWatch.done, syncing]).then(() => {
        resolve();
      });
    });
  });

  return {
    done,
    stats: () => ({ listWatch: listWatch.stats(), nodes: listWatch.store.size, ...counters }),
  };
}
