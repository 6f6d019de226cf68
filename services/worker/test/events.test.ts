// EVENTS=denials on real components (docs/adr/0023): an approval is written as its condition
// alone, a denial still gets its Warning Event. Counted from the API server's audit log: no Event
// create was even attempted for an approved CSR.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { AuditLog, checkInvariants, FaultFleet, System } from '@stampede/harness';
import type { InvariantReport } from '@stampede/harness';

describe('a worker with EVENTS=denials', () => {
  let system: System;
  const audit = new AuditLog();

  before(async () => {
    system = await System.start({
      controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
      workerEnv: { EVENTS: 'denials' },
    });
    await system.start('watcher');
    await system.start('worker');
  });

  after(async () => {
    await system.stopAll();
    audit.remove();
  });

  it('approves with no Event and denies with one, each CSR decided once', async () => {
    const mix = await new FaultFleet(system).mix('events', 6);
    const expectations = mix.expectations;
    const done = (report: InvariantReport): boolean =>
      report.undecided.length === 0 &&
      report.csrs.every(c => c.expect !== 'deny' || c.events === 1);
    let report = checkInvariants(audit.events(), expectations);
    for (const deadline = Date.now() + 60_000; !done(report) && Date.now() < deadline;) {
      await sleep(250);
      report = checkInvariants(audit.events(), expectations);
    }
    // A late Event for an approval would arrive just after its decision: look once more.
    await sleep(1_500);
    report = checkInvariants(audit.events(), expectations);

    assert.deepEqual(
      report.undecided.map(c => c.name),
      [],
      'every valid and invalid CSR decided',
    );
    assert.deepEqual(
      report.decidedTwice.map(c => c.name),
      [],
    );
    assert.deepEqual(
      report.wrong.map(c => c.name),
      [],
    );
    const eventsOf = (expect: 'approve' | 'deny') =>
      report.csrs
        .filter(c => c.expect === expect)
        .map(c => [c.name, c.decisions.join(), c.events + c.eventAttempts]);
    assert.deepEqual(
      eventsOf('approve'),
      mix.valid.map(csr => [csr.metadata.name, 'Approved', 0]),
    );
    const denied = eventsOf('deny');
    assert.ok(denied.length >= 3, 'the mix has denials');
    assert.deepEqual(
      denied.map(([, decision, events]) => [decision, events]),
      denied.map(() => ['Denied', 1]),
    );
  });
});
