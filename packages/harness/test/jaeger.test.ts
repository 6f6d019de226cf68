// The harness's Jaeger: a real cmd/jaeger from go/jaeger. Spans posted over OTLP/HTTP (JSON, as
// any OTLP exporter may send them) come back through the query API with their parent, kind,
// service and attributes, ids keeping every digit.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startJaeger, until, type Jaeger } from '@stampede/harness';

// A trace id with leading zeros: Jaeger's JSON drops them, the harness must put them back.
const TRACE_ID = '00000000000000000a1b2c3d4e5f6071';
const ROOT_ID = '00f067aa0ba902b7';
const CHILD_ID = '53995c3f42cd8ad8';

function otlpSpans(nowNs: bigint): unknown {
  const span = (spanId: string, parentSpanId: string, name: string, kind: number) => ({
    traceId: TRACE_ID,
    spanId,
    parentSpanId,
    name,
    kind,
    startTimeUnixNano: String(nowNs),
    endTimeUnixNano: String(nowNs + 1_000_000n),
    attributes: [
      { key: 'stampede.csr.uid', value: { stringValue: 'uid-harness-test' } },
      { key: 'stampede.attempt', value: { intValue: '2' } },
    ],
  });
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'harness-test' } }],
        },
        scopeSpans: [
          {
            scope: { name: 'harness-test' },
            spans: [span(ROOT_ID, '', 'send', 4), span(CHILD_ID, ROOT_ID, 'process', 5)],
          },
        ],
      },
    ],
  };
}

describe('startJaeger', () => {
  let jaeger: Jaeger;
  before(async () => {
    jaeger = await startJaeger();
  });
  after(async () => {
    await jaeger.stop();
  });

  it('serves OTLP/HTTP and the query API on loopback', () => {
    assert.match(jaeger.otlpEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(jaeger.uiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(jaeger.otlpEndpoint, jaeger.uiUrl);
    assert.equal(jaeger.traceUrl('ab'), `${jaeger.uiUrl}/trace/ab`);
  });

  it('returns the spans it received, with parent, kind, service and attributes', async () => {
    const response = await fetch(`${jaeger.otlpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(otlpSpans(BigInt(Date.now()) * 1_000_000n)),
    });
    assert.equal(response.status, 200);
    const spans = await until(
      'both spans in Jaeger',
      async () => {
        const trace = await jaeger.trace(TRACE_ID);
        return trace?.length === 2 ? trace : undefined;
      },
      15_000,
      100,
    );
    const root = spans.find(s => s.name === 'send');
    const child = spans.find(s => s.name === 'process');
    assert.equal(root?.traceId, TRACE_ID);
    assert.equal(root.spanId, ROOT_ID);
    assert.equal(root.parentSpanId, '');
    assert.equal(root.kind, 'producer');
    assert.equal(root.service, 'harness-test');
    assert.equal(child?.parentSpanId, ROOT_ID);
    assert.equal(child.spanId, CHILD_ID);
    assert.equal(child.kind, 'consumer');
    assert.equal(child.attributes['stampede.csr.uid'], 'uid-harness-test');
    assert.equal(child.attributes['stampede.attempt'], 2);
    assert.equal(child.durationMicros, 1000);
  });

  it('finds traces by service and tag, and nothing for another tag value', async () => {
    const hit = await jaeger.findTraces('harness-test', { 'stampede.csr.uid': 'uid-harness-test' });
    assert.deepEqual(
      hit.map(trace => trace[0]?.traceId),
      [TRACE_ID],
    );
    const miss = await jaeger.findTraces('harness-test', { 'stampede.csr.uid': 'another' });
    assert.deepEqual(miss, []);
    assert.deepEqual(await jaeger.services(), ['harness-test']);
  });

  it('has no trace for an id it never saw', async () => {
    assert.equal(await jaeger.trace('0123456789abcdef0123456789abcdef'), undefined);
  });

  it('removes its directory on stop', async () => {
    const other = await startJaeger();
    assert.ok(existsSync(other.dir));
    await other.stop();
    assert.equal(existsSync(other.dir), false);
  });
});
