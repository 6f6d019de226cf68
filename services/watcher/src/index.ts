// The watcher's pure parts, for benchmarks and tools; the service itself starts from main.ts.
export { projectPendingCsr } from './pending.ts';
export type { PendingCsr } from './pending.ts';
export { planAll, planRequester } from './plan.ts';
export type { PlannedJob } from './plan.ts';
