// The report of one run: ratios (queue overhead against the baseline, scale-out speedup) and the
// issue's targets, as JSON, an HTML page with charts, a markdown summary and a few lines of text.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchmarkRun, PlanSizes } from './benchmark.ts';
import { renderHtml } from './html.ts';
import type { ScenarioResult } from './scenario.ts';
import { ratio, round } from './stats.ts';

export interface Ratio {
  readonly name: string;
  readonly value: number;
  readonly how: string;
}

export interface TargetCheck {
  readonly target: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | undefined;
  readonly note: string;
}

export interface Report {
  readonly command: string;
  readonly generatedAt: string;
  readonly environment: Readonly<Record<string, string | number>>;
  readonly sizes: PlanSizes;
  readonly run: BenchmarkRun;
  readonly ratios: readonly Ratio[];
  readonly targets: readonly TargetCheck[];
}

export interface WrittenReport {
  readonly report: Report;
  readonly summary: string;
  readonly markdown: string;
  readonly jsonPath: string;
  readonly htmlPath: string;
  readonly mdPath: string;
}

const ROOT = resolve(import.meta.dirname, '../..');

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function environment(run: BenchmarkRun): Record<string, string | number> {
  const dirty = git(['status', '--porcelain', '--', 'services', 'packages', 'load-tests']) !== '';
  return {
    commit: `${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' (with uncommitted changes)' : ''}`,
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    target: `${run.target.kind} ${run.target.server}`,
    kubernetes: run.kubernetesVersion,
    loadAverageAtStart: readFileSafe('/proc/loadavg').split(' ').slice(0, 3).join(' '),
    ...(run.profile === undefined
      ? {}
      : {
          etcd: run.profile.etcdFsync ? 'fsync on every commit' : 'no fsync (harness default)',
          approverLatency: `${run.profile.approverLatencyMs} ms each way; GET /version ${run.profile.roundTripMs.direct.toFixed(2)} ms direct, ${run.profile.roundTripMs.approver.toFixed(2)} ms the approvers' way`,
        }),
  };
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const find = (run: BenchmarkRun, id: string): ScenarioResult | undefined =>
  run.results.find(r => r.id === id);

/** CPU seconds per 1,000 decided CSRs of the approver's own processes (watcher + workers, or baseline). */
export function approverCpuPer1000(result: ScenarioResult): number {
  const parts = ['watcher', 'workers', 'baseline'].map(
    name => result.resources[name]?.cpuSecondsPer1000,
  );
  const present = parts.filter((p): p is number => p !== undefined && Number.isFinite(p));
  return present.length === 0 ? Number.NaN : present.reduce((a, b) => a + b, 0);
}

export function computeRatios(run: BenchmarkRun): Ratio[] {
  const out: Ratio[] = [];
  const baseline = find(run, 'baseline');
  const one = find(run, 'storm-1w');
  const add = (name: string, value: number, how: string): void => {
    if (Number.isFinite(value)) out.push({ name, value: round(value), how });
  };
  if (baseline && one) {
    add(
      'queue overhead: baseline throughput ÷ stampede 1-worker throughput',
      ratio(
        baseline.throughput.sustainedDecisionsPerSecond,
        one.throughput.sustainedDecisionsPerSecond,
      ),
      'sustained decisions/s of each storm (10th → 90th percentile decision); > 1 means the queue costs throughput',
    );
    add(
      'queue overhead: stampede 1-worker ÷ baseline p50 time-to-approve',
      ratio(one.latencyMs.timeToApprove.p50, baseline.latencyMs.timeToApprove.p50),
      'p50 create → Approved on the generator clock, same storm size',
    );
    add(
      'queue overhead: stampede (watcher + worker + Redis) ÷ baseline CPU per CSR',
      ratio(
        approverCpuPer1000(one) + (one.resources['redis']?.cpuSecondsPer1000 ?? 0),
        approverCpuPer1000(baseline),
      ),
      'CPU-seconds per 1,000 decided CSRs from /proc',
    );
    add(
      'queue overhead, robust to other load: stampede ÷ baseline CPU per CSR of every benchmark process',
      ratio(one.cpuMsPerCsr.benchmark, baseline.cpuMsPerCsr.benchmark),
      'control plane + approver + Redis + generator CPU ms per decided CSR; the inverse of the throughput ratio on a dedicated CPU-bound machine',
    );
    add(
      'API calls per CSR: stampede ÷ baseline',
      ratio(one.api.approverCallsPerCsr, baseline.api.approverCallsPerCsr),
      "kube-apiserver's apiserver_request_total, approver calls only",
    );
  }
  for (const workers of [2, 4, 8]) {
    const many = find(run, `storm-${workers}w`);
    if (!many || !one) continue;
    const speedup = ratio(
      many.throughput.sustainedDecisionsPerSecond,
      one.throughput.sustainedDecisionsPerSecond,
    );
    add(`scale-out speedup 1 → ${workers} workers`, speedup, 'sustained decisions/s');
    add(
      `scaling efficiency 1 → ${workers} workers`,
      speedup / workers,
      `speedup ÷ ${workers} (the goal is ≥ 0.8)`,
    );
  }
  return out;
}

const fmt = (n: number | undefined, digits = 3): string =>
  n === undefined || !Number.isFinite(n) ? '—' : String(round(n, digits));

function stormTarget(storm: ScenarioResult): TargetCheck {
  const seconds = storm.seconds.toLastIssued;
  const n = storm.counts.created;
  // Scaled to 10,000 at the measured sustained rate when the storm was smaller.
  const at10k =
    n >= 10_000 ? seconds : seconds + (10_000 - n) / storm.throughput.sustainedIssuedPerSecond;
  return {
    target: 'storm of 10,000 fully issued',
    goal: '≤ 120 s',
    measured:
      n >= 10_000
        ? `${fmt(seconds)} s for ${n}`
        : `${fmt(seconds)} s for ${n} (≈ ${fmt(at10k)} s for 10,000 at the sustained rate)`,
    met: Number.isFinite(at10k) ? at10k <= 120 : undefined,
    note: 'first create → last certificate observed, 1 watcher + 1 worker',
  };
}

function steadyTarget(steady: ScenarioResult): TargetCheck {
  const a = steady.latencyMs.timeToApprove;
  const rate = steady.load.kind === 'steady' ? steady.load.rate : Number.NaN;
  return {
    target: 'steady time-to-approve p99',
    goal: '≤ 250 ms at 50 CSR/s',
    measured: `${fmt(a.p99)} ms at ${fmt(rate)} CSR/s (p50 ${fmt(a.p50)} ms)`,
    met: a.p99 <= 250,
    note: 'create acknowledged → Approved observed on the generator watch',
  };
}

function cpuTarget(r: ScenarioResult): TargetCheck {
  const value = approverCpuPer1000(r);
  const of = (name: string): string => fmt(r.resources[name]?.cpuSecondsPer1000);
  return {
    target: `approver CPU per 1,000 CSRs (${r.id})`,
    goal: '≤ 1.0 CPU-s (watcher + workers)',
    measured: `${fmt(value)} CPU-s (watcher ${of('watcher')}, workers ${of('workers')}; Redis ${of('redis')})`,
    met: Number.isFinite(value) ? value <= 1.0 : undefined,
    note: '/proc utime+stime over the measured window',
  };
}

function redisTarget(queued: ScenarioResult): TargetCheck | undefined {
  const redis = queued.redis;
  if (redis?.bytesPerQueuedCsr === undefined) return undefined;
  return {
    target: 'Redis per queued CSR',
    goal: '≤ 1 KB (1,024 B)',
    measured: `${fmt(redis.bytesPerQueuedCsr)} B (job hash ${fmt(redis.sampleJob?.jobHash)} B + dedup key ${fmt(redis.sampleJob?.dedupKey)} B + queue entries)`,
    met: redis.bytesPerQueuedCsr <= 1024,
    note: 'used_memory delta ÷ jobs, no worker running',
  };
}

function scalingTarget(one: ScenarioResult, four: ScenarioResult): TargetCheck {
  const speedup = ratio(
    four.throughput.sustainedDecisionsPerSecond,
    one.throughput.sustainedDecisionsPerSecond,
  );
  return {
    target: 'scaling efficiency 1 → 4 workers',
    goal: '≥ 80% until the API server saturates',
    measured: `${fmt((speedup / 4) * 100)}% (machine busy ${fmt(one.machineBusy * 100)}% with 1 worker, ${fmt(four.machineBusy * 100)}% with 4)`,
    met: speedup / 4 >= 0.8,
    note: 'see the CPU-over-time charts: where the cores go decides where it stops',
  };
}

function correctnessTarget(run: BenchmarkRun): TargetCheck {
  let wrong = 0;
  let double = 0;
  for (const r of run.results) {
    wrong += r.correctness.wrongApprovals;
    double += r.correctness.doubleApprovals + r.correctness.extraApprovalWrites;
  }
  return {
    target: 'double and wrong approvals',
    goal: '0 and 0',
    measured: `${double} double, ${wrong} wrong (all scenarios)`,
    met: wrong === 0 && double === 0,
    note: 'conditions and Events per CSR, successful approval writes, invalid and other-signer CSRs',
  };
}

export function checkTargets(run: BenchmarkRun): TargetCheck[] {
  const storm = find(run, 'storm-1w');
  const steadies = run.results.filter(r => r.load.kind === 'steady');
  const steady =
    steadies.find(r => r.load.kind === 'steady' && r.load.rate === 50) ?? steadies.at(-1);
  const queued = find(run, 'queue');
  const four = find(run, 'storm-4w');
  const out: (TargetCheck | undefined)[] = [
    storm && stormTarget(storm),
    steady && steadyTarget(steady),
    ...[storm, ...steadies].map(r => r && cpuTarget(r)),
    queued && redisTarget(queued),
    storm && four && scalingTarget(storm, four),
    correctnessTarget(run),
  ];
  return out.filter((t): t is TargetCheck => t !== undefined);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function scenarioLine(r: ScenarioResult): string {
  const c = r.correctness;
  return [
    pad(r.id, 10),
    pad(`${r.counts.created}`, 6),
    pad(`${fmt(r.seconds.toLastDecision)} s`, 9),
    pad(`${fmt(r.throughput.sustainedDecisionsPerSecond)}/s`, 9),
    pad(`${fmt(r.latencyMs.timeToApprove.p50)}/${fmt(r.latencyMs.timeToApprove.p99)} ms`, 17),
    pad(`${fmt(r.latencyMs.timeToIssued.p99)} ms`, 10),
    pad(fmt(approverCpuPer1000(r)), 7),
    pad(fmt(r.api.approverCallsPerCsr), 6),
    pad(`${fmt(r.cpuMsPerCsr.benchmark)} ms`, 9),
    pad(`${fmt(r.ourShareOfBusy * 100, 2)}%`, 5),
    pad(`${fmt(r.dedicatedCapacityPerSecond)}/s`, 8),
    `${c.doubleApprovals + c.extraApprovalWrites}/${c.wrongApprovals}${r.timedOut ? ' TIMED OUT' : ''}${c.validNotIssued > 0 ? ` ${c.validNotIssued} not issued` : ''}`,
  ].join(' ');
}

function textSummary(report: Report): string {
  const lines: string[] = [];
  lines.push(`stampede load test — ${report.command}`);
  lines.push(
    `${report.environment['commit'] ?? ''}; ${report.environment['cpu'] ?? ''}; ${report.environment['kubernetes'] ?? ''}`,
  );
  lines.push('');
  lines.push(
    [
      pad('scenario', 10),
      pad('CSRs', 6),
      pad('decided', 9),
      pad('sustain', 9),
      pad('approve p50/p99', 17),
      pad('issue p99', 10),
      pad('CPU-s/k', 7),
      pad('calls', 6),
      pad('all CPU', 9),
      pad('ours', 5),
      pad('capacity', 8),
      'double/wrong',
    ].join(' '),
  );
  for (const r of report.run.results) lines.push(scenarioLine(r));
  if (report.ratios.length > 0) {
    lines.push('');
    for (const r of report.ratios) lines.push(`${r.name}: ${r.value}`);
  }
  lines.push(
    '(CPU-s/k: approver CPU-seconds per 1,000 CSRs; all CPU: every benchmark process per CSR; ours: their share of the busy machine; capacity: 2 cores ÷ all CPU)',
  );
  lines.push('');
  for (const t of report.targets)
    lines.push(
      `${t.met === undefined ? '?' : t.met ? 'MET ' : 'MISS'} ${t.target}: ${t.measured} (goal ${t.goal})`,
    );
  return `${lines.join('\n')}\n`;
}

function markdown(report: Report): string {
  const md: string[] = [];
  md.push('# stampede load test: the last full run');
  md.push('');
  md.push('Produced by:');
  md.push('');
  md.push('```sh');
  md.push(report.command);
  md.push('```');
  md.push('');
  md.push(
    `Generated ${report.generatedAt}. Charts: [load-test.html](load-test.html); every figure: [load-test.json](load-test.json).`,
  );
  md.push('');
  md.push('| environment | |');
  md.push('| --- | --- |');
  for (const [k, v] of Object.entries(report.environment)) md.push(`| ${k} | ${v} |`);
  md.push('');
  md.push('## Targets (issue 7)');
  md.push('');
  md.push('| target | goal | measured | | note |');
  md.push('| --- | --- | --- | --- | --- |');
  for (const t of report.targets)
    md.push(
      `| ${t.target} | ${t.goal} | ${t.measured} | ${t.met === undefined ? '?' : t.met ? 'met' : '**missed**'} | ${t.note} |`,
    );
  md.push('');
  md.push('## Ratios');
  md.push('');
  md.push('| ratio | value | how |');
  md.push('| --- | --- | --- |');
  for (const r of report.ratios) md.push(`| ${r.name} | ${r.value} | ${r.how} |`);
  md.push('');
  md.push('## Scenarios');
  md.push('');
  md.push(
    '| scenario | CSRs | to last decision | sustained decisions/s | approve p50 / p90 / p99 / max ms | issued p50 / p99 ms | approver CPU-s per 1,000 | API calls per CSR | 429s | double / wrong |',
  );
  md.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of report.run.results) {
    const a = r.latencyMs.timeToApprove;
    const i = r.latencyMs.timeToIssued;
    md.push(
      `| ${r.id}: ${r.title} | ${r.counts.created} | ${fmt(r.seconds.toLastDecision)} s | ${fmt(r.throughput.sustainedDecisionsPerSecond)} | ${fmt(a.p50)} / ${fmt(a.p90)} / ${fmt(a.p99)} / ${fmt(a.max)} | ${fmt(i.p50)} / ${fmt(i.p99)} | ${fmt(approverCpuPer1000(r))} | ${fmt(r.api.approverCallsPerCsr)} | ${r.api.throttled429} | ${r.correctness.doubleApprovals + r.correctness.extraApprovalWrites} / ${r.correctness.wrongApprovals} |`,
    );
  }
  md.push('');
  md.push(
    'CPU per decided CSR by group (ms), the share of the busy machine that was this benchmark (the rest: other work on the shared machine), and what the benchmark would decide per second alone on 2 cores if CPU is the limit:',
  );
  md.push('');
  md.push(
    '| scenario | approver | Redis | control plane | generator | all | others | ours | capacity on 2 dedicated cores |',
  );
  md.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of report.run.results) {
    const c = r.cpuMsPerCsr;
    md.push(
      `| ${r.id} | ${fmt(c.approver)} | ${fmt(c.redis)} | ${fmt(c.controlPlane)} | ${fmt(c.generator)} | ${fmt(c.benchmark)} | ${fmt(c.others)} | ${fmt(r.ourShareOfBusy * 100, 2)}% | ${fmt(r.dedicatedCapacityPerSecond)}/s |`,
    );
  }
  md.push('');
  md.push('CPU-seconds per 1,000 decided CSRs and peak RSS, by component:');
  md.push('');
  const components = [...new Set(report.run.results.flatMap(r => Object.keys(r.resources)))];
  md.push(`| scenario | ${components.join(' | ')} |`);
  md.push(`| --- | ${components.map(() => '---').join(' | ')} |`);
  for (const r of report.run.results)
    md.push(
      `| ${r.id} | ${components.map(c => (r.resources[c] ? `${fmt(r.resources[c].cpuSecondsPer1000)} s, ${fmt(r.resources[c].peakRssMB)} MB` : '')).join(' | ')} |`,
    );
  md.push('');
  return `${md.join('\n')}\n`;
}

