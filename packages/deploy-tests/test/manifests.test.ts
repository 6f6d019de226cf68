// What every rendered overlay must hold, checked on `kubectl kustomize` output: the invariants of
// support/invariants.ts (hardening, probes, resources, identities, the worker's grace period,
// availability, Redis wiring, network policy, the autoscaler, images; helm.test.ts applies the same
// to the Helm chart), plus what only the overlays fix: which overlay has which autoscaler, the same
// numbers through prometheus-adapter and KEDA, redis.conf and the adapter rule.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { MANIFEST_INVARIANTS, checkSameScaling } from './support/invariants.ts';
import { DEPLOY, ofKind, overlayNames, renderOverlay } from './support/render.ts';
import type { K8sObject } from './support/render.ts';

const rendered = new Map<string, K8sObject[]>();
const all = (): [string, K8sObject[]][] => [...rendered.entries()];

describe('rendered overlays', () => {
  before(async () => {
    for (const overlay of overlayNames())
      rendered.set(overlay, (await renderOverlay(overlay)).objects);
  });

  it('renders every overlay, each object once', () => {
    assert.deepEqual(overlayNames(), ['external-redis', 'hpa', 'keda', 'minimal', 'monitoring']);
    for (const [overlay, objects] of all()) {
      const keys = objects.map(o => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.equal(new Set(keys).size, keys.length, overlay);
    }
  });

  for (const invariant of MANIFEST_INVARIANTS) {
    it(invariant.title, () => {
      for (const [overlay, objects] of all()) invariant.check(objects, overlay);
    });
  }

  it('ships a redis.conf with AOF and noeviction', () => {
    const conf = readFileSync(join(DEPLOY, 'components/redis-in-cluster/redis.conf'), 'utf8');
    assert.match(conf, /^appendonly yes$/m);
    assert.match(conf, /^maxmemory-policy noeviction$/m);
    assert.doesNotMatch(conf, /requirepass/);
  });

  it('scales the workers with exactly one autoscaler where there is one, never two', () => {
    const autoscaled = { hpa: ['external-redis', 'hpa', 'monitoring'], keda: ['keda'] };
    for (const [overlay, objects] of all()) {
      assert.equal(
        ofKind(objects, 'HorizontalPodAutoscaler').length,
        autoscaled.hpa.includes(overlay) ? 1 : 0,
        overlay,
      );
      assert.equal(
        ofKind(objects, 'ScaledObject').length,
        autoscaled.keda.includes(overlay) ? 1 : 0,
        overlay,
      );
    }
  });

  it('scales on the real queue, with the same numbers through prometheus-adapter and KEDA', () => {
    checkSameScaling(rendered.get('hpa') ?? [], rendered.get('keda') ?? []);
  });

  it('ships the prometheus-adapter rule that serves the HPA metric, the same in both formats', () => {
    const rules = parse(
      readFileSync(join(DEPLOY, 'addons/prometheus-adapter/rules.yaml'), 'utf8'),
    ) as {
      externalRules: {
        seriesQuery: string;
        name: { as: string };
        metricsQuery: string;
        resources: unknown;
      }[];
    };
    const values = parse(
      readFileSync(join(DEPLOY, 'addons/prometheus-adapter/values.yaml'), 'utf8'),
    ) as { rules: { external: unknown } };
    assert.deepEqual(values.rules.external, rules.externalRules);
    const [rule] = rules.externalRules;
    assert.ok(rule !== undefined);
    assert.equal(rule.name.as, 'stampede_queue_jobs');
    assert.match(rule.seriesQuery, /^stampede_queue_jobs\{/);
    // The two watchers export the same gauge: de-duplicate, keep the state label for the HPA's sum.
    assert.equal(rule.metricsQuery, 'max by (state) (<<.Series>>{<<.LabelMatchers>>})');
    assert.deepEqual(rule.resources, { overrides: { namespace: { resource: 'namespace' } } });
  });
});
