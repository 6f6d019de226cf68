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
import { AuditLog, System, checkInvariants, until } from '@stampede/harness';
import { FaultFleet, assertSettled } from './fault-mix.ts';
import type { Mix } from './fault-mix.ts';
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

  const outages: { mode: WebhookMode; name: string }[] = [
    { mode: 'error', name: 'retries while the authorizer answers 500, then approves each once' },
    { mode: 'hang', name: 'retries while the authorizer times out, then approves each once' },
  ];
  for (const { mode, name } of outages) {
    it(name, async () => {
      webhook.mode = mode;
      const before = webhook.asked.get(mode) ?? 0;
      const mix = await fleet.mix(`f31-${mode}`, 8);
      // Each valid CSR's review fails more than once: the workers came back to it.
      await until(
        'reviews failed',
        () => (webhook.asked.get(mode) ?? 0) - before >= 2 * mix.valid.length,
        30_000,
      );
      await sleep(2_000);
      assertNoValidDecided(mix);
      webhook.mode = 'no-opinion';
      await assertSettled(system, audit, mix, 30_000);
      process.stdout.write(
        `# F31 ${mode}: ${(webhook.asked.get(mode) ?? 0) - before} reviews failed\n`,
      );
    });
  }
});
