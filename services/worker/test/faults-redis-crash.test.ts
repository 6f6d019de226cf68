// Redis crashing under the shipped persistence settings (deploy/components/redis-in-cluster:
// the append-only file, fsync once a second), with a mix of CSRs in flight. Two crashes:
//   - the process SIGKILLed: what it had written to the AOF is in the kernel's page cache and
//     survives, but writes it had not yet handed to the kernel are lost (everysec defers them
//     while a background fsync is slow);
//   - the host going down: the AOF keeps only what was fsynced, so up to the last second or two is
//     gone, possibly with a command torn in half. The test cuts the file back to a moment before
//     the mix was enqueued, the worst such a loss can do to these jobs: every job of the mix gone,
//     while some of its CSRs were decided already.
// Judged by the API server's audit log (the harness's fault-mix.ts): no valid CSR left undecided (what Redis lost,
// the watcher's resync enqueues again), at most one decision per CSR, none wrong.
import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertSettled,
  AuditLog,
  FaultFleet,
  partlyDecided,
  repoRoot,
  System,
} from '@stampede/harness';

const SHIPPED_CONFIG = join(repoRoot(), 'deploy/components/redis-in-cluster/redis.conf');
const PERSISTENCE = [
  'appendonly',
  'appendfsync',
  'save',
  'auto-aof-rewrite-percentage',
  'auto-aof-rewrite-min-size',
];

/** The shipped config's persistence directives, as redis-server arguments. */
function shippedPersistence(): string[] {
  const lines = readFileSync(SHIPPED_CONFIG, 'utf8').split('\n');
  const args = lines
    .map(line => /^(\S+)\s+(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null && PERSISTENCE.includes(m[1] ?? ''))
    .flatMap(m => [`--${m[1] ?? ''}`, (m[2] ?? '').replace(/^"(.*)"$/, '$1')]);
  assert.equal(
    args.length,
    PERSISTENCE.length * 2,
    `every persistence directive in ${SHIPPED_CONFIG}`,
  );
  return args;
}

/** The AOF file Redis appends to now: the manifest's last incremental file. */
function appendedFile(dir: string): string {
  const aofDir = join(dir, 'appendonlydir');
  const manifest = readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'utf8');
  const incremental = [...manifest.matchAll(/^file (\S+) seq \d+ type i$/gm)].map(m => m[1]);
  const last = incremental.at(-1);
  assert.ok(last !== undefined, `an incremental AOF in ${manifest}`);
  return join(aofDir, last);
}

describe('Redis crashes under the shipped persistence settings', () => {
  let system: System;
  let fleet: FaultFleet;
  const audit = new AuditLog();

  before(async () => {
    system = await System.start({
      controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
      redis: { extraArgs: shippedPersistence() },
      // Slow enough that a crash finds the mix part decided, part queued.
      workerEnv: { RATE_LIMIT_JOBS_PER_SECOND: '5' },
    });
    assert.deepEqual(
      await system.redis.command('CONFIG', 'GET', 'appendfsync'),
      ['appendfsync', 'everysec'],
      'Redis runs with the shipped fsync policy',
    );
    fleet = new FaultFleet(system);
    await system.start('watcher');
    await Promise.all([system.start('worker'), system.start('worker')]);
  });

  after(async () => {
    await system.stopAll();
    audit.remove();
  });

  it('loses nothing for good when Redis is SIGKILLed mid-storm and restarted on its data', async () => {
    const mix = await fleet.mix('redis-kill', 20);
    const decided = await partlyDecided(audit, mix, 'crash');
    await system.redis.kill();
    // Long enough for every service to notice: their commands fail, their connections retry.
    await sleep(2_000);
    await system.redis.start();
    process.stdout.write(`# Redis SIGKILLed with ${decided}/${mix.queueable.length} decided\n`);
    await assertSettled(system, audit, mix, 60_000);
  });

  it('enqueues again what a host crash took from the AOF, and decides each CSR once', async () => {
    const aof = appendedFile(system.redis.dir);
    const mark = statSync(aof).size;
    const mix = await fleet.mix('host-crash', 20);
    const decided = await partlyDecided(audit, mix, 'crash');
    await system.redis.kill();
    assert.equal(appendedFile(system.redis.dir), aof, 'no AOF rewrite since the mark');
    const lost = statSync(aof).size - mark;
    assert.ok(lost > 16, 'the mix was written to the AOF after the mark');
    // Back to the mark, and a few bytes of the next command: a write torn by the crash, which
    // Redis drops when it loads (aof-load-truncated, on by default).
    truncateSync(aof, mark + 7);
    await sleep(2_000);
    await system.redis.start();
    process.stdout.write(
      `# host crash: ${lost} bytes of AOF lost, with ${decided}/${mix.queueable.length} decided\n`,
    );
    await assertSettled(system, audit, mix, 60_000);
  });
});
