export {
  SpanKind,
  SpanStatusCode,
  activeTraceFields,
  annotateActiveSpan,
  carrierOf,
  contextFromCarrier,
  inSpan,
  noopTracer,
  otlpTracesConfigured,
  recordHttpClientSpan,
  startTracing,
} from './tracing.ts';
export type { Attributes, Context, HttpCall, Span, Tracer, Tracing } from './tracing.ts';
export { QUEUE_JOBS_METRIC, QUEUE_STATES, addQueueDepth, createMetrics } from './metrics.ts';
export type { Metrics, QueueState } from './metrics.ts';
