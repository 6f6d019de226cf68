#!/usr/bin/env node
// The watcher's composition root: the only module (with config.ts) that touches process.
import { APPROVAL_QUEUE } from '@stampede/contracts';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import {
  checkEvictionPolicy,
  checkRedisRequirements,
  EVICTING_NOW,
  EVICTION_RECHECK_MS,
  createApprovalQueue,
  createRedisConnection,
  redactRedisUrl,
  waitForReady,
  watchEvictionPolicy,
} from '@stampede/queue';
import { configOrExit, createLogger, sentinelsText, startHealthServer } from '@stampede/runtime';
import { activeTraceFields, addQueueDepth, createMetrics, startTracing } from '@stampede/telemetry';
import type { Metrics } from '@stampede/telemetry';
import { HELP, loadConfig } from './config.ts';
import { runWatcher } from './watcher.ts';

const config = configOrExit({
  service: 'stampede-watcher',
  help: HELP,
  argv: process.argv,
  load: () => loadConfig(process.env),
});
// Tracing first: spans are made from here on. OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const tracing = startTracing({ serviceName: 'stampede-watcher', env: process.env });
const metrics: Metrics = createMetrics({ service: 'stampede-watcher' });
const logger = createLogger({
  service: 'stampede-watcher',
  instance: config.instance,
  level: config.logLevel,
  mixin: activeTraceFields,
});

const stop = new AbortController();
let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  stop.abort(new Error(`received ${signal}`));
}
process.on('SIGTERM', () => {
  shutdown('SIGTERM');
});
process.on('SIGINT', () => {
  shutdown('SIGINT');
});

try {
  const kube = await createKubeClient({
    kubeConfig: loadKubeConfig({
      ...(config.kubeconfig === undefined ? {} : { path: config.kubeconfig }),
      env: process.env,
    }),
    logger,
    userAgent: 'stampede-watcher',
    onRequest: ({ verb, code, durationMs }) => {
      if (!code.startsWith('2')) metrics.apiErrors.inc({ verb, code });
      // A refused watch counts as an error only; its time to the refusal is no request latency.
      if (verb !== 'watch') metrics.apiRequests.observe({ verb, code }, durationMs / 1000);
    },
  });
  const redis = createRedisConnection({
    url: config.redisUrl,
    sentinel: config.redisSentinel,
    role: 'producer',
    name: 'stampede-watcher',
  });
  redis.on('error', (error: Error) => {
    metrics.redisErrors.inc();
    logger.warn({ err: error.message }, 'redis connection error');
  });
  logger.info(
    { redis: redactRedisUrl(config.redisUrl), sentinels: sentinelsText(config.redisSentinel) },
    'connecting to Redis',
  );
  // Watch restarts are counted when /metrics is scraped; none before the watch runs.
  let restarts = (): { csr: number } => ({ csr: 0 });
  const counted = { csr: 0 };
  const countRestarts = (): void => {
    const now = restarts();
    metrics.watchRestarts.inc({ resource: 'certificatesigningrequests' }, now.csr - counted.csr);
    Object.assign(counted, now);
  };
  // Up before the wait for Redis: alive (a restart would only wait again), not ready.
  const health = await startHealthServer({
    port: config.healthPort,
    host: config.healthHost,
    live: { starting: () => ({ ok: true, detail: 'waiting for Redis' }) },
    // Never ready before the real checks are handed over: Redis may be up and still refused
    // (an evicting maxmemory-policy), and the process then exits.
    ready: { starting: () => ({ ok: false, detail: `Redis ${redis.status}` }) },
    metrics: () => {
      countRestarts();
      return metrics.render();
    },
  });
  logger.info({ healthPort: health.port }, 'health server listening');
  while (!stop.signal.aborted) {
    try {
      await waitForReady(redis, 10_000);
      break;
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : error }, 'Redis not ready yet');
    }
  }
  const evictionPolicy = await checkEvictionPolicy(redis, {
    allowEviction: config.redisAllowEviction,
  });
  await checkRedisRequirements(redis);
  logger.info({ evictionPolicy }, 'Redis ready');
  const eviction = watchEvictionPolicy(redis, {
    allowEviction: config.redisAllowEviction,
    initial: evictionPolicy,
    intervalMs: EVICTION_RECHECK_MS,
    onUnsafe: policy => {
      logger.error({ policy }, EVICTING_NOW);
    },
  });
  const queue = createApprovalQueue(redis);
  queue.queue.on('error', error => {
    metrics.redisErrors.inc();
    logger.warn({ err: error.message }, 'queue error');
  });
  // The HPA metric: stampede_queue_jobs{queue="csr-approvals",state=~"waiting|prioritized"} summed
  // (ADR 14; exported here only).
  addQueueDepth(metrics, { queue: APPROVAL_QUEUE, counts: () => queue.counts() });
  const watcher = runWatcher({
    kube,
    queue,
    redisStatus: () => redis.status,
    logger,
    signal: stop.signal,
    config,
    tracer: tracing.tracer,
    onEnqueued: count => {
      metrics.enqueued.inc(count);
    },
  });
  health.use({
    live: watcher.live,
    ready: {
      ...watcher.ready,
      'redis-noeviction': () => {
        const { ok, policy } = eviction.current();
        return { ok, detail: policy };
      },
    },
  });
  restarts = () => watcher.restarts();
  logger.info({ healthPort: health.port }, 'watcher started');
  await watcher.done;
  await health.close();
  await queue.close().catch(() => undefined);
  redis.disconnect();
  await kube.close();
  await tracing.shutdown();
  logger.info('stopped');
  process.exit(0);
} catch (error) {
  logger.fatal({ err: error }, 'watcher failed');
  process.exit(1);
}
