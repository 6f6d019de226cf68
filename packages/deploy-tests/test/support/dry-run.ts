// Rendered manifests against a real kube-apiserver (the harness): stand-in CRDs for the kinds other
// projects define, a server-side dry-run with strict field validation, Pod Security admission of
// each pod template, and the CRD kinds' schema checks. Used for the Kustomize overlays
// (apiserver.test.ts) and the Helm chart (helm.test.ts).
import assert from 'node:assert/strict';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { ControlPlane } from '@stampede/harness';
import { kubectl } from './kubectl.ts';
import { ofKind, podTemplate, workloads } from './render.ts';
import type { K8sObject } from './render.ts';

/** Kinds whose CRDs a cluster gets from another project (KEDA, the Prometheus Operator). */
export const CRD_KINDS: Readonly<
  Record<string, { group: string; plural: string; version: string }>
> = {
  ScaledObject: { group: 'keda.sh', plural: 'scaledobjects', version: 'v1alpha1' },
  ServiceMonitor: { group: 'monitoring.coreos.com', plural: 'servicemonitors', version: 'v1' },
};

/**
 * A stand-in CRD for a kind: it makes the API server check the object's group, version, kind, scope
 * and metadata in the dry-run. The spec is checked against the real schema by validateCrdKind.
 */
function stubCrd(kind: string): object {
  const crd = CRD_KINDS[kind];
  if (crd === undefined) throw new Error(kind);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${crd.plural}.${crd.group}` },
    spec: {
      group: crd.group,
      scope: 'Namespaced',
      names: { kind, plural: crd.plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: crd.version,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
}

/** Creates the stand-in CRDs of CRD_KINDS and waits until they are served. */
export async function installCrdStubs(kubeconfig: string): Promise<void> {
  const crds = Object.keys(CRD_KINDS).map(stubCrd);
  const created = await kubectl(
    kubeconfig,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: crds }),
  );
  assert.equal(created.code, 0, created.stderr);
  const established = await kubectl(kubeconfig, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd',
    '--all',
  ]);
  assert.equal(established.code, 0, established.stderr);
}

/**
 * The schema check for CRD kinds: the validators of @kubernetes-models/keda (generated from KEDA's
 * Go API types, github.com/kedacore/keda/v2/apis/keda/v1alpha1) and
 * @kubernetes-models/prometheus-operator (from .../prometheus-operator/pkg/apis/monitoring/v1):
 * types, required fields, enums and patterns. They do not reject unknown fields.
 */
export function validateCrdKind(object: K8sObject): void {
  if (object.kind === 'ScaledObject') new ScaledObject(object as never).validate();
  else if (object.kind === 'ServiceMonitor') new ServiceMonitor(object as never).validate();
  else throw new Error(`no schema check for ${object.kind}`);
}

/** Server-side applies `objects` for real (namespaces, ServiceAccounts the admission needs). */
export async function applyForReal(
  kubeconfig: string,
  objects: readonly K8sObject[],
): Promise<void> {
  const applied = await kubectl(
    kubeconfig,
    ['apply', '--server-side', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
  assert.equal(applied.code, 0, applied.stderr);
}

/**
 * Every object of `yaml` accepted in a server-side dry-run with strict field validation, without
 * warnings (Pod Security, deprecated APIs and unknown fields all arrive as warnings), and the CRD
 * kinds valid against their schemas. Creates the rendering's Namespace objects first, or
 * `namespaces` when it has none (a Helm release's namespace exists before the install).
 */
export async function checkServerDryRun(
  kubeconfig: string,
  yaml: string,
  objects: readonly K8sObject[],
  namespaces: readonly K8sObject[] = [],
): Promise<void> {
  const own = ofKind(objects, 'Namespace');
  await applyForReal(kubeconfig, own.length > 0 ? own : namespaces);
  const dryRun = await kubectl(
    kubeconfig,
    [
      'apply',
      '--dry-run=server',
      '--validate=strict',
      '--server-side',
      '--field-manager=stampede-deploy-test',
      '-f',
      '-',
    ],
    yaml,
  );
  assert.equal(dryRun.code, 0, dryRun.stderr);
  assert.doesNotMatch(dryRun.stderr, /warning/i, dryRun.stderr);
  assert.equal(dryRun.stdout.trim().split('\n').length, objects.length, dryRun.stdout);
  for (const object of objects.filter(o => o.kind in CRD_KINDS)) validateCrdKind(object);
}

/**
 * Admits each workload's pod template as a dry-run Pod in `namespace` (Pod Security enforcement),
 * skipping the keys in `seen` and adding the ones it checks. The namespace and the pods'
 * ServiceAccounts must exist.
 */
export async function admitPodTemplates(
  cp: ControlPlane,
  objects: readonly K8sObject[],
  seen: Set<string>,
  namespace = 'stampede-system',
): Promise<void> {
  for (const workload of workloads(objects)) {
    const key = `${workload.kind}/${workload.metadata.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const template = podTemplate(workload);
    // A StatefulSet's claims become volumes of its pods; an emptyDir stands in for each here.
    const claims =
      (workload['spec'] as { volumeClaimTemplates?: { metadata: { name: string } }[] })
        .volumeClaimTemplates ?? [];
    const volumes = [
      ...((template.spec as { volumes?: unknown[] }).volumes ?? []),
      ...claims.map(claim => ({ name: claim.metadata.name, emptyDir: {} })),
    ];
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `dry-${workload.metadata.name}`,
        namespace,
        labels: template.metadata.labels,
      },
      spec: { ...template.spec, volumes },
    };
    const res = await cp.admin.request(
      'POST',
      `/api/v1/namespaces/${namespace}/pods?dryRun=All`,
      pod,
    );
    assert.equal(res.status, 201, `${key}: ${JSON.stringify(res.body)}`);
  }
}
