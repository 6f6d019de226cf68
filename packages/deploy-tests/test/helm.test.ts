// The Helm chart (deploy/helm/stampede) with a real Helm (go/helm): `helm lint --strict` and
// `helm template` for the defaults and every example values file; each example renders what its
// Kustomize overlay renders (the same objects, the same RBAC rules, security contexts, NetworkPolicy
// specs and variables, and field for field everything else but DESIGNED_DIFFERENCES); the manifest
// invariants of manifests.test.ts hold for every rendering; and a server-side dry-run against the
// harness API server accepts them, as apiserver.test.ts does for the overlays.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadPolicy } from '@stampede/policy';
import { startControlPlane } from '@stampede/harness';
import type { ControlPlane } from '@stampede/harness';
import {
  admitPodTemplates,
  applyForReal,
  checkServerDryRun,
  installCrdStubs,
} from './support/dry-run.ts';
import {
  DESIGNED_DIFFERENCES,
  NAMESPACE,
  exampleNames,
  helmLint,
  helmTemplate,
  normalise,
  objectKey,
} from './support/helm.ts';
import { MANIFEST_INVARIANTS, checkSameScaling, mainContainer } from './support/invariants.ts';
import {
  named,
  ofKind,
  overlayNames,
  podTemplate,
  renderOverlay,
  workloads,
} from './support/render.ts';
import type { K8sObject } from './support/render.ts';

/** Examples with no overlay of their own: what Kustomize needs patches for. */
const HELM_ONLY = ['sentinel-tracing'];
/** The Helm renderings: each example (and the defaults, ''), with the Namespace object. */
const helm = new Map<string, { yaml: string; objects: K8sObject[] }>();
const kustomize = new Map<string, K8sObject[]>();
const withNamespace = ['namespace.create=true'];

const byKey = (objects: readonly K8sObject[]): Map<string, K8sObject> =>
  new Map(objects.map(o => [objectKey(o), o]));

/** Each pair (overlay, example of the same name). */
const pairs = (): [string, K8sObject[], K8sObject[]][] =>
  overlayNames().map(name => [name, kustomize.get(name) ?? [], helm.get(name)?.objects ?? []]);

const rulesOf = (objects: readonly K8sObject[]): Record<string, unknown> =>
  Object.fromEntries(
    objects
      .filter(o => /^(Cluster)?Role(Binding)?$/.test(o.kind))
      .map(o => [
        objectKey(o),
        { rules: o['rules'], roleRef: o['roleRef'], subjects: o['subjects'] },
      ]),
  );

const securityOf = (objects: readonly K8sObject[]): Record<string, unknown> =>
  Object.fromEntries(
    workloads(objects).map(w => {
      const { spec } = podTemplate(w);
      return [
        objectKey(w),
        {
          pod: spec.securityContext,
          serviceAccountName: spec.serviceAccountName,
          automountServiceAccountToken: spec.automountServiceAccountToken,
          containers: spec.containers.map(c => ({
            name: c.name,
            securityContext: c.securityContext,
          })),
        },
      ];
    }),
  );

const networkPoliciesOf = (objects: readonly K8sObject[]): Record<string, unknown> =>
  Object.fromEntries(
    ofKind(objects, 'NetworkPolicy').map(p => [objectKey(p), normalise(p)['spec']]),
  );

/** Each container's variables: names in order, and where a secret one comes from. */
const envOf = (objects: readonly K8sObject[]): Record<string, unknown> =>
  Object.fromEntries(
    workloads(objects).flatMap(w =>
      podTemplate(w).spec.containers.map(c => [
        `${objectKey(w)}/${c.name}`,
        (c.env ?? []).map(
          e =>
            `${e.name}${e.valueFrom?.secretKeyRef ? ` <- secret ${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}` : ''}`,
        ),
      ]),
    ),
  );

