// Prometheus metrics (prom-client): one registry per process, served on /metrics by the health
// server. Names are part of the deployment contract (the HPA scales on stampede_queue_jobs), so they
// live here, once.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gauge the HPA scales on: jobs of a queue by state, exported by the watcher. */
export const QUEUE_JOBS_METRIC = 'stampede_queue_jobs';

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export interface Metrics {
  readonly registry: Registry;
  /** Decisions and other terminal outcomes by outcome (approved, denied, …) and reason code. */
  readonly decisions: Counter<'outcome' | 'reason'>;
  /** Seconds from CSR creation (metadata.creationTimestamp) to the written approval or denial. */
  readonly decisionLatency: Histogram<'outcome'>;
  /** Kubernetes API unary calls by verb and HTTP code ("error" when no response). */
  readonly apiRequests: Histogram<'verb' | 'code'>;
  readonly apiErrors: Counter<'verb' | 'code'>;
  /** List/watch restarts (reconnects and relists after an error or a closed watch). */
  readonly watchRestarts: Counter<'resource'>;
  /** Errors reported by the Redis connection or the queue. */
  readonly redisErrors: Counter;
  /** Jobs enqueued by the watcher (before deduplication). */
  readonly enqueued: Counter;
  /** Serves the registry: content type and body. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

/** Creates the registry with process metrics (CPU, memory, event-loop lag, GC) and ours. */
export function createMetrics(options: { readonly service: string }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  collectDefaultMetrics({ register: registry, prefix: 'stampede_' });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    decisions: new Counter({
      name: 'stampede_decisions_total',
      help: 'CSR jobs finished, by outcome (approved, denied, left-pending, ignored, …) and reason code',
      labelNames: ['outcome', 'reason'],
      registers,
    }),
    decisionLatency: new Histogram({
      name: 'stampede_csr_decision_seconds',
      help: 'Seconds from CSR creation to the approval or denial written by stampede',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    }),
    apiRequests: new Histogram({
      name: 'stampede_kube_request_duration_seconds',
      help: 'Kubernetes API calls (not watch streams) by verb and HTTP status code',
      labelNames: ['verb', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    apiErrors: new Counter({
      name: 'stampede_kube_request_errors_total',
      help: 'Kubernetes API calls that failed, by verb and HTTP code ("error" without a response)',
      labelNames: ['verb', 'code'],
      registers,
    }),
    watchRestarts: new Counter({
      name: 'stampede_watch_restarts_total',
      help: 'List/watch restarts after an error or a closed watch, by resource',
      labelNames: ['resource'],
      registers,
    }),
    redisErrors: new Counter({
      name: 'stampede_redis_errors_total',
      help: 'Errors reported by the Redis connection or the queue',
      registers,
    }),
    enqueued: new Counter({
      name: 'stampede_jobs_enqueued_total',
      help: 'Approval jobs handed to Redis by the watcher (before deduplication by CSR uid; a full pass hands only the CSRs Redis lacks)',
      registers,
    }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
  return metrics;
}

/**
 * Adds stampede_queue_jobs{queue,state}, read from `counts` at each scrape (BullMQ getJobCounts).
 * A failed read is counted as a Redis error and leaves the previous values.
 */
export function addQueueDepth(
  metrics: Metrics,
  options: {
    readonly queue: string;
    readonly counts: () => Promise<Readonly<Partial<Record<QueueState, number>>>>;
  },
): void {
  new Gauge({
    name: QUEUE_JOBS_METRIC,
    help: 'Jobs in the approval queue by state (the HPA scales the workers on waiting + prioritized, ADR 14)',
    labelNames: ['queue', 'state'],
    registers: [metrics.registry],
    async collect() {
      try {
        const counts = await options.counts();
        for (const state of QUEUE_STATES) {
          this.set({ queue: options.queue, state }, counts[state] ?? 0);
        }
      } catch {
        metrics.redisErrors.inc();
      }
    },
  });
}
