// The benchmark: which scenarios run with which sizes, on which target, in what order; the
// Nodes they share; and the report at the end. main.ts is the command line around it, the smoke
// test calls it with a small plan.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createNodes, deleteNodes, fleetNodes } from './fleet.ts';
import type { Mix } from './fleet.ts';
import { runScenario } from './scenario.ts';
import type { RunContext, ScenarioResult, ScenarioSpec } from './scenario.ts';
import { harnessTarget, kubeconfigTarget } from './target.ts';
import type { Target } from './target.ts';

export interface BenchmarkOptions {
  /** Against this cluster instead of the harness control plane (nothing is started). */
  readonly kubeconfig?: string;
  readonly servingCa?: string;
  readonly scenarios: readonly ScenarioSpec[];
  readonly outDir: string;
  readonly createConcurrency: number;
  readonly log: (line: string) => void;
  /** A kube-apiserver CPU profile (Go pprof) of this many seconds during storm-1w (harness only). */
  readonly apiserverProfileSeconds?: number;
  /** The latency-bound profile (harness only): see HarnessTargetOptions. */
  readonly etcdFsync?: boolean;
  readonly approverLatencyMs?: number;
}

export interface BenchmarkRun {
  readonly runId: string;
  readonly startedAt: string;
  readonly target: { readonly kind: Target['kind']; readonly server: string };
  readonly kubernetesVersion: string;
  readonly nodes: number;
  readonly setupSeconds: { readonly controlPlane: number; readonly nodes: number };
  /** The latency-bound profile's settings, and the round trips it measured (harness only). */
  readonly profile?: {
    readonly etcdFsync: boolean;
    readonly approverLatencyMs: number;
    readonly roundTripMs: { readonly direct: number; readonly approver: number };
  };
  readonly durationSeconds: number;
  readonly results: readonly ScenarioResult[];
  readonly outDir: string;
}

export const DEFAULT_MIX: Mix = { invalid: 0, otherSigner: 0 };
export const MIXED: Mix = { invalid: 0.05, otherSigner: 0.1 };

export interface PlanSizes {
  readonly storm: number;
  /** Storm size of the 1/2/4-worker runs (and the baseline's). */
  readonly scaleStorm: number;
  readonly workers: readonly number[];
  readonly concurrency: number;
  /** One steady run per rate (CSR/s), each `steadySeconds` long. */
  readonly steadyRates: readonly number[];
  readonly steadySeconds: number;
  readonly mixed: number;
  readonly queued: number;
  readonly profile: boolean;
  readonly timeoutSeconds: number;
}

/** The full benchmark's scenarios, in the order they run. */
export function fullPlan(sizes: PlanSizes, only?: readonly string[]): ScenarioSpec[] {
  const timeoutMs = sizes.timeoutSeconds * 1_000;
  const stampede = (workers: number, profile = false) =>
    ({ kind: 'stampede', workers, concurrency: sizes.concurrency, profile }) as const;
  const all: ScenarioSpec[] = [
    {
      id: 'queue',
      title: `${sizes.queued} CSRs queued with no worker running (Redis bytes per job), then drained by 1 worker${sizes.profile ? ' under --cpu-prof' : ''}`,
      approver: stampede(1, sizes.profile),
      load: { kind: 'prequeued', count: sizes.queued },
      mix: DEFAULT_MIX,
      timeoutMs,
    },
    {
      id: 'baseline',
      title: `storm of ${sizes.scaleStorm}, direct baseline approver (one process, no queue)`,
      approver: { kind: 'baseline', concurrency: sizes.concurrency },
      load: { kind: 'storm', count: sizes.scaleStorm },
      mix: DEFAULT_MIX,
      timeoutMs,
    },
    ...sizes.workers.map((workers): ScenarioSpec => ({
      id: `storm-${workers}w`,
      title: `storm of ${workers === 1 ? sizes.storm : sizes.scaleStorm}, stampede with 1 watcher + ${workers} worker${workers === 1 ? '' : 's'}`,
      approver: stampede(workers),
      load: { kind: 'storm', count: workers === 1 ? sizes.storm : sizes.scaleStorm },
      mix: DEFAULT_MIX,
      timeoutMs,
    })),
    {
      // The same storm with EVENTS=denials (ADR 23): what an approval's Event costs.
      id: 'storm-1w-denial-events',
      title: `storm of ${sizes.storm}, stampede with 1 watcher + 1 worker, Events for denials only`,
      approver: { ...stampede(1), workerEnv: { EVENTS: 'denials' } },
      load: { kind: 'storm', count: sizes.storm },
      mix: DEFAULT_MIX,
      timeoutMs,
    },
    ...sizes.steadyRates.map((rate): ScenarioSpec => ({
      id: `steady-${rate}`,
      title: `steady ${rate} CSR/s for ${sizes.steadySeconds} s, stampede with 1 watcher + 1 worker`,
      approver: stampede(1),
      load: { kind: 'steady', rate, seconds: sizes.steadySeconds },
      mix: DEFAULT_MIX,
      timeoutMs,
    })),
    {
      id: 'mixed',
      title: `storm of ${sizes.mixed}: 5% invalid (must be denied), 10% other signers (must be ignored); 1 watcher + 2 workers`,
      approver: stampede(2),
      load: { kind: 'storm', count: sizes.mixed },
      mix: MIXED,
      timeoutMs,
    },
  ];
  return only === undefined ? all : all.filter(s => only.includes(s.id));
}

