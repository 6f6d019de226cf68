// The monitoring add-ons on real data: a real Prometheus (go/promtool's cmd/prometheus) scrapes a
// running watcher and worker while they decide kubelets' CSRs on the harness's control plane, and
// loads the alert rules. Every Grafana dashboard query, the HPA adapter's and KEDA's queries return
// data, and every alert rule evaluates without error. Traffic stays on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  KubeletEmulator,
  System,
  freePort,
  resolvePrometheusBinary,
  until,
} from '@stampede/harness';
import type { NodeAddress } from '@stampede/harness';
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import { ROOT } from './support/render.ts';

const ADDONS = join(ROOT, 'deploy', 'addons');
/** The namespace label a ServiceMonitor scrape adds; the KEDA and adapter queries select on it. */
const NAMESPACE = 'stampede-system';

interface QueryResult {
  readonly status: string;
  readonly error?: string;
  readonly data?: { readonly result: readonly unknown[] };
}

const addressesOf = (name: string, ip: string): NodeAddress[] => [
  { type: 'Hostname', address: name },
  { type: 'InternalIP', address: ip },
];

/** Every query the add-ons run, named by where it comes from. */
async function addonQueries(): Promise<{ readonly from: string; readonly expr: string }[]> {
  const dashboard = JSON.parse(
    await readFile(join(ADDONS, 'grafana', 'dashboard.json'), 'utf8'),
  ) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  // Grafana's $__rate_interval is at least four scrape intervals; the scrape here is every second.
  const fromDashboard = dashboard.panels.flatMap(p =>
    p.targets.map(t => ({
      from: `dashboard: ${p.title}`,
      expr: t.expr.replaceAll('$__rate_interval', '15s'),
    })),
  );
  const adapter = parseYaml(
    await readFile(join(ADDONS, 'prometheus-adapter', 'rules.yaml'), 'utf8'),
  ) as {
    externalRules: { metricsQuery: string }[];
  };
  const fromAdapter = adapter.externalRules.map(r => ({
    from: 'prometheus-adapter',
    expr: r.metricsQuery
      .replace('<<.Series>>', 'stampede_queue_jobs')
      .replace('<<.LabelMatchers>>', `namespace="${NAMESPACE}",queue="csr-approvals"`),
  }));
  const keda = await readFile(
    join(ROOT, 'deploy', 'components', 'keda', 'scaledobject.yaml'),
    'utf8',
  );
  const fromKeda = [...keda.matchAll(/^\s+query: (.+)$/gm)].map(m => ({
    from: 'keda',
    expr: m[1] ?? '',
  }));
  return [...fromDashboard, ...fromAdapter, ...fromKeda];
}

describe('a real Prometheus scraping the watcher and the worker', () => {
  let system: System;
  let dir: string;
  let prometheus: ChildProcess;
  let api: string;

  const query = async (expr: string): Promise<QueryResult> => {
    const response = await fetch(
      `${api}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`,
    );
    return (await response.json()) as QueryResult;
  };

  before(async () => {
    const binary = await resolvePrometheusBinary(line => process.stderr.write(`${line}\n`));
    system = await System.start();
    const services = [await system.start('watcher'), await system.start('worker')];
    const targets = await Promise.all(
      services.map(async s => `127.0.0.1:${String(await s.healthPort)}`),
    );
    dir = await mkdtemp(join(tmpdir(), 'stampede-prometheus-'));
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(ADDONS, 'prometheus', 'rules.yaml')],
      scrape_configs: [
        { job_name: 'stampede', static_configs: [{ targets, labels: { namespace: NAMESPACE } }] },
      ],
    };
    await writeFile(join(dir, 'prometheus.yml'), toYaml(config));
    const port = await freePort();
    api = `http://127.0.0.1:${String(port)}`;
    prometheus = spawn(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${String(port)}`,
      ],
      { stdio: 'ignore' },
    );
    await until(
      'Prometheus ready',
      async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.ok,
      30_000,
    );

    // Decisions of both kinds, and a CSR whose Node does not exist (retried: a delayed job, 404s).
    await system.cp.createNode('owner', addressesOf('owner', '10.0.0.1'), {
      createdAt: new Date(Date.now() - 3_600_000),
    });
    await system.cp.createNode('thief', addressesOf('thief', '10.0.1.1'));
    const kubelet = (name: string, ip: string) =>
      new KubeletEmulator({ nodeName: name, addresses: addressesOf(name, ip), harness: system.cp });
    await Promise.all([
      kubelet('owner', '10.0.0.1').createCsr(),
      kubelet('thief', '10.0.0.1').createCsr(),
      kubelet('not-yet', '10.0.2.1').createCsr(),
    ]);
  });

  after(async () => {
    prometheus.kill('SIGKILL');
    await system.stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('every dashboard, adapter and KEDA query returns data', async () => {
    const queries = await addonQueries();
    assert.ok(
      queries.some(q => q.from === 'keda') && queries.some(q => q.from === 'prometheus-adapter'),
    );
    let missing: string[] = [];
    // Until the rates have two samples of every series; then each query must have a result.
    await until(
      'every query has data',
      async () => {
        const results = await Promise.all(queries.map(async q => ({ q, r: await query(q.expr) })));
        missing = results
          .filter(({ r }) => r.status !== 'success' || (r.data?.result.length ?? 0) === 0)
          .map(({ q, r }) => `${q.from}: ${q.expr}${r.error === undefined ? '' : ` (${r.error})`}`);
        return missing.length === 0 ? true : undefined;
      },
      40_000,
    ).catch(() => undefined);
    assert.deepEqual(missing, [], 'queries without data');
  });

  it('every alert rule is loaded and evaluates without error', async () => {
    const response = await fetch(`${api}/api/v1/rules?type=alert`);
    const body = (await response.json()) as {
      data: {
        groups: {
          rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[];
        }[];
      };
    };
    const rules = body.data.groups.flatMap(g => g.rules);
    assert.equal(rules.length, 10);
    for (const rule of rules) {
      assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? ''}`);
      assert.notEqual(rule.lastEvaluation, '0001-01-01T00:00:00Z', `${rule.name} never evaluated`);
    }
  });
});
