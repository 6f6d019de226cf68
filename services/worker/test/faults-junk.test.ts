// F38 of the fault catalogue: junk jobs written straight into Redis by anyone who can reach it:
// payloads of the wrong shape, jobs naming CSRs that do not exist or with another CSR's uid, jobs
// for another signer's CSR, copies of real jobs, a job squatting on a real CSR's deduplication id,
// and bytes BullMQ itself cannot parse. A job is only ever a pointer (the worker reads the CSR and
// checks its uid), so none of this may decide anything, crash a worker or lose a valid CSR.
// Judged by the API server's audit log (the harness's fault-mix.ts): the mix decided once each, and no write by a
// worker to anything outside it. And F40: five workers holding copies of one CSR's job at the same
// moment race to approve it; the approval is written conditioned on the version each one read, so
// the API server takes one and refuses the rest.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { APPROVAL_JOB, QUEUE_PREFIX, APPROVAL_QUEUE, deduplicationId } from '@stampede/contracts';
import { assertSettled, AuditLog, checkInvariants, FaultFleet, System } from '@stampede/harness';
import type { CertificateSigningRequest, Mix, ServiceProcess } from '@stampede/harness';
import { createApprovalQueue, createRedisConnection } from '@stampede/queue';
import type { ApprovalQueue } from '@stampede/queue';

const KEYS = `${QUEUE_PREFIX}:${APPROVAL_QUEUE}`;
const WORKER = 'system:serviceaccount:stampede-system:stampede-worker';

const pointer = (csr: CertificateSigningRequest) => ({
  uid: csr.metadata.uid ?? '',
  name: csr.metadata.name,
  resourceVersion: csr.metadata.resourceVersion ?? '1',
});

interface Junk {
  readonly name: string;
  readonly data: unknown;
  /** A deduplication id to squat on; otherwise each junk job is a job of its own. */
  readonly squat?: string;
  /** Written over the job's hash after it is added: what BullMQ cannot parse. */
  readonly raw?: Readonly<Record<string, string>>;
}

/** Junk of every kind, aimed at the CSRs of `mix`. */
function junkFor(mix: Mix, round: string): Junk[] {
  const [first, second, third] = mix.valid;
  const foreign = mix.members.find(m => m.expect === 'ignore')?.csr;
  const stolen = mix.members.find(m => m.reason === 'SanNotOwned')?.csr;
  assert.ok(first && second && third && foreign && stolen, 'a mix has every kind');
  const ghost = { uid: randomUUID(), name: `no-such-csr-${round}`, resourceVersion: '1' };
  return [
    { name: 'a payload that is a string', data: first.metadata.name },
    { name: 'a payload that is null', data: null },
    { name: 'a payload that is an array', data: [pointer(first)] },
    { name: 'a job without a uid', data: { ...pointer(first), uid: undefined } },
    { name: 'a uid with a colon', data: { ...pointer(first), uid: 'a:b' } },
    { name: 'a resourceVersion that is a number', data: { ...pointer(first), resourceVersion: 7 } },
    { name: 'a name of 256 KiB', data: { ...pointer(first), name: 'a'.repeat(1 << 18) } },
    {
      name: 'a CSR riding along in the job',
      data: { ...pointer(stolen), request: stolen.spec.request },
    },
    { name: 'the name of a CSR that does not exist', data: ghost },
    { name: "a valid CSR's name with another uid", data: { ...pointer(first), uid: randomUUID() } },
    {
      name: "an invalid CSR's name with a valid CSR's uid",
      data: { ...pointer(stolen), uid: first.metadata.uid },
    },
    { name: "another signer's CSR, named exactly", data: pointer(foreign) },
    ...Array.from({ length: 5 }, () => ({
      name: "a copy of a valid CSR's job",
      data: pointer(second),
    })),
    {
      name: "a job squatting on a valid CSR's deduplication id",
      data: { ...ghost, uid: randomUUID() },
      squat: deduplicationId(third.metadata.uid ?? ''),
    },
    { name: 'data that is not JSON', data: pointer(first), raw: { data: '{"uid": "' } },
    { name: 'options that are not JSON', data: pointer(first), raw: { opts: '{{' } },
  ];
}

