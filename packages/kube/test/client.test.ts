// KubeClient against a real control plane (@stampede/harness), authenticated as the approver's
// ServiceAccount with the RBAC it ships with: least privilege is part of what is tested.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { KubeletEmulator, startControlPlane } from '@stampede/harness';
import type { ControlPlane } from '@stampede/harness';
import { KubeConfig } from '@kubernetes/client-node';
import {
  ConflictError,
  createKubeClient,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  PermanentError,
} from '@stampede/kube';
import type { CertificateSigningRequest, KubeClient } from '@stampede/kube';
import { kubeConfigFrom } from './support/kubeconfig.ts';
import { recordingLogger } from './support/logger.ts';
import { eventually } from './support/wait.ts';

let cp: ControlPlane;
let kube: KubeClient;
let nodeKube: KubeClient;
let seq = 0;

async function newCsr(nodeName = `node-${String(++seq)}`): Promise<CertificateSigningRequest> {
  const kubelet = new KubeletEmulator({ nodeName, harness: cp });
  const created = await kubelet.createCsr();
  return kube.getCsr(created.metadata.name);
}

before(async () => {
  cp = await startControlPlane();
  const logger = recordingLogger();
  kube = await createKubeClient({
    kubeConfig: kubeConfigFrom(await cp.approverKubeconfig()),
    logger,
  });
  nodeKube = await createKubeClient({
    kubeConfig: kubeConfigFrom(cp.nodeKubeconfig('intruder')),
    logger,
  });
});

after(async () => {
  await kube.close();
  await nodeKube.close();
  await cp.stop();
});

describe('getCsr and updateApproval', () => {
  it('reads a CSR and approves it, and the signer then issues the certificate', async () => {
    const kubelet = new KubeletEmulator({ nodeName: 'round-trip', harness: cp });
    const created = await kubelet.createCsr();
    const csr = await kube.getCsr(created.metadata.name);
    assert.equal(csr.metadata?.uid, created.metadata.uid);
    assert.equal(csr.spec.signerName, 'kubernetes.io/kubelet-serving');

    const approved = await kube.updateApproval(csr, {
      type: 'Approved',
      reason: 'AutoApproved',
      message: 'approved by the @stampede/kube test',
    });
    const condition = approved.status?.conditions?.find(c => c.type === 'Approved');
    assert.equal(condition?.status, 'True');
    assert.equal(condition.reason, 'AutoApproved');
    const issued = await kubelet.waitForCertificate();
    assert.ok(issued.certificatePem.includes('BEGIN CERTIFICATE'));
  });

  it('denies a CSR through the same subresource', async () => {
    const csr = await newCsr();
    const denied = await kube.updateApproval(csr, {
      type: 'Denied',
      reason: 'SanNotNodeAddress',
      message: 'test',
    });
    assert.ok(denied.status?.conditions?.some(c => c.type === 'Denied' && c.status === 'True'));
  });

  const staleCases: {
    name: string;
    change: (csr: CertificateSigningRequest) => Promise<void>;
  }[] = [
    {
      name: 'answers ConflictError when the CSR changed since it was read',
      change: async csr => {
        await cp.admin.request(
          'PATCH',
          `/apis/certificates.k8s.io/v1/certificatesigningrequests/${csr.metadata?.name ?? ''}`,
          { metadata: { labels: { touched: 'yes' } } },
          { contentType: 'application/merge-patch+json' },
        );
      },
    },
    {
      name: 'answers ConflictError when the CSR was approved by someone else meanwhile',
      change: async csr => {
        await cp.approve(csr.metadata?.name ?? '');
      },
    },
    {
      name: 'answers ConflictError when the CSR was deleted and re-created under the same name',
      change: async csr => {
        const name = csr.metadata?.name ?? '';
        await cp.admin.request(
          'DELETE',
          `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`,
        );
        const kubelet = new KubeletEmulator({ nodeName: `recreated-${name}`, harness: cp });
        await kubelet.createCsr({ name });
      },
    },
  ];
  for (const c of staleCases) {
    it(c.name, async () => {
      const csr = await newCsr();
      await c.change(csr);
      await assert.rejects(
        kube.updateApproval(csr, { type: 'Approved', reason: 'AutoApproved', message: 'stale' }),
        (error: unknown) => error instanceof ConflictError && error.status === 409,
      );
    });
  }

  it('answers InvalidError, a permanent error, for a second Approved condition', async () => {
    const kubelet = new KubeletEmulator({ nodeName: 'twice', harness: cp });
    const created = await kubelet.createCsr();
    const csr = await kube.getCsr(created.metadata.name);
    await kube.updateApproval(csr, { type: 'Approved', reason: 'A', message: 'x' });
    await kubelet.waitForCertificate();
    const settled = await kube.getCsr(created.metadata.name);
    await assert.rejects(
      kube.updateApproval(settled, { type: 'Approved', reason: 'A', message: 'again' }),
      (error: unknown) => error instanceof InvalidError && error instanceof PermanentError,
    );
  });

  it('answers NotFoundError for a CSR that does not exist', async () => {
    await assert.rejects(kube.getCsr('no-such-csr'), NotFoundError);
  });

  it('answers ForbiddenError when the caller may not approve', async () => {
    const csr = await newCsr();
    await assert.rejects(
      nodeKube.updateApproval(csr, { type: 'Approved', reason: 'Self', message: 'x' }),
      (error: unknown) => error instanceof ForbiddenError && error.status === 403,
    );
  });

  it('lists kubelet-serving CSRs only', async () => {
    const csr = await newCsr();
    const list = await kube.listCsrs();
    assert.ok(list.resourceVersion !== '');
    assert.ok(list.items.some(i => i.metadata?.uid === csr.metadata?.uid));
    assert.ok(list.items.every(i => i.spec.signerName === 'kubernetes.io/kubelet-serving'));
  });

  it('projects each listed CSR, keeping only what the projection returns', async () => {
    const kept = await newCsr();
    const dropped = await newCsr();
    const list = await kube.listCsrs({
      project: csr =>
        csr.metadata?.uid === dropped.metadata?.uid ? undefined : { uid: csr.metadata?.uid },
    });
    assert.ok(list.items.some(i => i.uid === kept.metadata?.uid));
    assert.ok(!list.items.some(i => i.uid === dropped.metadata?.uid));
    assert.deepEqual(Object.keys(list.items[0] ?? {}), ['uid']);
  });
});

