// The metric the worker autoscaler is built on, read where Prometheus reads it: a watcher under its
// own ServiceAccount, with a backlog of kubelets' CSRs and no worker, serves stampede_queue_jobs on
// /metrics of the port the manifests probe and annotate; evaluated with the HPA's selector and the
// adapter rule's aggregation (max by state, then the HPA's sum), it counts the backlog exactly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeletEmulator, startControlPlane, startRedis } from '@stampede/harness';
import type { ControlPlane, NodeAddress, RedisServer } from '@stampede/harness';
import { ROOT, named, ofKind, podTemplate, renderOverlay } from './support/render.ts';
import { startService, waitReady } from './support/services.ts';
import type { RunningService } from './support/services.ts';

const BACKLOG = 12;

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text format, the samples of one metric. */
function samples(text: string, metric: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (match?.[1] !== metric) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(m => [
        m[1] ?? '',
        m[2] ?? '',
      ]),
    );
    out.push({ name: metric, labels, value: Number(match[3]) });
  }
  return out;
}

interface ExternalMetric {
  readonly name: string;
  readonly selector: {
    readonly matchLabels: Readonly<Record<string, string>>;
    readonly matchExpressions: readonly {
      key: string;
      operator: string;
      values: readonly string[];
    }[];
  };
}

/** The HPA's value: series matching the selector, `max by (state)` across scrapes, summed. */
function hpaValue(scrapes: readonly Sample[][], metric: ExternalMetric): number {
  const byState = new Map<string, number>();
  for (const scrape of scrapes) {
    for (const sample of scrape) {
      const { matchLabels, matchExpressions } = metric.selector;
      const labelsMatch = Object.entries(matchLabels).every(([k, v]) => sample.labels[k] === v);
      const expressionsMatch = matchExpressions.every(
        e => e.operator === 'In' && e.values.includes(sample.labels[e.key] ?? ''),
      );
      if (!labelsMatch || !expressionsMatch) continue;
      const state = sample.labels['state'] ?? '';
      byState.set(state, Math.max(byState.get(state) ?? 0, sample.value));
    }
  }
  return [...byState.values()].reduce((a, b) => a + b, 0);
}

describe('the autoscaling metric on /metrics', () => {
  let cp: ControlPlane;
  let redis: RedisServer;
  const watchers: RunningService[] = [];

  before(async () => {
    [cp, redis] = await Promise.all([startControlPlane({ canary: false }), startRedis()]);
  });

  after(async () => {
    await Promise.all(watchers.map(w => w.stop()));
    await Promise.all([redis.stop(), cp.stop()]);
  });

  it('counts a backlog of CSRs exactly, through the HPA selector, on the port the manifests scrape', async () => {
    const { objects } = await renderOverlay('hpa');
    const hpa = ofKind(objects, 'HorizontalPodAutoscaler')[0];
    assert.ok(hpa !== undefined);
    const metric = (hpa['spec'] as { metrics: { external: { metric: ExternalMetric } }[] })
      .metrics[0]?.external.metric;
    assert.ok(metric !== undefined);
    const template = podTemplate(named(objects, 'Deployment', 'stampede-watcher'));
    const annotations =
      (
        named(objects, 'Deployment', 'stampede-watcher')['spec'] as {
          template: { metadata: { annotations?: Record<string, string> } };
        }
      ).template.metadata.annotations ?? {};
    const container = template.spec.containers[0];
    const healthPort = container?.env?.find(e => e.name === 'HEALTH_PORT')?.value;
    assert.equal(
      annotations['prometheus.io/port'],
      healthPort,
      'Prometheus scrapes the health port',
    );
    assert.equal(annotations['prometheus.io/path'], '/metrics');

    // Two watchers, as deployed (both export the gauge), under the watcher's ServiceAccount.
    const kubeconfig = await cp.serviceKubeconfig('watcher');
    for (let i = 0; i < 2; i++)
      watchers.push(
        startService(ROOT, 'watcher', {
          REDIS_URL: redis.url,
          KUBECONFIG_PATH: kubeconfig,
          HEALTH_PORT: '0',
          HEALTH_HOST: '127.0.0.1',
          RESYNC_INTERVAL_SECONDS: '2',
          RELIST_INTERVAL_SECONDS: '2',
          POD_NAME: `watcher-${i}`,
        }),
      );
    await Promise.all(watchers.map(w => waitReady(w)));

    // A backlog: kubelets' CSRs and no worker to take them.
    for (let i = 0; i < BACKLOG; i++) {
      const nodeName = `metric-${i}`;
      const addresses: NodeAddress[] = [
        { type: 'Hostname', address: nodeName },
        { type: 'InternalIP', address: `10.8.0.${i + 1}` },
      ];
      await cp.createNode(nodeName, addresses);
      await new KubeletEmulator({ nodeName, addresses, harness: cp }).createCsr();
    }

    const scrape = async (): Promise<Sample[][]> =>
      Promise.all(
        watchers.map(async w => {
          const response = await fetch(`http://127.0.0.1:${await w.healthPort}/metrics`);
          assert.equal(response.status, 200);
          assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
          return samples(await response.text(), metric.name);
        }),
      );
    // Each watcher refreshes its gauge on its own tick: wait until every one has seen the whole
    // backlog, or the naive sum below races the slower one.
    const full = (all: readonly Sample[][]): boolean =>
      all.every(scrape => hpaValue([scrape], metric) >= BACKLOG);
    let scrapes = await scrape();
    const deadline = Date.now() + 30_000;
    while (!full(scrapes) && Date.now() < deadline) {
      await sleep(250);
      scrapes = await scrape();
    }
    for (const series of scrapes) {
      const states = series.map(s => s.labels['state']).sort();
      assert.ok(states.includes('waiting') && states.includes('prioritized'), states.join());
    }
    assert.equal(hpaValue(scrapes, metric), BACKLOG, JSON.stringify(scrapes));
    // Summing both watchers' copies instead would double it: the rule's `max by (state)` matters.
    const naive = scrapes
      .flat()
      .filter(s => ['waiting', 'prioritized'].includes(s.labels['state'] ?? ''));
    assert.equal(
      naive.reduce((a, s) => a + s.value, 0),
      2 * BACKLOG,
    );
  });
});
