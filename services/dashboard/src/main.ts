#!/usr/bin/env node
// The dashboard's composition root: the only module (with config.ts) that touches process.
import { serve } from '@hono/node-server';
import { Queue } from 'bullmq';
import { APPROVAL_QUEUE, QUEUE_PREFIX } from '@stampede/contracts';
import { createRedisConnection, redactRedisUrl } from '@stampede/queue';
import { configOrExit, createLogger, sentinelsText } from '@stampede/runtime';
import { createDashboardApp } from './app.ts';
import { HELP, loadConfig } from './config.ts';

const config = configOrExit({
  service: 'stampede-dashboard',
  help: HELP,
  argv: process.argv,
  load: () => loadConfig(process.env),
});
const logger = createLogger({
  service: 'stampede-dashboard',
  instance: process.env['POD_NAME'] ?? 'dashboard',
  level: config.logLevel,
});

const redis = createRedisConnection({
  url: config.redisUrl,
  sentinel: config.redisSentinel,
  role: 'producer',
  name: 'stampede-dashboard',
});
redis.on('error', (error: Error) => {
  logger.warn({ err: error.message }, 'redis connection error');
});
const queue = new Queue(APPROVAL_QUEUE, { connection: redis, prefix: QUEUE_PREFIX });
queue.on('error', error => {
  logger.warn({ err: error.message }, 'queue error');
});
const app = createDashboardApp({
  queue,
  readOnly: config.readOnly,
  credentials: config.credentials,
  jaegerUiUrl: config.jaegerUiUrl,
});
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, info => {
  logger.info(
    {
      url: `http://${config.host}:${info.port}/`,
      dashboardPort: info.port,
      readOnly: config.readOnly,
      auth: config.credentials !== undefined,
      redis: redactRedisUrl(config.redisUrl),
      sentinels: sentinelsText(config.redisSentinel),
    },
    'dashboard started',
  );
});

function shutdown(signal: string): void {
  logger.info({ signal }, 'shutting down');
  server.close();
  void queue.close().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
}
process.on('SIGTERM', () => {
  shutdown('SIGTERM');
});
process.on('SIGINT', () => {
  shutdown('SIGINT');
});
