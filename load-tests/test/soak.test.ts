// The suite's chaos soak: three minutes of random faults from the catalogue (longer if needed for
// every kind to come once, in a seeded order) while a fleet keeps filing the mix, judged by the API server's audit log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSoak, SOAK_FAULT_KINDS } from '@stampede/load-tests';

const MINUTES = 3;

describe('the chaos soak', () => {
  it(`keeps every decision right and single through ${MINUTES} minutes of random faults`, async () => {
    const report = await runSoak({
      minutes: MINUTES,
      seed: 1,
      faultGapSeconds: 4,
      everyKind: true,
      log: line => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(
      `# soak: ${report.faults.length} faults, ${report.csrs} CSRs, ` +
        `${report.invariants.extraWrites} write attempts beyond the deciding one, ` +
        `slowest recovery ${report.maxRecoverySeconds?.toFixed(1) ?? 'none'} s\n`,
    );
    assert.deepEqual(report.violations, []);
    const kinds = new Set(report.faults.map(f => f.kind));
    assert.deepEqual(
      SOAK_FAULT_KINDS.filter(kind => !kinds.has(kind)),
      [],
      'every kind of fault injected',
    );
    const unrecovered = report.faults.filter(f => f.recoverySeconds === undefined);
    assert.deepEqual(unrecovered, [], 'a CSR filed after each fault is approved');
    assert.ok(report.csrs >= 100, `only ${report.csrs} CSRs were filed`);
  });
});
