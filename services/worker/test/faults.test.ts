// Faults end to end. Each scenario files a mix (valid CSRs, invalid ones of several kinds, one of
// another signer) through the fault and ends with the API server's audit log showing every valid
// CSR approved once and every invalid one denied once, each with one Event, and nothing written to
// the other signer's: counted from every write attempt, not from the objects' final state, which
// the API server keeps tidy even when a CSR is processed twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertSettled,
  AuditLog,
  checkInvariants,
  CSR_PATH,
  FaultFleet,
  KubeletEmulator,
  Mix,
  rejectedRequestsOf,
  rejectRequestsOf,
  System,
  until,
} from '@stampede/harness';
import type { CertificateSigningRequest, NodeAddress, ServiceProcess } from '@stampede/harness';

const QUEUE_KEYS = '{stampede}:csr-approvals';

describe('the pipeline under faults and floods', () => {
  let system: System;
  let watcher: ServiceProcess;
  let fleet: FaultFleet;
  const audit = new AuditLog();

  before(async () => {
    system = await System.start({
      controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
    });
    fleet = new FaultFleet(system);
    watcher = await system.start('watcher');
  });

  after(async () => {
    await system.stopAll();
    audit.remove();
  });

  const settles = (mix: Mix, timeoutMs?: number): Promise<void> =>
    assertSettled(system, audit, mix, timeoutMs);

  const queued = async (uid: string): Promise<boolean> =>
    (await system.redis.command('EXISTS', `${QUEUE_KEYS}:de:csr:${uid}`)) === 1;

  /** Until the watcher has enqueued every kubelet-serving CSR of the mix. */
  const allQueued = (mix: Mix) =>
    until('jobs queued', async () => {
      const flags = await Promise.all(mix.queueable.map(csr => queued(csr.metadata.uid ?? '')));
      return flags.every(Boolean);
    });

  it('recovers the jobs of a worker SIGKILLed in the middle of them', async () => {
    const mix = await fleet.mix('kill', 20);
    await allQueued(mix);
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
    await settles(mix);
  });

  /** Stops every running worker, so that a test's own workers are the only ones taking jobs. */
  const stopWorkers = async () => {
    const running = system.services.filter(s => s.kind === 'worker' && s.child.exitCode === null);
    await Promise.all(running.map(s => system.stop(s)));
  };

  const activeJobs = async (): Promise<number> =>
    Number(await system.redis.command('LLEN', `${QUEUE_KEYS}:active`));

  const eventsKey = `${QUEUE_KEYS}:events`;
  /** The id of the queue's latest event, so that a test counts only the events after it. */
  const lastEventId = async (): Promise<string> => {
    const last = (await system.redis.command('XREVRANGE', eventsKey, '+', '-', 'COUNT', '1')) as [
      string,
    ][];
    return last[0]?.[0] ?? '0';
  };
  /** BullMQ's event stream records every job whose lock expired while it was active. */
  const stalledSince = async (id: string): Promise<number> => {
    const events = (await system.redis.command('XRANGE', eventsKey, `(${id}`, '+')) as [
      string,
      string[],
    ][];
    return events.filter(([, fields]) => fields[1] === 'stalled').length;
  };

  /**
   * Files the mix with no worker running, freezes the API server, then starts `workers` workers:
   * they take jobs that hang in their first API call until the API server is let go.
   */
  const jobsHangingIn = async (prefix: string, workers: number) => {
    await stopWorkers();
    const mix = await fleet.mix(prefix, 40);
    await allQueued(mix);
    const apiserver = system.cp.pids.apiserver;
    assert.ok(apiserver !== undefined);
    const eventsBefore = await lastEventId();
    process.kill(apiserver, 'SIGSTOP');
    const thaw = () => process.kill(apiserver, 'SIGCONT');
    try {
      const started: ServiceProcess[] = [];
      for (let i = 0; i < workers; i++)
        started.push(await system.start('worker', {}, { waitReady: false }));
      // More active jobs than one worker's concurrency (10): every worker holds some.
      await until(
        'each worker holds active jobs',
        async () => (await activeJobs()) > 10 * (workers - 1),
      );
      return { mix, started, thaw, eventsBefore };
    } catch (error) {
      thaw();
      throw error;
    }
  };

  it('F13: a rolling update (SIGTERM while jobs are in flight) lets each job finish, stalls none and decides every CSR once', async () => {
    const { mix, started, thaw, eventsBefore } = await jobsHangingIn('roll', 2);
    const exits: Promise<number | null>[] = [];
    try {
      // As a Deployment's rollout does: the replacement starts, the old pod gets SIGTERM.
      for (const old of started) {
        void system.start('worker', {}, { waitReady: false });
        exits.push(system.stop(old));
      }
      await sleep(1_500);
      assert.deepEqual(
        started.map(s => s.child.exitCode),
        [null, null],
        'a stopping worker waits for its jobs, which wait for the API server',
      );
    } finally {
      thaw();
    }
    assert.deepEqual(await Promise.all(exits), [0, 0], 'each exits 0 within its shutdown deadline');
    const replacement = system.start('watcher');
    assert.equal(await system.stop(watcher), 0, 'the old watcher exits 0');
    watcher = await replacement;
    await settles(mix);
    assert.equal(await stalledSince(eventsBefore), 0, 'no job stalled');
  });

  it('F13: a worker whose jobs outlast its shutdown deadline hands them back, and they are decided once', async () => {
    const { mix, started, thaw, eventsBefore } = await jobsHangingIn('deadline', 1);
    const [old] = started;
    assert.ok(old !== undefined);
    let exit: number | null | 'still running';
    try {
      // The harness's deadline is 5 s, and 5 s more for the cancelled jobs to give up; the API
      // server stays frozen past both, so only handing the jobs back lets the worker go.
      exit = await Promise.race([
        system.stop(old),
        sleep(20_000).then(() => 'still running' as const),
      ]);
    } finally {
      thaw();
    }
    assert.equal(exit, 0, 'it exits 0 once its jobs are handed back, with the API server frozen');
    await system.start('worker');
    await settles(mix);
    assert.equal(await stalledSince(eventsBefore), 0, 'no job stalled: each went back to wait');
  });

  it('enqueues what was created while the watcher was down, once it restarts', async () => {
    await system.kill(watcher);
    const mix = await fleet.mix('watcherless', 10);
    await sleep(2_000);
    const untouched = checkInvariants(audit.events(), mix.expectations).csrs.filter(
      c => c.writes.length === 0,
    );
    assert.equal(untouched.length, mix.members.length, 'nothing is written while no watcher runs');
    watcher = await system.start('watcher');
    await settles(mix);
  });

  it('keeps going through a Redis restart mid-run', async () => {
    const mix = await fleet.mix('restart', 30);
    await system.redis.restart();
    await settles(mix);
  });

  it('loses nothing when Redis is flushed mid-run', async () => {
    const workers = system.services.filter(s => s.kind === 'worker' && s.child.exitCode === null);
    await Promise.all(workers.map(worker => system.stop(worker)));
    const mix = await fleet.mix('flush', 20);
    await allQueued(mix);
    // Jobs, deduplication keys and the address index are gone. The watcher's resync from its watch
    // cache (every 3 s here) brings them back; its API LIST is an hour away (System's defaults).
    await system.redis.flush();
    await Promise.all([system.start('worker'), system.start('worker')]);
    await settles(mix, 30_000);
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
    const mix = await fleet.mix('relist', 10);
    await allQueued(mix);
    // Only the queue's keys go (jobs and deduplication keys), as if they had never been written;
    // the address index stays, so nothing but the lost jobs waits for a resync.
    const keys = await system.redis.command('KEYS', `${QUEUE_KEYS}*`);
    assert.ok(Array.isArray(keys) && keys.length > 0, 'the queue has keys to lose');
    await system.redis.command('DEL', ...(keys as string[]));
    await Promise.all([system.start('worker'), system.start('worker')]);
    // Well before the resync at 60 s: the LIST every 2 s found them.
    await settles(mix, 30_000);
  });

  it('waits out an API server that is unreachable for 10 s', async () => {
    // The workers the earlier scenarios left running, or one of its own when run alone.
    const running = system.services.filter(s => s.kind === 'worker' && s.child.exitCode === null);
    if (running.length === 0) await system.start('worker');
    const mix = await fleet.mix('blackout', 20);
    const apiserver = system.cp.pids.apiserver;
    assert.ok(apiserver !== undefined);
    process.kill(apiserver, 'SIGSTOP');
    try {
      await sleep(10_000);
    } finally {
      process.kill(apiserver, 'SIGCONT');
    }
    await settles(mix, 120_000);
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
    const mix = await fleet.mix('swap', 3);
    await allQueued(mix);
    const worker = await system.start('worker');
    await settles(
      mix.with(new Mix([{ csr: replacement, expect: 'deny', reason: 'DisallowedUsages' }])),
    );
    // Its job ran (the worker says so; nothing at the API server can, as it wrote nothing)...
    await until(
      'the old job superseded',
      () =>
        system.tail(worker, 400).includes(`"csr.uid":"${original.metadata.uid ?? ''}"`) &&
        system.tail(worker, 400).includes('"outcome":"superseded"'),
    );
    // ...and wrote nothing: no approval write, no Event, for the deleted object's uid.
    const [old] = checkInvariants(audit.events(), [
      { name: 'swap-csr', uid: original.metadata.uid ?? '', expect: 'ignore' },
    ]).csrs;
    assert.deepEqual([old?.writes, old?.events], [[], 0], 'nothing written for the deleted CSR');
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
    const quietMix = await fleet.mix('quiet', 5);
    await allQueued(quietMix);

    await system.start('worker', { CONCURRENCY: '1' });
    const floodMix = new Mix(flood.map(csr => ({ csr, expect: 'approve' as const })));
    await settles(floodMix.with(quietMix));
    // The order the API server accepted the approvals in (the audit log is written in order).
    const quietNames = new Set(quietMix.valid.map(csr => csr.metadata.name));
    const approvedNames = new Set([...quietNames, ...flood.map(csr => csr.metadata.name)]);
    const order = audit
      .events()
      .filter(
        e =>
          e.objectRef?.subresource === 'approval' &&
          e.responseStatus?.code === 200 &&
          approvedNames.has(e.objectRef.name ?? ''),
      )
      .map(e => e.objectRef?.name ?? '');
    const lastQuiet = Math.max(...order.map((name, i) => (quietNames.has(name) ? i : -1)));
    // The flood's oldest CSR has priority 1 like each quiet one; the rest of the flood ranks behind.
    const floodBefore = order.slice(0, lastQuiet).filter(name => !quietNames.has(name)).length;
    assert.ok(
      floodBefore <= 1,
      `${floodBefore} flood CSRs were approved before the last quiet one`,
    );
  });

  it('honours 429 Retry-After from API Priority and Fairness and approves everything once', async () => {
    // The worker's ServiceAccount alone is refused at once with 429 Retry-After: 1.
    const open = await rejectRequestsOf(system.cp, 'worker');
    try {
      const workers = await Promise.all([system.start('worker'), system.start('worker')]);
      const mix = await fleet.mix('throttled', 20);
      const rejected = () => rejectedRequestsOf(system.cp, 'worker');
      await until('the workers refused', async () => (await rejected()) > 0, 30_000);
      // What a 429 did to the worker only its log tells: it paused the queue for Retry-After.
      const paused = () =>
        workers
          .map(
            worker => system.tail(worker, 5_000).split('throttled: pausing the queue').length - 1,
          )
          .reduce((a, b) => a + b, 0);
      await until('a 429 that paused the queue', () => paused() > 0, 30_000);
      await open();
      await settles(mix);
      // Not bounded: with the queue's pause or the watches' backoff removed, the rate the API
      // server counted here did not move (4-6 per worker per second), so a bound would guard nothing.
      process.stdout.write(`# requests the API server refused the workers: ${await rejected()}\n`);
    } finally {
      await open();
    }
  });
});
