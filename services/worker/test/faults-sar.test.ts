// F31 of the fault catalogue: the SubjectAccessReview fails (the authorizer behind it errors, or
// does not answer in time). The API server then answers the review with an evaluationError, and
// the workers must retry: no valid CSR is decided, let alone denied, while it lasts, and every one
// is approved once, with one Event, when the authorizer is back (judged by the audit log).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertSettled,
  AuditLog,
  checkInvariants,
  FaultFleet,
  System,
  until,
} from '@stampede/harness';
import type { Mix } from '@stampede/harness';
import { SarWebhook } from './sar-webhook.ts';
import type { WebhookMode } from './sar-webhook.ts';

describe('F31: the SubjectAccessReview fails', () => {
  let system: System;
  let fleet: FaultFleet;
  let webhook: SarWebhook;
  const audit = new AuditLog();
  const dir = mkdtempSync(join(tmpdir(), 'stampede-f31-'));

  before(async () => {
    webhook = await SarWebhook.start(dir);
    system = await System.start({
      controlPlane: {
        extraArgs: { apiserver: [...audit.apiserverArgs, ...webhook.apiserverArgs] },
      },
    });
    fleet = new FaultFleet(system);
    await system.start('watcher');
    await Promise.all([system.start('worker'), system.start('worker')]);
  });

  after(async () => {
    await system.stopAll();
    await webhook.stop();
    audit.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The valid CSRs of the mix: not one written while the authorizer is broken. */
  function assertNoValidDecided(mix: Mix): void {
    const valid = mix.expectations.filter(x => x.expect === 'approve');
    const written = checkInvariants(audit.events(), valid).csrs.filter(c => c.writes.length > 0);
    assert.deepEqual(
      written.map(c => `${c.name}: ${c.writes.map(w => `${w.decision ?? ''}→${w.code}`).join()}`),
      [],
      'valid CSRs written while the SubjectAccessReview failed',
    );
  }

  /**
   * The requesters whose SubjectAccessReview the API server answered with an evaluationError, as
   * its audit log records the answers: proof the workers were told of the failure, not kept
   * waiting (the API server retries a failing webhook for several seconds before it answers).
   */
  function toldOfFailure(): Set<string> {
    const told = new Set<string>();
    for (const e of audit.events()) {
      if (e.objectRef?.resource !== 'subjectaccessreviews' || e.stage !== 'ResponseComplete')
        continue;
      const review = e.responseObject as
        { spec?: { user?: string }; status?: { evaluationError?: string } } | undefined;
      if ((review?.status?.evaluationError ?? '') !== '') told.add(review?.spec?.user ?? '');
    }
    return told;
  }

  const outages: { mode: WebhookMode; name: string }[] = [
    { mode: 'error', name: 'retries while the authorizer answers 500, then approves each once' },
    { mode: 'hang', name: 'retries while the authorizer times out, then approves each once' },
  ];
  for (const { mode, name } of outages) {
    it(name, async () => {
      webhook.mode = mode;
      const mix = await fleet.mix(`f31-${mode}`, 8);
      const requesters = mix.valid.map(csr => csr.spec.username ?? '');
      // Every valid CSR's review has come back failed at least once.
      await until(
        'every valid requester told of a failed review',
        () => requesters.every(user => toldOfFailure().has(user)),
        90_000,
        500,
      );
      await sleep(2_000);
      assertNoValidDecided(mix);
      webhook.mode = 'no-opinion';
      await assertSettled(system, audit, mix, 60_000);
      process.stdout.write(
        `# F31 ${mode}: the webhook failed ${webhook.asked.get(mode) ?? 0} times\n`,
      );
    });
  }
});
