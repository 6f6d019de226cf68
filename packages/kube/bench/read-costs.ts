// What one GET costs the control plane, by where the API server serves it from (docs/adr/0020):
// a quorum read from etcd, the watch cache at any version (resourceVersion=0), or the watch cache
// at a version not older than another object's (a Node read at its CSR's version, while nothing
// writes Nodes, so the Node cache must first learn from etcd that it is current).
//
//   node packages/kube/bench/read-costs.ts [--csrs 300] [--in-flight 10] [--rounds 3]
//
// Starts the harness control plane, creates one Node and one kubelet CSR per Node, then reads
// them in each way, interleaved round by round; CPU is kube-apiserver's and etcd's (/proc).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeletEmulator, startControlPlane } from '@stampede/harness';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import type { KubeClient, KubeLogger } from '@stampede/kube';

const { values } = parseArgs({
  options: {
    csrs: { type: 'string', default: '300' },
    'in-flight': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
const csrCount = Number(values.csrs);
const inFlight = Number(values['in-flight']);
const rounds = Number(values.rounds);

const noop = (): void => undefined;
const silent: KubeLogger = { debug: noop, info: noop, warn: noop, error: noop };
const TICKS = 100;

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields =
    readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
      .split(') ')[1]
      ?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

interface Target {
  readonly csr: string;
  readonly node: string;
  readonly csrVersion: string;
}

type Read = (kube: KubeClient, target: Target) => Promise<unknown>;

const READS: Record<string, Read> = {
  'GET CSR, quorum': (kube, t) => kube.getCsr(t.csr),
  'GET CSR, resourceVersion=0': (kube, t) => kube.getCsr(t.csr, { resourceVersion: '0' }),
  'GET Node, quorum': (kube, t) => kube.getNode(t.node),
  "GET Node, not older than its CSR's version": (kube, t) =>
    kube.getNode(t.node, { resourceVersion: t.csrVersion }),
};

async function measure(
  kube: KubeClient,
  read: Read,
  targets: readonly Target[],
  pids: readonly number[],
): Promise<{ cpuUs: number; p50: number; p99: number }> {
  const before = pids.map(cpuMs);
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < targets.length) {
        const target = targets[next++];
        if (target === undefined) return;
        const started = performance.now();
        await read(kube, target);
        latencies.push(performance.now() - started);
      }
    }),
  );
  const spent = pids.map(cpuMs).reduce((sum, ms, i) => sum + ms - (before[i] ?? 0), 0);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { cpuUs: (spent * 1000) / targets.length, p50: at(0.5), p99: at(0.99) };
}

const cp = await startControlPlane({ log: () => undefined });
try {
  const kube = await createKubeClient({
    kubeConfig: loadKubeConfig({ path: await cp.approverKubeconfig() }),
    logger: silent,
  });
  // Every Node first, then the CSRs: each CSR is newer than every Node, and nothing writes Nodes
  // afterwards, so a Node read "not older than" a CSR waits until the Node cache has caught up.
  const nodes = Array.from({ length: csrCount }, (_, i) => `read-cost-${String(i)}`);
  for (const [i, node] of nodes.entries()) {
    await cp.createNode(node, [
      { type: 'InternalIP', address: `10.9.${String(i >> 8)}.${String(i & 255)}` },
      { type: 'Hostname', address: node },
    ]);
  }
  const targets: Target[] = [];
  for (const node of nodes) {
    const created = await new KubeletEmulator({ nodeName: node, harness: cp }).createCsr();
    const csrVersion = created.metadata.resourceVersion ?? '';
    targets.push({ csr: created.metadata.name, node, csrVersion });
  }
  const pids = [cp.pids.apiserver, cp.pids.etcd].filter((p): p is number => p !== undefined);
  const rows = new Map<string, { cpuUs: number[]; p50: number[]; p99: number[] }>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, read] of Object.entries(READS)) {
      const result = await measure(kube, read, targets, pids);
      const row = rows.get(name) ?? { cpuUs: [], p50: [], p99: [] };
      row.cpuUs.push(result.cpuUs);
      row.p50.push(result.p50);
      row.p99.push(result.p99);
      rows.set(name, row);
    }
  }
  const fmt = (xs: number[], digits: number): string => xs.map(x => x.toFixed(digits)).join(' / ');
  console.log(
    `${String(csrCount)} objects per read kind, ${String(inFlight)} in flight, ${String(rounds)} rounds (each figure: round 1 / 2 / …)`,
  );
  console.log('| read | control-plane CPU per read (µs) | latency p50 (ms) | latency p99 (ms) |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, row] of rows) {
    console.log(`| ${name} | ${fmt(row.cpuUs, 0)} | ${fmt(row.p50, 1)} | ${fmt(row.p99, 1)} |`);
  }
  await kube.close();
} finally {
  await cp.stop();
}
