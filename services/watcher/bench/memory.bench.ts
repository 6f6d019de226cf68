// Memory the watcher keeps per pending CSR (its list/watch store holds only this projection).
// The Node side lives in the worker now: services/worker/bench/node-view.bench.ts.
// Run: node --expose-gc services/watcher/bench/memory.bench.ts
import type { CertificateSigningRequest } from '@stampede/kube';
import { projectPendingCsr } from '@stampede/watcher';

const COUNT = 20_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
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

measure('pending CSR projection', i => projectPendingCsr(csr(i)));
