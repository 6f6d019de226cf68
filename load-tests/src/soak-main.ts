#!/usr/bin/env node
// The chaos soak: `npm run soak -w @stampede/load-tests -- --minutes N [--seed S]`. Prints each
// fault and its recovery as it goes, then the report as JSON; exits 1 if an invariant broke or a
// probe was never approved.
import { parseArgs } from 'node:util';
import { runSoak } from './soak.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    gap: { type: 'string', default: '15' },
  },
});
const report = await runSoak({
  minutes: Number(values.minutes),
  seed: Number(values.seed),
  faultGapSeconds: Number(values.gap),
  log: line => process.stderr.write(`${line}\n`),
});
const { invariants, ...rest } = report;
console.log(JSON.stringify({ ...rest, invariants: invariants.csrs.length }, null, 2));
const unrecovered = report.faults.filter(f => f.recoverySeconds === undefined);
process.exit(report.violations.length > 0 || unrecovered.length > 0 ? 1 : 0);
