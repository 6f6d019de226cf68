// @stampede/load-tests: the fleet simulator and the benchmark report (test support only; run the full
// benchmark with `npm run bench -w @stampede/load-tests`).
export { DEFAULT_MIX, MIXED, externalPlan, fullPlan, runBenchmark } from './benchmark.ts';
export type { BenchmarkOptions, BenchmarkRun, PlanSizes } from './benchmark.ts';
export { byCall, callerOf, diffCounters, parseApiserverMetrics } from './apiserver-metrics.ts';
export type { ApiserverCounters, Caller, RequestCount, VerbRow } from './apiserver-metrics.ts';
export { fleetNodes, kindsFor, planCsrs } from './fleet.ts';
export type { CsrKind, FleetNode, Mix, PlannedCsr } from './fleet.ts';
export { parseStatCpuSeconds, sampleProcess, statusBytes } from './proc.ts';
export { packageOf, summarizeProfile } from './profile.ts';
export type { ProfileSummary } from './profile.ts';
export { buildReport, computeRatios, checkTargets, publish, writeReport } from './report.ts';
export type { Ratio, Report, TargetCheck, WrittenReport } from './report.ts';
export { runScenario } from './scenario.ts';
export { harnessTarget } from './target.ts';
export type { HarnessTargetOptions, Target } from './target.ts';
export type { LoadSpec, ScenarioResult, ScenarioSpec } from './scenario.ts';
export { histogram, median, percentile, ratePerBin, summarize, sustainedRate } from './stats.ts';
export type { Histogram, Summary } from './stats.ts';
export { runSoak, SOAK_FAULT_KINDS } from './soak.ts';
export type { InjectedFault, SoakOptions, SoakReport } from './soak.ts';
