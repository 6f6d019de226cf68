// Real kubelets (go/kubelet: kubelet v1.37.2 with a fake container runtime) on one control plane,
// with stampede as deployed (a watcher and a worker under their ServiceAccounts). Two questions:
// 1. What does one real kubelet cost this machine (RSS, CPU when settled), so how many it carries;
//    and how long from its start to the certificate it serves.
// 2. Is the fleet simulator's request the real one? For each kubelet, the request the emulator
//    (@stampede/testing kubeletCsr, which the fleet and KubeletEmulator use) builds for its Node
//    with the kubelet's own key must have the same signed bytes (subject, key, SANs in order,
//    extensions) as the request the kubelet filed, and the same CSR object fields around it.
// Run: node load-tests/src/real-kubelets.ts [N] [--settle-seconds S]   (default 10, 30)
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeNodeIps, servingSans, startKubelet, System } from '@stampede/harness';
import type { CertificateSigningRequest, RealKubelet } from '@stampede/harness';
import { parseCsr } from '@stampede/policy';
import { kubeletCsr } from '@stampede/testing';
import { sampleProcess } from './proc.ts';
import { median, percentile } from './stats.ts';

/**
 * The kubelet and every process under it (it re-executes itself into a mount namespace). A child
 * is listed under the thread that forked it, and Go forks from any thread: read every task's list.
 */