export function buildReport(
  run: BenchmarkRun,
  meta: { command: string; sizes: PlanSizes },
): Report {
  return {
    command: meta.command,
    generatedAt: new Date().toISOString(),
    environment: environment(run),
    sizes: meta.sizes,
    run,
    ratios: computeRatios(run),
    targets: checkTargets(run),
  };
}

export function writeReport(
  run: BenchmarkRun,
  meta: { command: string; sizes: PlanSizes },
): WrittenReport {
  const report = buildReport(run, meta);
  mkdirSync(run.outDir, { recursive: true });
  const jsonPath = join(run.outDir, 'load-test.json');
  const htmlPath = join(run.outDir, 'load-test.html');
  const mdPath = join(run.outDir, 'load-test.md');
  writeFileSync(
    jsonPath,
    `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1)}\n`,
  );
  writeFileSync(htmlPath, renderHtml(report));
  const md = markdown(report);
  writeFileSync(mdPath, md);
  return { report, summary: textSummary(report), markdown: md, jsonPath, htmlPath, mdPath };
}

/** Copies the report to docs/benchmarks/, the published figures. */
export function publish(written: WrittenReport): string[] {
  const dir = join(ROOT, 'docs/benchmarks');
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const from of [written.jsonPath, written.htmlPath, written.mdPath]) {
    const to = join(dir, from.slice(from.lastIndexOf('/') + 1));
    copyFileSync(from, to);
    out.push(to);
  }
  return out;
}
