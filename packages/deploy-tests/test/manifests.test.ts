// What every rendered overlay must hold, checked on `kubectl kustomize` output: hardening, probes,
// resources, identities, the worker's grace period, availability, Redis wiring, network policy, and
// one autoscaler per Deployment whose metric is the queue the code really uses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { APPROVAL_QUEUE } from '@stampede/contracts';
import {
  DEPLOY,
  ROOT,
  named,
  ofKind,
  overlayNames,
  podTemplate,
  renderOverlay,
  workloads,
} from './support/render.ts';
import type { Container, K8sObject, PodSpec } from './support/render.ts';
import { documentedVariables, isKnownVariable } from './support/services.ts';

const rendered = new Map<string, K8sObject[]>();
const all = (): [string, K8sObject[]][] => [...rendered.entries()];
const component = (o: K8sObject): string =>
  o.metadata.labels?.['app.kubernetes.io/component'] ?? '';

function envValue(container: Container, name: string): string | undefined {
  return container.env?.find(e => e.name === name)?.value;
}

const mainContainer = (spec: PodSpec): Container => {
  const [container] = spec.containers;
  assert.ok(container !== undefined && spec.containers.length === 1, 'one container per pod');
  return container;
};

interface Hpa {
  readonly spec: {
    readonly scaleTargetRef: { readonly name: string };
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly metrics: readonly {
      readonly external: {
        readonly metric: {
          readonly name: string;
          readonly selector: {
            readonly matchLabels: Readonly<Record<string, string>>;
            readonly matchExpressions: readonly { key: string; values: readonly string[] }[];
          };
        };
        readonly target: { readonly averageValue: string };
      };
    }[];
    readonly behavior: unknown;
  };
}

