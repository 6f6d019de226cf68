// Every overlay in deploy/ against a real kube-apiserver (the harness): server-side dry-run with
// strict field validation, Pod Security `restricted` enforcement on every pod template, schema checks
// for the CRD kinds, and `kubectl auth can-i` for each service's identity.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CSR_PATH,
  KubeletEmulator,
  createCsr,
  csrManifest,
  generateKeyPair,
  startControlPlane,
} from '@stampede/harness';
import type { CertificateSigningRequest, ControlPlane } from '@stampede/harness';
import {
  admitPodTemplates,
  applyForReal,
  checkServerDryRun,
  installCrdStubs,
  validateCrdKind,
} from './support/dry-run.ts';
import { canI, kubectl } from './support/kubectl.ts';
import type { Identity } from './support/kubectl.ts';
import { ofKind, overlayNames, renderOverlay } from './support/render.ts';

describe('deploy/ against a real API server', () => {
  let cp: ControlPlane;
  let kubeconfig: string;

  before(async () => {
    cp = await startControlPlane();
    kubeconfig = cp.adminKubeconfigPath;
    await installCrdStubs(kubeconfig);
  });

  after(async () => {
    await cp.stop();
  });

  for (const overlay of overlayNames()) {
    it(`accepts every object of overlays/${overlay} in a server-side dry-run, without warnings`, async () => {
      const { yaml, objects } = await renderOverlay(overlay);
      // The namespace must exist (with its Pod Security labels) for the namespaced objects' dry-run.
      await checkServerDryRun(kubeconfig, yaml, objects);
    });
  }

  it('admits every pod template in the restricted namespace (Pod Security enforcement)', async () => {
    const seen = new Set<string>();
    for (const overlay of overlayNames()) {
      const { objects } = await renderOverlay(overlay);
      // Admission also checks that the pod's ServiceAccount exists.
      await applyForReal(kubeconfig, [
        ...ofKind(objects, 'Namespace'),
        ...ofKind(objects, 'ServiceAccount'),
      ]);
      await admitPodTemplates(cp, objects, seen);
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
