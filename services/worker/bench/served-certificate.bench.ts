// What the served-certificate fact (docs/adr/0024) costs per CSR, paid only while the inventory
// cannot answer: the worker's reader makes one TLS handshake per read (no session reuse: each job
// dials afresh) to a kubelet-like server in its own process on loopback, 10 in flight as a worker's
// default concurrency allows. Reported: latency median and p99, CPU per read of the worker side.
// Run: node services/worker/bench/served-certificate.bench.ts [READS]   (default 2000)
import { spawn } from 'node:child_process';
import { CertificateAuthority, freePort, generateKeyPair } from '@stampede/harness';
import { createServedCertificates } from '@stampede/worker';

const READS = Number(process.argv[2] ?? 2000);
const IN_FLIGHT = 10;

const ownCpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

const ca = CertificateAuthority.create('bench-kubelet-serving-ca');
const key = generateKeyPair();
const cert = ca.issue(
  {
    subject: { commonName: 'system:node:node-a', organizations: ['system:nodes'] },
    dnsNames: ['node-a'],
    ips: ['127.0.0.1'],
    extKeyUsages: ['serverAuth'],
  },
  key.spki,
);
const port = await freePort();
// A kubelet's port as far as the handshake goes: TLS with its serving certificate, then close.
const serverScript = `
  import { createServer } from 'node:tls';
  const { cert, key, port } = JSON.parse(process.env.BENCH_TLS);
  createServer({ cert, key }, s => s.end()).listen(port, '127.0.0.1', () => console.log('serving'));
`;
const server = spawn(process.execPath, ['--input-type=module', '-e', serverScript], {
  env: {
    ...process.env,
    BENCH_TLS: JSON.stringify({ cert: cert.certPem, key: key.privateKeyPem, port }),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  await new Promise<void>((ready, fail) => {
    server.stdout.setEncoding('utf8').on('data', (text: string) => {
      if (text.includes('serving')) ready();
    });
    server.once('exit', code => {
      fail(new Error(`server exited ${String(code)}`));
    });
  });
  const reader = createServedCertificates({ caPem: ca.certPem, timeoutMs: 5_000, port });
  const signal = new AbortController().signal;
  const read = async (i: number) => {
    const fact = await reader.read('127.0.0.1', 'node-a', signal);
    if (fact.state !== 'known') throw new Error(`read ${String(i)}: ${JSON.stringify(fact)}`);
  };
  for (let i = 0; i < 200; i++) await read(i); // warm up the JIT

  const latencies: number[] = [];
  const cpu0 = ownCpuSeconds();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < READS) {
        const i = next++;
        const t0 = performance.now();
        await read(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = ((ownCpuSeconds() - cpu0) * 1000) / READS;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  console.log(
    `served-certificate reads: ${String(READS)}, ${String(IN_FLIGHT)} in flight, ${(READS / seconds).toFixed(0)}/s`,
  );
  console.log(`  latency           p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms`);
  console.log(`  CPU per read      worker ${cpuMs.toFixed(3)} ms`);
} finally {
  server.kill('SIGTERM');
}