/** Against an approver already running in the cluster: the same loads, nothing started. */
export function externalPlan(sizes: PlanSizes, only?: readonly string[]): ScenarioSpec[] {
  return fullPlan(sizes, only)
    .filter(
      s =>
        s.approver.kind === 'stampede' && s.load.kind !== 'prequeued' && !/^storm-[2-9]/.test(s.id),
    )
    .map(s => ({
      ...s,
      approver: { kind: 'external' },
      title: s.title.replace(/, stampede with.*|; 1 watcher.*/, ', the deployed approver'),
    }));
}

function scenarioSize(spec: ScenarioSpec): number {
  return spec.load.kind === 'steady'
    ? Math.round(spec.load.rate * spec.load.seconds)
    : spec.load.count;
}

function startTarget(options: BenchmarkOptions): Promise<Target> {
  return options.kubeconfig === undefined
    ? harnessTarget({
        apiserverProfiling: (options.apiserverProfileSeconds ?? 0) > 0,
        etcdFsync: options.etcdFsync === true,
        approverLatencyMs: options.approverLatencyMs ?? 0,
      })
    : kubeconfigTarget(options.kubeconfig, options.servingCa);
}

function profileOf(
  options: BenchmarkOptions,
  trips: { readonly directMs: number; readonly approverMs: number } | undefined,
): Pick<BenchmarkRun, 'profile'> {
  if (trips === undefined) return {};
  return {
    profile: {
      etcdFsync: options.etcdFsync === true,
      approverLatencyMs: options.approverLatencyMs ?? 0,
      roundTripMs: { direct: trips.directMs, approver: trips.approverMs },
    },
  };
}

export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkRun> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const runId = `lt${Date.now().toString(36)}`;
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const log = options.log;
  const target = await startTarget(options);
  const cpSeconds = (performance.now() - started) / 1_000;
  try {
    // Every scenario uses Nodes 0…size-1: one CSR per Node per scenario, as after a fleet restart.
    const version = await target.admin.get<{ gitVersion?: string }>('/version').then(
      v => v.gitVersion ?? '?',
      () => '?',
    );
    const nodes = fleetNodes(runId, Math.max(...options.scenarios.map(scenarioSize)));
    const t = performance.now();
    log(`creating ${nodes.length} Nodes`);
    await createNodes(target.admin, nodes);
    const nodeSeconds = (performance.now() - t) / 1_000;
    log(`created ${nodes.length} Nodes in ${nodeSeconds.toFixed(1)} s`);
    const trips = await target.roundTrips?.();
    if (trips !== undefined) {
      log(
        `GET /version round trip: ${trips.directMs.toFixed(2)} ms direct, ${trips.approverMs.toFixed(2)} ms the approvers' way`,
      );
    }
    const ctx: RunContext = {
      target,
      runId,
      dir: join(outDir, 'logs'),
      nodes,
      approverKubeconfigs:
        target.kind === 'harness' ? await target.approverKubeconfigs() : undefined,
      createConcurrency: options.createConcurrency,
      log,
      cleanups: [],
      ...((options.apiserverProfileSeconds ?? 0) > 0
        ? {
            apiserverProfile: {
              scenario: 'storm-1w',
              seconds: options.apiserverProfileSeconds ?? 0,
            },
          }
        : {}),
    };
    mkdirSync(ctx.dir, { recursive: true });
    const results: ScenarioResult[] = [];
    for (const spec of options.scenarios) results.push(await runScenario(ctx, spec));
    await Promise.all(ctx.cleanups);
    if (target.kind === 'kubeconfig') await deleteNodes(target.admin, nodes);
    return {
      runId,
      startedAt,
      target: { kind: target.kind, server: target.server },
      kubernetesVersion: version,
      nodes: nodes.length,
      setupSeconds: { controlPlane: cpSeconds, nodes: nodeSeconds },
      ...profileOf(options, trips),
      durationSeconds: (performance.now() - started) / 1_000,
      results,
      outDir,
    };
  } finally {
    await target.stop();
  }
}