describe('createSubjectAccessReview', () => {
  const csrCreate = {
    group: 'certificates.k8s.io',
    resource: 'certificatesigningrequests',
    verb: 'create',
  };
  const cases: { name: string; user: string; groups: string[]; allowed: boolean }[] = [
    {
      name: 'allows a node to create CSRs',
      user: 'system:node:sar-node',
      groups: ['system:nodes', 'system:authenticated'],
      allowed: true,
    },
    {
      name: 'does not allow a user without the permission, and reports no explicit deny',
      user: 'mallory',
      groups: ['system:authenticated'],
      allowed: false,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await kube.createSubjectAccessReview({
        user: c.user,
        groups: c.groups,
        resourceAttributes: csrCreate,
      });
      assert.equal(result.allowed, c.allowed);
      assert.equal(result.denied, false);
      assert.equal(typeof result.reason, 'string');
    });
  }
});

describe('getNode', () => {
  it('returns a Node with its addresses', async () => {
    await cp.createNode('present-node', [
      { type: 'InternalIP', address: '10.1.2.3' },
      { type: 'Hostname', address: 'present-node' },
    ]);
    const node = await kube.getNode('present-node');
    assert.deepEqual(
      node?.status?.addresses?.map(a => a.address),
      ['10.1.2.3', 'present-node'],
    );
  });

  it('returns undefined, not an error, for an absent Node', async () => {
    assert.equal(await kube.getNode('absent-node'), undefined);
  });
});

