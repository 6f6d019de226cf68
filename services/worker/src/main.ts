#!/usr/bin/env node
// The worker's composition root: the only module (with config.ts) that touches process.
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import {
  checkEvictionPolicy,
  checkRedisRequirements,
  EVICTING_NOW,
  EVICTION_RECHECK_MS,
  createApprovalWorker,
  createRedisConnection,
  redactRedisUrl,
  waitForReady,
  watchEvictionPolicy,
} from '@stampede/queue';
import { configOrExit, createLogger, sentinelsText, startHealthServer } from '@stampede/runtime';
import {
  activeTraceFields,
  createMetrics,
  recordHttpClientSpan,
  startTracing,
} from '@stampede/telemetry';
import { HELP, loadConfig } from './config.ts';
import { startNodeView } from './node-view.ts';
import { createInventory } from './inventory.ts';
import { createServedCertificates } from './served-certificate.ts';
import { createProcessCsr } from './process-csr.ts';
import { startServiceRanges } from './service-ranges.ts';

const USER_AGENT = 'stampede-worker';

const config = configOrExit({
  service: 'stampede-worker',
  help: HELP,
  argv: process.argv,
  load: () => loadConfig(process.env),
});
// Tracing first: spans are made from here on. OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const tracing = startTracing({ serviceName: USER_AGENT, env: process.env });
const metrics = createMetrics({ service: USER_AGENT });
const logger = createLogger({
  service: 'stampede-worker',
  instance: config.instance,
  level: config.logLevel,
  mixin: activeTraceFields,
});

