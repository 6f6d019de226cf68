// What every rendered install of stampede must hold, whoever rendered it (`kubectl kustomize` of an
// overlay in manifests.test.ts, `helm template` of an example in helm.test.ts): hardening, probes,
// resources, identities, the worker's grace period, availability, Redis wiring, network policy, the
// autoscaler, images. Each check takes the objects of one rendering and a label for its messages.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPROVAL_QUEUE } from '@stampede/contracts';
import { ROOT, named, ofKind, podTemplate, workloads } from './render.ts';
import type { Container, K8sObject, PodSpec } from './render.ts';
import { documentedVariables, isKnownVariable } from './services.ts';

export const component = (o: K8sObject): string =>
  o.metadata.labels?.['app.kubernetes.io/component'] ?? '';

export function envValue(container: Container, name: string): string | undefined {
  return container.env?.find(e => e.name === name)?.value;
}

export const mainContainer = (spec: PodSpec): Container => {
  const [container] = spec.containers;
  assert.ok(container !== undefined && spec.containers.length === 1, 'one container per pod');
  return container;
};

export interface Invariant {
  readonly title: string;
  check(objects: readonly K8sObject[], where: string): void;
}

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

function checkRedisClient(workload: K8sObject, inCluster: boolean, where: string): void {
  const template = podTemplate(workload);
  const url = mainContainer(template.spec).env?.filter(e => e.name === 'REDIS_URL') ?? [];
  assert.equal(url.length, 1, `${where}: REDIS_URL`);
  assert.equal(template.metadata.labels?.['stampede.io/redis-client'], 'true', where);
  if (inCluster)
    assert.match(url[0]?.value ?? '', /^redis:\/\/:\$\(REDIS_PASSWORD\)@stampede-redis\./);
  else assert.equal(url[0]?.valueFrom?.secretKeyRef?.name, 'stampede-redis-external', where);
}

let documented: Map<string, Set<string> | undefined> | undefined;
/** Each service's `--help` variables, read once per process. */
const documentedBy = (service: string): Set<string> | undefined => {
  documented ??= new Map(
    ['watcher', 'worker', 'dashboard'].map(s => [s, documentedVariables(ROOT, s)]),
  );
  return documented.get(service);
};

