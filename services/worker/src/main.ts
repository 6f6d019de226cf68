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
import { createLogger, startHealthServer } from '@stampede/runtime';
import { HELP, loadConfig } from './config.ts';
import { createProcessCsr } from './process-csr.ts';

const USER_AGENT = 'stampede-worker';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  process.stderr.write(
    `stampede-worker: invalid configuration:\n  ${loaded.errors.join('\n  ')}\n`,
  );
  process.exit(2);
}
const config = loaded.config;
const logger = createLogger({
  service: 'stampede-worker',
  instance: config.instance,
  level: config.logLevel,
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
  });
  const redis = createRedisConnection({ url: config.redisUrl, role: 'worker', name: USER_AGENT });
  redis.on('error', (error: Error) => {
    logger.warn({ err: error.message }, 'redis connection error');
  });
  logger.info(
    { redis: redactRedisUrl(config.redisUrl), policyFile: config.policyFile ?? '(default policy)' },
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
