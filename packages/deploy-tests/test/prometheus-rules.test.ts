// The alert rules in deploy/addons/prometheus: the plain rules file and the PrometheusRule hold the
// same groups; every series they read is one the services export; every alert tells the operator
// what to do; and a real promtool (go/promtool) accepts the rules and runs rules.test.yaml, where
// each alert is seen firing and staying quiet.
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
const DIR = join(ROOT, 'deploy', 'addons', 'prometheus');

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}
interface Groups {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}
interface RuleTests {
  readonly tests: readonly {
    readonly alert_rule_test?: readonly {
      readonly alertname: string;
      readonly exp_alerts: readonly unknown[];
    }[];
  }[];
}

const readYaml = async <T>(name: string): Promise<T> =>
  parseYaml(await readFile(join(DIR, name), 'utf8')) as T;

describe('the alert rules (deploy/addons/prometheus)', () => {
  let rules: Groups;
  let alerts: Rule[];

  before(async () => {
    rules = await readYaml<Groups>('rules.yaml');
    alerts = rules.groups.flatMap(g => g.rules);
  });

  it("the PrometheusRule carries rules.yaml's groups, word for word", async () => {
    const manifest = await readYaml<{ kind: string; metadata: object; spec: Groups }>(
      'prometheusrule.yaml',
    );
    assert.equal(manifest.kind, 'PrometheusRule');
    assert.deepEqual(manifest.metadata, {
      name: 'stampede',
      namespace: 'stampede-system',
      labels: { 'app.kubernetes.io/name': 'stampede', 'app.kubernetes.io/component': 'alerts' },
    });
    assert.deepEqual(manifest.spec, rules);
  });

  it('the alerts cover what the operator guide promises', () => {
    assert.deepEqual(alerts.map(a => a.alert).sort(), [
      'StampedeBacklogGrowing',
      'StampedeCsrsPendingTooLong',
      'StampedeDecisionsSlow',
      'StampedeDenialsHigh',
      'StampedeJobsFailing',
      'StampedeKubeApiErrors',
      'StampedeKubeApiThrottled',
      'StampedeRedisErrors',
      'StampedeWatchRestarting',
      'StampedeWorkersNotDeciding',
    ]);
  });

  it('every alert has a severity, a summary and a one-line runbook', () => {
    for (const alert of alerts) {
      assert.match(alert.labels?.['severity'] ?? '', /^(warning|critical)$/, alert.alert);
      assert.ok((alert.annotations?.['summary'] ?? '').length > 0, `${alert.alert}: summary`);
      const runbook = alert.annotations?.['runbook'] ?? '';
      assert.ok(runbook.length > 40, `${alert.alert}: runbook`);
      assert.doesNotMatch(runbook, /\n/, `${alert.alert}: the runbook is one line`);
    }
  });

  it('every series the rules read is one the watcher or the worker exports', async () => {
    const exported = await exportedSeries();
    for (const alert of alerts) {
      const used = seriesIn(alert.expr);
      assert.ok(used.length > 0, `${alert.alert} reads no stampede series`);
      for (const name of used)
        assert.ok(exported.has(name), `${alert.alert}: ${name} is not exported`);
    }
  });

  it('rules.test.yaml sees every alert fire and every alert stay quiet', async () => {
    const { tests } = await readYaml<RuleTests>('rules.test.yaml');
    const cases = tests.flatMap(t => t.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const mine = cases.filter(c => c.alertname === alert);
      assert.ok(
        mine.some(c => c.exp_alerts.length > 0),
        `${alert} is never seen firing`,
      );
      assert.ok(
        mine.some(c => c.exp_alerts.length === 0),
        `${alert} is never seen quiet`,
      );
    }
  });

  describe('with a real promtool', () => {
    let promtool: string;
    let dir: string;

    before(async () => {
      promtool = await resolvePromtoolBinary(line => process.stderr.write(`${line}\n`));
      dir = await mkdtemp(join(tmpdir(), 'stampede-promtool-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('accepts the rules file and the PrometheusRule’s spec', async () => {
      const manifest = await readYaml<{ spec: Groups }>('prometheusrule.yaml');
      const extracted = join(dir, 'prometheusrule-spec.yaml');
      await writeFile(extracted, toYaml(manifest.spec));
      const { stdout } = await exec(promtool, [
        'check',
        'rules',
        '--lint=all',
        '--lint-fatal',
        join(DIR, 'rules.yaml'),
        extracted,
      ]);
      assert.match(stdout, new RegExp(`SUCCESS: ${String(alerts.length)} rules found`));
    });

    it('passes rules.test.yaml: each alert fires, and stays quiet, when it should', async () => {
      // promtool prints which case failed and why on stdout and exits 1: show that, not the exit.
      const result: { stdout?: string; stderr?: string } = await exec(promtool, [
        'test',
        'rules',
        join(DIR, 'rules.test.yaml'),
      ]).catch((error: unknown) => error as { stdout?: string; stderr?: string });
      assert.match(result.stdout ?? '', /SUCCESS/, `${result.stdout ?? ''}${result.stderr ?? ''}`);
    });
  });
});
