// Observability end to end: the watcher and a worker as separate OS processes on the real control
// plane, exporting spans over OTLP/HTTP to a real Jaeger (go/jaeger, built from the Go module proxy
// by scripts/build-jaeger.sh), and the trace read back through Jaeger's query API. One CSR → one
// trace holding the watcher's PRODUCER span and, under it, the worker's CONSUMER span and step
// spans; log lines carry the trace id; /metrics moves; secrets fed in never reach a log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { KubeletEmulator, System, startJaeger, until } from '@stampede/harness';
import type { Jaeger, JaegerSpan, NodeAddress, ServiceProcess } from '@stampede/harness';

const REDIS_PASSWORD = 'pw-e2e-must-never-be-logged-7f3a';

async function scrape(service: ServiceProcess): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${await service.healthPort}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/** Sum of a metric's samples whose labels include `labels`. */
function total(body: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of body.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(match[3]);
  }
  return sum;
}

/** Every step span, the five API calls and the watcher's span have reached Jaeger. */
function isComplete(spans: readonly JaegerSpan[], steps: readonly string[]): boolean {
  return (
    steps.every(n => spans.some(s => s.name === n)) &&
    spans.filter(s => s.kind === 'client').length >= 5 &&
    spans.some(s => s.service === 'stampede-watcher')
  );
}

/**
 * Each API call is an HTTP CLIENT span under the step that made it, with the OpenTelemetry HTTP
 * attributes: one per step, named by its method, with the status the API server answered.
 */
function assertHttpCalls(trace: readonly JaegerSpan[], apiServer: URL): void {
  const calls = [
    ['fetch csr', 'GET', 200],
    ['get node', 'GET', 200],
    ['subject access review', 'POST', 201],
    ['write approval', 'PUT', 200],
    ['emit event', 'POST', 201],
  ] as const;
  for (const [step, method, status] of calls) {
    const parent = trace.find(s => s.name === step);
    const under = trace
      .filter(s => s.parentSpanId === parent?.spanId && s.kind === 'client')
      .map(s => [
        s.name,
        s.attributes['http.request.method'],
        s.attributes['http.response.status_code'],
        s.attributes['server.address'],
        s.attributes['server.port'],
      ]);
    assert.deepEqual(
      under,
      [[method, method, status, apiServer.hostname, Number(apiServer.port)]],
      `one HTTP call under ${step}`,
    );
  }
}

