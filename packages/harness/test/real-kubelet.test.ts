// startKubelet on a real control plane: the machine is left as it was (kernel tunables, mounts,
// addresses, processes, dirs), however the test process ends; and the emulator's request is the
// real kubelet's, byte for byte but for the key and its signature.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseCsr } from '@stampede/policy';
import { kubeletCsr } from '@stampede/testing';
import {
  freeNodeIps,
  KUBELET_SERVING_SIGNER,
  KUBELET_SERVING_USAGES,
  servingSans,
  startControlPlane,
  startKubelet,
  type CertificateSigningRequest,
  type ControlPlane,
  type KeyPair,
  type RealKubelet,
} from '@stampede/harness';
import { alive, startLeakyChild, waitUntilGone } from './fixtures/leak-helpers.ts';

// What a kubelet's container manager writes as root (pkg/kubelet/cm setupKernelTunables).
const TUNABLES = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];
const tunables = (): string[] => TUNABLES.map(t => readFileSync(`/proc/sys/${t}`, 'utf8').trim());

/** certificationRequestInfo, the signed bytes: subject, key, extensions with the SANs in order. */
function certificationRequestInfo(pem: string): Buffer {
  const parsed = parseCsr(Buffer.from(pem));
  assert.ok(parsed.ok, 'the request parses');
  return Buffer.from(parsed.csr.signedData);
}

const requestPem = (csr: CertificateSigningRequest): string =>
  Buffer.from(csr.spec.request, 'base64').toString();

describe('a real kubelet on this machine', () => {
  let cp: ControlPlane;
  const kubelets: RealKubelet[] = [];

  before(async () => {
    cp = await startControlPlane();
  });

  after(async () => {
    await Promise.all(kubelets.map(k => k.stop()));
    await cp.stop();
  });

  async function firstCsr(k: RealKubelet): Promise<CertificateSigningRequest> {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const [csr] = await k.csrs();
      if (csr) return csr;
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    throw new Error(`${k.name} filed no CSR within 60 s:\n${k.tail()}`);
  }

  it('changes no kernel tunable and leaves no mount, address or dir after stop()', async () => {
    const before = tunables();
    const [ip = ''] = freeNodeIps(1);
    const k = await startKubelet({ name: 'tidy', nodeIps: [ip], harness: cp });
    await firstCsr(k); // well past the container manager's start-up
    assert.deepEqual(tunables(), before, TUNABLES.join(', '));
    const mounts = (): string => readFileSync('/proc/self/mounts', 'utf8');
    assert.ok(!mounts().includes(k.dir), 'its root-dir mount stays in its own namespace');
    await k.stop();
    assert.equal(k.running, false);
    assert.ok(!mounts().includes(k.dir));
    await waitUntilGone({ pids: [], dirs: [k.dir], addresses: [ip], reaper: 0 }, 1_000);
  });

  const stacks = [
    { stack: 'IPv4', ips: () => freeNodeIps(1) },
    { stack: 'IPv6', ips: () => freeNodeIps(1, 6) },
    { stack: 'dual-stack', ips: () => [...freeNodeIps(1), ...freeNodeIps(1, 6)] },
  ];
  for (const { stack, ips } of stacks) {
    it(`files, on ${stack}, the request the emulator builds for its Node, but for key and signature`, async () => {
      const k = await startKubelet({
        name: `same-bytes-${stack.toLowerCase()}`,
        nodeIps: ips(),
        harness: cp,
      });
      kubelets.push(k);
      const csr = await firstCsr(k);
      await cp.approve(csr.metadata.name);
      await k.waitForServedCertificate();
      // The kubelet's key, from the file it stored: the emulator's request with that key must
      // carry the same certificationRequestInfo (subject, key, extension, SANs in order).
      const stored = k.storedCertificate();
      assert.ok(stored);
      const privateKey = createPrivateKey(stored.pem);
      const publicKey = createPublicKey(privateKey);
      const key: KeyPair = {
        privateKey,
        publicKey,
        spki: publicKey.export({ type: 'spki', format: 'der' }),
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
      const node = await k.node();
      const emulated = kubeletCsr({
        nodeName: k.name,
        ...servingSans(node?.status?.addresses ?? []),
        key,
      });
      assert.equal(
        certificationRequestInfo(emulated.pemText).toString('hex'),
        certificationRequestInfo(requestPem(csr)).toString('hex'),
      );
      // And the object around it: what the emulator's createCsr() sends by default.
      assert.deepEqual(
        {
          signerName: csr.spec.signerName,
          usages: csr.spec.usages,
          expirationSeconds: csr.spec.expirationSeconds,
          generateName: (csr.metadata as { generateName?: string }).generateName,
        },
        {
          signerName: KUBELET_SERVING_SIGNER,
          usages: KUBELET_SERVING_USAGES,
          expirationSeconds: undefined,
          generateName: 'csr-',
        },
      );
      await k.stop();
    });
  }
});

describe('teardown of a real kubelet when the test process dies', () => {
  const ways: { how: string; end: (pid: number) => void }[] = [
    {
      how: 'SIGKILL (no hooks run: the reaper cleans up)',
      end: pid => process.kill(pid, 'SIGKILL'),
    },
    { how: 'SIGTERM (the signal hook cleans up)', end: pid => process.kill(pid, 'SIGTERM') },
  ];
  for (const { how, end } of ways) {
    it(`leaves no process, address, mount or directory behind after ${how}`, async () => {
      const child = await startLeakyChild('kubelet');
      assert.ok(child.report.pids.every(alive), 'everything runs before the kill');
      assert.ok((child.report.addresses ?? []).length > 0, 'the kubelet has a node IP');
      end(child.pid);
      await waitUntilGone(child.report, 10_000);
    });
  }
});
