#!/usr/bin/env node
// The baseline direct approver as a process, configured like the worker: KUBECONFIG_PATH,
// CONCURRENCY, LOG_LEVEL, POD_NAME. Logs `baseline ready` once synced, and its client's counters
// when it stops (SIGTERM).
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import { defaultPolicy } from '@stampede/policy';
import { createLogger } from '@stampede/runtime';
import { startDirectApprover } from './direct-approver.ts';

const env = process.env;
const instance = env['POD_NAME'] ?? 'baseline';
const logger = createLogger({ service: 'stampede-baseline', instance, level: 'info' });
const stop = new AbortController();
const kube = await createKubeClient({
  kubeConfig: loadKubeConfig({
    ...(env['KUBECONFIG_PATH'] === undefined ? {} : { path: env['KUBECONFIG_PATH'] }),
    env,
  }),
  logger,
  userAgent: 'stampede-baseline',
  maxConnections: Number(env['KUBE_MAX_CONNECTIONS'] ?? 16),
});
const approver = startDirectApprover({
  kube,
  policy: defaultPolicy,
  verifier: createNodeSignatureVerifier(),
  logger,
  signal: stop.signal,
  concurrency: Number(env['CONCURRENCY'] ?? 10),
  instance,
});

process.on('SIGTERM', () => {
  stop.abort(new Error('SIGTERM'));
  void approver.done.then(async () => {
    logger.info({ kube: kube.stats(), outcomes: approver.stats() }, 'baseline closed');
    await kube.close();
    process.exit(0);
  });
});

await approver.synced();
logger.info({ pid: process.pid }, 'baseline ready');
