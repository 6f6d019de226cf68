import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import {
  SpanKind,
  activeTraceFields,
  carrierOf,
  contextFromCarrier,
  inSpan,
  otlpTracesConfigured,
  startTracing,
} from './tracing.ts';

const exporter = new InMemorySpanExporter();
// SimpleSpanProcessor exports asynchronously: flush before reading the exporter.
const processor = new SimpleSpanProcessor({ exporter });
const tracing = startTracing({ serviceName: 'test', env: {}, spanProcessor: processor });
after(() => tracing.shutdown());

describe('otlpTracesConfigured', () => {
  const cases: { name: string; env: Record<string, string>; want: boolean }[] = [
    { name: 'exports nothing when no endpoint is set', env: {}, want: false },
    {
      name: 'exports when OTEL_EXPORTER_OTLP_ENDPOINT is set',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      want: true,
    },
    {
      name: 'exports when only the traces endpoint is set',
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' },
      want: true,
    },
    {
      name: 'exports nothing when OTEL_TRACES_EXPORTER is none',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_TRACES_EXPORTER: 'none' },
      want: false,
    },
    {
      name: 'exports nothing when the SDK is disabled',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_SDK_DISABLED: 'true' },
      want: false,
    },
  ];
  for (const { name, env, want } of cases) {
    it(name, () => {
      assert.equal(otlpTracesConfigured(env), want);
    });
  }
});

describe('tracing across the queue', () => {
  it('makes the consumer span a child of the producer span through the W3C carrier', async () => {
    exporter.reset();
    const producer = tracing.tracer.startSpan('send q', { kind: SpanKind.PRODUCER, root: true });
    const carrier = carrierOf(producer);
    producer.end();
    assert.ok(carrier);
    assert.match(carrier.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // Only the carrier crosses the process boundary (as JSON in the job).
    const shipped = JSON.parse(JSON.stringify(carrier)) as typeof carrier;
    await inSpan(
      tracing.tracer,
      'process q',
      { kind: SpanKind.CONSUMER, parent: contextFromCarrier(shipped) },
      () => inSpan(tracing.tracer, 'fetch csr', {}, () => Promise.resolve()),
    );
    await processor.forceFlush();
    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map(span => [span.name, span]));
    const send = byName.get('send q');
    const process = byName.get('process q');
    const fetch = byName.get('fetch csr');
    assert.ok(send && process && fetch);
    assert.equal(new Set(spans.map(span => span.spanContext().traceId)).size, 1);
    assert.equal(process.parentSpanContext?.spanId, send.spanContext().spanId);
    assert.equal(fetch.parentSpanContext?.spanId, process.spanContext().spanId);
  });

  it('records an error on the span and rethrows it', async () => {
    exporter.reset();
    await assert.rejects(
      inSpan(tracing.tracer, 'fails', {}, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    await processor.forceFlush();
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.status.code, 2);
    assert.equal(span.status.message, 'boom');
  });

  it('gives log lines the ids of the active span and nothing outside one', async () => {
    assert.deepEqual(activeTraceFields(), {});
    await inSpan(tracing.tracer, 'logs', {}, span => {
      assert.deepEqual(activeTraceFields(), {
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
      });
      return Promise.resolve();
    });
  });

  it('starts a new trace when the job carries no trace context', async () => {
    await inSpan(tracing.tracer, 'no carrier', { parent: contextFromCarrier(undefined) }, span => {
      assert.match(span.spanContext().traceId, /^[0-9a-f]{32}$/);
      return Promise.resolve();
    });
  });
});
