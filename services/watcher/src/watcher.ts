// Wires the two halves of the watcher and exposes their health.
import type { KubeClient } from '@stampede/kube';
import type { AddressIndex, ApprovalQueue, QueueLogger } from '@stampede/queue';
import type { HealthCheck } from '@stampede/runtime';
import { startCsrEnqueuer } from './csr-enqueuer.ts';
import { startNodeIndexer } from './node-indexer.ts';

export interface WatcherDeps {
  readonly kube: KubeClient;
  readonly queue: ApprovalQueue;
  readonly index: AddressIndex;
  /** Redis connection status, e.g. `ready`. */
  readonly redisStatus: () => string;
  readonly logger: QueueLogger;
  readonly signal: AbortSignal;
  readonly config: { readonly relistIntervalMs: number; readonly perNodeInFlight: number };
}

export interface RunningWatcher {
  readonly live: Readonly<Record<string, HealthCheck>>;
  readonly ready: Readonly<Record<string, HealthCheck>>;
  readonly done: Promise<void>;
}

export function runWatcher(deps: WatcherDeps): RunningWatcher {
  const csrs = startCsrEnqueuer({
    kube: deps.kube,
    queue: deps.queue,
    logger: deps.logger,
    signal: deps.signal,
    perRequesterWindow: deps.config.perNodeInFlight,
    relistIntervalMs: deps.config.relistIntervalMs,
  });
  const nodes = startNodeIndexer({
    kube: deps.kube,
    index: deps.index,
    logger: deps.logger,
    signal: deps.signal,
    syncIntervalMs: deps.config.relistIntervalMs,
  });
  return {
    live: { process: () => ({ ok: true }) },
    ready: {
      'csr-watch-synced': () => ({ ok: csrs.stats().listWatch.synced }),
      'node-watch-synced': () => ({ ok: nodes.stats().listWatch.synced }),
      'address-index-synced': () => ({ ok: nodes.stats().syncs > 0 }),
      redis: () => ({ ok: deps.redisStatus() === 'ready', detail: deps.redisStatus() }),
    },
    done: Promise.all([csrs.done, nodes.done]).then(() => undefined),
  };
}