describe('observability across the watcher and worker processes', () => {
  let system: System;
  let jaeger: Jaeger;
  let watcher: ServiceProcess;
  let worker: ServiceProcess;

  before(async () => {
    [jaeger, system] = await Promise.all([startJaeger(), System.start()]);
    // A Redis password the services must use and never log.
    await system.redis.command('CONFIG', 'SET', 'requirepass', REDIS_PASSWORD);
    const redisUrl = system.redis.url.replace('redis://', `redis://default:${REDIS_PASSWORD}@`);
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      REDIS_URL: redisUrl,
      LOG_LEVEL: 'debug',
    };
    watcher = await system.start('watcher', otel);
    worker = await system.start('worker', otel);
  });

  after(async () => {
    await system.stopAll();
    await jaeger.stop();
  });

  it('exports one trace per CSR with the worker spans under the watcher enqueue span', async () => {
    const watcherBefore = await scrape(watcher);
    const workerBefore = await scrape(worker);
    const addresses: NodeAddress[] = [
      { type: 'Hostname', address: 'node-obs' },
      { type: 'InternalIP', address: '10.9.0.1' },
    ];
    await system.cp.createNode('node-obs', addresses, {
      createdAt: new Date(Date.now() - 3_600_000),
    });
    const kubelet = new KubeletEmulator({ nodeName: 'node-obs', addresses, harness: system.cp });
    const issued = await kubelet.bootstrap();
    const csr = await system.cp.getCsr(issued.csrName);
    const uid = csr.metadata.uid ?? '';

    // Found the way an operator would: Jaeger's search by the CSR's uid.
    const found = await until(
      'the trace of the CSR in Jaeger',
      async () => {
        const traces = await jaeger.findTraces('stampede-worker', { 'stampede.csr.uid': uid });
        return traces.length > 0 ? traces : undefined;
      },
      20_000,
      250,
    );
    assert.equal(found.length, 1, 'one trace per CSR');
    const traceId = found[0]?.[0]?.traceId ?? '';
    const names = ['fetch csr', 'gather facts', 'decide', 'write approval', 'emit event'];
    const trace = await until(
      'every span of the trace',
      async () => {
        const spans = (await jaeger.trace(traceId)) ?? [];
        return isComplete(spans, names) ? spans : undefined;
      },
      10_000,
      250,
    );
    const processSpan = trace.find(s => s.name === 'process csr-approvals');
    assert.ok(processSpan, 'the worker process span is in the trace');
    assert.equal(processSpan.kind, 'consumer');
    assert.equal(processSpan.attributes['stampede.csr.uid'], uid);
    assert.equal(processSpan.attributes['stampede.outcome'], 'approved');
    const byId = new Map(trace.map(s => [s.spanId, s]));
    const parentOf = (span: JaegerSpan): JaegerSpan | undefined => byId.get(span.parentSpanId);

    // Root: the watcher's PRODUCER span, from the other process.
    const producer = parentOf(processSpan);
    assert.ok(producer, 'the process span has its parent in the same trace');
    assert.equal(producer.service, 'stampede-watcher');
    assert.equal(producer.kind, 'producer');
    assert.equal(producer.name, 'send csr-approvals');
    assert.equal(producer.parentSpanId, '', 'the enqueue span is the root');
    assert.equal(producer.attributes['stampede.csr.uid'], uid);
    assert.equal(processSpan.service, 'stampede-worker');
    assert.equal(processSpan.name, 'process csr-approvals');
    assert.equal(processSpan.attributes['messaging.destination.name'], 'csr-approvals');
    assert.equal(processSpan.attributes['stampede.csr.name'], issued.csrName);
    assert.equal(processSpan.attributes['stampede.csr.signer'], 'kubernetes.io/kubelet-serving');
    assert.equal(processSpan.attributes['stampede.node.name'], 'node-obs');
    assert.equal(processSpan.attributes['stampede.attempt'], 1);

    for (const name of names) {
      const span = trace.find(s => s.name === name);
      assert.equal(
        span?.parentSpanId,
        processSpan.spanId,
        `${name} is a child of the process span`,
      );
      assert.equal(span.service, 'stampede-worker');
    }
    const facts = trace.find(s => s.name === 'gather facts');
    for (const name of ['get node', 'subject access review']) {
      const span = trace.find(s => s.name === name);
      assert.equal(span?.parentSpanId, facts?.spanId, `${name} is a child of gather facts`);
    }
    assert.equal(trace.find(s => s.name === 'decide')?.attributes['stampede.decision'], 'approve');
    assertHttpCalls(trace, new URL(system.cp.server));
    // No span for the watch: nothing the watcher exported lasts as long as the process.
    const watcherSpans = (await jaeger.findTraces('stampede-watcher')).flat();
    assert.ok(watcherSpans.length > 0, 'Jaeger has the watcher spans');
    assert.ok(
      watcherSpans.filter(s => s.service === 'stampede-watcher').every(s => !/watch/i.test(s.name)),
    );
    assert.deepEqual((await jaeger.services()).sort(), ['stampede-watcher', 'stampede-worker']);

    // Log lines inside the spans carry their trace id, in both processes.
    const workerLines = readFileSync(worker.logPath, 'utf8')
      .split('\n')
      .filter(l => l.includes(uid));
    const decided = workerLines
      .map(l => JSON.parse(l) as Record<string, unknown>)
      .find(l => l['msg'] === 'csr approved');
    assert.equal(decided?.['trace_id'], processSpan.traceId);
    assert.match(String(decided['span_id']), /^[0-9a-f]{16}$/);

    // /metrics moved during the run.
    await until('metrics to move', async () => {
      const watcherAfter = await scrape(watcher);
      const workerAfter = await scrape(worker);
      const approved = { outcome: 'approved' };
      return (
        total(workerAfter, 'stampede_decisions_total', approved) >
          total(workerBefore, 'stampede_decisions_total', approved) &&
        total(workerAfter, 'stampede_csr_decision_seconds_count') >
          total(workerBefore, 'stampede_csr_decision_seconds_count') &&
        total(watcherAfter, 'stampede_jobs_enqueued_total') >
          total(watcherBefore, 'stampede_jobs_enqueued_total') &&
        total(workerAfter, 'stampede_kube_request_duration_seconds_count', { verb: 'update' }) > 0
      );
    });
    const depth = await scrape(watcher);
    assert.match(depth, /^stampede_queue_jobs\{[^}]*queue="csr-approvals"[^}]*\} \d+$/m);
    // The HPA's series (ADR 14): both states it sums are exported.
    assert.ok(depth.includes('state="waiting"'), 'the waiting series exists');
    assert.ok(depth.includes('state="prioritized"'), 'the prioritized series exists');
  });

  it('never writes a secret to a log line', () => {
    const kubeconfig = readFileSync(system.kubeconfig.worker, 'utf8');
    const token = /token: (\S+)/.exec(kubeconfig)?.[1] ?? '';
    assert.ok(token.length > 20, 'the worker kubeconfig carries a token');
    const logs = [watcher, worker].map(s => readFileSync(s.logPath, 'utf8')).join('\n');
    assert.ok(logs.includes('redis'), 'the logs mention Redis');
    assert.ok(!logs.includes(REDIS_PASSWORD), 'no Redis password');
    assert.ok(!logs.includes(token), 'no ServiceAccount token');
    assert.ok(!logs.includes('BEGIN CERTIFICATE') && !logs.includes('LS0tLS1CRUdJTi'), 'no PEM');
  });
});
