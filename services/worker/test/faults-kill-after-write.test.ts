// F12 of the fault catalogue: a worker SIGKILLed after a write reached the API server and before
// its job was acknowledged in Redis. The worker runs behind a proxy (holding-proxy.ts) that makes
// each write and keeps its answer, so every job the worker holds stops at the same point; then the
// worker is killed, and a fresh one takes the jobs over once their locks expire. Judged by the API
// server's audit log (the harness's fault-mix.ts): one decision per CSR, the Event the dead worker never wrote
// restored by the next, never a second one, and nothing lost.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSettled, AuditLog, checkInvariants, until } from '@stampede/harness';
import type { AuditEvent, FaultFleet, System } from '@stampede/harness';
import { queueDrained, startBehindProxy } from './behind-proxy.ts';
import { approvalWrites, eventCreates } from './holding-proxy.ts';
import type { Hold, HoldingProxy } from './holding-proxy.ts';

/** Under the client's 10 s request timeout: past it the worker would retry and spoil the point. */
const HOLD_AT_MOST_MS = 7_000;

interface Case {
  readonly name: string;
  readonly prefix: string;
  readonly hold: Hold;
  /** What the audit log shows for each held CSR when the worker dies. */
  readonly eventsAtKill: number;
}

const cases: readonly Case[] = [
  {
    name: 'a worker killed after its decisions were written and before it heard back: the next worker restores each Event and decides nothing again',
    prefix: 'f12-approval',
    hold: approvalWrites,
    eventsAtKill: 0,
  },
  {
    name: 'a worker killed after its Events were written and before its jobs were acknowledged: the next worker adds no second Event and no second decision',
    prefix: 'f12-event',
    hold: eventCreates,
    eventsAtKill: 1,
  },
];

interface EventBody {
  readonly reportingInstance?: string;
  readonly regarding?: { readonly kind?: string; readonly name?: string };
}

/** Who created each Event about a CSR, by CSR name (reportingInstance is the worker's POD_NAME). */
function eventWriters(events: readonly AuditEvent[]): Map<string, string[]> {
  const created = events.filter(
    e =>
      e.stage === 'ResponseComplete' &&
      e.verb === 'create' &&
      e.objectRef?.resource === 'events' &&
      e.responseStatus?.code === 201,
  );
  const writers = new Map<string, string[]>();
  for (const body of created.map(e => e.requestObject as EventBody | undefined)) {
    if (body?.regarding?.kind !== 'CertificateSigningRequest') continue;
    const name = body.regarding.name ?? '';
    writers.set(name, [...(writers.get(name) ?? []), body.reportingInstance ?? '']);
  }
  return writers;
}

describe('F12: a worker killed between a write and the job acknowledgement', () => {
  let system: System;
  let fleet: FaultFleet;
  let proxy: HoldingProxy;
  let viaProxy: string;
  const audit = new AuditLog();

  before(async () => {
    ({ system, fleet, proxy, viaProxy } = await startBehindProxy(audit));
  });

  const drained = () => queueDrained(system);

  after(async () => {
    await system.stopAll();
    await proxy.stop();
    audit.remove();
  });

  for (const c of cases) {
    it(c.name, async () => {
      proxy.held.length = 0;
      proxy.hold = null;
      // Its Node and ServiceCIDR watches through the proxy like every other call; room for every
      // job of the mix at once, so all of them stop at the held write.
      const victim = await system.start('worker', {
        KUBECONFIG_PATH: viaProxy,
        CONCURRENCY: '30',
      });
      proxy.hold = c.hold;
      const mix = await fleet.mix(c.prefix, 10);
      const writes = mix.queueable.length;
      await until('a held answer', () => proxy.held.length > 0, 60_000);
      const first = Date.now();
      await until(
        'every job held, or the time to kill',
        () => proxy.held.length >= writes || Date.now() - first > HOLD_AT_MOST_MS,
        HOLD_AT_MOST_MS + 1_000,
      );
      await system.kill(victim);
      // A write on its way when the worker died still reaches the API server (the proxy carries
      // held writes through): let those land before counting.
      await sleep(1_500);
      proxy.hold = null;

      const held = [...proxy.held];
      process.stdout.write(
        `# F12 ${c.prefix}: ${held.length}/${writes} answers held at the kill\n`,
      );
      assert.ok(held.length > 0, 'the worker died with writes of unheard outcome');
      assert.deepEqual(
        held.filter(h => h.status >= 300),
        [],
        'every held write was accepted by the API server',
      );
      // The point it died at, as the API server recorded it: each held write is one decision,
      // or one decision's Event, and nothing was written after it.
      const atKill = checkInvariants(audit.events(), mix.expectations).csrs;
      const stopped = atKill.filter(
        x => (c.eventsAtKill === 0 ? x.decisions.length : x.events) > 0,
      );
      assert.equal(stopped.length, held.length, 'one CSR per held answer');
      assert.deepEqual(
        stopped.filter(x => x.decisions.length !== 1 || x.events !== c.eventsAtKill),
        [],
        'each held CSR decided once, with the Events of the point it stopped at',
      );
      if (c.eventsAtKill === 0)
        assert.deepEqual(
          atKill.filter(x => x.events > 0),
          [],
          'no Event',
        );

      const fresh = await system.start('worker');
      // Every job of the dead worker taken over and finished (its lock expires, the stalled check
      // hands it on), before the log is judged: in the second case it looks right even untouched.
      await until('the queue drained', drained, 60_000, 200);
      await assertSettled(system, audit, mix, 60_000);
      const retried = checkInvariants(audit.events(), mix.expectations).csrs.filter(x =>
        stopped.some(s => s.name === x.name),
      );
      if (c.eventsAtKill === 1) {
        // The next worker ran each job again and asked for the Event once more: refused, exists.
        assert.deepEqual(
          retried.filter(x => x.eventAttempts === 0).map(x => x.name),
          [],
          'every held job run again by the next worker',
        );
      }
      if (c.eventsAtKill === 0) {
        // The Events exist because the next worker wrote them, not because the dead one did.
        const writers = eventWriters(audit.events());
        for (const x of stopped)
          assert.deepEqual(writers.get(x.name), [fresh.name], `${x.name}: Event restored`);
      }
      await system.stop(fresh);
    });
  }
});
