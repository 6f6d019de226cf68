// End to end with real kubelets (go/kubelet: kubelet v1.37.2 with a fake CRI) on the real control
// plane, and stampede as deployed: one watcher and two workers, separate processes under their own
// ServiceAccounts. Nothing here creates a CSR: each kubelet registers its Node, files its own
// serving CSR, stores what it is issued and serves it on its node IP and port. Outcomes are read
// from the API server's objects (CSR conditions and certificates), never from service logs.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  freeNodeIps,
  parseSubjectAltName,
  startKubelet,
  System,
  until,
  type CertificateSigningRequest,
  type RealKubelet,
  type ServiceProcess,
} from '@stampede/harness';
import { sansOfNode, sansOfRequest, summary } from './real-kubelet-helpers.ts';

// Long enough for a kubelet to come back and register (seconds), short enough to matter.
const GRACE_SECONDS = 120;

describe('real kubelets get their serving certificates through stampede', () => {
  let system: System;
  let workers: ServiceProcess[] = [];
  const kubelets: RealKubelet[] = [];

  before(async () => {
    system = await System.start({ policy: `nodeGraceSeconds: ${GRACE_SECONDS}\n` });
    await system.start('watcher');
    workers = await Promise.all([system.start('worker'), system.start('worker')]);
  });

  after(async () => {
    await Promise.all(kubelets.map(k => k.stop()));
    await system.stopAll();
  });

  async function kubelet(name: string, nodeIps: readonly string[]): Promise<RealKubelet> {
    const started = await startKubelet({ name, nodeIps, harness: system.cp });
    kubelets.push(started);
    return started;
  }

  /** The kubelet's CSRs once `count` of them have settled (Approved with a certificate, or Denied). */
  async function settledCsrs(k: RealKubelet, count = 1): Promise<CertificateSigningRequest[]> {
    return until(
      `${String(count)} settled CSR(s) of ${k.name}`,
      async () => {
        const csrs = await k.csrs();
        const settled = csrs.filter(
          csr =>
            csr.status?.certificate !== undefined ||
            csr.status?.conditions?.some(c => c.type === 'Denied' || c.type === 'Failed'),
        );
        return settled.length >= count ? csrs : undefined;
      },
      120_000,
      250,
    );
  }

  /** Served and stored certificate agree, chain to the kubelet-serving CA, and fit the Node. */
  async function assertServesItsNodesCertificate(k: RealKubelet): Promise<X509Certificate> {
    const node = await k.node();
    const want = sansOfNode(node?.status?.addresses ?? []);
    const served = await k.waitForServedCertificate(c => summary(c).sans === want);
    const ca = new X509Certificate(system.cp.kubeletServingCaPem);
    assert.ok(served.checkIssued(ca) && served.verify(ca.publicKey), 'chains to the kubelet CA');
    assert.equal(served.subject, `O=system:nodes\nCN=system:node:${k.name}`);
    assert.equal(summary(served).sans, want, "exactly the Node's addresses");
    const stored = k.storedCertificate();
    assert.ok(stored, 'kubelet-server-current.pem exists');
    assert.equal(stored.certificate.fingerprint256, served.fingerprint256, 'the file is served');
    assert.ok(
      createPublicKey(createPrivateKey(stored.pem)).equals(served.publicKey),
      'the stored key is the served certificate’s key',
    );
    return served;
  }

  it('a kubelet gets its certificate approved and issued, stores it and serves it', async () => {
    const [ip = ''] = freeNodeIps(1);
    const k = await kubelet('kubelet-one', [ip]);
    const served = await assertServesItsNodesCertificate(k);
    const csrs = await settledCsrs(k);
    assert.deepEqual(
      csrs.map(csr => csr.status?.conditions?.map(c => [c.type, c.reason])),
      [[['Approved', 'AutoApproved']]],
      'one CSR, approved by stampede',
    );
    const issued = Buffer.from(csrs[0]?.status?.certificate ?? '', 'base64').toString();
    assert.equal(new X509Certificate(issued).fingerprint256, served.fingerprint256);
    assert.equal(sansOfRequest(csrs[0]), `DNS:kubelet-one,IP:${ip}`);
    await k.stop();
  });

  it('of two kubelets reporting the same IP, the older Node is approved and the newer denied SanContested', async () => {
    const [ip = ''] = freeNodeIps(1);
    // Names in the same order as the registrations: the tie-break on equal timestamps agrees.
    const older = await kubelet('contest-a', [ip]);
    await assertServesItsNodesCertificate(older);
    const newer = await kubelet('contest-b', [ip]);
    const denied = await settledCsrs(newer);
    for (const csr of denied.filter(c => c.status?.conditions?.length)) {
      const conditions = csr.status?.conditions?.map(c => [c.type, c.reason]);
      assert.deepEqual(conditions, [['Denied', 'SanContested']], csr.metadata.name);
      assert.match(
        csr.status?.conditions?.[0]?.message ?? '',
        new RegExp(`${ip.replaceAll('.', '\\.')}.*contest-a`),
      );
    }
    assert.equal(await newer.servedCertificate(), undefined, 'the newer kubelet serves nothing');
    assert.deepEqual(
      (await older.csrs()).map(csr => csr.status?.conditions?.map(c => c.type)),
      [['Approved']],
    );
    await Promise.all([newer.stop(), older.stop()]);
  });

  it('a CSR whose Node is missing when stampede sees it is approved once the kubelet registers, within the grace window', async () => {
    // A real kubelet files its CSR only after its Node is registered: it takes the SANs from its
    // own Node as the API server holds it. So the Node goes away between the two: the kubelet
    // files while no worker runs, then it stops and its Node is deleted; the workers find the CSR
    // without a Node; the kubelet starts again and registers the Node anew.
    await Promise.all(workers.map(w => system.stop(w)));
    let filed: CertificateSigningRequest | undefined;
    const [ip = ''] = freeNodeIps(1);
    const k = await kubelet('late-node', [ip]);
    try {
      [filed] = await until('its first CSR', async () => {
        const csrs = await k.csrs();
        return csrs.length > 0 ? csrs : undefined;
      });
      await k.halt();
      await system.cp.admin.delete('/api/v1/nodes/late-node');
    } finally {
      // Whatever happened, the tests after this one get their workers back.
      workers = await Promise.all([system.start('worker'), system.start('worker')]);
    }
    assert.ok(filed);
    // The workers retry (backoff ≤ 2 s) while the Node is missing: several attempts, no decision.
    await new Promise(resolve => setTimeout(resolve, 6_000));
    const pending = await system.cp.getCsr(filed.metadata.name);
    assert.deepEqual(
      pending.status?.conditions ?? [],
      [],
      'left pending while the Node is missing',
    );

    await k.resume();
    const approved = await until('the first CSR approved', async () => {
      const csr = await system.cp.getCsr(filed.metadata.name);
      return csr.status?.conditions?.length ? csr : undefined;
    });
    const condition = approved.status?.conditions?.[0];
    assert.deepEqual([condition?.type, condition?.reason], ['Approved', 'AutoApproved']);
    const waitedMs =
      Date.parse(condition?.lastUpdateTime ?? '') -
      Date.parse(approved.metadata.creationTimestamp ?? '');
    assert.ok(waitedMs < GRACE_SECONDS * 1000, `approved after ${String(waitedMs)} ms`);
    // The restarted kubelet filed a new CSR (its first key died with it); that one is served.
    await assertServesItsNodesCertificate(k);
    await k.stop();
  });

  it('a kubelet whose node IP changes files a CSR for the new address, and it is approved', async () => {
    const [before = '', after = ''] = freeNodeIps(2);
    const k = await kubelet('renumbered', [before]);
    const first = await assertServesItsNodesCertificate(k);
    await k.changeNodeIps([after]);
    const second = await assertServesItsNodesCertificate(k);
    assert.notEqual(second.serialNumber, first.serialNumber);
    assert.equal(summary(second).sans, `DNS:renumbered,IP:${after}`);
    const csrs = await settledCsrs(k, 2);
    assert.deepEqual(
      csrs.map(csr => [sansOfRequest(csr), csr.status?.conditions?.map(c => c.reason)]),
      [
        [`DNS:renumbered,IP:${before}`, ['AutoApproved']],
        [`DNS:renumbered,IP:${after}`, ['AutoApproved']],
      ],
    );
    await k.stop();
  });

  const stacks = [
    { stack: 'an IPv6-only', name: 'ipv6-only', ips: () => freeNodeIps(1, 6) },
    {
      stack: 'a dual-stack',
      name: 'dual-stack',
      ips: () => [...freeNodeIps(1), ...freeNodeIps(1, 6)],
    },
  ];
  for (const { stack, name, ips } of stacks) {
    it(`${stack} kubelet gets every one of its IPs in its certificate`, async () => {
      const nodeIps = ips();
      const k = await kubelet(name, nodeIps);
      const served = await assertServesItsNodesCertificate(k);
      const sans = parseSubjectAltName(served.subjectAltName ?? '');
      assert.equal(sans.size, nodeIps.length + 1, [...sans].join(', '));
      const [csr] = await settledCsrs(k);
      assert.deepEqual(
        csr?.status?.conditions?.map(c => c.reason),
        ['AutoApproved'],
      );
      await k.stop();
    });
  }
});