try {
  const kube = await createKubeClient({
    kubeConfig: loadKubeConfig({
      ...(config.kubeconfig === undefined ? {} : { path: config.kubeconfig }),
      env: process.env,
    }),
    logger,
    userAgent: USER_AGENT,
    maxConnections: config.kubeMaxConnections,
    onRequest: call => {
      const { verb, code, durationMs } = call;
      if (!code.startsWith('2')) metrics.apiErrors.inc({ verb, code });
      // A refused watch counts as an error only: it belongs to no CSR's trace, and its time to the
      // refusal is no request latency.
      if (verb === 'watch') return;
      metrics.apiRequests.observe({ verb, code }, durationMs / 1000);
      // Runs in the caller's async context, so the span lands under the step that made the call.
      recordHttpClientSpan(tracing.tracer, call);
    },
  });
  const redis = createRedisConnection({
    url: config.redisUrl,
    sentinel: config.redisSentinel,
    role: 'worker',
    name: USER_AGENT,
  });
  redis.on('error', (error: Error) => {
    metrics.redisErrors.inc();
    logger.warn({ err: error.message }, 'redis connection error');
  });
  logger.info(
    {
      redis: redactRedisUrl(config.redisUrl),
      sentinels: sentinelsText(config.redisSentinel),
      policyFile: config.policyFile ?? '(default policy)',
    },
    'starting',
  );
  // The Node and ServiceCIDR watches are facts of every decision (docs/adr/0019): a job taken
  // before both have listed waits for them inside its attempt, instead of burning retries.
  const views = new AbortController();
  const nodes = startNodeView({ kube, signal: views.signal });
  const serviceRanges = startServiceRanges({ kube, signal: views.signal, now: Date.now });
  const viewsSynced = (): boolean => {
    const ranges = serviceRanges.stats();
    return nodes.synced() && (ranges.synced || ranges.lastErrorStatus === 404);
  };
  const started = Date.now();
  void until(viewsSynced, views.signal).then(
    () => {
      logger.info(
        { nodes: nodes.stats().nodes, listMs: Date.now() - started },
        'Node and ServiceCIDR watches synced',
      );
    },
    () => undefined,
  );

  // Up before the wait for Redis: alive (a restart would only wait again), not ready. A Redis that
  // is down at start or refuses the password must not put the pod in a restart loop.
  const health = await startHealthServer({
    port: config.healthPort,
    host: config.healthHost,
    live: { starting: () => ({ ok: true, detail: 'waiting for Redis' }) },
    // Never ready before the real checks are handed over: Redis may be up and still refused
    // (an evicting maxmemory-policy), and the process then exits.
    ready: { starting: () => ({ ok: false, detail: `Redis ${redis.status}` }) },
    metrics: () => metrics.render(),
  });
  logger.info({ healthPort: health.port }, 'health server listening');
  for (;;) {
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
  const eviction = watchEvictionPolicy(redis, {
    allowEviction: config.redisAllowEviction,
    initial: evictionPolicy,
    intervalMs: EVICTION_RECHECK_MS,
    onUnsafe: policy => {
      logger.error({ policy }, EVICTING_NOW);
    },
  });
  const processCsr = createProcessCsr({
    kube,
    nodes,
    serviceRanges,
    ...(config.inventory === undefined ? {} : { inventory: createInventory(config.inventory) }),
    ...(config.servedCertificate === undefined
      ? {}
      : { servedCertificates: createServedCertificates(config.servedCertificate) }),
    policy: config.policy,
    // The CSR from the watch cache; a stale copy is refused by the approval's precondition (ADR 20).
    csrReads: 'cache-first',
    events: config.events,
    verifier: createNodeSignatureVerifier(),
    logger,
    now: Date.now,
    backoff: config.backoff,
    instance: config.instance,
    tracer: tracing.tracer,
    onOutcome: ({ outcome, reason, createdAtMs }) => {
      metrics.decisions.inc({ outcome, reason: reason ?? '' });
      if (createdAtMs !== undefined) {
        metrics.decisionLatency.observe({ outcome }, Math.max(0, Date.now() - createdAtMs) / 1000);
      }
    },
  });
  const worker = createApprovalWorker({
    connection: redis,
    logger,
    concurrency: config.concurrency,
    ...(config.rateLimitPerSecond === undefined
      ? {}
      : { limiter: { max: config.rateLimitPerSecond, durationMs: 1_000 } }),
    backoff: config.backoff,
    name: config.instance,
    lockDurationMs: config.lockDurationMs,
    processor: async (job, context) => {
      await until(viewsSynced, context.signal);
      return processCsr(job, context);
    },
  });
  health.use({
    live: { worker: () => ({ ok: worker.worker.isRunning() }) },
    ready: {
      redis: () => ({ ok: redis.status === 'ready', detail: redis.status }),
      'redis-noeviction': () => {
        const { ok, policy } = eviction.current();
        return { ok, detail: policy };
      },
      // Not only listed once: a watch silent for longer than a bookmark interval is broken.
      'node-watch-live': () => ({ ok: nodes.live() }),
      'servicecidr-watch': () => {
        const stats = serviceRanges.stats();
        return { ok: stats.synced || stats.lastErrorStatus === 404 };
      },
      worker: () => ({ ok: worker.isReady() }),
    },
  });
  logger.info(
    { healthPort: health.port, concurrency: config.concurrency, evictionPolicy },
    'worker started',
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, deadlineMs: config.shutdownDeadlineMs }, 'shutting down');
    const { released } = await worker.close(config.shutdownDeadlineMs);
    logger.info({ released, kube: kube.stats() }, 'worker closed');
    views.abort();
    await health.close();
    redis.disconnect();
    await kube.close();
    await tracing.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => {
    void shutdown('SIGTERM');
  });
  process.on('SIGINT', () => {
    void shutdown('SIGINT');
  });
} catch (error) {
  logger.fatal({ err: error }, 'worker failed');
  process.exit(1);
}

/** Resolves once `ready()` is true, checking every 50 ms; rejects with the reason if `signal` aborts. */
async function until(ready: () => boolean, signal: AbortSignal): Promise<void> {
  while (!ready()) {
    signal.throwIfAborted();
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}
