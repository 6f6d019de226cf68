// The harness against a real etcd + kube-apiserver + kube-controller-manager: one control plane
// for the whole file (start-up costs seconds), unique node names per test (CSRs are cluster-scoped).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  condition,
  createCsr,
  CSR_PATH,
  csrManifest,
  CsrNotIssuedError,
  generateKeyPair,
  KubeletEmulator,
  startControlPlane,
  type CertificateSigningRequest,
  type ControlPlane,
  type CsrTemplate,
  type KubeNode,
} from '@stampede/harness';
import { alive, startLeakyChild, waitUntilGone } from './fixtures/leak-helpers.ts';

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${String(++counter)}-${String(process.pid)}`;

describe('a real control plane', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp.stop();
  });

  it('starts etcd, kube-apiserver and KCM and passes the canary before returning', async () => {
    const { pids, timings } = cp;
    assert.ok(
      [pids.etcd, pids.apiserver, pids.controllerManager].every(p => p !== undefined && alive(p)),
    );
    assert.ok(timings.totalMs > 0 && timings.apiserverMs > 0 && timings.controllerManagerMs > 0);
    const version = await cp.admin.get<{ gitVersion: string }>('/version');
    assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
    // The canary deletes its CSR.
    const list = await cp.admin.get<{ items: CertificateSigningRequest[] }>(CSR_PATH);
    assert.equal(list.items.filter(c => c.metadata.name.startsWith('harness-canary')).length, 0);
  });

  it('writes an admin kubeconfig that points at the apiserver with inline credentials', () => {
    const config = parse(readFileSync(cp.adminKubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
      users: { user: Record<string, string> }[];
    };
    assert.equal(config.clusters[0]?.cluster.server, cp.server);
    const user = config.users[0]?.user ?? {};
    assert.ok(user['client-certificate-data']);
    assert.ok(user['client-key-data']);
  });

  it('lets a node create its own CSR, attributed to it by the apiserver', async () => {
    const nodeName = unique('own-csr');
    const kubelet = new KubeletEmulator({ nodeName, harness: cp });
    const csr = await kubelet.createCsr();
    assert.equal(csr.spec.username, `system:node:${nodeName}`);
    assert.deepEqual([...(csr.spec.groups ?? [])].sort(), ['system:authenticated', 'system:nodes']);
    // The x509 authenticator records which certificate authenticated the request.
    assert.match(
      csr.spec.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '',
      /^X509SHA256=/,
    );
    assert.equal(csr.status?.conditions, undefined);
  });

  describe('what one node may do with another node’s CSR', () => {
    // The Node authorizer grants nodes create/get/list/watch on *all* CSRs (bootstrap policy
    // NodeRules); it does not subdivide CSRs by node. Approval and deletion are refused.
    const cases: {
      action: string;
      expected: number;
      run: (cp: ControlPlane, csr: string, other: string) => Promise<number>;
    }[] = [
      {
        action: 'read it (allowed: CSR reads are not per-node)',
        expected: 200,
        run: async (cp, csr, other) =>
          (await cp.nodeClient(other).request('GET', `${CSR_PATH}/${csr}`)).status,
      },
      {
        action: 'delete it',
        expected: 403,
        run: async (cp, csr, other) =>
          (await cp.nodeClient(other).request('DELETE', `${CSR_PATH}/${csr}`)).status,
      },
      {
        action: 'approve it',
        expected: 403,
        run: async (cp, csr, other) => {
          const current = await cp.getCsr(csr);
          const approved = {
            ...current,
            status: {
              conditions: [{ type: 'Approved', status: 'True', reason: 'Sneaky', message: 'x' }],
            },
          };
          return (
            await cp.nodeClient(other).request('PUT', `${CSR_PATH}/${csr}/approval`, approved)
          ).status;
        },
      },
    ];
    for (const { action, expected, run } of cases) {
      it(`answers ${expected} when a node tries to ${action}`, async () => {
        const owner = new KubeletEmulator({ nodeName: unique('owner'), harness: cp });
        const csr = await owner.createCsr();
        assert.equal(await run(cp, csr.metadata.name, unique('other')), expected);
      });
    }

    it('answers 403 when a node creates a CSR whose CN names another node (NodeRestriction)', async () => {
      const request = createCsr(generateKeyPair(), {
        subject: { commonName: `system:node:${unique('victim')}`, organizations: ['system:nodes'] },
        ips: ['10.0.0.1'],
      });
      const res = await cp
        .nodeClient(unique('impostor'))
        .request(
          'POST',
          CSR_PATH,
          csrManifest({ name: unique('impostor-csr'), requestPem: request.pem }),
        );
      assert.equal(res.status, 403);
      assert.match(
        JSON.stringify(res.body),
        /can only create a node CSR with CN=system:node:impostor/,
      );
    });

    it('answers 403 when a node approves its own CSR', async () => {
      const kubelet = new KubeletEmulator({ nodeName: unique('self-approve'), harness: cp });
      const csr = await kubelet.createCsr();
      const approved = {
        ...csr,
        status: {
          conditions: [{ type: 'Approved', status: 'True', reason: 'Self', message: 'x' }],
        },
      };
      const res = await kubelet.client.request(
        'PUT',
        `${CSR_PATH}/${csr.metadata.name}/approval`,
        approved,
      );
      assert.equal(res.status, 403);
    });
  });

  it('issues a certificate for an approved valid CSR that verifies against the kubelet-serving CA', async () => {
    const nodeName = unique('valid');
    const addresses = [
      { type: 'Hostname', address: nodeName },
      { type: 'InternalDNS', address: `${nodeName}.cluster.internal` },
      { type: 'InternalIP', address: '10.20.30.40' },
      { type: 'ExternalIP', address: 'fd00::1234' },
    ] as const;
    const node = await cp.createNode(nodeName, addresses);
    assert.deepEqual(node.status?.addresses, addresses);
    const kubelet = new KubeletEmulator({ nodeName, addresses, harness: cp });
    const csr = await kubelet.createCsr({ expirationSeconds: 3600 });
    await cp.approve(csr.metadata.name);
    const issued = await kubelet.waitForCertificate({ timeoutMs: 30_000 });
    assert.equal(issued.certificate.subject, `O=system:nodes\nCN=system:node:${nodeName}`);
    assert.equal(
      issued.certificate.subjectAltName,
      `DNS:${nodeName}, DNS:${nodeName}.cluster.internal, IP Address:10.20.30.40, IP Address:FD00:0:0:0:0:0:0:1234`,
    );
    const t = issued.timings;
    assert.ok(t.createdToApprovedMs !== undefined && t.approvedToIssuedMs !== undefined);
    assert.ok(t.createdToIssuedMs !== undefined && t.createdToIssuedMs < 30_000);
  });

  it('never issues a certificate for a denied CSR', async () => {
    const kubelet = new KubeletEmulator({ nodeName: unique('denied'), harness: cp });
    const csr = await kubelet.createCsr();
    await cp.deny(csr.metadata.name);
    await assert.rejects(kubelet.waitForCertificate({ timeoutMs: 10_000 }), (e: unknown) => {
      assert.ok(e instanceof CsrNotIssuedError);
      assert.equal(e.conditionType, 'Denied');
      return true;
    });
  });

  describe('an approved CSR the kubelet-serving signer rejects', () => {
    const node = 'system:node:invalid';
    // Created as node "invalid", except where NodeRestriction would refuse that node (CN), so admin.
    const cases: {
      what: string;
      template: CsrTemplate;
      usages?: string[];
      asAdmin?: boolean;
      reason: RegExp;
    }[] = [
      {
        what: 'asks for client auth as well',
        template: {
          subject: { commonName: node, organizations: ['system:nodes'] },
          ips: ['10.0.0.9'],
        },
        usages: ['digital signature', 'server auth', 'client auth'],
        reason: /usages did not match/,
      },
      {
        what: 'has a CN outside system:node:',
        template: {
          subject: { commonName: 'not-a-node', organizations: ['system:nodes'] },
          ips: ['10.0.0.9'],
        },
        asAdmin: true,
        reason: /system:node:/,
      },
      {
        what: 'has an organization other than system:nodes',
        template: {
          subject: { commonName: node, organizations: ['system:masters'] },
          ips: ['10.0.0.9'],
        },
        reason: /system:nodes/,
      },
      {
        what: 'has no DNS or IP SAN',
        template: { subject: { commonName: node, organizations: ['system:nodes'] } },
        reason: /DNS or IP/,
      },
      {
        what: 'has an email SAN',
        template: {
          subject: { commonName: node, organizations: ['system:nodes'] },
          ips: ['10.0.0.9'],
          emails: ['a@b.example'],
        },
        reason: /[Ee]mail/,
      },
    ];
    for (const { what, template, usages, asAdmin, reason } of cases) {
      it(`marks it Failed when it ${what}`, async () => {
        const name = unique('invalid');
        const request = createCsr(generateKeyPair(), template);
        const client = asAdmin === true ? cp.admin : cp.nodeClient('invalid');
        await client.post(
          CSR_PATH,
          csrManifest({ name, requestPem: request.pem, ...(usages ? { usages } : {}) }),
        );
        await cp.approve(name);
        let csr = await cp.getCsr(name);
        const deadline = Date.now() + 30_000;
        while (condition(csr, 'Failed') === undefined && Date.now() < deadline) {
          await new Promise(r => setTimeout(r, 100));
          csr = await cp.getCsr(name);
        }
        const failed = condition(csr, 'Failed');
        assert.equal(failed?.reason, 'SignerValidationFailure');
        assert.match(failed.message ?? '', reason);
        assert.equal(csr.status?.certificate, undefined);
      });
    }
  });

  it('gives the approver ServiceAccount a token that may approve kubelet-serving CSRs and nothing more', async () => {
    const token = await cp.approverToken();
    const approver = cp.client(cp.credentials({ token }));
    assert.equal((await approver.request('GET', CSR_PATH)).status, 200);
    assert.equal((await approver.request('GET', '/api/v1/nodes')).status, 200);
    assert.equal((await approver.request('GET', '/api/v1/secrets')).status, 403);

    const kubelet = new KubeletEmulator({ nodeName: unique('sa-approved'), harness: cp });
    const csr = await kubelet.createCsr();
    const approve = (c: CertificateSigningRequest): CertificateSigningRequest => ({
      ...c,
      status: {
        conditions: [
          { type: 'Approved', status: 'True', reason: 'Test', message: 'approved by SA' },
        ],
      },
    });
    const res = await approver.request(
      'PUT',
      `${CSR_PATH}/${csr.metadata.name}/approval`,
      approve(csr),
    );
    assert.equal(res.status, 200);
    await kubelet.waitForCertificate();

    // A client-certificate CSR: the CertificateApproval admission plugin refuses (no signer grant).
    const name = unique('client-csr');
    const request = createCsr(generateKeyPair(), { subject: { commonName: 'someone' } });
    const created = await cp.admin.post<CertificateSigningRequest>(
      CSR_PATH,
      csrManifest({
        name,
        requestPem: request.pem,
        signerName: 'kubernetes.io/kube-apiserver-client',
        usages: ['digital signature', 'client auth'],
      }),
    );
    const refused = await approver.request('PUT', `${CSR_PATH}/${name}/approval`, approve(created));
    assert.equal(refused.status, 403);

    const kubeconfig = await cp.approverKubeconfig();
    assert.ok(existsSync(kubeconfig));
    assert.match(readFileSync(kubeconfig, 'utf8'), /token: /);
  });

  it('grants every node create on certificatesigningrequests/selfnodeserver (deploy/base/rbac)', async () => {
    const review = (user: string, groups: string[]): unknown => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user,
        groups,
        resourceAttributes: {
          group: 'certificates.k8s.io',
          resource: 'certificatesigningrequests',
          subresource: 'selfnodeserver',
          verb: 'create',
        },
      },
    });
    const path = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
    const asNode = await cp.admin.post<{ status: { allowed: boolean } }>(
      path,
      review('system:node:n1', ['system:nodes', 'system:authenticated']),
    );
    assert.equal(asNode.status.allowed, true);
    const asOther = await cp.admin.post<{ status: { allowed: boolean } }>(
      path,
      review('mallory', ['system:authenticated']),
    );
    assert.equal(asOther.status.allowed, false);
  });

  it('backdates a Node’s creationTimestamp, and later writes keep it', async () => {
    const name = unique('old-node');
    const node = await cp.createNode(name, undefined, {
      createdAt: new Date('2020-01-02T03:04:05.678Z'),
    });
    assert.equal(node.metadata.creationTimestamp, '2020-01-02T03:04:05Z');
    const patched = await cp.admin.patch<KubeNode>(`/api/v1/nodes/${name}`, {
      metadata: { labels: { touched: 'yes' } },
    });
    assert.equal(patched.metadata.creationTimestamp, '2020-01-02T03:04:05Z');
  });

  it('creates Nodes whose status.addresses a node identity can read back', async () => {
    const name = unique('node');
    await cp.createNode(name, [{ type: 'InternalIP', address: '192.0.2.7' }]);
    const read = await cp.nodeClient(name).get<KubeNode>(`/api/v1/nodes/${name}`);
    assert.deepEqual(read.status?.addresses, [{ type: 'InternalIP', address: '192.0.2.7' }]);
    const kubeconfig = readFileSync(cp.nodeKubeconfig(name), 'utf8');
    assert.match(kubeconfig, new RegExp(cp.server.replace(/\./g, '\\.')));
  });
});

describe('teardown of a control plane when the test process is SIGKILLed', () => {
  it('leaves no etcd, apiserver, KCM, Redis, reaper or directory behind', async () => {
    const child = await startLeakyChild('controlplane');
    assert.equal(child.report.pids.length, 4);
    assert.ok(child.report.pids.every(alive));
    process.kill(child.pid, 'SIGKILL');
    await waitUntilGone(child.report, 5000);
  });
});