function processTree(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${String(pid)}/task`)) {
      const text = readFileSync(`/proc/${String(pid)}/task/${task}/children`, 'utf8');
      children.push(...text.trim().split(' ').filter(Boolean).map(Number));
    }
  } catch {
    // Gone: nothing to count.
  }
  return [pid, ...children.flatMap(processTree)];
}

const cpuOf = (pids: readonly number[]): number =>
  pids.reduce((sum, pid) => sum + (sampleProcess(pid)?.cpuSeconds ?? 0), 0);
const rssOf = (pids: readonly number[]): number =>
  pids.reduce((sum, pid) => sum + (sampleProcess(pid)?.rssBytes ?? 0), 0);

/** The kubelet's serving key, from the file it stored (key and certificate in one PEM). */
function keyPairOf(pem: string) {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The CSR object's fields around the request, as the emulator's createCsr() sends them. */
function specDifferences(csr: CertificateSigningRequest): string[] {
  const spec = csr.spec as typeof csr.spec & { expirationSeconds?: number };
  const out: string[] = [];
  if (spec.signerName !== 'kubernetes.io/kubelet-serving') out.push(`signer ${spec.signerName}`);
  const usages = (spec.usages ?? []).join(',');
  if (usages !== 'digital signature,server auth') out.push(`usages ${usages}`);
  if (spec.expirationSeconds !== undefined)
    out.push(`expirationSeconds ${String(spec.expirationSeconds)}`);
  return out;
}

/** What differs between the kubelet's request and the emulator's for the same Node and key. */
async function differences(
  kubelet: RealKubelet,
  csr: CertificateSigningRequest | undefined,
): Promise<string[]> {
  const stored = kubelet.storedCertificate();
  if (csr === undefined || stored === undefined) return ['no CSR or no stored certificate'];
  const node = await kubelet.node();
  const emulated = kubeletCsr({
    nodeName: kubelet.name,
    ...servingSans(node?.status?.addresses ?? []),
    key: keyPairOf(stored.pem),
  });
  const real = parseCsr(Buffer.from(csr.spec.request, 'base64'));
  const ours = parseCsr(Buffer.from(emulated.pemText));
  if (!real.ok || !ours.ok) return ['a request does not parse'];
  const out: string[] = [];
  if (Buffer.compare(Buffer.from(real.csr.signedData), Buffer.from(ours.csr.signedData)) !== 0)
    out.push('certificationRequestInfo differs');
  const [a, b] = [real, ours].map(r => JSON.stringify(r.csr.signatureAlgorithm));
  if (a !== b) out.push(`signature algorithm ${a ?? ''} vs ${b ?? ''}`);
  return [...out, ...specDifferences(csr)];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'settle-seconds': { type: 'string', default: '30' } },
  });
  const count = Number(positionals[0] ?? 10);
  const settleSeconds = Number(values['settle-seconds']);
  const system = await System.start();
  const kubelets: RealKubelet[] = [];
  try {
    await system.start('watcher');
    await system.start('worker');
    const ips = freeNodeIps(count);
    const startedAt = new Map<string, number>();
    // Four at a time: a kubelet's start-up is CPU-bound for a second or two.
    for (let i = 0; i < count; i += 4) {
      await Promise.all(
        ips.slice(i, i + 4).map(async (ip, j) => {
          const name = `real-${String(i + j + 1).padStart(3, '0')}`;
          startedAt.set(name, performance.now());
          kubelets.push(
            await startKubelet({ name, nodeIps: [ip], harness: system.cp, log: () => undefined }),
          );
        }),
      );
    }
    const toServedMs = await Promise.all(
      kubelets.map(async k => {
        await k.waitForServedCertificate(c => c.issuer.includes('kubelet-serving'), 180_000);
        return performance.now() - (startedAt.get(k.name) ?? 0);
      }),
    );
    await sleep(5_000);
    const trees = kubelets.map(k => processTree(k.pid ?? 0));
    const cpu0 = trees.map(cpuOf);
    const t0 = performance.now();
    await sleep(settleSeconds * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const cores = trees.map((tree, i) => (cpuOf(tree) - (cpu0[i] ?? 0)) / seconds);
    const rss = trees.map(rssOf);

    const diffs = await Promise.all(
      kubelets.map(async k => ({
        name: k.name,
        diff: await differences(k, (await k.csrs())[0]),
      })),
    );
    const same = diffs.filter(d => d.diff.length === 0).length;

    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const rssMedian = median(sorted(rss));
    const coreMedian = median(sorted(cores));
    console.log(
      `real kubelets: ${String(count)} (kubelet v1.37.2, fake runtime), settled ${String(settleSeconds)} s`,
    );
    console.log(`| per kubelet | median | p99 | max |`);
    console.log(`| --- | --- | --- | --- |`);
    console.log(
      `| RSS (MiB) | ${mib(rssMedian)} | ${mib(percentile(sorted(rss), 99))} | ${mib(Math.max(...rss))} |`,
    );
    console.log(
      `| CPU settled (millicores) | ${(coreMedian * 1000).toFixed(1)} | ${(percentile(sorted(cores), 99) * 1000).toFixed(1)} | ${(Math.max(...cores) * 1000).toFixed(1)} |`,
    );
    console.log(
      `| start → serving its approved certificate (s) | ${(median(sorted(toServedMs)) / 1000).toFixed(1)} | ${(percentile(sorted(toServedMs), 99) / 1000).toFixed(1)} | ${(Math.max(...toServedMs) / 1000).toFixed(1)} |`,
    );
    const byMemory = Math.floor((totalmem() * 0.5) / rssMedian);
    const byCpu = coreMedian > 0 ? Math.floor(0.5 / coreMedian) : Infinity;
    console.log(
      `this machine carries ≈ ${String(Math.min(byMemory, byCpu))} settled kubelets in half its RAM and a quarter of its 2 cores (memory: ${String(byMemory)}, CPU: ${String(byCpu)})`,
    );
    console.log(
      `emulator's request = the real kubelet's (signed bytes, signature algorithm, signer, usages, no expirationSeconds): ${String(same)}/${String(count)}`,
    );
    for (const { name, diff } of diffs)
      if (diff.length > 0) console.log(`  ${name}: ${diff.join('; ')}`);
    if (same !== count) process.exitCode = 1;
  } finally {
    await Promise.all(kubelets.map(k => k.stop()));
    await system.stopAll();
  }
}

await main();
