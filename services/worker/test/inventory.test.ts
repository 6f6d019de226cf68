// End to end with `evidence.require: [inventory]` (docs/adr/0022): stampede as deployed (a watcher
// and a worker process under their ServiceAccounts) asks the reference inventory webhook
// (`stampede inventory-server`, over HTTPS on loopback) about every CSR's SANs. Outcomes are read
// from the API server's objects; the inventory's answers come from its file, edited by the test.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startInventoryServer } from '@stampede/cli';
import type { InventoryServer } from '@stampede/cli';
import {
  CertificateAuthority,
  freeNodeIps,
  freePort,
  generateKeyPair,
  KubeletEmulator,
  settledAs,
  startKubelet,
  System,
  until,
} from '@stampede/harness';
import type { CertificateSigningRequest, RealKubelet } from '@stampede/harness';

describe('the inventory vouches for each SAN (evidence.require: [inventory])', () => {
  let system: System;
  let inventory: InventoryServer | undefined;
  const kubelets: RealKubelet[] = [];
  const ca = CertificateAuthority.create('stampede-test-inventory-ca');
  const key = generateKeyPair();
  const cert = ca.issue(
    { subject: { commonName: 'inventory' }, ips: ['127.0.0.1'], extKeyUsages: ['serverAuth'] },
    key.spki,
  );
  let file = '';
  let port = 0;
  const listed: Record<string, string[]> = {};
  const list = (node: string, sans: string[]) => {
    listed[node] = sans;
    writeFileSync(file, JSON.stringify({ nodes: listed }));
  };
  const serve = async () => {
    inventory = await startInventoryServer({
      file,
      certPem: cert.certPem,
      keyPem: key.privateKeyPem,
      port,
    });
  };

  before(async () => {
    system = await System.start({ policy: 'evidence:\n  require: [inventory]\n' });
    file = join(system.dir, 'inventory.json');
    list('nobody', []);
    const caFile = join(system.dir, 'inventory-ca.crt');
    writeFileSync(caFile, ca.certPem);
    port = await freePort();
    await serve();
    await system.start('watcher');
    await system.start('worker', {
      INVENTORY_URL: `https://127.0.0.1:${String(port)}/review`,
      INVENTORY_CA_FILE: caFile,
      INVENTORY_TIMEOUT_MS: '1000',
      BACKOFF_INITIAL_MS: '200',
      BACKOFF_MAX_MS: '1000',
    });
  });

  after(async () => {
    await Promise.all(kubelets.map(k => k.stop()));
    await inventory?.close();
    await system.stopAll();
  });

  async function emulated(name: string, ip: string): Promise<KubeletEmulator> {
    const addresses = [
      { type: 'Hostname', address: name },
      { type: 'InternalIP', address: ip },
    ] as const;
    await system.cp.createNode(name, [...addresses]);
    return new KubeletEmulator({ nodeName: name, addresses: [...addresses], harness: system.cp });
  }

  const settled = (csr: CertificateSigningRequest) =>
    until(
      `${csr.metadata.name} settled`,
      async () => {
        const now = await system.cp.getCsr(csr.metadata.name);
        return settledAs(now) === undefined ? undefined : now;
      },
      60_000,
      200,
    );
  const conditionsOf = (csr: CertificateSigningRequest) =>
    csr.status?.conditions?.map(c => [c.type, c.reason]);

  it('approves a CSR whose every SAN the inventory lists for the node', async () => {
    list('inv-listed', ['10.78.0.1']);
    const kubelet = await emulated('inv-listed', '10.78.0.1');
    await kubelet.createCsr();
    await kubelet.waitForCertificate({ timeoutMs: 60_000 });
  });

  it('denies SanNotVouched an address the Node reports but the inventory does not list', async () => {
    list('inv-unlisted', ['10.78.0.99']);
    const kubelet = await emulated('inv-unlisted', '10.78.0.2');
    const csr = await settled(await kubelet.createCsr());
    assert.deepEqual(conditionsOf(csr), [['Denied', 'SanNotVouched']]);
    assert.match(
      csr.status?.conditions?.[0]?.message ?? '',
      /IP SAN 10\.78\.0\.2: the inventory refuses it/,
    );
  });

  it('leaves a CSR pending while the inventory is down, and approves it once it answers again', async () => {
    list('inv-later', ['10.78.0.3']);
    const kubelet = await emulated('inv-later', '10.78.0.3');
    await inventory?.close();
    inventory = undefined;
    const csr = await kubelet.createCsr();
    // Several attempts fail against the closed port (backoff 200 ms … 1 s): never a decision.
    await sleep(4_000);
    assert.equal(settledAs(await system.cp.getCsr(csr.metadata.name)), undefined);
    await serve();
    const decided = await settled(csr);
    assert.deepEqual(conditionsOf(decided), [['Approved', 'AutoApproved']]);
  });

  it('a real kubelet the inventory lists gets its certificate and serves it', async () => {
    const [ip = ''] = freeNodeIps(1);
    list('inv-real', [ip]);
    const k = await startKubelet({ name: 'inv-real', nodeIps: [ip], harness: system.cp });
    kubelets.push(k);
    const served = await k.waitForServedCertificate(
      c => c.issuer.includes('kubelet-serving'),
      60_000,
    );
    assert.equal(served.subject, 'O=system:nodes\nCN=system:node:inv-real');
    const [csr] = await k.csrs();
    assert.ok(csr, 'the kubelet filed a CSR');
    assert.deepEqual(conditionsOf(csr), [['Approved', 'AutoApproved']]);
  });
});
