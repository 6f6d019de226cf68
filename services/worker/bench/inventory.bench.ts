// What the inventory fact (docs/adr/0022) costs per CSR: the worker's client POSTs reviews of a
// typical kubelet CSR (three SANs) to the reference inventory (`stampede inventory-server`, its own
// process) over HTTPS on loopback, 10 in flight as a worker's default concurrency allows. Reported:
// latency median and p99, and CPU per review of the client (this process) and of the server.
// Run: node services/worker/bench/inventory.bench.ts [REVIEWS]   (default 3000)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CertificateAuthority, freePort, generateKeyPair } from '@stampede/harness';
import { createInventory } from '@stampede/worker';

const REVIEWS = Number(process.argv[2] ?? 3000);
const IN_FLIGHT = 10;
const CLI = resolve(import.meta.dirname, '../../cli/src/main.ts');

const cpuSecondsOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const ownCpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

const dir = mkdtempSync(join(tmpdir(), 'stampede-inventory-bench-'));
const ca = CertificateAuthority.create('bench-inventory-ca');
const key = generateKeyPair();
const cert = ca.issue(
  { subject: { commonName: 'inventory' }, ips: ['127.0.0.1'], extKeyUsages: ['serverAuth'] },
  key.spki,
);
writeFileSync(join(dir, 'tls.crt'), cert.certPem);
writeFileSync(join(dir, 'tls.key'), key.privateKeyPem);
writeFileSync(join(dir, 'inventory.yaml'), 'nodes:\n  node-a: [node-a.example.com, 10.0.0.1]\n');
const port = await freePort();
const server = spawn(
  process.execPath,
  [
    CLI,
    'inventory-server',
    '--file',
    join(dir, 'inventory.yaml'),
    '--cert',
    join(dir, 'tls.crt'),
    '--key',
    join(dir, 'tls.key'),
    '--listen',
    `127.0.0.1:${String(port)}`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  await new Promise<void>((ready, fail) => {
    server.stdout.setEncoding('utf8').on('data', (text: string) => {
      if (text.includes('serving')) ready();
    });
    server.once('exit', code => {
      fail(new Error(`inventory-server exited ${String(code)}`));
    });
  });
  const inventory = createInventory({
    url: new URL(`https://127.0.0.1:${String(port)}/review`),
    caPem: ca.certPem,
    timeoutMs: 5_000,
  });
  const question = (i: number) => ({
    csrName: `csr-${String(i)}`,
    csrUid: `uid-${String(i)}`,
    node: 'node-a',
    username: 'system:node:node-a',
    sanKeys: ['dns:node-a', 'dns:node-a.example.com', 'ip:10.0.0.1'],
  });
  const signal = new AbortController().signal;
  // Warm up: TLS sessions and JIT, as a running worker has them.
  for (let i = 0; i < 200; i++) await inventory.review(question(i), signal);

  const latencies: number[] = [];
  const [client0, server0] = [ownCpuSeconds(), cpuSecondsOf(server.pid ?? 0)];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < REVIEWS) {
        const i = next++;
        const t0 = performance.now();
        const fact = await inventory.review(question(i), signal);
        if (fact.state !== 'known') throw new Error(`review ${String(i)}: ${JSON.stringify(fact)}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const clientMs = ((ownCpuSeconds() - client0) * 1000) / REVIEWS;
  const serverMs = ((cpuSecondsOf(server.pid ?? 0) - server0) * 1000) / REVIEWS;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  console.log(
    `inventory reviews: ${String(REVIEWS)}, ${String(IN_FLIGHT)} in flight, ${(REVIEWS / seconds).toFixed(0)}/s`,
  );
  console.log(`  latency           p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms`);
  console.log(
    `  CPU per review    worker client ${clientMs.toFixed(3)} ms, reference server ${serverMs.toFixed(3)} ms`,
  );
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
