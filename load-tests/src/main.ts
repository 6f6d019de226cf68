#!/usr/bin/env node
// The full benchmark: `npm run bench -w @stampede/load-tests [-- options]`. See load-tests/README.md.
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { externalPlan, fullPlan, runBenchmark } from './benchmark.ts';
import type { PlanSizes } from './benchmark.ts';
import { publish, writeReport } from './report.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const HELP = `usage: npm run bench -w @stampede/load-tests -- [options]

Runs the fleet simulator against the harness control plane (started here: etcd, kube-apiserver,
kube-controller-manager, Redis, the stampede watcher and workers, the direct baseline), or against
the cluster of --kubeconfig (nothing is started; the approver must already run there).

  --storm N            CSRs in the 1-worker storm (default 10000)
  --scale-storm N      CSRs in the baseline and 2/4-worker storms (default: 5000, or --storm if less)
  --workers 1,2,4      worker counts of the scale-out storms
  --concurrency N      jobs in flight per worker, and in the baseline (default 10)
  --steady-rate R,R    CSRs per second of the steady runs, one run each (default 20,50)
  --steady-seconds S   its duration (default 60)
  --mixed N            CSRs in the mixed storm (default 1000)
  --queued N           CSRs queued with no worker running (default 2000)
  --scenarios a,b      only these: queue, baseline, storm-1w, storm-1w-denial-events, storm-2w,
                       storm-4w, steady-<rate>, mixed
  --no-profile         do not run the queue drain's worker under --cpu-prof
  --create-concurrency N  creates in flight during a storm (default 100)
  --timeout S          per scenario (default 600)
  --apiserver-profile S   a kube-apiserver CPU profile (Go pprof) of S seconds during storm-1w
                          (default 30; 0: none), summarized with \`go tool pprof -top\` if Go is installed
  --etcd-fsync         etcd fsyncs every commit (the harness default skips fsync)
  --approver-latency-ms N  the approvers reach the API server through a loopback proxy holding each
                       chunk N ms each way (kubelets and KCM connect directly). With --etcd-fsync:
                       the latency-bound profile (docs/benchmarks/per-csr-cost.md)
  --out DIR            report directory (default artifacts/load-tests/<time>)
  --publish            also copy the report to docs/benchmarks/ (the published figures)
  --quick              a small run: storm 1000, steady 20 s, mixed 500, queued 500
  --kubeconfig PATH    target this cluster (cluster-admin: creates Nodes, impersonates nodes)
  --serving-ca FILE    CA that kubelet-serving certificates chain to (default: the cluster CA)
`;

const { values } = parseArgs({
  options: {
    storm: { type: 'string' },
    'scale-storm': { type: 'string' },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '10' },
    'steady-rate': { type: 'string', default: '20,50' },
    'steady-seconds': { type: 'string' },
    mixed: { type: 'string' },
    queued: { type: 'string' },
    scenarios: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
    'create-concurrency': { type: 'string', default: '100' },
    timeout: { type: 'string', default: '600' },
    'apiserver-profile': { type: 'string', default: '30' },
    'etcd-fsync': { type: 'boolean', default: false },
    'approver-latency-ms': { type: 'string', default: '0' },
    out: { type: 'string' },
    publish: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'serving-ca': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const int = (text: string | undefined, fallback: number): number => {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${text ?? ''}`);
  return n;
};

const quick = values.quick;
const storm = int(values.storm, quick ? 1_000 : 10_000);
const sizes: PlanSizes = {
  storm,
  scaleStorm: int(values['scale-storm'], Math.min(storm, 5_000)),
  workers: values.workers.split(',').map(w => int(w, 1)),
  concurrency: int(values.concurrency, 10),
  steadyRates: values['steady-rate'].split(',').map(r => int(r, 50)),
  steadySeconds: int(values['steady-seconds'], quick ? 20 : 60),
  mixed: int(values.mixed, quick ? 500 : 1_000),
  queued: int(values.queued, quick ? 500 : 2_000),
  profile: !values['no-profile'],
  timeoutSeconds: int(values.timeout, 600),
};
const only = values.scenarios?.split(',');
const scenarios =
  values.kubeconfig === undefined ? fullPlan(sizes, only) : externalPlan(sizes, only);
// npm runs workspace scripts in load-tests/: default under the repository's (ignored) artifacts/.
const outDir = resolve(
  values.out ?? join(ROOT, 'artifacts/load-tests', new Date().toISOString().replace(/[:.]/g, '-')),
);
const command = `npm run bench -w @stampede/load-tests${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

const run = await runBenchmark({
  ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
  ...(values['serving-ca'] === undefined ? {} : { servingCa: values['serving-ca'] }),
  scenarios,
  outDir,
  createConcurrency: int(values['create-concurrency'], 100),
  log,
  apiserverProfileSeconds: int(values['apiserver-profile'], 30),
  etcdFsync: values['etcd-fsync'],
  approverLatencyMs: int(values['approver-latency-ms'], 0),
});
const report = writeReport(run, { command, sizes });
process.stdout.write(report.summary);
process.stdout.write(`\nreport: ${report.htmlPath}\n        ${report.jsonPath}\n`);
if (values.publish) {
  const published = publish(report);
  process.stdout.write(`published: ${published.join(', ')}\n`);
}
const failed = run.results.some(
  r => r.correctness.wrongApprovals > 0 || r.correctness.doubleApprovals > 0,
);
process.exit(failed ? 1 : 0);