interface ScaledObjectSpec {
  readonly spec: {
    readonly scaleTargetRef: { readonly name: string };
    readonly minReplicaCount: number;
    readonly maxReplicaCount: number;
    readonly advanced: { readonly horizontalPodAutoscalerConfig: { readonly behavior: unknown } };
    readonly triggers: readonly {
      readonly type: string;
      readonly metadata: Readonly<Record<string, string>>;
    }[];
  };
}

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

  it('runs every pod non-root, read-only, without capabilities, with a seccomp profile', () => {
    for (const [overlay, objects] of all()) {
      for (const workload of workloads(objects)) {
        const where = `${overlay}: ${workload.metadata.name}`;
        const { spec } = podTemplate(workload);
        assert.partialDeepStrictEqual(
          spec,
          { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } },
          where,
        );
        assert.ok((spec.securityContext?.runAsUser ?? 0) > 0, where);
        for (const container of spec.containers) {
          assert.partialDeepStrictEqual(
            container,
            {
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
            where,
          );
          assert.equal(container.securityContext?.capabilities?.add, undefined, where);
        }
      }
    }
  });

  /** Liveness and readiness probes, each on a port the container declares (or an exec probe). */
  function checkProbes(container: Container, where: string): void {
    const ports = new Set((container.ports ?? []).map(p => p.name));
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      assert.ok(probe !== undefined, `${where}: probe`);
      const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
      if (port !== undefined) assert.ok(ports.has(String(port)), where);
      else assert.ok(probe.exec !== undefined, where);
    }
  }

  it('gives every container probes on a declared port, and memory and CPU requests with a memory limit', () => {
    for (const [overlay, objects] of all()) {
      for (const workload of workloads(objects)) {
        const container = mainContainer(podTemplate(workload).spec);
        const where = `${overlay}: ${workload.metadata.name}`;
        checkProbes(container, where);
        const { requests = {}, limits = {} } = container.resources ?? {};
        assert.ok('cpu' in requests && 'memory' in requests && 'memory' in limits, where);
        if (component(workload) === 'watcher' || component(workload) === 'worker') {
          assert.partialDeepStrictEqual(
            container,
            {
              readinessProbe: { httpGet: { path: '/readyz' } },
              livenessProbe: { httpGet: { path: '/healthz' } },
            },
            where,
          );
        }
      }
    }
  });

  it('sets only variables the services document, and a HEALTH_PORT matching the probed port', () => {
    const documented = new Map(
      ['watcher', 'worker', 'dashboard'].map(s => [s, documentedVariables(ROOT, s)]),
    );
    for (const [overlay, objects] of all()) {
      for (const workload of ofKind(objects, 'Deployment')) {
        const service = component(workload);
        const known = documented.get(service);
        if (known === undefined) continue; // services/dashboard is not there yet
        const container = mainContainer(podTemplate(workload).spec);
        for (const { name } of container.env ?? [])
          // REDIS_PASSWORD only feeds REDIS_URL's $(REDIS_PASSWORD) expansion.
          assert.ok(
            isKnownVariable(known, name) || name === 'REDIS_PASSWORD',
            `${overlay}: ${service} gets ${name}`,
          );
        const port = container.ports?.find(p => p.name === 'http')?.containerPort;
        if (service !== 'dashboard')
          assert.equal(envValue(container, 'HEALTH_PORT'), String(port), overlay);
      }
    }
  });

  it('runs each service under its own ServiceAccount; only the watcher and worker get a token', () => {
    for (const [overlay, objects] of all()) {
      const accounts = new Set(ofKind(objects, 'ServiceAccount').map(sa => sa.metadata.name));
      for (const workload of workloads(objects)) {
        const { spec } = podTemplate(workload);
        const service = component(workload);
        assert.equal(spec.serviceAccountName, `stampede-${service}`, overlay);
        assert.ok(accounts.has(spec.serviceAccountName), overlay);
        assert.equal(
          spec.automountServiceAccountToken,
          ['watcher', 'worker'].includes(service),
          `${overlay}: ${service}`,
        );
      }
    }
  });

  it('gives the worker a grace period covering its shutdown deadline', () => {
    for (const [overlay, objects] of all()) {
      const { spec } = podTemplate(named(objects, 'Deployment', 'stampede-worker'));
      const deadline = Number(envValue(mainContainer(spec), 'SHUTDOWN_DEADLINE_SECONDS'));
      assert.ok(deadline > 0, `${overlay}: SHUTDOWN_DEADLINE_SECONDS is set explicitly`);
      assert.ok((spec.terminationGracePeriodSeconds ?? 30) >= deadline + 5, overlay);
    }
  });

  it('keeps two watchers on different nodes under a PDB, and spreads workers under a PDB', () => {
    for (const [overlay, objects] of all()) {
      const watcher = named(objects, 'Deployment', 'stampede-watcher');
      assert.equal((watcher['spec'] as { replicas: number }).replicas, 2, overlay);
      const antiAffinity = JSON.stringify(podTemplate(watcher).spec);
      // Preferred: required anti-affinity would deadlock a surge rollout on a 2-node cluster.
      assert.match(
        antiAffinity,
        /preferredDuringSchedulingIgnoredDuringExecution.*kubernetes\.io\/hostname/,
      );
      const worker = podTemplate(named(objects, 'Deployment', 'stampede-worker'));
      const keys = (worker.spec.topologySpreadConstraints ?? []).map(c => c.topologyKey);
      assert.deepEqual(keys.sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const name of ['stampede-watcher', 'stampede-worker']) {
        const pdb = named(objects, 'PodDisruptionBudget', name);
        const selector = (pdb['spec'] as { selector: { matchLabels: Record<string, string> } })
          .selector;
        const labels = podTemplate(named(objects, 'Deployment', name)).metadata.labels ?? {};
        for (const [key, value] of Object.entries(selector.matchLabels))
          assert.equal(labels[key], value, `${overlay}: ${name}`);
      }
    }
  });

  it('enforces Pod Security restricted on the namespace', () => {
    for (const [overlay, objects] of all()) {
      const labels = named(objects, 'Namespace', 'stampede-system').metadata.labels ?? {};
      assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted', overlay);
    }
  });

  function checkRedisClient(workload: K8sObject, inCluster: boolean, where: string): void {
    const template = podTemplate(workload);
    const url = mainContainer(template.spec).env?.filter(e => e.name === 'REDIS_URL') ?? [];
    assert.equal(url.length, 1, `${where}: REDIS_URL`);
    assert.equal(template.metadata.labels?.['stampede.io/redis-client'], 'true', where);
    if (inCluster)
      assert.match(url[0]?.value ?? '', /^redis:\/\/:\$\(REDIS_PASSWORD\)@stampede-redis\./);
    else assert.equal(url[0]?.valueFrom?.secretKeyRef?.name, 'stampede-redis-external', where);
  }

  it('wires every Redis client to exactly one Redis, and lets only them reach the in-cluster one', () => {
    for (const [overlay, objects] of all()) {
      const inCluster = objects.some(
        o => o.kind === 'StatefulSet' && o.metadata.name === 'stampede-redis',
      );
      for (const workload of ofKind(objects, 'Deployment'))
        checkRedisClient(workload, inCluster, `${overlay}: ${workload.metadata.name}`);
      const policies = new Set(ofKind(objects, 'NetworkPolicy').map(p => p.metadata.name));
      assert.ok(policies.has('stampede-default-deny-ingress'), overlay);
      // The autoscalers read the queue depth through Prometheus, which must be let in everywhere.
      assert.ok(policies.has('stampede-allow-prometheus'), overlay);
      if (inCluster) {
        const redisPolicy = JSON.stringify(
          named(objects, 'NetworkPolicy', 'stampede-redis')['spec'],
        );
        assert.match(redisPolicy, /"stampede\.io\/redis-client":"true"/);
      }
    }
  });

  it('ships a redis.conf with AOF and noeviction', () => {
    const conf = readFileSync(join(DEPLOY, 'components/redis-in-cluster/redis.conf'), 'utf8');
    assert.match(conf, /^appendonly yes$/m);
    assert.match(conf, /^maxmemory-policy noeviction$/m);
    assert.doesNotMatch(conf, /requirepass/);
  });

  it('scales the workers with exactly one autoscaler where there is one, never two', () => {
    const autoscaled = { hpa: ['external-redis', 'hpa', 'monitoring'], keda: ['keda'] };
    for (const [overlay, objects] of all()) {
      const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
      const scaled = ofKind(objects, 'ScaledObject');
      assert.equal(hpas.length, autoscaled.hpa.includes(overlay) ? 1 : 0, overlay);
      assert.equal(scaled.length, autoscaled.keda.includes(overlay) ? 1 : 0, overlay);
      const worker = named(objects, 'Deployment', 'stampede-worker')['spec'] as {
        replicas?: number;
      };
      // An autoscaler owns the replica count; a manifest value would reset it on every apply.
      assert.equal(worker.replicas === undefined, hpas.length + scaled.length === 1, overlay);
    }
  });

  it('scales on the real queue, with the same numbers through prometheus-adapter and KEDA', () => {
    const hpa = ofKind(rendered.get('hpa') ?? [], 'HorizontalPodAutoscaler')[0] as unknown as Hpa;
    const keda = ofKind(
      rendered.get('keda') ?? [],
      'ScaledObject',
    )[0] as unknown as ScaledObjectSpec;
    const [metric] = hpa.spec.metrics;
    assert.ok(metric !== undefined);
    assert.equal(hpa.spec.scaleTargetRef.name, 'stampede-worker');
    assert.equal(metric.external.metric.name, 'stampede_queue_jobs');
    assert.equal(metric.external.metric.selector.matchLabels['queue'], APPROVAL_QUEUE);
    // Jobs carry a priority, so a backlog sits in `prioritized` (redis.test.ts shows it).
    assert.deepEqual(metric.external.metric.selector.matchExpressions, [
      { key: 'state', operator: 'In', values: ['waiting', 'prioritized'] },
    ]);
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);

    assert.equal(keda.spec.scaleTargetRef.name, 'stampede-worker');
    assert.equal(keda.spec.minReplicaCount, hpa.spec.minReplicas);
    assert.equal(keda.spec.maxReplicaCount, hpa.spec.maxReplicas);
    assert.deepEqual(keda.spec.advanced.horizontalPodAutoscalerConfig.behavior, hpa.spec.behavior);
    const [trigger] = keda.spec.triggers;
    assert.equal(trigger?.type, 'prometheus');
    assert.equal(trigger.metadata['threshold'], metric.external.target.averageValue);
    const query = trigger.metadata['query'] ?? '';
    assert.match(
      query,
      new RegExp(
        `^sum\\(max by \\(state\\) \\(stampede_queue_jobs\\{.*queue="${APPROVAL_QUEUE}".*\\}\\)\\)$`,
      ),
    );
    assert.match(query, /state=~"waiting\|prioritized"/);
    assert.match(query, /namespace="stampede-system"/);
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

  it('references the images the Dockerfile builds', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const [overlay, objects] of all()) {
      for (const workload of ofKind(objects, 'Deployment')) {
        const image = mainContainer(podTemplate(workload).spec).image;
        const match = /^stampede\/(\w+):[\w.-]+$/.exec(image);
        assert.ok(match, `${overlay}: ${image}`);
        assert.match(
          dockerfile,
          new RegExp(`AS ${match[1] ?? ''}\\n`),
          `${overlay}: target for ${image}`,
        );
      }
    }
  });
});
