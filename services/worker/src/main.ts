#!/usr/bin/env node
// The worker's composition root: the only module (with config.ts) that touches process.
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import {
  createAddressIndex,
  createApprovalWorker,
  createRedisConnection,
  redactRedisUrl,
} from '@stampede/queue';
import { configOrExit, createLogger, sentinelsText, startHealthServer } from '@stampede/runtime';
import {
  activeTraceFields,
  createMetrics,
  recordHttpClientSpan,
  startTracing,
} from '@stampede/telemetry';
import { HELP, loadConfig } from './config.ts';
import { createProcessCsr } from './process-csr.ts';

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
      metrics.apiRequests.observe({ verb, code }, durationMs / 1000);
      if (!code.startsWith('2')) metrics.apiErrors.inc({ verb, code });
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
    processor: createProcessCsr({
      kube,
      index: createAddressIndex(redis),
      policy: config.policy,
      verifier: createNodeSignatureVerifier(),
      logger,
      now: Date.now,
      backoff: config.backoff,
      instance: config.instance,
      tracer: tracing.tracer,
      onOutcome: ({ outcome, reason, createdAtMs }) => {
        metrics.decisions.inc({ outcome, reason: reason ?? '' });
        if (createdAtMs !== undefined) {
          metrics.decisionLatency.observe(
            { outcome },
            Math.max(0, Date.now() - createdAtMs) / 1000,
          );
        }
      },
    }),
  });
  const health = await startHealthServer({
    port: config.healthPort,
    host: config.healthHost,
    live: { worker: () => ({ ok: worker.worker.isRunning() }) },
    ready: {
      redis: () => ({ ok: redis.status === 'ready', detail: redis.status }),
      worker: () => ({ ok: worker.isReady() }),
    },
    metrics: () => metrics.render(),
  });
  logger.info({ healthPort: health.port, concurrency: config.concurrency }, 'worker started');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, deadlineMs: config.shutdownDeadlineMs }, 'shutting down');
    const { released } = await worker.close(config.shutdownDeadlineMs);
    logger.info({ released, kube: kube.stats() }, 'worker closed');
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
