// Connections and client CPU per API call: @kubernetes/client-node's generated API versus this
// adapter, against a real kube-apiserver.
//
//   node packages/kube/bench/connections.ts [--calls 1000] [--in-flight 1,16]
//
// With KUBECONFIG and --csr NAME it uses that cluster and CSR; otherwise it starts the harness
// control plane and reads a CSR as the approver's ServiceAccount (a bearer token, as in-cluster).
// New connections are counted on undici's `undici:client:connected` diagnostics channel, which
// both clients publish to (client-node 2.0.1 sends through undici).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { parseArgs } from 'node:util';
import { CertificatesV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeletEmulator, startControlPlane } from '@stampede/harness';
import type { ControlPlane } from '@stampede/harness';
import { createKubeClient } from '@stampede/kube';
import type { KubeLogger } from '@stampede/kube';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000' },
    'in-flight': { type: 'string', default: '1,16' },
    csr: { type: 'string' },
  },
});
const calls = Number(values.calls);
const inFlights = values['in-flight'].split(',').map(Number);

const noop = (): void => undefined;
const silent: KubeLogger = { debug: noop, info: noop, warn: noop, error: noop };

interface Subject {
  readonly name: string;
  /** A fresh client; `get` reads the CSR once; `close` releases it. */
  make(): Promise<{ get(): Promise<unknown>; close(): Promise<void> }>;
}

interface Row {
  readonly client: string;
  readonly inFlight: number;
  readonly calls: number;
  readonly connections: number;
  readonly cpuUsPerCall: number;
  readonly wallMs: number;
}

async function setUp(): Promise<{ kubeconfig: string; csrName: string; cp?: ControlPlane }> {
  const fromEnv = process.env['KUBECONFIG'];
  if (fromEnv !== undefined && values.csr !== undefined) {
    return { kubeconfig: fromEnv, csrName: values.csr };
  }
  const cp = await startControlPlane({ log: () => undefined });
  const kubelet = new KubeletEmulator({ nodeName: 'bench-node', harness: cp });
  const csr = await kubelet.createCsr();
  return { kubeconfig: await cp.approverKubeconfig(), csrName: csr.metadata.name, cp };
}

async function measure(subject: Subject, inFlight: number, n: number): Promise<Row> {
  const client = await subject.make();
  let connections = 0;
  const onConnected = (): void => {
    connections++;
  };
  subscribe('undici:client:connected', onConnected);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < n) {
          next++;
          await client.get();
        }
      }),
    );
  } finally {
    unsubscribe('undici:client:connected', onConnected);
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await client.close();
  return {
    client: subject.name,
    inFlight,
    calls: n,
    connections,
    cpuUsPerCall: Math.round((used.user + used.system) / n),
    wallMs: Math.round(wallMs),
  };
}

const { kubeconfig, csrName, cp } = await setUp();
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);

const subjects: Subject[] = [
  {
    name: 'client-node 2.0.1 (makeApiClient)',
    make: () => {
      const api = kc.makeApiClient(CertificatesV1Api);
      return Promise.resolve({
        get: () => api.readCertificateSigningRequest({ name: csrName }),
        close: () => Promise.resolve(),
      });
    },
  },
  {
    name: '@stampede/kube (HTTP/1.1 keep-alive)',
    make: async () => {
      const kube = await createKubeClient({ kubeConfig: kc, logger: silent });
      return { get: () => kube.getCsr(csrName), close: () => kube.close() };
    },
  },
  {
    name: '@stampede/kube (allowH2)',
    make: async () => {
      const kube = await createKubeClient({ kubeConfig: kc, logger: silent, allowH2: true });
      return { get: () => kube.getCsr(csrName), close: () => kube.close() };
    },
  },
];

try {
  // Warm the JIT and TLS session caches of every path before measuring.
  for (const subject of subjects) await measure(subject, 4, 100);
  const rows: Row[] = [];
  for (const inFlight of inFlights) {
    for (const subject of subjects) rows.push(await measure(subject, inFlight, calls));
  }
  console.log(`GET certificatesigningrequests/${csrName}, ${String(calls)} calls per row`);
  console.table(
    rows.map(r => ({
      client: r.client,
      'in flight': r.inFlight,
      'new connections': r.connections,
      'connections per 1,000 calls': Math.round((r.connections / r.calls) * 1000 * 10) / 10,
      'client CPU µs/call': r.cpuUsPerCall,
      'calls/s': Math.round((r.calls / r.wallMs) * 1000),
    })),
  );
} finally {
  await cp?.stop();
}
