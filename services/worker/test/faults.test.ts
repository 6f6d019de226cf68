// Faults end to end. Each scenario ends with every valid CSR approved, exactly one Approved
// condition and one Event per CSR, and the invalid ones never approved.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CSR_PATH, KubeletEmulator } from '@stampede/harness';
import type { CertificateSigningRequest, NodeAddress } from '@stampede/harness';
import { System, settledAs, until } from '@stampede/harness';
import type { ServiceProcess } from '@stampede/harness';

const QUEUE_KEYS = '{stampede}:csr-approvals';

describe('the pipeline under faults and floods', () => {
  let system: System;
  let watcher: ServiceProcess;
  let nodeCount = 0;

  before(async () => {
    system = await System.start();
    watcher = await system.start('watcher');
  });

  after(async () => {
    await system.stopAll();
  });

  /** Creates `count` Nodes and one valid CSR from each Node's kubelet. */
  async function wave(prefix: string, count: number): Promise<CertificateSigningRequest[]> {
    const kubelets = await Promise.all(
      Array.from({ length: count }, async () => {
        const i = nodeCount++;
        const name = `${prefix}-${i}`;
        const addresses: NodeAddress[] = [
          { type: 'Hostname', address: name },
          { type: 'InternalIP', address: `10.2.${i >> 8}.${i & 255}` },
        ];
        await system.cp.createNode(name, addresses);
        return new KubeletEmulator({
          nodeName: name,
          addresses,
          harness: system.cp,
          sharedClientKey: true,
        });
      }),
    );
    return Promise.all(kubelets.map(kubelet => kubelet.createCsr()));
  }

  /** Every CSR settles Approved, once, with one Event. */
  async function approvedOnce(csrs: readonly CertificateSigningRequest[], timeoutMs = 90_000) {
    const names = new Set(csrs.map(csr => csr.metadata.name));
    const final = await until(
      `${names.size} CSRs settled`,
      async () => {
        const all = [...(await system.csrs()).values()].filter(c => names.has(c.metadata.name));
        return all.every(csr => settledAs(csr) !== undefined) ? all : undefined;
      },
      timeoutMs,
      250,
    );
    for (const csr of final) {
      const types = (csr.status?.conditions ?? []).map(c => c.type);
      assert.deepEqual(
        types.filter(t => t !== 'Failed'),
        ['Approved'],
        csr.metadata.name,
      );
    }
    await until(
      'their Events',
      async () => {
        const events = await system.eventsByCsrUid();
        return final.every(csr => events.has(csr.metadata.uid ?? ''));
      },
      30_000,
      250,
    );
    await sleep(1_000);
    const events = await system.eventsByCsrUid();
    const wrong = final.filter(csr => events.get(csr.metadata.uid ?? '')?.length !== 1);
    assert.deepEqual(
      wrong.map(csr => csr.metadata.name),
      [],
      'CSRs without exactly one Event',
    );
  }

  const queued = async (uid: string): Promise<boolean> =>
    (await system.redis.command('EXISTS', `${QUEUE_KEYS}:de:csr:${uid}`)) === 1;

  it('recovers the jobs of a worker SIGKILLed in the middle of them', async () => {
    const csrs = await wave('kill', 20);
    await until('jobs queued', async () => {
      const flags = await Promise.all(csrs.map(csr => queued(csr.metadata.uid ?? '')));
      return flags.every(Boolean);
    });
    // Freeze the API server so the worker's jobs hang in their first call, then kill the worker.
    const apiserver = system.cp.pids.apiserver;
    assert.ok(apiserver !== undefined);
    process.kill(apiserver, 'SIGSTOP');
    let victim: ServiceProcess | undefined;
    try {
      // Not ready, and never will be while the API server is frozen: its Node watch cannot list.
      // It takes jobs anyway, and they wait for its watches inside their attempt.
      victim = await system.start('worker', {}, { waitReady: false });
      await until('the worker holds active jobs', async () => {
        const active = await system.redis.command('LLEN', `${QUEUE_KEYS}:active`);
        return typeof active === 'number' && active > 0;
      });
      await system.kill(victim);
    } finally {
      process.kill(apiserver, 'SIGCONT');
    }
    await system.start('worker');
    await approvedOnce(csrs);
  });

  it('enqueues what was created while the watcher was down, once it restarts', async () => {
    await system.kill(watcher);
    const csrs = await wave('watcherless', 10);
    await sleep(2_000);
    const pending = [...(await system.csrs()).values()].filter(
      c => c.metadata.name.startsWith('watcherless') && settledAs(c) === undefined,
    );
    assert.equal(pending.length, 10, 'nothing decides while no watcher runs');
    watcher = await system.start('watcher');
    await approvedOnce(csrs);
  });

  it('keeps going through a Redis restart mid-run', async () => {
    const csrs = await wave('restart', 30);
    await system.redis.restart();
    await approvedOnce(csrs);
  });

  it('loses nothing when Redis is flushed mid-run', async () => {
    const workers = system.services.filter(s => s.kind === 'worker' && s.child.exitCode === null);
    await Promise.all(workers.map(worker => system.stop(worker)));
    const csrs = await wave('flush', 20);
    await until('jobs queued', async () => {
      const flags = await Promise.all(csrs.map(csr => queued(csr.metadata.uid ?? '')));
      return flags.every(Boolean);
    });
    // Jobs, deduplication keys and the address index are gone. The watcher's resync from its watch
    // cache (every 3 s here) brings them back; its API LIST is an hour away (System's defaults).
    await system.redis.flush();
    await Promise.all([system.start('worker'), system.start('worker')]);
    await approvedOnce(csrs, 30_000);
  });

  it('finds lost jobs again with the periodic LIST when the cache resync is far off', async () => {
    const workers = system.services.filter(s => s.kind === 'worker' && s.child.exitCode === null);
    await Promise.all(workers.map(worker => system.stop(worker)));
    // A watcher whose only quick way back is the LIST from the API server.
    const lister = await system.start('watcher', {
      RESYNC_INTERVAL_SECONDS: '60',
      RELIST_INTERVAL_SECONDS: '2',
    });
    await system.stop(watcher);
    watcher = lister;
    const csrs = await wave('relist', 10);
    await until('jobs queued', async () => {
      const flags = await Promise.all(csrs.map(csr => queued(csr.metadata.uid ?? '')));
      return flags.every(Boolean);
    });
    // Only the queue's keys go (jobs and deduplication keys), as if they had never been written;
    // the address index stays, so nothing but the lost jobs waits for a resync.
    const keys = await system.redis.command('KEYS', `${QUEUE_KEYS}*`);
    assert.ok(Array.isArray(keys) && keys.length > 0, 'the queue has keys to lose');
    await system.redis.command('DEL', ...(keys as string[]));
    await Promise.all([system.start('worker'), system.start('worker')]);
    // Well before the resync at 60 s: the LIST every 2 s found them.
    await approvedOnce(csrs, 30_000);
  });

  it('waits out an API server that is unreachable for 10 s', async () => {
    const csrs = await wave('blackout', 20);
    const apiserver = system.cp.pids.apiserver;
    assert.ok(apiserver !== undefined);
    process.kill(apiserver, 'SIGSTOP');
    try {
      await sleep(10_000);
    } finally {
      process.kill(apiserver, 'SIGCONT');
    }
    await approvedOnce(csrs, 120_000);
  });

  it('evaluates a CSR re-created under the same name on its own, never with the old decision', async () => {
    const workers = system.services.filter(s => s.kind === 'worker' && s.child.exitCode === null);
    await Promise.all(workers.map(worker => system.stop(worker)));
    const addresses: NodeAddress[] = [
      { type: 'Hostname', address: 'swap' },
      { type: 'InternalIP', address: '10.3.0.1' },
    ];
    await system.cp.createNode('swap', addresses);
    const kubelet = new KubeletEmulator({ nodeName: 'swap', addresses, harness: system.cp });
    const original = await kubelet.createCsr({ name: 'swap-csr' });
    await until('the original queued', () => queued(original.metadata.uid ?? ''));
    await system.cp.admin.delete(`${CSR_PATH}/swap-csr`);
    const replacement = await kubelet.createCsr({
      name: 'swap-csr',
      usages: ['digital signature', 'server auth', 'client auth'],
    });
    assert.notEqual(replacement.metadata.uid, original.metadata.uid);
    await until('the replacement queued', () => queued(replacement.metadata.uid ?? ''));
    const worker = await system.start('worker');
    const final = await until('swap-csr settled', async () => {
      const csr = await system.cp.getCsr('swap-csr');
      return settledAs(csr) === undefined ? undefined : csr;
    });
    assert.equal(final.metadata.uid, replacement.metadata.uid);
    assert.deepEqual(
      final.status?.conditions?.map(c => [c.type, c.reason]),
      [['Denied', 'DisallowedUsages']],
    );
    await until(
      'the old job superseded',
      () =>
        system.tail(worker, 200).includes(`"csr.uid":"${original.metadata.uid ?? ''}"`) &&
        system.tail(worker, 200).includes('"outcome":"superseded"'),
    );
    const events = await system.eventsByCsrUid();
    assert.equal(
      events.get(original.metadata.uid ?? ''),
      undefined,
      'no Event for the deleted CSR',
    );
    assert.equal(events.get(replacement.metadata.uid ?? '')?.length, 1);
  });

  it('keeps a flooding node from starving the others', async () => {
    const running = system.services.filter(s => s.kind === 'worker' && s.child.exitCode === null);
    await Promise.all(running.map(worker => system.stop(worker)));
    const floodAddresses: NodeAddress[] = [
      { type: 'Hostname', address: 'flood' },
      { type: 'InternalIP', address: '10.4.0.1' },
    ];
    await system.cp.createNode('flood', floodAddresses);
    const flooder = new KubeletEmulator({
      nodeName: 'flood',
      addresses: floodAddresses,
      harness: system.cp,
    });
    const flood: CertificateSigningRequest[] = [];
    for (let i = 0; i < 15; i++) flood.push(await flooder.createCsr());
    const quiet = await wave('quiet', 5);
    await until('the quiet CSRs queued', async () => {
      const flags = await Promise.all(quiet.map(csr => queued(csr.metadata.uid ?? '')));
      return flags.every(Boolean);
    });

    const worker = await system.start('worker', { CONCURRENCY: '1' });
    await approvedOnce([...flood, ...quiet]);
    const order = system
      .tail(worker, 1_000)
      .split('\n')
      .filter(line => line.includes('"outcome":"approved"'))
      .map(line => (JSON.parse(line) as { 'csr.name': string })['csr.name']);
    const quietNames = new Set(quiet.map(csr => csr.metadata.name));
    const lastQuiet = Math.max(...order.map((name, i) => (quietNames.has(name) ? i : -1)));
    // The flood's oldest CSR has priority 1 like each quiet one; the rest of the flood ranks behind.
    const floodBefore = order.slice(0, lastQuiet).filter(name => !quietNames.has(name)).length;
    assert.ok(
      floodBefore <= 1,
      `${floodBefore} flood CSRs were approved before the last quiet one`,
    );
  });

  it('honours 429 Retry-After from API Priority and Fairness and approves everything once', async () => {
    // A priority level with no seats of its own (the API server still runs one request at a time)
    // that rejects the rest at once with 429 Retry-After: 1, for the worker's ServiceAccount only.
    const flowcontrol = '/apis/flowcontrol.apiserver.k8s.io/v1';
    await system.cp.admin.post(`${flowcontrol}/prioritylevelconfigurations`, {
      metadata: { name: 'stampede-closed' },
      spec: {
        type: 'Limited',
        limited: {
          nominalConcurrencyShares: 0,
          lendablePercent: 0,
          borrowingLimitPercent: 0,
          limitResponse: { type: 'Reject' },
        },
      },
    });
    const workerAccount = { namespace: 'stampede-system', name: 'stampede-worker' };
    await system.cp.admin.post(`${flowcontrol}/flowschemas`, {
      metadata: { name: 'stampede-closed' },
      spec: {
        priorityLevelConfiguration: { name: 'stampede-closed' },
        matchingPrecedence: 100,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [{ kind: 'ServiceAccount', serviceAccount: workerAccount }],
            resourceRules: [
              {
                verbs: ['*'],
                apiGroups: ['*'],
                resources: ['*'],
                clusterScope: true,
                namespaces: ['*'],
              },
            ],
          },
        ],
      },
    });
    let removed = false;
    const open = async (): Promise<void> => {
      if (removed) return;
      removed = true;
      await system.cp.admin.delete(`${flowcontrol}/flowschemas/stampede-closed`);
      await system.cp.admin.delete(`${flowcontrol}/prioritylevelconfigurations/stampede-closed`);
    };
    try {
      // The API server applies new flow-control objects asynchronously: wait until they bite.
      const asWorker = system.cp.client(
        system.cp.credentials({ token: await system.cp.serviceToken('worker') }),
      );
      await until('the worker refused', async () => {
        const burst = Array.from({ length: 10 }, () =>
          asWorker.request('GET', '/api/v1/nodes?limit=1'),
        );
        return (await Promise.all(burst)).some(response => response.status === 429);
      });
      asWorker.close();
      const workers = await Promise.all([system.start('worker'), system.start('worker')]);
      const csrs = await wave('throttled', 20);
      const throttled = () =>
        workers
          .map(
            worker => system.tail(worker, 5_000).split('throttled: pausing the queue').length - 1,
          )
          .reduce((a, b) => a + b, 0);
      await until('a 429 that paused the queue', () => throttled() > 0, 30_000);
      await open();
      await approvedOnce(csrs);
      process.stdout.write(`# 429s that paused the queue: ${throttled()}\n`);
    } finally {
      await open();
    }
  });
});
