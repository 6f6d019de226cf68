// Every overlay in deploy/ against a real kube-apiserver (the harness): server-side dry-run with
// strict field validation, Pod Security `restricted` enforcement on every pod template, schema checks
// for the CRD kinds, and `kubectl auth can-i` for each service's identity.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import {
  CSR_PATH,
  KubeletEmulator,
  createCsr,
  csrManifest,
  generateKeyPair,
  startControlPlane,
} from '@stampede/harness';
import type { CertificateSigningRequest, ControlPlane } from '@stampede/harness';
import { canI, kubectl } from './support/kubectl.ts';
import type { Identity } from './support/kubectl.ts';
import { ofKind, overlayNames, podTemplate, renderOverlay, workloads } from './support/render.ts';
import type { K8sObject } from './support/render.ts';

/** Kinds whose CRDs a cluster gets from another project (KEDA, the Prometheus Operator). */
const CRD_KINDS: Readonly<Record<string, { group: string; plural: string; version: string }>> = {
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

/**
 * The schema check for CRD kinds: the validators of @kubernetes-models/keda (generated from KEDA's
 * Go API types, github.com/kedacore/keda/v2/apis/keda/v1alpha1) and
 * @kubernetes-models/prometheus-operator (from .../prometheus-operator/pkg/apis/monitoring/v1):
 * types, required fields, enums and patterns. They do not reject unknown fields.
 */
function validateCrdKind(object: K8sObject): void {
  if (object.kind === 'ScaledObject') new ScaledObject(object as never).validate();
  else if (object.kind === 'ServiceMonitor') new ServiceMonitor(object as never).validate();
  else throw new Error(`no schema check for ${object.kind}`);
}

describe('deploy/ against a real API server', () => {
  let cp: ControlPlane;
  let kubeconfig: string;

  before(async () => {
    cp = await startControlPlane();
    kubeconfig = cp.adminKubeconfigPath;
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
  });

  after(async () => {
    await cp.stop();
  });

  for (const overlay of overlayNames()) {
    it(`accepts every object of overlays/${overlay} in a server-side dry-run, without warnings`, async () => {
      const { yaml, objects } = await renderOverlay(overlay);
      // The namespace must exist (with its Pod Security labels) for the namespaced objects' dry-run.
      const namespaces = ofKind(objects, 'Namespace');
      const applied = await kubectl(
        kubeconfig,
        ['apply', '--server-side', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: namespaces }),
      );
      assert.equal(applied.code, 0, applied.stderr);
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
      // Pod Security warnings, deprecated APIs, unknown fields: all arrive as warnings.
      assert.doesNotMatch(dryRun.stderr, /warning/i, dryRun.stderr);
      assert.equal(dryRun.stdout.trim().split('\n').length, objects.length, dryRun.stdout);
      for (const object of objects.filter(o => o.kind in CRD_KINDS)) validateCrdKind(object);
    });
  }

  it('admits every pod template in the restricted namespace (Pod Security enforcement)', async () => {
    const seen = new Set<string>();
    for (const overlay of overlayNames()) {
      const { objects } = await renderOverlay(overlay);
      // Admission also checks that the pod's ServiceAccount exists.
      const accounts = ofKind(objects, 'ServiceAccount');
      const applied = await kubectl(
        kubeconfig,
        ['apply', '--server-side', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [...ofKind(objects, 'Namespace'), ...accounts],
        }),
      );
      assert.equal(applied.code, 0, applied.stderr);
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
            namespace: 'stampede-system',
            labels: template.metadata.labels,
          },
          spec: { ...template.spec, volumes },
        };
        const res = await cp.admin.request(
          'POST',
          '/api/v1/namespaces/stampede-system/pods?dryRun=All',
          pod,
        );
        assert.equal(res.status, 201, `${key}: ${JSON.stringify(res.body)}`);
      }
    }
    assert.ok(
      seen.has('Deployment/stampede-worker') && seen.has('StatefulSet/stampede-redis'),
      [...seen].join(),
    );
    // The control: the same namespace refuses a pod that is not hardened.
    const refused = await cp.admin.request(
      'POST',
      '/api/v1/namespaces/stampede-system/pods?dryRun=All',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'unhardened' },
        spec: {
          serviceAccountName: 'stampede-worker',
          containers: [{ name: 'c', image: 'busybox' }],
        },
      },
    );
    assert.equal(refused.status, 403);
    assert.match(
      (refused.body as { message?: string }).message ?? '',
      /violates PodSecurity "restricted/,
    );
  });

  it('checks ScaledObject and ServiceMonitor against their schemas, and the check bites', async () => {
    const { objects } = await renderOverlay('keda');
    const [scaledObject] = ofKind(objects, 'ScaledObject');
    assert.ok(scaledObject !== undefined);
    validateCrdKind(scaledObject);
    const spec = scaledObject['spec'] as Record<string, unknown>;
    assert.throws(() => {
      validateCrdKind({ ...scaledObject, spec: { ...spec, minReplicaCount: '2' } });
    }, /minReplicaCount must be integer/);
    const { objects: monitoring } = await renderOverlay('monitoring');
    const monitors = ofKind(monitoring, 'ServiceMonitor');
    assert.equal(monitors.length, 2);
    for (const monitor of monitors) validateCrdKind(monitor);
  });

  describe('kubectl auth can-i, after applying overlays/hpa', () => {
    const sa = (name: string): Identity => ({
      user: `system:serviceaccount:stampede-system:${name}`,
      groups: [
        'system:serviceaccounts',
        'system:serviceaccounts:stampede-system',
        'system:authenticated',
      ],
    });
    const worker = sa('stampede-worker');
    const watcher = sa('stampede-watcher');

    before(async () => {
      const { yaml } = await renderOverlay('hpa');
      const applied = await kubectl(
        kubeconfig,
        ['apply', '--server-side', '--field-manager=stampede-deploy-test', '-f', '-'],
        yaml,
      );
      assert.equal(applied.code, 0, applied.stderr);
    });

    /** `spec` as after `kubectl auth can-i`: `get nodes`, `create events.events.k8s.io -n default`. */
    const check = async (who: Identity, spec: string, want: boolean): Promise<void> => {
      const got = await canI(kubeconfig, who, spec.split(' '));
      assert.equal(got, want, `${who.user} can-i ${spec}: ${got ? 'yes' : 'no'}`);
    };

    /**
     * `signers` is not a discoverable resource, and kubectl (1.32) then sends the whole
     * `signers.certificates.k8s.io` as the resource with an empty group, so `kubectl auth can-i
     * approve signers…` always says no. Ask a SubjectAccessReview with the attributes the
     * CertificateApproval admission plugin checks instead.
     */
    const checkSigner = async (
      who: Identity,
      verb: 'approve' | 'sign',
      signer: string,
      want: boolean,
    ): Promise<void> => {
      const review = await cp.admin.post<{ status: { allowed: boolean } }>(
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: who.user,
            groups: who.groups ?? [],
            resourceAttributes: {
              group: 'certificates.k8s.io',
              resource: 'signers',
              verb,
              name: signer,
            },
          },
        },
      );
      assert.equal(review.status.allowed, want, `${who.user} ${verb} signers/${signer}`);
    };

    it('lets the worker do its job: read a CSR and its Node, ask a review, approve kubelet-serving, record an Event', async () => {
      await check(worker, 'get certificatesigningrequests.certificates.k8s.io', true);
      await check(
        worker,
        'update certificatesigningrequests.certificates.k8s.io --subresource=approval',
        true,
      );
      await checkSigner(worker, 'approve', 'kubernetes.io/kubelet-serving', true);
      await check(worker, 'create subjectaccessreviews.authorization.k8s.io', true);
      await check(worker, 'get nodes', true);
      await check(worker, 'create events.events.k8s.io -n default', true);
    });

    it("does not let the worker approve another signer's CSRs", async () => {
      for (const signer of [
        'kubernetes.io/kube-apiserver-client',
        'kubernetes.io/kube-apiserver-client-kubelet',
        'kubernetes.io/legacy-unknown',
        'kubernetes.io/*',
        'example.com/serving',
      ])
        await checkSigner(worker, 'approve', signer, false);
      await checkSigner(worker, 'sign', 'kubernetes.io/kubelet-serving', false);

      // And for real, with the worker's own token: the CertificateApproval admission plugin refuses
      // a client-certificate CSR, while a kubelet's serving CSR is approved (and then issued).
      const client = cp.client(cp.credentials({ token: await cp.serviceToken('worker') }));
      const approve = (csr: CertificateSigningRequest): CertificateSigningRequest => ({
        ...csr,
        status: {
          conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'test' }],
        },
      });
      const request = createCsr(generateKeyPair(), { subject: { commonName: 'someone' } });
      const foreign = await cp.admin.post<CertificateSigningRequest>(
        CSR_PATH,
        csrManifest({
          name: 'client-cert',
          requestPem: request.pem,
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['digital signature', 'client auth'],
        }),
      );
      const refused = await client.request(
        'PUT',
        `${CSR_PATH}/client-cert/approval`,
        approve(foreign),
      );
      assert.equal(refused.status, 403);
      assert.match(
        JSON.stringify(refused.body),
        /not permitted to approve requests with signerName/,
      );

      await cp.createNode('n1');
      const kubelet = new KubeletEmulator({ nodeName: 'n1', harness: cp });
      const serving = await kubelet.createCsr();
      const approved = await client.request(
        'PUT',
        `${CSR_PATH}/${serving.metadata.name}/approval`,
        approve(serving),
      );
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      // Status belongs to the signer: the worker's token cannot write it.
      const status = await client.request('PUT', `${CSR_PATH}/${serving.metadata.name}/status`, {
        ...serving,
        status: { certificate: Buffer.from('not a certificate').toString('base64') },
      });
      assert.equal(status.status, 403);
    });

    it('does not let the worker update CSR status, or do anything beyond its calls', async () => {
      await check(
        worker,
        'update certificatesigningrequests.certificates.k8s.io --subresource=status',
        false,
      );
      await check(
        worker,
        'patch certificatesigningrequests.certificates.k8s.io --subresource=status',
        false,
      );
      await check(
        worker,
        'patch certificatesigningrequests.certificates.k8s.io --subresource=approval',
        false,
      );
      await check(worker, 'update certificatesigningrequests.certificates.k8s.io', false);
      await check(worker, 'delete certificatesigningrequests.certificates.k8s.io', false);
      await check(worker, 'list certificatesigningrequests.certificates.k8s.io', false);
      await check(worker, 'update nodes', false);
      await check(worker, 'patch nodes --subresource=status', false);
      await check(worker, 'get services -n default', false);
      await check(worker, 'get services/kubernetes -n kube-system', false);
      await check(worker, 'create servicecidrs.networking.k8s.io', false);
      await check(worker, 'create events.events.k8s.io -n kube-system', false);
      await check(worker, 'patch events.events.k8s.io -n default', false);
      await check(worker, 'get secrets -n stampede-system', false);
    });

    it('lets the worker read Nodes, ServiceCIDRs and the kubernetes Service for its own facts', async () => {
      for (const verb of ['get', 'list', 'watch']) await check(worker, `${verb} nodes`, true);
      for (const verb of ['list', 'watch']) {
        await check(worker, `${verb} servicecidrs.networking.k8s.io`, true);
      }
      await check(worker, 'get services/kubernetes -n default', true);
    });

    it('lets the watcher list and watch CSRs, read no Node, and write nothing', async () => {
      await check(watcher, 'list certificatesigningrequests.certificates.k8s.io', true);
      await check(watcher, 'watch certificatesigningrequests.certificates.k8s.io', true);
      await check(watcher, 'list nodes', false);
      await check(watcher, 'get nodes', false);
      await check(
        watcher,
        'update certificatesigningrequests.certificates.k8s.io --subresource=approval',
        false,
      );
      await checkSigner(watcher, 'approve', 'kubernetes.io/kubelet-serving', false);
      await check(watcher, 'create subjectaccessreviews.authorization.k8s.io', false);
      await check(watcher, 'create events.events.k8s.io -n default', false);
      await check(watcher, 'get secrets -n stampede-system', false);
      await check(watcher, 'create leases.coordination.k8s.io -n stampede-system', false);
    });

    it('gives the dashboard and Redis no API access at all', async () => {
      for (const name of ['stampede-dashboard', 'stampede-redis']) {
        await check(sa(name), 'list certificatesigningrequests.certificates.k8s.io', false);
        await check(sa(name), 'get pods -n stampede-system', false);
      }
    });

    it('lets nodes, and only nodes, pass the selfnodeserver review', async () => {
      await check(
        { user: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] },
        'create certificatesigningrequests.certificates.k8s.io --subresource=selfnodeserver',
        true,
      );
      await check(
        worker,
        'create certificatesigningrequests.certificates.k8s.io --subresource=selfnodeserver',
        false,
      );
    });
  });
});