describe('createEvent', () => {
  const listEvents = async (csr: CertificateSigningRequest): Promise<{ reason?: string }[]> => {
    // What `kubectl describe csr` does: core/v1 events of all namespaces by involvedObject.
    const selector = new URLSearchParams({
      fieldSelector: [
        `involvedObject.name=${csr.metadata?.name ?? ''}`,
        'involvedObject.kind=CertificateSigningRequest',
        `involvedObject.uid=${csr.metadata?.uid ?? ''}`,
      ].join(','),
    });
    const list = await cp.admin.get<{ items: { reason?: string }[] }>(
      `/api/v1/events?${selector.toString()}`,
    );
    return list.items;
  };
  const base = {
    type: 'Normal' as const,
    reason: 'Approved',
    action: 'Approve',
    note: 'approved: SANs match the Node',
    reportingController: 'stampede.io/approver',
    reportingInstance: 'test-0',
  };

  it('writes an Event that kubectl describe csr finds', async () => {
    const csr = await newCsr();
    assert.equal(await kube.createEvent({ ...base, csr }), 'created');
    const events = await listEvents(csr);
    assert.deepEqual(
      events.map(e => e.reason),
      ['Approved'],
    );
  });

  it('writes one Event per dedupe key however often it is retried', async () => {
    const csr = await newCsr();
    const results = [];
    for (let i = 0; i < 3; i++)
      results.push(await kube.createEvent({ ...base, csr, dedupeKey: 'approve' }));
    assert.deepEqual(results, ['created', 'exists', 'exists']);
    assert.equal((await listEvents(csr)).length, 1);
  });

  it('truncates a note longer than the API allows', async () => {
    const csr = await newCsr();
    assert.equal(await kube.createEvent({ ...base, csr, note: 'é'.repeat(2000) }), 'created');
  });
});

describe('connection reuse', () => {
  const cases: { name: string; calls: number; inFlight: number; maxConnections: number }[] = [
    {
      name: 'makes 1,000 sequential calls over one connection',
      calls: 1000,
      inFlight: 1,
      maxConnections: 1,
    },
    {
      name: 'makes 1,000 calls with 8 in flight over at most 8 connections',
      calls: 1000,
      inFlight: 8,
      maxConnections: 8,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const csr = await newCsr();
      const name = csr.metadata?.name ?? '';
      const client = await createKubeClient({
        kubeConfig: kubeConfigFrom(await cp.approverKubeconfig()),
        logger: recordingLogger(),
      });
      let observed = 0;
      const onConnected = (): void => {
        observed++;
      };
      subscribe('undici:client:connected', onConnected);
      try {
        let next = 0;
        await Promise.all(
          Array.from({ length: c.inFlight }, async () => {
            while (next < c.calls) {
              next++;
              await client.getCsr(name);
            }
          }),
        );
      } finally {
        unsubscribe('undici:client:connected', onConnected);
      }
      const stats = client.stats();
      await client.close();
      assert.equal(stats.requests, c.calls);
      assert.ok(
        stats.connections >= 1 && stats.connections <= c.maxConnections,
        JSON.stringify(stats),
      );
      assert.equal(stats.tlsHandshakes, stats.connections);
      assert.equal(observed, stats.connections);
    });
  }
});

describe('stats', () => {
  it('counts errors by class', async () => {
    const before = kube.stats().errors['NotFoundError'] ?? 0;
    await assert.rejects(kube.getCsr('still-no-such-csr'), NotFoundError);
    await eventually(
      'the counter',
      () => (kube.stats().errors['NotFoundError'] ?? 0) === before + 1,
    );
  });
});

describe('in-cluster credentials', () => {
  it('re-reads a rotated service-account token file after a 401, at once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'stampede-kube-incluster-'));
    const dir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ca.crt'), cp.clusterCaPem);
    writeFileSync(join(dir, 'namespace'), 'stampede-system');
    writeFileSync(join(dir, 'token'), 'expired-or-not-yet-mounted');
    const saved = [process.env['KUBERNETES_SERVICE_HOST'], process.env['KUBERNETES_SERVICE_PORT']];
    process.env['KUBERNETES_SERVICE_HOST'] = '127.0.0.1';
    process.env['KUBERNETES_SERVICE_PORT'] = String(cp.ports.apiserver);
    const kc = new KubeConfig();
    try {
      kc.loadFromCluster(root);
    } finally {
      [process.env['KUBERNETES_SERVICE_HOST'], process.env['KUBERNETES_SERVICE_PORT']] = saved;
      if (saved[0] === undefined) delete process.env['KUBERNETES_SERVICE_HOST'];
      if (saved[1] === undefined) delete process.env['KUBERNETES_SERVICE_PORT'];
    }
    const client = await createKubeClient({ kubeConfig: kc, logger: recordingLogger() });
    try {
      await assert.rejects(
        client.getNode('any'),
        (error: unknown) => error instanceof ForbiddenError && error.status === 401,
      );
      // The kubelet rotates the projected token; the next call must not wait for a timer.
      writeFileSync(join(dir, 'token'), `${await cp.approverToken()}\n`);
      assert.equal(await client.getNode('absent-after-rotation'), undefined);
    } finally {
      await client.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
