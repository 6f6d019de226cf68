// Wires the two halves of the watcher and exposes their health.
import type { KubeClient } from '@stampede/kube';
import type { AddressIndex, ApprovalQueue, QueueLogger } from '@stampede/queue';
import type { HealthCheck } from '@stampede/runtime';
import type { Tracer } from '@stampede/telemetry';
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
  readonly config: {
    readonly resyncIntervalMs: number;
    readonly relistIntervalMs: number;
    readonly perNodeInFlight: number;
  };
  /** Enqueue spans (default no-op) and an enqueue counter, from main.ts. */
  readonly tracer?: Tracer;
  readonly onEnqueued?: (count: number) => void;
}

export interface RunningWatcher {
  readonly live: Readonly<Record<string, HealthCheck>>;
  readonly ready: Readonly<Record<string, HealthCheck>>;
  readonly done: Promise<void>;
  /** List/watch restarts so far, per resource (for metrics). */
  restarts(): { readonly csr: number; readonly node: number };
}

export function runWatcher(deps: WatcherDeps): RunningWatcher {
  const csrs = startCsrEnqueuer({
    kube: deps.kube,
    queue: deps.queue,
    logger: deps.logger,
    signal: deps.signal,
    perRequesterWindow: deps.config.perNodeInFlight,
    resyncIntervalMs: deps.config.resyncIntervalMs,
    relistIntervalMs: deps.config.relistIntervalMs,
    ...(deps.tracer === undefined ? {} : { tracer: deps.tracer }),
    ...(deps.onEnqueued === undefined ? {} : { onEnqueued: deps.onEnqueued }),
  });
  const nodes = startNodeIndexer({
    kube: deps.kube,
    index: deps.index,
    logger: deps.logger,
    signal: deps.signal,
    syncIntervalMs: deps.config.resyncIntervalMs,
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
    restarts: () => ({
      csr: csrs.stats().listWatch.restarts,
      node: nodes.stats().listWatch.restarts,
    }),
  };
}
