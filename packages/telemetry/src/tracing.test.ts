import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import {
  SpanKind,
  SpanStatusCode,
  activeTraceFields,
  carrierOf,
  contextFromCarrier,
  inSpan,
  otlpTracesConfigured,
  recordHttpClientSpan,
  startTracing,
} from './tracing.ts';
import type { HttpCall } from './tracing.ts';

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

describe('recordHttpClientSpan', () => {
  const call = (over: Partial<HttpCall>): HttpCall => ({
    method: 'GET',
    origin: 'https://10.0.0.1:6443',
    status: 200,
    startedAtMs: 1_700_000_000_000,
    durationMs: 12.5,
    ...over,
  });
  const cases: {
    name: string;
    call: HttpCall;
    attributes: Record<string, unknown>;
    error: boolean;
  }[] = [
    {
      name: 'records a successful call with method, server and status',
      call: call({}),
      attributes: {
        'http.request.method': 'GET',
        'server.address': '10.0.0.1',
        'server.port': 6443,
        'http.response.status_code': 200,
      },
      error: false,
    },
    {
      name: 'marks a 409 as an error with its status as the error type',
      call: call({ method: 'PUT', status: 409 }),
      attributes: {
        'http.request.method': 'PUT',
        'server.address': '10.0.0.1',
        'server.port': 6443,
        'http.response.status_code': 409,
        'error.type': '409',
      },
      error: true,
    },
    {
      name: 'marks a call that got no response as an error without a status',
      call: call({ method: 'POST', status: undefined, origin: 'https://api.example' }),
      attributes: {
        'http.request.method': 'POST',
        'server.address': 'api.example',
        'server.port': 443,
        'error.type': 'error',
      },
      error: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      exporter.reset();
      await inSpan(tracing.tracer, 'get node', {}, () => {
        recordHttpClientSpan(tracing.tracer, c.call);
        return Promise.resolve();
      });
      await processor.forceFlush();
      const spans = exporter.getFinishedSpans();
      const parent = spans.find(span => span.name === 'get node');
      const client = spans.find(span => span.kind === SpanKind.CLIENT);
      assert.ok(parent && client);
      assert.equal(client.name, c.call.method);
      assert.equal(client.parentSpanContext?.spanId, parent.spanContext().spanId);
      assert.deepEqual({ ...client.attributes }, c.attributes);
      assert.equal(client.status.code === SpanStatusCode.ERROR, c.error);
      // Back-dated to when the call really ran: 12.5 ms long, from its start.
      const ms = (t: readonly [number, number]) => t[0] * 1_000 + t[1] / 1e6;
      assert.equal(ms(client.startTime), c.call.startedAtMs);
      assert.ok(Math.abs(ms(client.endTime) - ms(client.startTime) - 12.5) < 0.001);
    });
  }

  it('records nothing outside a span', async () => {
    exporter.reset();
    recordHttpClientSpan(tracing.tracer, call({}));
    await processor.forceFlush();
    assert.deepEqual(exporter.getFinishedSpans(), []);
  });
});
