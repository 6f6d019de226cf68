// `@stampede/worker/facts`: how a worker gathers a CSR's facts and what it writes for a decision,
// without the queue, Redis and tracing the rest of the worker loads (seconds of start-up for a
// command-line tool). `kubectl stampede explain` decides with exactly these.
export { gatherFacts } from './facts.ts';
export type { FactSources } from './facts.ts';
export { startNodeView } from './node-view.ts';
export type { NodeView } from './node-view.ts';
export { startServiceRanges } from './service-ranges.ts';
export type { RangesFact, ServiceRanges } from './service-ranges.ts';
export { REPORTING_CONTROLLER, conditionOf, writtenByUs } from './condition.ts';
