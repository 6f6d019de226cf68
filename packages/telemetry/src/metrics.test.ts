import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APPROVAL_QUEUE } from '@stampede/contracts';
import { QUEUE_JOBS_METRIC, addQueueDepth, createMetrics } from './metrics.ts';

/** The value of one sample, whatever order prom-client writes the labels in. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(match[3]);
  }
  return undefined;
}

describe('createMetrics', () => {
  it('exports the HPA metric stampede_queue_jobs with the contracts queue name and state waiting', async () => {
    const metrics = createMetrics({ service: 'test' });
    let waiting = 3;
    addQueueDepth(metrics, {
      queue: APPROVAL_QUEUE,
      counts: () => Promise.resolve({ waiting, active: 1 }),
    });
    const first = (await metrics.render()).body;
    assert.equal(QUEUE_JOBS_METRIC, 'stampede_queue_jobs');
    assert.match(
      first,
      /^stampede_queue_jobs\{queue="csr-approvals",state="waiting",service="test"\} 3$/m,
    );
    assert.match(
      first,
      /^stampede_queue_jobs\{queue="csr-approvals",state="prioritized",service="test"\} 0$/m,
    );
    waiting = 0;
    assert.match((await metrics.render()).body, /state="waiting",service="test"\} 0$/m);
  });

  it('counts a failed queue read as a Redis error', async () => {
    const metrics = createMetrics({ service: 'test' });
    addQueueDepth(metrics, { queue: 'q', counts: () => Promise.reject(new Error('down')) });
    await metrics.render();
    // The counter renders before the gauge collects, so the failure shows on the next scrape.
    const body = (await metrics.render()).body;
    assert.equal(sample(body, 'stampede_redis_errors_total', {}), 1);
  });

  it('exports decisions by outcome and reason and the creation-to-decision histogram', async () => {
    const metrics = createMetrics({ service: 'test' });
    metrics.decisions.inc({ outcome: 'denied', reason: 'SanNotNodeAddress' });
    metrics.decisionLatency.observe({ outcome: 'approved' }, 0.3);
    metrics.apiRequests.observe({ verb: 'get', code: '2xx' }, 0.01);
    metrics.watchRestarts.inc({ resource: 'nodes' });
    const { body, contentType } = await metrics.render();
    assert.match(contentType, /^text\/plain/);
    const denied = { outcome: 'denied', reason: 'SanNotNodeAddress' };
    assert.equal(sample(body, 'stampede_decisions_total', denied), 1);
    const bucket = { le: '0.5', outcome: 'approved' };
    assert.equal(sample(body, 'stampede_csr_decision_seconds_bucket', bucket), 1);
    const get = { verb: 'get', code: '2xx' };
    assert.equal(sample(body, 'stampede_kube_request_duration_seconds_count', get), 1);
    assert.equal(sample(body, 'stampede_watch_restarts_total', { resource: 'nodes' }), 1);
    assert.match(body, /stampede_process_cpu_seconds_total/);
  });
});