describe('F38: a flood of junk jobs written straight into Redis', () => {
  let system: System;
  let fleet: FaultFleet;
  let queue: ApprovalQueue;
  let connection: ReturnType<typeof createRedisConnection>;
  const workers: ServiceProcess[] = [];
  const audit = new AuditLog();

  before(async () => {
    system = await System.start({
      controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
    });
    fleet = new FaultFleet(system);
    connection = createRedisConnection({
      url: system.redis.url,
      role: 'producer',
      name: 'junk-writer',
    });
    queue = createApprovalQueue(connection);
  });

  after(async () => {
    await queue.close();
    // The queue leaves a connection it was given open; one left open retries forever.
    connection.disconnect();
    await system.stopAll();
    audit.remove();
  });

  async function write(junk: readonly Junk[]): Promise<void> {
    for (const j of junk) {
      const job = await queue.queue.add(APPROVAL_JOB, j.data as never, {
        ...(j.squat === undefined ? {} : { deduplication: { id: j.squat } }),
        attempts: 3,
      });
      const fields = Object.entries(j.raw ?? {}).flat();
      if (fields.length > 0)
        await system.redis.command('HSET', `${KEYS}:${job.id ?? ''}`, ...fields);
    }
    // A job id in the queue with no job behind it.
    await system.redis.command('LPUSH', `${KEYS}:wait`, `ghost-${randomUUID()}`);
  }

  /** No approval write and no Event by a worker for any CSR outside the mixes. */
  function assertNothingElseWritten(mixes: readonly Mix[]): void {
    const names = new Set(mixes.flatMap(m => m.members.map(x => x.csr.metadata.name)));
    const stray = audit
      .events()
      .filter(e => e.user?.username === WORKER && e.stage === 'ResponseComplete')
      .map(e => {
        const regarding = (e.requestObject as { regarding?: { name?: string } } | undefined)
          ?.regarding;
        return e.objectRef?.subresource === 'approval' ? e.objectRef.name : regarding?.name;
      })
      .filter(name => name !== undefined && !names.has(name));
    assert.deepEqual(stray, [], 'writes by a worker outside the mix');
  }

  function assertAlive(): void {
    for (const worker of workers)
      assert.equal(worker.child.exitCode, null, `${worker.name} exited:\n${system.tail(worker)}`);
  }

  const mixes: Mix[] = [];

  it('decides only the real CSRs when the junk is waiting before any worker starts', async () => {
    const mix = await fleet.mix('junk-first', 10);
    mixes.push(mix);
    // Before the watcher: the squatter holds its CSR's deduplication id when the watcher comes.
    await write(junkFor(mix, 'first'));
    await system.start('watcher');
    workers.push(...(await Promise.all([system.start('worker'), system.start('worker')])));
    await assertSettled(system, audit, mix, 60_000);
    assertNothingElseWritten(mixes);
    assertAlive();
  });

  it('decides only the real CSRs through a flood of junk while the workers run', async () => {
    const mix = await fleet.mix('junk-flood', 10);
    mixes.push(mix);
    const junk = junkFor(mix, 'flood');
    // Ten times over, with the real jobs queued among it.
    for (let i = 0; i < 10; i++) await write(junk);
    await assertSettled(system, audit, mix, 60_000);
    assertNothingElseWritten(mixes);
    assertAlive();
    for (const worker of workers) await system.ready(worker, 5_000);
    const counts = await queue.counts();
    process.stdout.write(`# F38 queue after the flood: ${JSON.stringify(counts)}\n`);
  });

  it("F40: five workers each take a copy of one CSR's job at once, and it is decided once", async () => {
    // Five processes taking one job at a time, in place of the two that take ten each: the five
    // copies go to five workers, not to one worker's ten slots.
    await Promise.all(workers.splice(0).map(worker => system.stop(worker)));
    workers.push(
      ...(await Promise.all(
        Array.from({ length: 5 }, () => system.start('worker', { CONCURRENCY: '1' })),
      )),
    );
    // Paused, the copies and the watcher's own job wait together and are handed out all at once.
    await queue.queue.pause();
    const mix = await fleet.valid('race', 1);
    mixes.push(mix);
    const [csr] = mix.valid;
    assert.ok(csr);
    const copies = await queue.queue.addBulk(
      Array.from({ length: 5 }, () => ({
        name: APPROVAL_JOB,
        data: pointer(csr),
        opts: { attempts: 3 },
      })),
    );
    await queue.queue.resume();
    await assertSettled(system, audit, mix, 60_000);
    assertNothingElseWritten(mixes);
    assertAlive();
    const takers = await Promise.all(
      copies.map(async copy => (await queue.queue.getJob(copy.id ?? ''))?.processedBy),
    );
    const writes = checkInvariants(audit.events(), mix.expectations).csrs[0]?.writes ?? [];
    process.stdout.write(
      `# F40 copies taken by ${takers.join(', ')}; approval writes ${writes.map(w => w.code).join(', ')}\n`,
    );
    // The race is real: copies ran in several workers, and more than one got as far as the write.
    assert.ok(new Set(takers).size >= 2, `the copies went to one worker: ${takers.join(', ')}`);
    assert.ok(writes.length >= 2, `no two workers reached the approval write: ${writes.length}`);
  });
});