describe('deploy/helm/stampede', () => {
  before(async () => {
    const names = ['', ...exampleNames()];
    const rendered = await Promise.all(
      names.map(name => helmTemplate({ example: name || undefined, set: withNamespace })),
    );
    names.forEach((name, i) => helm.set(name, rendered[i] ?? { yaml: '', objects: [] }));
    for (const overlay of overlayNames())
      kustomize.set(overlay, (await renderOverlay(overlay)).objects);
  });

  it('has an example per Kustomize overlay, and says which examples have none', () => {
    assert.deepEqual(
      exampleNames(),
      [...overlayNames(), ...HELM_ONLY].sort(),
      'examples/<overlay>.yaml for every deploy/overlays/<overlay>',
    );
  });

  it('passes helm lint --strict with the defaults and every example', async () => {
    for (const example of [undefined, ...exampleNames()]) {
      const output = await helmLint({ example });
      assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/, example);
    }
  });

  it('renders the defaults as examples/minimal.yaml, and without the Namespace unless asked', async () => {
    assert.deepEqual(helm.get('')?.objects, helm.get('minimal')?.objects);
    const plain = await helmTemplate({});
    assert.deepEqual(
      plain.objects,
      (helm.get('')?.objects ?? []).filter(o => o.kind !== 'Namespace'),
    );
  });

  it('renders each object once, the same set of objects as its overlay', () => {
    for (const [overlay, fromKustomize, fromHelm] of pairs()) {
      const keys = fromHelm.map(objectKey);
      assert.equal(new Set(keys).size, keys.length, overlay);
      assert.deepEqual(
        fromHelm.map(o => objectKey(normalise(o))).sort(),
        fromKustomize.map(o => objectKey(normalise(o))).sort(),
        overlay,
      );
    }
  });

  it('grants the same RBAC rules to the same subjects as its overlay', () => {
    for (const [overlay, fromKustomize, fromHelm] of pairs())
      assert.deepEqual(rulesOf(fromHelm), rulesOf(fromKustomize), overlay);
  });

  it('runs every pod with the same security context, identity and token as its overlay', () => {
    for (const [overlay, fromKustomize, fromHelm] of pairs())
      assert.deepEqual(securityOf(fromHelm), securityOf(fromKustomize), overlay);
  });

  it('has the same NetworkPolicy specs as its overlay', () => {
    for (const [overlay, fromKustomize, fromHelm] of pairs())
      assert.deepEqual(networkPoliciesOf(fromHelm), networkPoliciesOf(fromKustomize), overlay);
  });

  it('gives every container the same variables from the same Secrets as its overlay', () => {
    for (const [overlay, fromKustomize, fromHelm] of pairs())
      assert.deepEqual(envOf(fromHelm), envOf(fromKustomize), overlay);
  });

  it(`is field for field its overlay, but for ${String(DESIGNED_DIFFERENCES.length)} designed differences`, () => {
    for (const [overlay, fromKustomize, fromHelm] of pairs()) {
      const expected = byKey(fromKustomize.map(normalise));
      for (const object of fromHelm.map(normalise)) {
        const key = objectKey(object);
        assert.deepEqual(object, expected.get(key), `${overlay}: ${key}`);
      }
    }
  });

  for (const invariant of MANIFEST_INVARIANTS) {
    it(`holds for every example: ${invariant.title}`, () => {
      for (const [name, { objects }] of helm) invariant.check(objects, name || 'defaults');
    });
  }

  it('scales on the real queue, with the same numbers through prometheus-adapter and KEDA', () => {
    checkSameScaling(helm.get('hpa')?.objects ?? [], helm.get('keda')?.objects ?? []);
  });

  it('renders a policy the workers load, from values', () => {
    for (const [name, { objects }] of helm) {
      const data = (named(objects, 'ConfigMap', 'stampede-policy')['data'] ?? {}) as Record<
        string,
        string
      >;
      const result = loadPolicy(parse(data['policy.yaml'] ?? ''));
      assert.ok(result.ok, `${name}: ${result.ok ? '' : result.errors.join('; ')}`);
    }
    const custom = named(
      helm.get('sentinel-tracing')?.objects ?? [],
      'ConfigMap',
      'stampede-policy',
    );
    assert.deepEqual(parse((custom['data'] as Record<string, string>)['policy.yaml'] ?? ''), {
      reserved: { ips: ['192.0.2.10/32'] },
    });
  });

  it('wires Sentinel, its AUTH Secret, OTLP and the Jaeger UI where examples/sentinel-tracing.yaml asks', () => {
    const objects = helm.get('sentinel-tracing')?.objects ?? [];
    for (const workload of ofKind(objects, 'Deployment')) {
      const env = mainContainer(podTemplate(workload).spec).env ?? [];
      const get = (name: string) => env.find(e => e.name === name);
      const where = workload.metadata.name;
      assert.match(
        get('REDIS_SENTINELS')?.value ?? '',
        /^stampede@sentinel-0\.redis\.svc:26379,/,
        where,
      );
      assert.deepEqual(get('REDIS_SENTINEL_PASSWORD')?.valueFrom?.secretKeyRef, {
        name: 'stampede-redis-sentinel',
        key: 'password',
      });
      // Traces from the watcher and worker; the dashboard links to them.
      const traced = {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger-collector.tracing.svc:4318',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        JAEGER_UI_URL: undefined,
      };
      const linked = {
        OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
        OTEL_TRACES_SAMPLER: undefined,
        JAEGER_UI_URL: 'http://jaeger-query.tracing.svc:16686',
      };
      const want = workload.metadata.name === 'stampede-dashboard' ? linked : traced;
      for (const [name, value] of Object.entries(want))
        assert.equal(get(name)?.value, value, `${where}: ${name}`);
      assert.deepEqual(
        (podTemplate(workload).spec as { imagePullSecrets?: unknown }).imagePullSecrets,
        [{ name: 'registry-credentials' }],
      );
    }
    const egress = JSON.stringify(
      named(objects, 'NetworkPolicy', 'stampede-dashboard-egress')['spec'],
    );
    assert.match(egress, /"port":26379/);
  });

  it('refuses values that would weaken it or render nonsense', async () => {
    const refused = async (set: string[], message: RegExp): Promise<void> => {
      await assert.rejects(helmTemplate({ set }), message);
    };
    await refused(['redis.mode=sentinel'], /redis.mode must be in-cluster or external/);
    await refused(['autoscaling.mode=both'], /autoscaling.mode must be none, hpa or keda/);
    // An empty `from` would admit every pod to the dashboard.
    await refused(
      ['dashboard.allowFrom.podLabels=null', 'dashboard.allowFrom.namespaceLabels=null'],
      /dashboard.allowFrom/,
    );
    await refused(['tracing.extraEnv.NODE_OPTIONS=--inspect'], /not an OTEL_\* variable/);
  });

  describe('against a real API server', () => {
    let cp: ControlPlane;
    let kubeconfig: string;
    // A Helm release's namespace exists before `helm install`; labelled as the guide says.
    const namespace = (): K8sObject[] =>
      ofKind(helm.get('')?.objects ?? [], 'Namespace').filter(n => n.metadata.name === NAMESPACE);

    before(async () => {
      cp = await startControlPlane();
      kubeconfig = cp.adminKubeconfigPath;
      await installCrdStubs(kubeconfig);
    });

    after(async () => {
      await cp.stop();
    });

    for (const name of ['', ...exampleNames()]) {
      it(`accepts every object of ${name ? `examples/${name}.yaml` : 'the defaults'} (as helm install renders it) in a server-side dry-run, without warnings`, async () => {
        const { yaml, objects } = await helmTemplate({ example: name || undefined });
        assert.equal(ofKind(objects, 'Namespace').length, 0);
        await checkServerDryRun(kubeconfig, yaml, objects, namespace());
      });
    }

    it('admits every pod template in the restricted namespace (Pod Security enforcement)', async () => {
      const seen = new Set<string>();
      for (const [, { objects }] of helm) {
        await applyForReal(kubeconfig, [...namespace(), ...ofKind(objects, 'ServiceAccount')]);
        // Every example's templates: they differ in variables and pull Secrets.
        const mine = new Set<string>();
        await admitPodTemplates(cp, objects, mine);
        for (const key of mine) seen.add(key);
      }
      assert.ok(
        seen.has('Deployment/stampede-worker') && seen.has('StatefulSet/stampede-redis'),
        [...seen].join(),
      );
    });
  });
});
