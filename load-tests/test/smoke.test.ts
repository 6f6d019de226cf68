// The CI version of the load test: 200 CSRs (5% invalid, 10% for other signers) from 200 simulated
// kubelets against the real control plane, decided by the stampede watcher and two workers as
// processes. Correctness only; the figures of a run this small mean little.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MIXED, runBenchmark, writeReport } from '@stampede/load-tests';
import type { BenchmarkRun } from '@stampede/load-tests';

const COUNT = 200;

describe('the fleet simulator on the harness control plane', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'stampede-load-smoke-'));
  let run: BenchmarkRun | undefined;

  after(() => {
    if (process.env['STAMPEDE_LOAD_KEEP'] === undefined)
      rmSync(outDir, { recursive: true, force: true });
    else process.stderr.write(`smoke load test output kept in ${outDir}\n`);
  });

  it(`settles a mixed storm of ${COUNT} CSRs with no wrong and no double approval`, async () => {
    run = await runBenchmark({
      scenarios: [
        {
          id: 'smoke',
          title: `mixed storm of ${COUNT}, 1 watcher + 2 workers`,
          approver: { kind: 'stampede', workers: 2, concurrency: 10 },
          load: { kind: 'storm', count: COUNT },
          mix: MIXED,
          timeoutMs: 45_000,
        },
      ],
      outDir,
      createConcurrency: 50,
      log: line => {
        if (process.env['STAMPEDE_LOAD_VERBOSE'] !== undefined) process.stderr.write(`${line}\n`);
      },
    });
    const result = run.results[0];
    assert.ok(result);
    assert.equal(result.timedOut, false, 'every CSR reached its expected end before the timeout');
    assert.deepEqual(
      { ...result.counts, decided: undefined },
      {
        planned: COUNT,
        created: COUNT,
        valid: 170,
        invalid: 10,
        otherSigner: 20,
        decided: undefined,
      },
    );
    const c = result.correctness;
    assert.equal(c.wrongApprovals, 0, 'no invalid or other-signer CSR approved');
    assert.equal(c.doubleApprovals, 0, 'at most one Approved condition and one Event per CSR');
    assert.equal(c.extraApprovalWrites, 0, 'one successful approval write per decided CSR');
    assert.equal(c.validNotIssued, 0, 'every valid CSR issued');
    assert.equal(c.certificatesFailedVerification, 0, 'every certificate verified by its kubelet');
    assert.equal(c.invalidNotDenied, 0, 'every invalid CSR denied');
    assert.equal(c.otherSignerTouched, 0, "other signers' CSRs left alone");
    assert.equal(result.counts.decided, 180);
    assert.deepEqual(Object.keys(c.denialReasons).sort(), ['DisallowedUsages', 'SanNotOwned']);
  });

  it('writes a JSON report and a self-contained HTML page with the charting library inlined', () => {
    assert.ok(run, 'the storm ran');
    const written = writeReport(run, {
      command: 'smoke',
      sizes: {
        storm: COUNT,
        scaleStorm: COUNT,
        workers: [2],
        concurrency: 10,
        steadyRates: [],
        steadySeconds: 0,
        mixed: COUNT,
        queued: 0,
        profile: false,
        timeoutSeconds: 45,
      },
    });
    const html = readFileSync(written.htmlPath, 'utf8');
    assert.match(html, /uPlot/);
    assert.doesNotMatch(html, /<script[^>]+src=/, 'no external script');
    assert.match(html, /data-kind="histogram"/);
    const json = JSON.parse(readFileSync(written.jsonPath, 'utf8')) as {
      run: { results: unknown[] };
    };
    assert.equal(json.run.results.length, 1);
    assert.match(written.summary, /smoke/);
  });
});
