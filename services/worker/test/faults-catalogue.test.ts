// Cases of the fault catalogue not covered by faults.test.ts, each on real components and each
// judged by the API server's audit log (the harness's fault-mix.ts): every valid CSR approved once, every
// invalid one denied once, each with one Event, nothing written for another signer's. F01 Redis
// down at start-up, F05 a zombie Redis socket, F06 a slow Redis, F07 a full Redis, F08 an evicting policy at run time, F09 a wrong Redis
// password or a Redis user without scripts, F10 a Redis Cluster node, F15 workers down past the kubelet's wait, F34 the trace collector down;
// F31 (the SubjectAccessReview failing) needs its own API server configuration: faults-sar.test.ts.
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertSettled,
  AuditLog,
  backdateInEtcd,
  checkInvariants,
  CSR_PATH,
  defaultNodeAddresses,
  FaultFleet,
  FaultyTcpProxy,
  freePort,
  KubeletEmulator,
  Mix,
  startRedis,
  System,
  until,
  writtenTo,
} from '@stampede/harness';
import type { CertificateSigningRequest } from '@stampede/harness';

const PASSWORD = 'catalogue-secret';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * A service whose wall clock is off by `offset` (libfaketime, e.g. '+5m'); its monotonic clock,
 * which timers use, is left alone, as on a host whose NTP is broken.
 */
function skewedClock(offset: string): Record<string, string> {
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/** One PING's round trip through `port`, in ms. */
async function pingMs(port: number): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.on('error', reject).on('data', () => {
      socket.destroy();
      resolve();
    });
  });
  return performance.now() - started;
}