describe('a real kubelet rotates its serving certificate through stampede', () => {
  // The signer backdates 5 minutes, so a 140 s certificate lives 440 s from notBefore; the kubelet
  // renews at a random 70–90 % of that: 8–96 s after it was issued.
  const SIGNING_SECONDS = 140;
  let system: System;
  let k: RealKubelet | undefined;

  before(async () => {
    system = await System.start({
      controlPlane: { signingDuration: `${String(SIGNING_SECONDS)}s` },
    });
    await system.start('watcher');
    await Promise.all([system.start('worker'), system.start('worker')]);
  });

  after(async () => {
    await k?.stop();
    await system.stopAll();
  });

  it('renews before expiry, the renewal is approved, and the port serves the new certificate', async () => {
    const [ip = ''] = freeNodeIps(1);
    k = await startKubelet({ name: 'rotating', nodeIps: [ip], harness: system.cp });
    const first = await k.waitForServedCertificate();
    const lifetimeMs = first.validToDate.getTime() - first.validFromDate.getTime();
    assert.equal(lifetimeMs, (SIGNING_SECONDS + 300) * 1000, 'the short signing duration applies');
    const second = await k.waitForServedCertificate(
      c => c.serialNumber !== first.serialNumber,
      150_000,
    );
    assert.ok(second.validToDate > first.validToDate);
    assert.ok(Date.now() < first.validToDate.getTime(), 'renewed before the first expired');
    assert.equal(summary(second).sans, summary(first).sans);
    const csrs = await k.csrs();
    assert.ok(csrs.length >= 2, `${String(csrs.length)} CSRs`);
    for (const csr of csrs.slice(0, 2))
      assert.deepEqual(
        csr.status?.conditions?.map(c => [c.type, c.reason]),
        [['Approved', 'AutoApproved']],
      );
    assert.equal(k.storedCertificate()?.certificate.serialNumber, second.serialNumber);
  });
});
