// A self-contained HTML page for one report: uPlot (a small charting library from npm) and its CSS
// are inlined, the data is embedded as JSON, and the charts are drawn in the browser: per scenario a
// time-to-approve histogram, throughput over time (created, decided, issued per second) and CPU over
// time per component.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Report } from './report.ts';
import { approverCpuPer1000 } from './report.ts';
import type { ScenarioResult } from './scenario.ts';
import { round } from './stats.ts';
import type { Summary } from './stats.ts';

const require = createRequire(import.meta.url);

function uplotAssets(): { js: string; css: string } {
  const dir = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return {
    js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8'),
  };
}

const esc = (text: unknown): string =>
  String(text).replace(
    /[&<>"]/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c,
  );

const num = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '—' : String(round(n));

function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return `<table><thead><tr>${head.map(h => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(row => `<tr>${row.map(cell => `<td>${esc(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function scenarioSection(r: ScenarioResult, index: number): string {
  const a = r.latencyMs;
  const latencyRows: [string, Summary][] = [
    ['create → Approved observed', a.timeToApprove],
    ['create → certificate observed', a.timeToIssued],
    ['create → Denied observed (invalid)', a.timeToDeny],
    ['Approved → certificate (the signer)', a.approvedToIssued],
    ['create request itself', a.createRequest],
    ...(r.stagesMs
      ? ([
          ['stage: created → job enqueued (watch + watcher)', r.stagesMs.createdToEnqueued],
          ['stage: enqueued → taken by a worker (queue wait)', r.stagesMs.queueWait],
          [
            'stage: worker processing (GET, facts, decide, PUT, Event)',
            r.stagesMs.workerProcessing,
          ],
        ] as [string, Summary][])
      : []),
  ] as [string, Summary][];
  const resources = Object.entries(r.resources).map(([name, u]) => [
    name,
    num(u.cpuSeconds),
    num(u.cpuSecondsPer1000),
    num(u.peakRssMB),
  ]);
  const api = r.api.rows.map(row => [
    row.caller,
    row.call,
    row.count,
    num(row.count / Math.max(1, r.counts.decided)),
    row.throttled,
    row.errors,
  ]);
  const clients = Object.entries(r.clients).map(([name, c]) => [
    name,
    c.requests,
    c.connections,
    num(c.newConnectionsPer1000Calls),
  ]);
  const c = r.correctness;
  const correctness = [
    ['double approvals (conditions or Events > 1)', c.doubleApprovals],
    ['approval writes beyond one per decided CSR', c.extraApprovalWrites],
    ['wrong approvals (invalid or other signer approved)', c.wrongApprovals],
    [
      'valid not approved / denied / not issued',
      `${c.validNotApproved} / ${c.validDenied} / ${c.validNotIssued}`,
    ],
    ['certificates that failed verification', c.certificatesFailedVerification],
    ['invalid not denied', c.invalidNotDenied],
    ['other-signer CSRs touched', c.otherSignerTouched],
    ['decided CSRs without an Event', c.eventsMissing],
    ['create errors', c.createErrors],
    ['denial reasons', JSON.stringify(c.denialReasons)],
  ];
  const profiles = r.profiles
    .map(
      p => `<h4>CPU profile ${esc(p.file.split('/').slice(-2).join('/'))} (busy ${num(p.busyMs / 1000)} s of ${num(p.totalMs / 1000)} s)</h4>
      <div class="cols">${table(
        ['package', 'self ms', 'share'],
        p.byPackage.map(row => [row.name, num(row.selfMs), `${num(row.share * 100)}%`]),
      )}
      ${table(
        ['function', 'self ms', 'share'],
        p.byFunction.map(row => [row.name, num(row.selfMs), `${num(row.share * 100)}%`]),
      )}</div>`,
    )
    .join('');
  return `<section id="s-${esc(r.id)}">
  <h2>${esc(r.id)}: ${esc(r.title)}${r.timedOut ? ' — <span class="bad">TIMED OUT</span>' : ''}</h2>
  <p>${r.counts.created} CSRs created (${r.counts.valid} valid, ${r.counts.invalid} invalid, ${r.counts.otherSigner} other signers) in ${num(r.seconds.creating)} s;
  last decision after ${num(r.seconds.toLastDecision)} s, last certificate after ${num(r.seconds.toLastIssued)} s.
  Sustained ${num(r.throughput.sustainedDecisionsPerSecond)} decisions/s (${num(r.throughput.sustainedIssuedPerSecond)} certificates/s);
  approver CPU ${num(approverCpuPer1000(r))} s per 1,000 CSRs; every benchmark process ${num(r.cpuMsPerCsr.benchmark)} ms per CSR
  (control plane ${num(r.cpuMsPerCsr.controlPlane)}, approver ${num(r.cpuMsPerCsr.approver)}, Redis ${num(r.cpuMsPerCsr.redis)}, generator ${num(r.cpuMsPerCsr.generator)}),
  i.e. ≈ ${num(r.dedicatedCapacityPerSecond)} decisions/s on 2 dedicated cores; machine ${num(r.machineBusy * 100)}% busy, ${num(r.ourShareOfBusy * 100)}% of it this benchmark;
  ${num(r.api.approverCallsPerCsr)} approver API calls per CSR, ${r.api.throttled429} × 429.</p>
  <div class="charts">
    <div class="chart" data-kind="histogram" data-index="${index}"><h4>time-to-approve histogram (ms, log bins)</h4></div>
    <div class="chart" data-kind="throughput" data-index="${index}"><h4>throughput over time (per second)</h4></div>
    <div class="chart" data-kind="cpu" data-index="${index}"><h4>CPU over time (cores)</h4></div>
  </div>
  <div class="cols">
  ${table(
    ['latency (ms)', 'n', 'p50', 'p90', 'p99', 'max'],
    latencyRows.map(([name, s]) => [name, s.count, num(s.p50), num(s.p90), num(s.p99), num(s.max)]),
  )}
  ${table(['component', 'CPU-s', 'CPU-s per 1,000', 'peak RSS MB'], resources)}
  </div>
  <div class="cols">
  ${table(['caller', 'API call', 'count', 'per CSR', '429', 'errors'], api)}
  ${table(['correctness', ''], correctness)}
  </div>
  ${clients.length > 0 ? table(['client', 'requests', 'new connections', 'per 1,000 calls'], clients) : ''}
  ${
    r.redis
      ? table(
          ['Redis', 'bytes'],
          [
            ['used_memory empty', num(r.redis.emptyBytes)],
            ['address index per Node', num(r.redis.indexBytesPerNode)],
            ['per queued CSR (no worker)', num(r.redis.bytesPerQueuedCsr)],
            ['one job hash (MEMORY USAGE)', num(r.redis.sampleJob?.jobHash)],
            ['its deduplication key', num(r.redis.sampleJob?.dedupKey)],
            ['peak used_memory', num(r.redis.peakBytes)],
            [
              'after the run, per decided CSR (finished jobs kept)',
              num(r.redis.afterRunBytesPerCsr),
            ],
          ],
        )
      : ''
  }
  ${c.examples.length > 0 ? `<details><summary>examples</summary><pre>${esc(c.examples.join('\n'))}</pre></details>` : ''}
  ${profiles}
  ${
    r.apiserverProfile === undefined
      ? ''
      : `<h4>kube-apiserver CPU profile, ${r.apiserverProfile.seconds} s from the clock start (${esc(r.apiserverProfile.file)})</h4>
  <details open><summary>flat (self)</summary><pre>${esc(r.apiserverProfile.top)}</pre></details>
  <details><summary>cumulative</summary><pre>${esc(r.apiserverProfile.topCumulative)}</pre></details>`
  }
</section>`;
}

function chartData(report: Report): unknown[] {
  return report.run.results.map(r => ({
    id: r.id,
    histogram: r.histogram,
    series: r.throughput.series,
    cpu: r.cpuSeries,
  }));
}

const CLIENT_SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const width = () => Math.min(560, document.body.clientWidth - 40);
function histogram(el, d) {
  const edges = d.histogram.edges, counts = d.histogram.counts;
  const xs = edges.map((_, i) => i);
  const label = v => { const e = edges[Math.round(v)]; return e === undefined ? '' : e >= 1000 ? (e / 1000).toFixed(1) + 's' : Math.round(e) + ''; };
  new uPlot({ width: width(), height: 240, scales: { x: { time: false } },
    axes: [{ values: (u, splits) => splits.map(label), label: 'ms (bin lower edge)' }, { label: 'CSRs' }],
    series: [{ label: 'bin', value: (u, v) => v == null ? '' : '≥ ' + label(v) + ' ms' },
      { label: 'CSRs', fill: 'rgba(31,119,180,0.5)', stroke: palette[0], paths: uPlot.paths.bars({ size: [0.9, 40] }) }] },
    [xs, counts], el);
}
function throughput(el, d) {
  const n = Math.max(d.series.created.length, d.series.decided.length, d.series.issued.length);
  const xs = Array.from({ length: n }, (_, i) => i);
  const pad = a => xs.map(i => a[i] ?? 0);
  new uPlot({ width: width(), height: 240, scales: { x: { time: false } }, axes: [{ label: 'seconds from the clock start' }, { label: 'per second' }],
    series: [{ label: 's' }, { label: 'created', stroke: palette[7] }, { label: 'decided', stroke: palette[0], width: 2 }, { label: 'issued', stroke: palette[2] }] },
    [xs, pad(d.series.created), pad(d.series.decided), pad(d.series.issued)], el);
}
function cpu(el, d) {
  const names = Object.keys(d.cpu.cores);
  const n = Math.max(0, ...names.map(k => d.cpu.cores[k].length));
  const xs = Array.from({ length: n }, (_, i) => i * d.cpu.intervalMs / 1000);
  new uPlot({ width: width(), height: 240, scales: { x: { time: false } }, axes: [{ label: 'seconds' }, { label: 'cores' }],
    series: [{ label: 's' }, ...names.map((k, i) => ({ label: k, stroke: palette[i % palette.length], width: k.startsWith('machine') ? 2 : 1, dash: k.startsWith('machine') ? [6, 4] : undefined }))] },
    [xs, ...names.map(k => xs.map((_, i) => d.cpu.cores[k][i] ?? 0))], el);
}
const draw = { histogram, throughput, cpu };
for (const el of document.querySelectorAll('.chart')) draw[el.dataset.kind](el, data[Number(el.dataset.index)]);
`;

export function renderHtml(report: Report): string {
  const { js, css } = uplotAssets();
  const env = Object.entries(report.environment).map(([k, v]) => [k, v]);
  const targets = report.targets.map(t => [
    t.target,
    t.goal,
    t.measured,
    t.met === undefined ? '?' : t.met ? 'met' : 'missed',
    t.note,
  ]);
  const ratios = report.ratios.map(r => [r.name, r.value, r.how]);
  const json = JSON.stringify(chartData(report)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stampede load test ${esc(report.generatedAt)}</title>
<style>${css}
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1800px; }
table { border-collapse: collapse; margin: 8px 16px 8px 0; font-size: 13px; vertical-align: top; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f3f3; }
.cols { display: flex; flex-wrap: wrap; align-items: flex-start; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart h4 { margin: 4px 0; }
section { border-top: 2px solid #ddd; margin-top: 24px; }
code { background: #f3f3f3; padding: 2px 4px; }
.bad { color: #b00; }
</style></head><body>
<h1>stampede load test</h1>
<p>Command: <code>${esc(report.command)}</code> — generated ${esc(report.generatedAt)}</p>
${table(['environment', ''], env)}
<h2>Targets (issue 7)</h2>
${table(['target', 'goal', 'measured', '', 'note'], targets)}
<h2>Ratios</h2>
${table(['ratio', 'value', 'how'], ratios)}
${report.run.results.map((r, i) => scenarioSection(r, i)).join('\n')}
<script type="application/json" id="data">${json}</script>
<script>${js}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`;
}
