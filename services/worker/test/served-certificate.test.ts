// End to end with `evidence.require: [inventory]` and `evidence.servedCertificate` (docs/adr/0024):
// a real kubelet gets its first certificate on the inventory's word, then renews it while the
// inventory is down, and the worker reads the certificate the kubelet serves as the stand-in. Every
// kubelet serves on one port (SERVED_CERTIFICATE_PORT), each on its own node IP. Outcomes are read
// from the API server's objects.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startInventoryServer } from '@stampede/cli';
import type { InventoryServer } from '@stampede/cli';
import {
  CertificateAuthority,
  claimNodeIp,
  freeNodeIps,
  freePort,
  generateKeyPair,
  KubeletEmulator,
  releaseNodeIp,
  settledAs,
  startKubelet,
  System,
  until,
} from '@stampede/harness';
import type { CertificateSigningRequest, RealKubelet, ServiceProcess } from '@stampede/harness';

// The signer backdates 5 minutes, so a 140 s certificate lives 440 s; the kubelet renews at a random
// 70–90 % of that: 8–96 s after it was issued.
const SIGNING_SECONDS = 140;
const policyIssuedAfter = (ms: number) =>
  'evidence:\n  require: [inventory]\n  servedCertificate:\n' +
  `    issuedAfter: ${new Date(ms).toISOString()}\n`;

