// End to end on the real control plane: one watcher and two workers (separate processes, the
// approver ServiceAccount with deploy/'s RBAC). Kubelets get verified certificates; invalid CSRs
// are denied with the right reasons, each with one Event, and none is ever approved.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CSR_PATH,
  csrManifest,
  KubeletEmulator,
  settledAs,
  System,
  until,
} from '@stampede/harness';
import type { CertificateSigningRequest, NodeAddress } from '@stampede/harness';
import { buildCsr } from '@stampede/testing';

const GRACE_SECONDS = 8;
const hourAgo = new Date(Date.now() - 3_600_000);

const addressesOf = (name: string, ip: string): NodeAddress[] => [
  { type: 'Hostname', address: name },
  { type: 'InternalIP', address: ip },
];

describe('the pipeline decides CSRs on a real control plane', () => {
  let system: System;

  before(async () => {
    system = await System.start({ policy: `nodeGraceSeconds: ${GRACE_SECONDS}\n` });
    await system.start('watcher');
    await Promise.all([system.start('worker'), system.start('worker')]);
  });

  after(async () => {
    await system.stopAll();
  });

  async function settled(name: string, timeoutMs = 30_000): Promise<CertificateSigningRequest> {
    return until(
      `${name} settled`,
      async () => {
        const csr = await system.cp.getCsr(name);
        return settledAs(csr) === undefined ? undefined : csr;
      },
      timeoutMs,
    );
  }

  async function expectDenied(csr: CertificateSigningRequest, reason: string, mentions: RegExp) {
    const final = await settled(csr.metadata.name);
    const denied = final.status?.conditions?.find(c => c.type === 'Denied');
    assert.ok(denied, `${csr.metadata.name} was ${settledAs(final)}, not Denied`);
    assert.equal(denied.reason, reason, denied.message);
    assert.match(denied.message ?? '', mentions);
    assert.equal(final.status?.conditions?.length, 1, 'one condition only');
    const events = await until('its Event', async () =>
      (await system.eventsByCsrUid()).get(final.metadata.uid ?? ''),
    );
    assert.equal(events.length, 1);
    assert.deepEqual(
      { type: events[0]?.type, reason: events[0]?.reason },
      { type: 'Warning', reason },
    );
    return denied;
  }

  it('issues each kubelet a certificate that verifies against the kubelet-serving CA', async () => {
    const nodes = [1, 2, 3].map(i => ({
      name: `node-${i}`,
      addresses: addressesOf(`node-${i}`, `10.0.0.${i}`),
    }));
    await Promise.all(
      nodes.map(n => system.cp.createNode(n.name, n.addresses, { createdAt: hourAgo })),
    );
    const issued = await Promise.all(
      nodes.map(n =>
        new KubeletEmulator({
          nodeName: n.name,
          addresses: n.addresses,
          harness: system.cp,
        }).bootstrap(),
      ),
    );
    // bootstrap() already verified each chain, key, subject and SANs; check the CA once more here.
    const ca = new X509Certificate(system.cp.kubeletServingCaPem);
    for (const { certificate } of issued) assert.ok(certificate.verify(ca.publicKey));
    for (const { csrName } of issued) {
      const csr = await system.cp.getCsr(csrName);
      assert.deepEqual(
        csr.status?.conditions?.map(c => [c.type, c.reason]),
        [['Approved', 'AutoApproved']],
      );
      // The Event follows the approval; the signer may issue before it is written.
      const mine = await until('the approval Event', async () =>
        (await system.eventsByCsrUid()).get(csr.metadata.uid ?? ''),
      );
      assert.deepEqual(
        mine.map(e => [e.type, e.reason]),
        [['Normal', 'AutoApproved']],
      );
    }
  });

  it("denies a request for another node's IP", async () => {
    await system.cp.createNode('thief', addressesOf('thief', '10.0.1.1'));
    const kubelet = new KubeletEmulator({
      nodeName: 'thief',
      addresses: addressesOf('thief', '10.0.0.1'),
      harness: system.cp,
    });
    await expectDenied(await kubelet.createCsr(), 'SanNotOwned', /10\.0\.0\.1/);
  });

  it("denies a newer node that reports an older node's IP as its own", async () => {
    await system.cp.createNode('squatter', addressesOf('squatter', '10.0.0.2'));
    const kubelet = new KubeletEmulator({
      nodeName: 'squatter',
      addresses: addressesOf('squatter', '10.0.0.2'),
      harness: system.cp,
    });
    await expectDenied(await kubelet.createCsr(), 'SanContested', /10\.0\.0\.2.*node-2/);
  });

  it('denies a request for client auth', async () => {
    await system.cp.createNode('client-auth', addressesOf('client-auth', '10.0.1.2'));
    const kubelet = new KubeletEmulator({
      nodeName: 'client-auth',
      addresses: addressesOf('client-auth', '10.0.1.2'),
      harness: system.cp,
    });
    const csr = await kubelet.createCsr({
      usages: ['digital signature', 'server auth', 'client auth'],
    });
    await expectDenied(csr, 'DisallowedUsages', /client auth/);
  });

  it('denies a subject whose O is not system:nodes', async () => {
    await system.cp.createNode('wrong-o', addressesOf('wrong-o', '10.0.1.3'));
    const built = buildCsr({
      subject: [
        { type: 'O', value: 'system:masters' },
        { type: 'CN', value: 'system:node:wrong-o' },
      ],
      sans: [{ kind: 'dns', value: 'wrong-o' }],
    });
    const csr = await system.cp
      .nodeClient('wrong-o')
      .post<CertificateSigningRequest>(
        CSR_PATH,
        csrManifest({ name: 'wrong-o-csr', requestPem: built.pemText }),
      );
    await expectDenied(csr, 'OrganizationMismatch', /system:masters/);
  });

  it('denies a node CN requested by an identity that is not that node', async () => {
    const built = buildCsr({
      subject: [
        { type: 'O', value: 'system:nodes' },
        { type: 'CN', value: 'system:node:node-3' },
      ],
      sans: [{ kind: 'dns', value: 'node-3' }],
    });
    const csr = await system.cp.admin.post<CertificateSigningRequest>(
      CSR_PATH,
      csrManifest({ name: 'not-a-node-csr', requestPem: built.pemText }),
    );
    const denied = await expectDenied(csr, 'InvalidUsername', /is not system:node:/);
    assert.match(denied.message ?? '', /CN/, 'every violation is listed, the CN mismatch too');
  });

  it('denies a DNS name the node does not report', async () => {
    await system.cp.createNode('external', addressesOf('external', '10.0.1.4'));
    const kubelet = new KubeletEmulator({
      nodeName: 'external',
      addresses: [
        ...addressesOf('external', '10.0.1.4'),
        { type: 'ExternalDNS', address: 'www.example.com' },
      ],
      harness: system.cp,
    });
    await expectDenied(await kubelet.createCsr(), 'SanNotOwned', /www\.example\.com/);
  });

  it('retries while the Node does not exist, then denies once the grace window is over', async () => {
    const kubelet = new KubeletEmulator({
      nodeName: 'ghost',
      addresses: addressesOf('ghost', '10.0.1.5'),
      harness: system.cp,
    });
    const csr = await kubelet.createCsr();
    const created = Date.parse(csr.metadata.creationTimestamp ?? '');
    await new Promise(resolve => setTimeout(resolve, (GRACE_SECONDS - 3) * 1_000));
    assert.equal(settledAs(await system.cp.getCsr(csr.metadata.name)), undefined, 'still pending');
    const denied = await expectDenied(csr, 'NodeNotFound', /ghost/);
    const deniedAt = Date.parse(denied.lastUpdateTime ?? '');
    assert.ok(
      deniedAt - created >= GRACE_SECONDS * 1_000,
      `denied ${deniedAt - created} ms after creation`,
    );
  });

  it('never approved an invalid CSR', async () => {
    const approved = [...(await system.csrs()).values()]
      .filter(csr => settledAs(csr) === 'Approved')
      .map(csr => csr.spec.username);
    assert.deepEqual(approved.sort(), [
      'system:node:node-1',
      'system:node:node-2',
      'system:node:node-3',
    ]);
  });
});
