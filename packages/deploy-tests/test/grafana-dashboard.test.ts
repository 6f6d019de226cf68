// The Grafana dashboard in deploy/addons/grafana: the ConfigMap carries dashboard.json as is, for
// the sidecar; it shows what the issue asks for; every query reads series the services export; and
// every PromQL expression parses, by a real promtool checking them as recording rules (promtool
// has no offline "parse this query", and a rule's expr goes through the same parser).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { resolvePromtoolBinary } from '@stampede/harness';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { exportedSeries, seriesIn } from './support/exported-series.ts';
import { ROOT } from './support/render.ts';

const exec = promisify(execFile);
const DIR = join(ROOT, 'deploy', 'addons', 'grafana');

interface Panel {
  readonly title: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly { readonly expr: string; readonly refId: string }[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: readonly { readonly type: string; readonly name: string }[];
  };
}

/** Grafana's interval variables, as a plain duration the Prometheus parser reads. */
const asPromql = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m');

describe('the Grafana dashboard (deploy/addons/grafana)', () => {
  let dashboard: Dashboard;
  let exprs: { readonly panel: string; readonly expr: string }[];

  before(async () => {
    dashboard = JSON.parse(await readFile(join(DIR, 'dashboard.json'), 'utf8')) as Dashboard;
    exprs = dashboard.panels.flatMap(p =>
      (p.targets ?? []).map(t => ({ panel: p.title, expr: t.expr })),
    );
  });

  it('ships as a ConfigMap the Grafana sidecar loads, holding dashboard.json as is', async () => {
    const configMap = parseYaml(await readFile(join(DIR, 'configmap.yaml'), 'utf8')) as {
      kind: string;
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    assert.equal(configMap.kind, 'ConfigMap');
    assert.equal(configMap.metadata.labels['grafana_dashboard'], '1');
    assert.deepEqual(Object.keys(configMap.data), ['stampede.json']);
    assert.deepEqual(JSON.parse(configMap.data['stampede.json'] ?? ''), dashboard);
  });

  it('shows decisions, time to decision, backlog, workers, API latency and errors, and Redis errors', () => {
    const titles = dashboard.panels.map(p => p.title);
    for (const wanted of [
      'Decisions by outcome',
      'Denials by reason',
      'Time to decision',
      'Backlog by state',
      'Workers and watchers',
      'API latency p99 by verb',
      'API errors by code',
      'Redis errors',
    ]) {
      assert.ok(titles.includes(wanted), `no panel "${wanted}" in ${titles.join(', ')}`);
    }
  });

  it('every panel queries the Prometheus chosen in the datasource variable', () => {
    assert.ok(
      dashboard.templating.list.some(v => v.type === 'datasource' && v.name === 'datasource'),
    );
    for (const panel of dashboard.panels) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has no query`);
    }
  });

  it('every query reads only series the watcher or the worker exports', async () => {
    const exported = await exportedSeries();
    for (const { panel, expr } of exprs) {
      const used = seriesIn(expr);
      assert.ok(used.length > 0, `${panel}: ${expr} reads no stampede series`);
      for (const name of used) assert.ok(exported.has(name), `${panel}: ${name} is not exported`);
    }
  });

  describe('with a real promtool', () => {
    let promtool: string;
    let dir: string;

    before(async () => {
      promtool = await resolvePromtoolBinary(line => process.stderr.write(`${line}\n`));
      dir = await mkdtemp(join(tmpdir(), 'stampede-dashboard-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('every PromQL expression parses', async () => {
      const rules = exprs.map(({ expr }, i) => ({
        record: `dashboard:query_${String(i)}`,
        expr: asPromql(expr),
      }));
      const file = join(dir, 'dashboard-queries.yaml');
      await writeFile(file, toYaml({ groups: [{ name: 'dashboard', rules }] }));
      const result: { stdout?: string; stderr?: string } = await exec(promtool, [
        'check',
        'rules',
        file,
      ]).catch((error: unknown) => error as { stdout?: string; stderr?: string });
      assert.match(
        result.stdout ?? '',
        new RegExp(`SUCCESS: ${String(rules.length)} rules found`),
        `${result.stdout ?? ''}${result.stderr ?? ''}`,
      );
    });
  });
});