describe('the served certificate stands in for an inventory that is down (evidence.servedCertificate)', () => {
  let system: System;
  let inventory: InventoryServer | undefined;
  let worker: ServiceProcess | undefined;
  const kubelets: RealKubelet[] = [];
  const claimed: string[] = [];
  const ca = CertificateAuthority.create('stampede-test-inventory-ca');
  const key = generateKeyPair();
  const cert = ca.issue(
    { subject: { commonName: 'inventory' }, ips: ['127.0.0.1'], extKeyUsages: ['serverAuth'] },
    key.spki,
  );
  let file = '';
  let inventoryPort = 0;
  let kubeletPort = 0;
  const listed: Record<string, string[]> = {};
  const list = (node: string, sans: string[]) => {
    listed[node] = sans;
    writeFileSync(file, JSON.stringify({ nodes: listed }));
  };
  const serveInventory = async () => {
    inventory = await startInventoryServer({
      file,
      certPem: cert.certPem,
      keyPem: key.privateKeyPem,
      port: inventoryPort,
    });
  };
  const stopInventory = async () => {
    await inventory?.close();
    inventory = undefined;
  };

  /** A worker whose policy counts served certificates issued since `issuedAfterMs`. */
  async function startWorker(issuedAfterMs: number): Promise<void> {
    if (worker !== undefined) await system.stop(worker);
    const policyFile = join(system.dir, `policy-${String(issuedAfterMs)}.yaml`);
    writeFileSync(policyFile, policyIssuedAfter(issuedAfterMs));
    const caFile = join(system.dir, 'kubelet-serving-ca.crt');
    writeFileSync(caFile, system.cp.kubeletServingCaPem);
    const inventoryCa = join(system.dir, 'inventory-ca.crt');
    writeFileSync(inventoryCa, ca.certPem);
    worker = await system.start('worker', {
      POLICY_FILE: policyFile,
      INVENTORY_URL: `https://127.0.0.1:${String(inventoryPort)}/review`,
      INVENTORY_CA_FILE: inventoryCa,
      INVENTORY_TIMEOUT_MS: '1000',
      SERVED_CERTIFICATE_CA_FILE: caFile,
      // Suspended for users (ADR 24); the code stays tested until its fixes land.
      SERVED_CERTIFICATE_PREVIEW: 'accept-known-wrong-approvals',
      SERVED_CERTIFICATE_PORT: String(kubeletPort),
      SERVED_CERTIFICATE_TIMEOUT_MS: '1000',
      BACKOFF_INITIAL_MS: '200',
      BACKOFF_MAX_MS: '1000',
    });
  }

  before(async () => {
    system = await System.start({
      controlPlane: { signingDuration: `${String(SIGNING_SECONDS)}s` },
    });
    file = join(system.dir, 'inventory.json');
    list('nobody', []);
    [inventoryPort, kubeletPort] = await Promise.all([freePort(), freePort()]);
    await serveInventory();
    await system.start('watcher');
    // Certificates issued from ten minutes ago on count (the signer backdates five).
    await startWorker(Date.now() - 600_000);
  });

  after(async () => {
    await Promise.all(kubelets.map(k => k.stop()));
    for (const ip of claimed) releaseNodeIp(ip);
    await inventory?.close();
    await system.stopAll();
  });

  const conditionsOf = (csr: CertificateSigningRequest | undefined) =>
    csr?.status?.conditions?.map(c => [c.type, c.reason]);
  const settled = (name: string) =>
    until(
      `${name} settled`,
      async () => {
        const now = await system.cp.getCsr(name);
        return settledAs(now) === undefined ? undefined : now;
      },
      60_000,
      200,
    );
  /** A CSR as the node, for exactly its name and IP: what its next renewal would ask for. */
  const renewalAs = (k: RealKubelet) =>
    new KubeletEmulator({
      nodeName: k.name,
      addresses: [
        { type: 'Hostname', address: k.name },
        { type: 'InternalIP', address: k.nodeIps[0] ?? '' },
      ],
      harness: system.cp,
    }).createCsr();
  /** Still undecided after several attempts (backoff 200 ms … 1 s). */
  async function assertPending(csr: CertificateSigningRequest): Promise<void> {
    await sleep(4_000);
    const now = await system.cp.getCsr(csr.metadata.name);
    assert.equal(settledAs(now), undefined, JSON.stringify(now.status));
  }

  let renewing: RealKubelet;

  it('a real kubelet the inventory lists gets its first certificate and serves it', async () => {
    const [ip = ''] = freeNodeIps(1);
    list('served-renewal', [ip]);
    renewing = await startKubelet({
      name: 'served-renewal',
      nodeIps: [ip],
      port: kubeletPort,
      harness: system.cp,
    });
    kubelets.push(renewing);
    const served = await renewing.waitForServedCertificate(
      c => c.issuer.includes('kubelet-serving'),
      60_000,
    );
    assert.equal(served.subject, 'O=system:nodes\nCN=system:node:served-renewal');
  });

  it('renews through an inventory outage: the renewal is approved and the port serves it', async () => {
    const first = await renewing.waitForServedCertificate(c =>
      c.issuer.includes('kubelet-serving'),
    );
    await stopInventory();
    const second = await renewing.waitForServedCertificate(
      c => c.serialNumber !== first.serialNumber,
      150_000,
    );
    assert.equal(second.subjectAltName, first.subjectAltName);
    const csrs = await renewing.csrs();
    assert.ok(csrs.length >= 2, `${String(csrs.length)} CSRs`);
    for (const csr of csrs.slice(0, 2))
      assert.deepEqual(conditionsOf(csr), [['Approved', 'AutoApproved']]);
  });

  it('leaves pending, while the inventory is down, a node whose kubelet serves nothing', async () => {
    // On `lo`, so the worker's dial stays on this machine and is refused.
    const [ip = ''] = freeNodeIps(1);
    claimNodeIp(ip);
    claimed.push(ip);
    await system.cp.createNode('served-none', [
      { type: 'Hostname', address: 'served-none' },
      { type: 'InternalIP', address: ip },
    ]);
    list('served-none', [ip]);
    const csr = await new KubeletEmulator({
      nodeName: 'served-none',
      addresses: [
        { type: 'Hostname', address: 'served-none' },
        { type: 'InternalIP', address: ip },
      ],
      harness: system.cp,
    }).createCsr();
    await assertPending(csr);
  });

  it('leaves pending a renewal whose served certificate was issued before issuedAfter', async () => {
    await startWorker(Date.now());
    await assertPending(await renewalAs(renewing));
  });

  it('takes the inventory’s refusal over the served certificate once it answers again', async () => {
    await startWorker(Date.now() - 600_000);
    list('served-renewal', []);
    await serveInventory();
    const csr = await settled((await renewalAs(renewing)).metadata.name);
    assert.deepEqual(conditionsOf(csr), [['Denied', 'SanNotVouched']]);
  });
});
