// Wires the watcher and exposes its health. It watches CSRs only: which Node reports which address
// is each worker's own fact from the API server (docs/adr/0019), never something Redis holds.
import type { KubeClient } from '@stampede/kube';
import type { ApprovalQueue, QueueLogger } from '@stampede/queue';
import type { HealthCheck } from '@stampede/runtime';
import type { Tracer } from '@stampede/telemetry';
import { startCsrEnqueuer } from './csr-enqueuer.ts';

export interface WatcherDeps {
  readonly kube: KubeClient;
  readonly queue: ApprovalQueue;
  /** Redis connection status, e.g. `ready`. */
  readonly redisStatus: () => string;
  readonly logger: QueueLogger;
  readonly signal: AbortSignal;
  readonly config: {
    readonly resyncIntervalMs: number;
    readonly relistIntervalMs: number;
    readonly watchIdleTimeoutMs: number;
    readonly perNodeInFlight: number;
    readonly abandonedAfterMs: number;
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
  restarts(): { readonly csr: number };
}

export function runWatcher(deps: WatcherDeps): RunningWatcher {
  const csrs = startCsrEnqueuer({
    kube: deps.kube,
    queue: deps.queue,
    logger: deps.logger,
    signal: deps.signal,
    plan: { window: deps.config.perNodeInFlight, abandonedAfterMs: deps.config.abandonedAfterMs },
    resyncIntervalMs: deps.config.resyncIntervalMs,
    relistIntervalMs: deps.config.relistIntervalMs,
    watchIdleTimeoutMs: deps.config.watchIdleTimeoutMs,
    ...(deps.tracer === undefined ? {} : { tracer: deps.tracer }),
    ...(deps.onEnqueued === undefined ? {} : { onEnqueued: deps.onEnqueued }),
  });
  return {
    live: { process: () => ({ ok: true }) },
    ready: {
      'csr-watch-synced': () => ({ ok: csrs.stats().listWatch.synced }),
      redis: () => ({ ok: deps.redisStatus() === 'ready', detail: deps.redisStatus() }),
    },
    done: csrs.done,
    restarts: () => ({ csr: csrs.stats().listWatch.restarts }),
  };
}
