// Tracing for one process: the OpenTelemetry Node SDK with our spans only (no auto-instrumentation:
// ESM would need a loader hook, and the spans that matter are the ones named after our steps).
// Spans always get real ids, so log lines correlate; they leave the process over OTLP/HTTP only when
// an endpoint is configured.
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

export type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
export { SpanKind, SpanStatusCode } from '@opentelemetry/api';

export interface Tracing {
  readonly tracer: Tracer;
  /** True when spans are exported (an OTLP endpoint is configured). */
  readonly exporting: boolean;
  /** Flushes pending spans and stops the SDK. Never rejects. */
  shutdown(): Promise<void>;
}

/** True when the standard variables ask for OTLP trace export. */
export function otlpTracesConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['OTEL_SDK_DISABLED'] === 'true' || env['OTEL_TRACES_EXPORTER'] === 'none') return false;
  const endpoint =
    env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '';
  return endpoint !== '';
}

/**
 * Starts the SDK. Call first in main.ts, before any span is made; call shutdown() in graceful
 * shutdown. `env` is process.env (read here, once, so no module reads it at import).
 */
export function startTracing(options: {
  readonly serviceName: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Replaces the exporting processor (tests: a SimpleSpanProcessor over an InMemorySpanExporter). */
  readonly spanProcessor?: SpanProcessor;
}): Tracing {
  const exporting = otlpTracesConfigured(options.env);
  const delay = Number(options.env['OTEL_BSP_SCHEDULE_DELAY'] ?? '1000');
  // sdk-trace 3.x processors take an options object; the positional form records nothing.
  const processor: SpanProcessor = exporting
    ? new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(),
        scheduledDelayMillis: Number.isFinite(delay) && delay > 0 ? delay : 1000,
      })
    : new NoopSpanProcessor();
  const sdk = new NodeSDK({
    serviceName: options.env['OTEL_SERVICE_NAME'] ?? options.serviceName,
    spanProcessors: [options.spanProcessor ?? processor],
    // Explicitly empty: otherwise the SDK reads OTEL_METRICS/LOGS_EXPORTER and defaults to OTLP.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    textMapPropagator: new W3CTraceContextPropagator(),
  });
  sdk.start();
  return {
    tracer: trace.getTracer(options.serviceName),
    exporting,
    shutdown: () => sdk.shutdown().catch(() => undefined),
  };
}

/** A tracer that records nothing: the default for code under test. */
export function noopTracer(): Tracer {
  return trace.getTracer('noop');
}

const w3c = new W3CTraceContextPropagator();

type Carrier = Record<string, string | undefined>;

const setter = {
  set: (carrier: Carrier, key: string, value: string): void => {
    carrier[key] = value;
  },
};

const getter = {
  get: (carrier: Carrier, key: string): string | undefined => carrier[key],
  keys: (carrier: Carrier): string[] => Object.keys(carrier),
};

/** The W3C carrier of a span, for the job payload (packages/contracts TraceCarrier). */
export function carrierOf(span: Span): { traceparent: string; tracestate?: string } | undefined {
  const carrier: Carrier = {};
  w3c.inject(trace.setSpan(context.active(), span), carrier, setter);
  const traceparent = carrier['traceparent'];
  if (traceparent === undefined) return undefined;
  const tracestate = carrier['tracestate'];
  return tracestate === undefined || tracestate === ''
    ? { traceparent }
    : { traceparent, tracestate };
}

/** The context a carrier names as parent; the active context when there is none. */
export function contextFromCarrier(
  carrier: { readonly traceparent: string; readonly tracestate?: string | undefined } | undefined,
): Context {
  if (carrier === undefined) return context.active();
  const fields: Carrier = { traceparent: carrier.traceparent, tracestate: carrier.tracestate };
  return w3c.extract(context.active(), fields, getter);
}

/** Adds attributes to the active span, if any (e.g. facts learnt halfway through a job). */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Ids of the active span, for log lines: empty outside a span. */
export function activeTraceFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/** One HTTP call that has finished, as `recordHttpClientSpan` needs it. */
export interface HttpCall {
  readonly method: string;
  /** scheme://host:port */
  readonly origin: string;
  /** The response's status code, or undefined when there was no response. */
  readonly status: number | undefined;
  readonly startedAtMs: number;
  readonly durationMs: number;
}

/** `server.address` and `server.port` of an origin, parsed once per origin (a process has one). */
const servers = new Map<string, Attributes>();

function serverAttributes(origin: string): Attributes {
  let attributes = servers.get(origin);
  if (attributes === undefined) {
    const url = URL.canParse(origin) ? new URL(origin) : undefined;
    const defaultPort = url?.protocol === 'http:' ? 80 : 443;
    attributes =
      url === undefined
        ? {}
        : {
            'server.address': url.hostname,
            'server.port': url.port === '' ? defaultPort : Number(url.port),
          };
    servers.set(origin, attributes);
  }
  return attributes;
}

/**
 * A CLIENT span for an HTTP call that has already finished, under the active span, following the
 * OpenTelemetry HTTP client conventions: named by the method, `http.request.method`,
 * `server.address`, `server.port`, `http.response.status_code`, and `error.type` with an error
 * status for a 4xx, a 5xx or no response. Recorded afterwards, so the transport needs no tracer;
 * only under an active span.
 */
export function recordHttpClientSpan(tracer: Tracer, call: HttpCall): void {
  // Outside a span (start-up, housekeeping) a lone call is not worth a trace of its own.
  if (trace.getActiveSpan() === undefined) return;
  const failed = call.status === undefined || call.status >= 400;
  const attributes: Attributes = {
    'http.request.method': call.method,
    ...serverAttributes(call.origin),
    ...(call.status === undefined ? {} : { 'http.response.status_code': call.status }),
    ...(failed ? { 'error.type': call.status === undefined ? 'error' : String(call.status) } : {}),
  };
  const span = tracer.startSpan(call.method, {
    kind: SpanKind.CLIENT,
    startTime: call.startedAtMs,
    attributes,
  });
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(call.startedAtMs + call.durationMs);
}

/**
 * Runs `fn` inside a new active span; an error is recorded on the span and rethrown. The span
 * ends when `fn` settles.
 */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: {
    readonly attributes?: Attributes;
    readonly kind?: SpanKind;
    readonly parent?: Context;
  },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
    async span => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