export const MANIFEST_INVARIANTS: readonly Invariant[] = [
  {
    title: 'runs every pod non-root, read-only, without capabilities, with a seccomp profile',
    check(objects: readonly K8sObject[], where: string): void {
      for (const workload of workloads(objects)) {
        const at = `${where}: ${workload.metadata.name}`;
        const { spec } = podTemplate(workload);
        assert.partialDeepStrictEqual(
          spec,
          { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } },
          at,
        );
        assert.ok((spec.securityContext?.runAsUser ?? 0) > 0, at);
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
            at,
          );
          assert.equal(container.securityContext?.capabilities?.add, undefined, at);
        }
      }
    },
  },
  {
    title:
      'gives every container probes on a declared port, and memory and CPU requests with a memory limit',
    check(objects: readonly K8sObject[], where: string): void {
      for (const workload of workloads(objects)) {
        const container = mainContainer(podTemplate(workload).spec);
        const at = `${where}: ${workload.metadata.name}`;
        checkProbes(container, at);
        const { requests = {}, limits = {} } = container.resources ?? {};
        assert.ok('cpu' in requests && 'memory' in requests && 'memory' in limits, at);
        if (component(workload) === 'watcher' || component(workload) === 'worker') {
          assert.partialDeepStrictEqual(
            container,
            {
              readinessProbe: { httpGet: { path: '/readyz' } },
              livenessProbe: { httpGet: { path: '/healthz' } },
            },
            at,
          );
        }
      }
    },
  },
  {
    title: 'sets only variables the services document, and a HEALTH_PORT matching the probed port',
    check(objects: readonly K8sObject[], where: string): void {
      for (const workload of ofKind(objects, 'Deployment')) {
        const service = component(workload);
        const known = documentedBy(service);
        if (known === undefined) continue; // a service that is not there yet
        const container = mainContainer(podTemplate(workload).spec);
        for (const { name } of container.env ?? [])
          // REDIS_PASSWORD only feeds REDIS_URL's $(REDIS_PASSWORD) expansion.
          assert.ok(
            isKnownVariable(known, name) || name === 'REDIS_PASSWORD',
            `${where}: ${service} gets ${name}`,
          );
        const port = container.ports?.find(p => p.name === 'http')?.containerPort;
        if (service !== 'dashboard')
          assert.equal(envValue(container, 'HEALTH_PORT'), String(port), where);
      }
    },
  },
  {
    title:
      'runs each service under its own ServiceAccount; only the watcher and worker get a token',
    check(objects: readonly K8sObject[], where: string): void {
      const accounts = new Set(ofKind(objects, 'ServiceAccount').map(sa => sa.metadata.name));
      for (const workload of workloads(objects)) {
        const { spec } = podTemplate(workload);
        const service = component(workload);
        assert.equal(spec.serviceAccountName, `stampede-${service}`, where);
        assert.ok(accounts.has(spec.serviceAccountName), where);
        assert.equal(
          spec.automountServiceAccountToken,
          ['watcher', 'worker'].includes(service),
          `${where}: ${service}`,
        );
      }
    },
  },
  {
    title: 'gives the worker a grace period covering its shutdown deadline',
    check(objects: readonly K8sObject[], where: string): void {
      const { spec } = podTemplate(named(objects, 'Deployment', 'stampede-worker'));
      const deadline = Number(envValue(mainContainer(spec), 'SHUTDOWN_DEADLINE_SECONDS'));
      assert.ok(deadline > 0, `${where}: SHUTDOWN_DEADLINE_SECONDS is set explicitly`);
      assert.ok((spec.terminationGracePeriodSeconds ?? 30) >= deadline + 5, where);
    },
  },
  {
    title: 'keeps two watchers on different nodes under a PDB, and spreads workers under a PDB',
    check(objects: readonly K8sObject[], where: string): void {
      const watcher = named(objects, 'Deployment', 'stampede-watcher');
      assert.equal((watcher['spec'] as { replicas: number }).replicas, 2, where);
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
          assert.equal(labels[key], value, `${where}: ${name}`);
      }
    },
  },
  {
    title: 'enforces Pod Security restricted on the namespace',
    check(objects: readonly K8sObject[], where: string): void {
      const labels = named(objects, 'Namespace', 'stampede-system').metadata.labels ?? {};
      assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted', where);
    },
  },
  {
    title:
      'wires every Redis client to exactly one Redis, and lets only them reach the in-cluster one',
    check(objects: readonly K8sObject[], where: string): void {
      const inCluster = objects.some(
        o => o.kind === 'StatefulSet' && o.metadata.name === 'stampede-redis',
      );
      for (const workload of ofKind(objects, 'Deployment'))
        checkRedisClient(workload, inCluster, `${where}: ${workload.metadata.name}`);
      const policies = new Set(ofKind(objects, 'NetworkPolicy').map(p => p.metadata.name));
      assert.ok(policies.has('stampede-default-deny-ingress'), where);
      // The autoscalers read the queue depth through Prometheus, which must be let in everywhere.
      assert.ok(policies.has('stampede-allow-prometheus'), where);
      if (inCluster) {
        const redisPolicy = JSON.stringify(
          named(objects, 'NetworkPolicy', 'stampede-redis')['spec'],
        );
        assert.match(redisPolicy, /"stampede\.io\/redis-client":"true"/);
      }
    },
  },
  {
    title: 'scales the workers with at most one autoscaler, which then owns the replica count',
    check(objects: readonly K8sObject[], where: string): void {
      const autoscalers =
        ofKind(objects, 'HorizontalPodAutoscaler').length + ofKind(objects, 'ScaledObject').length;
      assert.ok(autoscalers <= 1, `${where}: ${String(autoscalers)} autoscalers`);
      const worker = named(objects, 'Deployment', 'stampede-worker')['spec'] as {
        replicas?: number;
      };
      // An autoscaler owns the replica count; a manifest value would reset it on every apply.
      assert.equal(worker.replicas === undefined, autoscalers === 1, where);
    },
  },
  {
    title: 'references the images the Dockerfile builds',
    check(objects: readonly K8sObject[], where: string): void {
      const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
      for (const workload of ofKind(objects, 'Deployment')) {
        const image = mainContainer(podTemplate(workload).spec).image;
        const match = /^stampede\/(\w+):[\w.-]+$/.exec(image);
        assert.ok(match, `${where}: ${image}`);
        assert.match(
          dockerfile,
          new RegExp(`AS ${match[1] ?? ''}\\n`),
          `${where}: target for ${image}`,
        );
      }
    },
  },
];

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

/**
 * The HPA of one rendering and the ScaledObject of another scale on the real queue, with the same
 * numbers through prometheus-adapter and KEDA.
 */
export function checkSameScaling(
  withHpa: readonly K8sObject[],
  withKeda: readonly K8sObject[],
): void {
  const hpa = ofKind(withHpa, 'HorizontalPodAutoscaler')[0] as unknown as Hpa;
  const keda = ofKind(withKeda, 'ScaledObject')[0] as unknown as ScaledObjectSpec;
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
}
