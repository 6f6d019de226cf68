// Redis under Sentinel, end to end: the watcher and a worker find the primary through a real
// sentinel (REDIS_SENTINELS), the primary dies by SIGKILL, the sentinel promotes the replica, and
// CSRs filed before and after the failover are all approved, once each, with no service restarted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  KubeletEmulator,
  RedisSentinel,
  System,
  settledAs,
  startRedis,
  until,
} from '@stampede/harness';
import type { CertificateSigningRequest, NodeAddress, RedisServer } from '@stampede/harness';

describe('the pipeline on Redis Sentinel through a failover', () => {
  let system: System;
  let replica: RedisServer;
  let sentinel: RedisSentinel;
  let nodeCount = 0;

  before(async () => {
    system = await System.start();
    replica = await startRedis({
      extraArgs: ['--replicaof', '127.0.0.1', String(system.redis.port)],
    });
    sentinel = await RedisSentinel.start({ primaryPort: system.redis.port });
    await until(
      'the sentinel to see the replica',
      async () => (await sentinel.replicas()) > 0,
      20_000,
    );
    // REDIS_URL's host is not used with sentinels; a wrong one proves it.
    const env = { REDIS_SENTINELS: sentinel.spec, REDIS_URL: 'redis://not-the-primary.invalid:1' };
    await system.start('watcher', env);
    await system.start('worker', env);
  });

  after(async () => {
    await system.stopAll();
    await sentinel.stop();
    await replica.stop();
  });

  async function wave(prefix: string, count: number): Promise<CertificateSigningRequest[]> {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const i = nodeCount++;
        const name = `${prefix}-${i}`;
        const addresses: NodeAddress[] = [
          { type: 'Hostname', address: name },
          { type: 'InternalIP', address: `10.7.0.${i + 1}` },
        ];
        await system.cp.createNode(name, addresses);
        const kubelet = new KubeletEmulator({ nodeName: name, addresses, harness: system.cp });
        return kubelet.createCsr();
      }),
    );
  }

  async function approvedOnce(csrs: readonly CertificateSigningRequest[]): Promise<void> {
    const names = new Set(csrs.map(csr => csr.metadata.name));
    const settled = await until(
      `${names.size} CSRs settled`,
      async () => {
        const all = [...(await system.csrs()).values()].filter(c => names.has(c.metadata.name));
        return all.length === names.size && all.every(c => settledAs(c) !== undefined)
          ? all
          : undefined;
      },
      60_000,
      250,
    );
    for (const csr of settled) {
      const approvals = (csr.status?.conditions ?? []).filter(c => c.type === 'Approved');
      assert.equal(approvals.length, 1, `${csr.metadata.name} approved once`);
    }
  }

  it('approves through the sentinel-named primary', async () => {
    await approvedOnce(await wave('before', 5));
    assert.equal(await sentinel.primaryPort(), system.redis.port);
  });

  it('keeps approving after the primary dies and the replica is promoted', async () => {
    await system.redis.kill();
    await until(
      'the sentinel to promote the replica',
      async () => (await sentinel.primaryPort()) === replica.port,
      30_000,
    );
    await approvedOnce(await wave('after', 5));
    const role = await replica.command('ROLE');
    assert.ok(Array.isArray(role) && role[0] === 'master', 'the replica is the primary now');
    assert.ok(
      system.services.every(s => s.child.exitCode === null),
      'no service restarted',
    );
  });
});