describe('fault catalogue on real components', () => {
  let system: System;
  let fleet: FaultFleet;
  const audit = new AuditLog();

  before(async () => {
    system = await System.start({
      controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
    });
    fleet = new FaultFleet(system);
  });

  after(async () => {
    await system.stopAll();
    audit.remove();
  });

  /** Every running service stopped: each case brings its own, configured for its fault. */
  async function stopServices(): Promise<void> {
    const running = system.services.filter(s => s.child.exitCode === null && !s.child.killed);
    await Promise.all(running.map(service => system.stop(service)));
  }

  it('F34: decides as ever while the trace collector is down', async () => {
    // Nothing listens there: every span export fails.
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}` };
    await system.start('watcher', otel);
    await system.start('worker', otel);
    const mix = await fleet.mix('f34', 10);
    await assertSettled(system, audit, mix, 30_000);
    await stopServices();
  });

  it("F15: after an outage past the kubelet's 15-minute wait only the newest CSR of a node is approved", async () => {
    // Workers down: the kubelet's first CSR is queued and waits. It gave up on it 15 minutes later
    // (here: its creation time moved 20 minutes back) and filed a new one with a new key.
    await system.start('watcher');
    const name = 'f15-node';
    const addresses = defaultNodeAddresses(name, '10.3.0.1');
    await system.cp.createNode(name, addresses);
    const kubelet = new KubeletEmulator({
      nodeName: name,
      addresses,
      harness: system.cp,
      sharedClientKey: true,
    });
    const first = await kubelet.createCsr();
    const path = `${CSR_PATH}/${first.metadata.name}`;
    const then = new Date(Date.now() - 20 * 60_000);
    await backdateInEtcd(
      system.cp.etcdUrl,
      `/registry/certificatesigningrequests/${first.metadata.name}`,
      then,
    );
    await until('the first CSR backdated', async () => {
      const read = await system.cp.admin.get<CertificateSigningRequest>(path);
      return Date.parse(read.metadata.creationTimestamp ?? '') < Date.now() - 19 * 60_000;
    });
    const abandoned = new Mix([{ csr: first, expect: 'approve' }]);
    const newest = new Mix([{ csr: await kubelet.createCsr(), expect: 'approve' }]);
    await system.start('worker');
    await assertSettled(system, audit, newest, 30_000);
    // Two resyncs after the newest is decided, when the first is its node's only pending CSR.
    await sleep(8_000);
    assert.deepEqual(writtenTo(audit, abandoned), [], 'nothing written to the abandoned CSR');
    const left = await system.cp.admin.get<CertificateSigningRequest>(path);
    assert.deepEqual(
      left.status?.conditions ?? [],
      [],
      'left pending for the API server to clean up',
    );
    await stopServices();
  });

  it('F35: workers whose clocks are 5 minutes ahead and behind decide every CSR once, a late Node too', async () => {
    await system.start('watcher');
    await Promise.all(['+5m', '-5m'].map(skew => system.start('worker', { ...skewedClock(skew) })));
    const mix = await fleet.mix('f35', 10);
    // Its Node registers 8 s after its CSR: retried with backoff delays, which BullMQ keeps as
    // timestamps on the clock of the worker that delays them.
    const late = await fleet.lateNode('f35-late', 8_000);
    await assertSettled(system, audit, mix.with(late), 60_000);
    await stopServices();
  });

  it('F01: starts with Redis down, and decides everything once Redis is up', async () => {
    const { port } = system.redis;
    await system.redis.kill();
    // The port held while Redis is down, so that no other process on this machine (other tests run
    // beside this one) takes it and the services find a Redis after all: a connection is accepted
    // and dropped at once.
    const placeholder = createServer(socket => socket.destroy());
    await new Promise<void>(resolve => placeholder.listen(port, '127.0.0.1', resolve));
    // Neither is ready while Redis is down: started without waiting.
    void system.start('watcher', {}, { waitReady: false });
    void system.start('worker', {}, { waitReady: false });
    const [watcher, worker] = system.services.slice(-2);
    assert.ok(watcher?.kind === 'watcher' && worker?.kind === 'worker');
    let mix: Mix;
    try {
      mix = await fleet.mix('f01', 10);
      // Past the 10 s each service waits for Redis before it says so and waits again.
      await sleep(15_000);
      assert.deepEqual(writtenTo(audit, mix), [], 'nothing written while Redis is down');
      assert.deepEqual([watcher.child.exitCode, worker.child.exitCode], [null, null], 'both wait');
      // Alive and not ready, so that a kubelet neither restarts them nor sends them traffic.
      for (const service of [watcher, worker]) {
        const port = await service.healthPort;
        const statusOf = async (path: string) =>
          (await fetch(`http://127.0.0.1:${String(port)}${path}`)).status;
        assert.deepEqual(
          [await statusOf('/healthz'), await statusOf('/readyz')],
          [200, 503],
          `${service.name} while Redis is down`,
        );
      }
    } finally {
      await new Promise(resolve => placeholder.close(resolve));
    }
    await system.redis.start();
    assert.equal(system.redis.port, port, 'Redis is back on its port');
    await Promise.all([system.ready(watcher), system.ready(worker)]);
    await assertSettled(system, audit, mix, 30_000);
    await stopServices();
  });

  it('F07: a full Redis (maxmemory, noeviction) stops decisions without losing a job or a service', async () => {
    // No resync and no relist within the case: what the watcher failed to enqueue while Redis
    // refused writes, it must enqueue again by itself.
    const resyncAt = Date.now() + 60_000;
    await system.start('watcher', {
      RESYNC_INTERVAL_SECONDS: '60',
      RELIST_INTERVAL_SECONDS: '3600',
    });
    await system.start('worker');
    const [watcher, worker] = system.services.slice(-2);
    assert.ok(watcher?.kind === 'watcher' && worker?.kind === 'worker');
    const used = Number(
      /used_memory:(\d+)/.exec(String(await system.redis.command('INFO', 'memory')))?.[1],
    );
    assert.ok(used > 0, 'Redis reports its memory');
    // Below what it holds: under noeviction every write (each enqueue, each BullMQ script) is
    // refused with an OOM error, reads still work.
    await system.redis.command('CONFIG', 'SET', 'maxmemory', String(Math.floor(used / 2)));
    let mix: Mix;
    try {
      mix = await fleet.mix('f07', 10);
      await sleep(10_000);
      assert.deepEqual(
        writtenTo(audit, mix),
        [],
        'nothing decided while Redis refuses every write',
      );
      for (const service of [watcher, worker]) {
        assert.equal(
          service.child.exitCode,
          null,
          `${service.name} exited:\n${system.tail(service)}`,
        );
      }
    } finally {
      await system.redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
    await assertSettled(system, audit, mix, 30_000);
    assert.ok(Date.now() < resyncAt, 'settled before any resync could have re-queued a lost job');
    await stopServices();
  });

  it('F05: a zombie Redis connection (open, silent) is dropped, and decisions go on over a new one', async () => {
    const proxy = await FaultyTcpProxy.start(system.redis.port);
    try {
      const viaProxy = { REDIS_URL: `redis://127.0.0.1:${String(proxy.port)}` };
      await system.start('watcher', viaProxy);
      await system.start('worker', viaProxy);
      await assertSettled(system, audit, await fleet.mix('f05-before', 5), 30_000);
      const frozen = proxy.freeze();
      const frozenAt = performance.now();
      assert.ok(frozen >= 2, `${String(frozen)} connections frozen`);
      const mix = await fleet.mix('f05', 10);
      await assertSettled(system, audit, mix, 45_000);
      const seconds = (performance.now() - frozenAt) / 1000;
      process.stdout.write(`# F05: all decided ${seconds.toFixed(1)} s after the freeze\n`);
      assert.ok(proxy.connections >= 2, 'the services reconnected through the proxy');
    } finally {
      // SIGKILL: a service still stuck on a frozen connection would wait out its shutdown deadline.
      const running = system.services.filter(s => s.child.exitCode === null && !s.child.killed);
      await Promise.all(running.map(service => system.kill(service)));
      await proxy.close();
    }
  });

  it('F06: Redis 2 s slower per round trip for 20 s decides every CSR once and none wrongly', async () => {
    const proxy = await FaultyTcpProxy.start(system.redis.port);
    try {
      const viaProxy = { REDIS_URL: `redis://127.0.0.1:${String(proxy.port)}` };
      await system.start('watcher', viaProxy);
      await system.start('worker', viaProxy);
      // 1 s ± 0.25 s each way: every command, lock renewal and blocking read waits about 2 s more.
      proxy.latency(1_000, 250);
      const rtt = await pingMs(proxy.port);
      assert.ok(rtt >= 1_500, `a PING through the proxy took ${rtt.toFixed(0)} ms`);
      const mix = await fleet.mix('f06', 10);
      await sleep(20_000);
      proxy.latency(0);
      await assertSettled(system, audit, mix, 45_000);
      for (const service of system.services.slice(-2))
        assert.equal(service.child.exitCode, null, `${service.name} exited`);
    } finally {
      await stopServices();
      await proxy.close();
    }
  });

  it('F08: a Redis switched to an evicting policy at run time makes both services unready until it is undone', async () => {
    await system.start('watcher');
    await system.start('worker');
    const services = system.services.slice(-2);
    const readyz = async (service: (typeof services)[number]) => {
      const port = await service.healthPort;
      const response = await fetch(`http://127.0.0.1:${String(port)}/readyz`);
      return { status: response.status, body: await response.text() };
    };
    const allAre = (status: number) =>
      until(
        `every service /readyz ${String(status)}`,
        async () => {
          const answers = await Promise.all(services.map(readyz));
          return answers.every(a => a.status === status) ? answers : undefined;
        },
        25_000,
        500,
      );
    try {
      await system.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
      const unready = await allAre(503);
      for (const { body } of unready) assert.match(body, /allkeys-lru/);
      // Reported, not stopped: memory is not full, nothing is evicted yet, decisions go on.
      await assertSettled(system, audit, await fleet.mix('f08', 5), 30_000);
    } finally {
      await system.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
    await allAre(200);
    await stopServices();
  });

  it('F08: a Redis that really evicts (allkeys-lru, memory full) decides each CSR once and none wrongly', async () => {
    // The operator overrode the start-up refusal; then memory ran out. Redis now drops keys to make
    // room for each write: jobs, locks, deduplication keys. A lost job comes back with the resync,
    // a lost lock is a job run twice; the API server's preconditions keep each decision single.
    await system.start('watcher', { REDIS_ALLOW_EVICTION: 'true' });
    await system.start('worker', { REDIS_ALLOW_EVICTION: 'true' });
    // Something to evict: 20 MB the queue never touches. Redis's own overhead cannot be evicted,
    // so a limit below it alone would refuse every write (F07) rather than evict.
    const filler = 'x'.repeat(10_000);
    for (let i = 0; i < 2_000; i++)
      await system.redis.command('SET', `f08-filler-${String(i)}`, filler);
    const used = Number(
      /used_memory:(\d+)/.exec(String(await system.redis.command('INFO', 'memory')))?.[1],
    );
    assert.ok(used > 20_000_000);
    try {
      await system.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
      await system.redis.command('CONFIG', 'SET', 'maxmemory', String(used - 10_000_000));
      await assertSettled(system, audit, await fleet.mix('f08-full', 20), 60_000);
      const info = String(await system.redis.command('INFO', 'stats'));
      const evicted = Number(/evicted_keys:(\d+)/.exec(info)?.[1]);
      process.stdout.write(`# F08: ${String(evicted)} keys evicted during the mix\n`);
      assert.ok(evicted > 0, 'Redis evicted keys while the mix was decided');
    } finally {
      await system.redis.command('CONFIG', 'SET', 'maxmemory', '0');
      await system.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      for (let i = 0; i < 2_000; i++) await system.redis.command('DEL', `f08-filler-${String(i)}`);
    }
    await stopServices();
  });

  /** Starts a watcher and then a worker on `url`: each must exit 1 at start-up, saying `why`. */
  const refusedAtStartUp = async (url: string, why: RegExp) => {
    for (const kind of ['watcher', 'worker'] as const) {
      const service = await system.start(kind, { REDIS_URL: url }, { waitReady: false });
      const exit = await Promise.race([
        service.exited,
        sleep(20_000).then(() => 'still running' as const),
      ]);
      assert.equal(
        exit,
        1,
        `the ${kind} exits, not runs on looking healthy:\n${system.tail(service)}`,
      );
      assert.match(system.tail(service), why, `the ${kind} says why`);
    }
  };

  it('F09: a service whose Redis user may not run scripts stops at start-up and says why', async () => {
    // Connects, pings and reads INFO like any user, and is refused every BullMQ operation.
    await system.redis.command(
      'ACL',
      'SETUSER',
      'f09-noscripts',
      'on',
      '>f09-pass',
      '~*',
      '&*',
      '+@all',
      '-@scripting',
    );
    const url = system.redis.url.replace('redis://', 'redis://f09-noscripts:f09-pass@');
    await refusedAtStartUp(url, /may not run scripts.*\+@scripting/);
  });

  it('F10: a service pointed at a Redis Cluster node stops at start-up and says why', async () => {
    // One node of a cluster: it answers PING and INFO, and MOVED for every slot it does not own.
    const node = await startRedis({ extraArgs: ['--cluster-enabled', 'yes'] });
    try {
      await refusedAtStartUp(node.url, /Redis Cluster is not supported/);
    } finally {
      await node.stop();
    }
  });

  // Runs last: the harness's own Redis client has no password, so nothing after it can use it.
  it('F09: a worker with the wrong Redis password stays unready, decides nothing and loses no job', async () => {
    await system.redis.command('CONFIG', 'SET', 'requirepass', PASSWORD);
    const url = (password: string) =>
      system.redis.url.replace('redis://', `redis://default:${password}@`);
    // The first resync 60 s away (the most it allows) and no relist: a job lost before then stays
    // lost, so the mix must settle well within those 60 s on the jobs first queued.
    const resyncAt = Date.now() + 60_000;
    await system.start('watcher', {
      REDIS_URL: url(PASSWORD),
      RESYNC_INTERVAL_SECONDS: '60',
      RELIST_INTERVAL_SECONDS: '3600',
    });
    // Its health port fixed, so the probe below knows where to look. A worker Redis refuses is
    // alive (no restart loop under the shipped probes) and never ready.
    const port = await freePort();
    void system.start(
      'worker',
      { REDIS_URL: url('wrong'), HEALTH_PORT: String(port) },
      { waitReady: false },
    );
    const locked = system.services.at(-1);
    assert.ok(locked?.kind === 'worker');
    const mix = await fleet.mix('f09', 10);

    // For 15 s, past its first 10 s wait for Redis: never ready (a refused connection is not
    // ready to a kubelet), never exits, and writes nothing.
    const readiness = new Set<number | string>();
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      readiness.add(response?.status ?? 'refused');
      assert.equal(locked.child.exitCode, null, `it exited:\n${system.tail(locked)}`);
      await sleep(500);
    }
    assert.ok(!readiness.has(200), `never ready: ${[...readiness].join(', ')}`);
    const touched = checkInvariants(audit.events(), mix.expectations).csrs.filter(
      c => c.writes.length > 0 || c.events > 0,
    );
    assert.deepEqual(
      touched.map(c => c.name),
      [],
      'nothing written while no worker can reach Redis',
    );

    // The password fixed: the jobs the watcher queued are all still there, and all decided once.
    await system.kill(locked);
    await system.start('worker', { REDIS_URL: url(PASSWORD) });
    process.stdout.write(`# F09: the locked-out worker's /readyz: ${[...readiness].join(', ')}\n`);
    await assertSettled(system, audit, mix, 30_000);
    assert.ok(Date.now() < resyncAt, 'settled before any resync could have re-queued a lost job');
  });
});
