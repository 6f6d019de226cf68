// Facts about other Nodes and about Services, end to end on the real control plane: the worker
// learns who else reports an address from its own watch of Nodes, never from Redis, so an attacker
// who can write to Redis can neither hide an older Node's claim nor deny an honest Node; a Node with
// more than 64 addresses is seen whole; IPs of Services are no Node's. Every decision is read from
// the API server's objects, and `stampede check` on the same objects decides the same.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { KubeletEmulator, System, settledAs, startRedis, until } from '@stampede/harness';
import type { CertificateSigningRequest, NodeAddress } from '@stampede/harness';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../cli/src/main.ts');
const QUEUE = '{stampede}:csr-approvals:';
const hourAgo = new Date(Date.now() - 3_600_000);

const addressesOf = (name: string, ...ips: string[]): NodeAddress[] => [
  { type: 'Hostname', address: name },
  ...ips.map(address => ({ type: 'InternalIP' as const, address })),
];

describe('contest and Service facts come from the API server, never from Redis', () => {
  let system: System;
  let redis: Redis;

  before(async () => {
    system = await System.start();
    await system.start('watcher');
    await system.start('worker');
    redis = new Redis(system.redis.url);
  });

  after(async () => {
    redis.disconnect();
    await system.stopAll();
  });

  async function settled(csr: CertificateSigningRequest): Promise<CertificateSigningRequest> {
    return until(
      `${csr.metadata.name} settled`,
      async () => {
        const read = await system.cp.getCsr(csr.metadata.name);
        return settledAs(read) === undefined ? undefined : read;
      },
      30_000,
    );
  }

  /** The single condition of a settled CSR, as [type, reason]. */
  async function outcome(csr: CertificateSigningRequest): Promise<[string, string]> {
    const final = await settled(csr);
    const conditions = final.status?.conditions ?? [];
    assert.equal(conditions.filter(c => c.type !== 'Failed').length, 1, JSON.stringify(conditions));
    const condition = conditions.find(c => c.type === 'Approved' || c.type === 'Denied');
    return [condition?.type ?? '', condition?.reason ?? ''];
  }

  /** `stampede check` on the live objects: the CSR, every Node and every ServiceCIDR. */
  async function check(csr: CertificateSigningRequest): Promise<[string, string]> {
    const dir = system.dir;
    const csrFile = join(dir, `${csr.metadata.name}.json`);
    const nodesFile = join(dir, `${csr.metadata.name}-nodes.json`);
    const nodes = await system.cp.admin.get('/api/v1/nodes');
    writeFileSync(nodesFile, JSON.stringify({ ...(nodes as object), kind: 'NodeList' }));
    const cidrs = await system.cp.admin.get<{ items: { spec: { cidrs: string[] } }[] }>(
      '/apis/networking.k8s.io/v1/servicecidrs',
    );
    const ranges = cidrs.items.flatMap(item => item.spec.cidrs).join(',');
    // The CSR is decided by now; judge it as it was before (the check ignores settled CSRs).
    const pending = JSON.parse(JSON.stringify(await system.cp.getCsr(csr.metadata.name))) as {
      status?: unknown;
    };
    delete pending.status;
    writeFileSync(csrFile, JSON.stringify(pending));
    const { stdout } = await run(process.execPath, [
      CLI,
      'check',
      '--csr',
      csrFile,
      '--nodes',
      nodesFile,
      '--service-cidr',
      ranges,
    ]);
    const report = JSON.parse(stdout) as { decision: string; reasons: { code: string }[] };
    const type =
      report.decision === 'approve'
        ? 'Approved'
        : report.decision === 'deny'
          ? 'Denied'
          : report.decision;
    return [type, report.reasons[0]?.code ?? ''];
  }

  async function expectBoth(csr: CertificateSigningRequest, want: [string, string]): Promise<void> {
    assert.deepEqual(await outcome(csr), want, `${csr.metadata.name} on the live pipeline`);
    assert.deepEqual(await check(csr), want, `${csr.metadata.name} in stampede check`);
  }

  it('denies a newer Node the 65th address of an older Node that reports 70', async () => {
    const ips = Array.from({ length: 70 }, (_, i) => `10.5.0.${i + 1}`);
    await system.cp.createNode('many-old', addressesOf('many-old', ...ips), { createdAt: hourAgo });
    await system.cp.createNode('many-new', addressesOf('many-new', '10.5.0.65'));
    const csr = await new KubeletEmulator({
      nodeName: 'many-new',
      addresses: addressesOf('many-new', '10.5.0.65'),
      harness: system.cp,
    }).createCsr();
    await expectBoth(csr, ['Denied', 'SanContested']);
  });

  it('ignores what an attacker writes to Redis: a ghost claim denies nobody, a deleted claim approves nobody', async () => {
    // The attacker owns Redis: every key that is not the queue's is deleted, and the address
    // index of earlier versions is forged with a very old ghost Node claiming both addresses.
    const rewrite = async (): Promise<void> => {
      const keys = await redis.keys('*');
      const foreign = keys.filter(key => !key.startsWith(QUEUE));
      if (foreign.length > 0) await redis.del(...foreign);
      const index = '{stampede}:address-index';
      await redis.hset(`${index}:address:ip:10.5.1.1`, 'ghost', '0');
      await redis.hset(`${index}:address:ip:10.5.1.2`, 'ghost', '0');
      await redis.hset(
        `${index}:node:ghost`,
        'rv',
        '999999999',
        'c',
        '0',
        'k',
        'ip:10.5.1.1 ip:10.5.1.2',
      );
      await redis.sadd(`${index}:nodes`, 'ghost');
      await redis.set(`${index}:synced`, '1');
    };
    await system.cp.createNode('owner', addressesOf('owner', '10.5.1.2'), { createdAt: hourAgo });
    await system.cp.createNode('honest', addressesOf('honest', '10.5.1.1'));
    await system.cp.createNode('taker', addressesOf('taker', '10.5.1.2'));
    await rewrite();
    const [honest, taker] = await Promise.all(
      ['honest', 'taker'].map(name =>
        new KubeletEmulator({
          nodeName: name,
          addresses: addressesOf(name, name === 'honest' ? '10.5.1.1' : '10.5.1.2'),
          harness: system.cp,
        }).createCsr(),
      ),
    );
    await rewrite();
    assert.ok(honest && taker);
    await expectBoth(honest, ['Approved', 'AutoApproved']);
    await expectBoth(taker, ['Denied', 'SanContested']);
  });

  it('denies IPs of Services: the kubernetes Service, kube-dns, and a second ServiceCIDR', async () => {
    await system.cp.admin.post('/apis/networking.k8s.io/v1/servicecidrs', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'ServiceCIDR',
      metadata: { name: 'second-range' },
      spec: { cidrs: ['10.97.0.0/24'] },
    });
    await system.cp.admin.post('/api/v1/namespaces/kube-system/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns' },
      spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    });
    // The worker's ServiceCIDR watch sees the new range within milliseconds; leave it a moment.
    await sleep(500);
    const cases = [
      { name: 'svc-kubernetes', ip: '10.96.0.1' },
      { name: 'svc-kube-dns', ip: '10.96.0.10' },
      { name: 'svc-second-range', ip: '10.97.0.5' },
    ];
    const csrs = await Promise.all(
      cases.map(async c => {
        const addresses = addressesOf(c.name, c.ip);
        await system.cp.createNode(c.name, addresses);
        return new KubeletEmulator({ nodeName: c.name, addresses, harness: system.cp }).createCsr();
      }),
    );
    for (const csr of csrs) await expectBoth(csr, ['Denied', 'ServiceIp']);
  });

  it('refuses to start on a Redis that may evict keys, unless told to accept it', async () => {
    const evicting = await startRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] });
    try {
      await assert.rejects(
        system.start('worker', { REDIS_URL: evicting.url }),
        /maxmemory-policy is allkeys-lru[\s\S]*REDIS_ALLOW_EVICTION/,
      );
      await assert.rejects(
        system.start('watcher', { REDIS_URL: evicting.url }),
        /maxmemory-policy is allkeys-lru/,
      );
      const allowed = await system.start('worker', {
        REDIS_URL: evicting.url,
        REDIS_ALLOW_EVICTION: 'true',
      });
      await system.stop(allowed);
    } finally {
      await evicting.stop();
    }
  });
});
