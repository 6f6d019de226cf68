// The stage the proxy fault tests share: a control plane auditing into `audit`, a watcher, the
// holding proxy in front of the API server, and a kubeconfig that sends a worker through it.
import { APPROVAL_QUEUE, QUEUE_PREFIX } from '@stampede/contracts';
import { FaultFleet, System } from '@stampede/harness';
import type { AuditLog } from '@stampede/harness';
import { HoldingProxy } from './holding-proxy.ts';

const QUEUE = `${QUEUE_PREFIX}:${APPROVAL_QUEUE}`;

export interface BehindProxy {
  readonly system: System;
  readonly fleet: FaultFleet;
  readonly proxy: HoldingProxy;
  /** The worker's kubeconfig naming the proxy (KUBECONFIG_PATH). */
  readonly viaProxy: string;
}

export async function startBehindProxy(audit: AuditLog): Promise<BehindProxy> {
  const system = await System.start({
    controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
  });
  const proxy = await HoldingProxy.start(system.cp);
  const viaProxy = system.cp.writeKubeconfig('worker-via-proxy', {
    server: proxy.url,
    caPem: system.cp.clusterCaPem,
    token: await system.cp.serviceToken('worker'),
  });
  await system.start('watcher');
  return { system, fleet: new FaultFleet(system), proxy, viaProxy };
}

/** Nothing active, waiting or delayed in the queue. */
export async function queueDrained(system: System): Promise<boolean> {
  const sizes = await Promise.all([
    system.redis.command('LLEN', `${QUEUE}:active`),
    system.redis.command('LLEN', `${QUEUE}:wait`),
    system.redis.command('ZCARD', `${QUEUE}:prioritized`),
    system.redis.command('ZCARD', `${QUEUE}:delayed`),
  ]);
  return sizes.every(n => n === 0);
}
