// Memory a worker keeps for its own view of Node claims (docs/adr/0019) at 10,000 and 100,000
// Nodes: the list/watch store's projections plus the key → claimants index, as the worker holds
// them (two maps in the reflector, one in the index). Run: node --expose-gc services/worker/bench/node-view.bench.ts
import type { Node } from '@stampede/kube';
import { ClaimsIndex, projectNodeClaims } from '@stampede/worker';
import type { NodeClaims } from '@stampede/worker';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** An EC2-style Node: InternalIP, ExternalIP, and its name as Hostname and InternalDNS. */
function node(i: number): Node {
  const name = `ip-10-${(i >> 16) & 255}-${(i >> 8) & 255}-${i & 255}.eu-west-1.compute.internal`;
  return {
    metadata: {
      name,
      uid: crypto.randomUUID(),
      resourceVersion: String(1_000_000 + i),
      creationTimestamp: '2026-11-29T10:00:00Z',
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
        { type: 'ExternalIP', address: `54.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
        { type: 'Hostname', address: name },
        { type: 'InternalDNS', address: name },
      ],
    },
  };
}

function measure(count: number): void {
  const before = heapAfterGc();
  const entries = new Map<string, { value: NodeClaims; resourceVersion: string }>();
  const values = new Map<string, NodeClaims>();
  const index = new ClaimsIndex();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const object = node(i);
    const value = projectNodeClaims(object);
    if (value === undefined) continue;
    const name = object.metadata?.name ?? '';
    entries.set(name, { value, resourceVersion: object.metadata?.resourceVersion ?? '' });
    values.set(name, value);
    index.add(value);
  }
  const buildMs = performance.now() - started;
  const after = heapAfterGc();
  const lookups = 100_000;
  const t0 = performance.now();
  let found = 0;
  for (let i = 0; i < lookups; i++)
    found += index.claimants(`ip:10.0.${(i >> 8) & 255}.${i & 255}`).length;
  const lookupUs = ((performance.now() - t0) * 1000) / lookups;
  process.stdout.write(
    `${count} Nodes: ${((after - before) / 2 ** 20).toFixed(1)} MiB heap (${Math.round((after - before) / count)} B per Node), ` +
      `${index.size} keys, projected and indexed in ${Math.round(buildMs)} ms, ` +
      `lookup ${lookupUs.toFixed(2)} µs (${found > 0 ? 'hits' : 'no hits'})\n`,
  );
  entries.clear();
  values.clear();
}

measure(10_000);
measure(100_000);
