export { run, USAGE } from './cli.ts';
export type { PluginDeps, PluginIo } from './cli.ts';
export { explainCsr, explainObject, startViews } from './explain.ts';
export type { Explanation } from './explain.ts';
export { listPending } from './pending.ts';
export type { PendingRow } from './pending.ts';
