// Memory the watcher keeps per Node and per pending CSR (its list/watch stores hold only these
// projections). Run: node --expose-gc services/watcher/bench/memory.bench.ts
import type { CertificateSigningRequest, Node } from '@stampede/kube';
import { projectIndexedNode, projectPendingCsr } from '@stampede/watcher';

const COUNT = 20_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function node(i: number): Node {
  const name = `ip-10-${i >> 8}-${i & 255}.eu-west-1.compute.internal`;
  return {
    metadata: {
      name,
      uid: crypto.randomUUID(),
      resourceVersion: String(1_000_000 + i),
      creationTimestamp: '2026-11-29T10:00:00Z',
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: `10.1.${i >> 8}.${i & 255}` },
        { type: 'ExternalIP', address: `54.1.${i >> 8}.${i & 255}` },
        { type: 'Hostname', address: name },
        { type: 'InternalDNS', address: name },
      ],
    },
  };
}

function csr(i: number): CertificateSigningRequest {
  return {
    metadata: {
      name: `csr-${i.toString(36).padStart(5, '0')}`,
      uid: crypto.randomUUID(),
      resourceVersion: String(2_000_000 + i),
      creationTimestamp: '2026-11-29T10:00:00Z',
    },
    spec: {
      signerName: 'kubernetes.io/kubelet-serving',
      username: `system:node:ip-10-${i >> 8}-${i & 255}.eu-west-1.compute.internal`,
      request: '',
    },
  };
}

function measure(label: string, make: (i: number) => object | undefined): void {
  // Build the inputs first, so only the kept projections are counted.
  const before = heapAfterGc();
  const kept = new Map<number, object>();
  for (let i = 0; i < COUNT; i++) {
    const value = make(i);
    if (value !== undefined) kept.set(i, value);
  }
  const after = heapAfterGc();
  process.stdout.write(
    `${label}: ${Math.round((after - before) / kept.size)} bytes each (${kept.size})\n`,
  );
}

measure('Node projection (4 addresses, EC2-style names)', i => projectIndexedNode(node(i)));
measure('pending CSR projection', i => projectPendingCsr(csr(i)));
