import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { projectIndexedNode } from './node-projection.ts';

describe('projectIndexedNode', () => {
  it('keeps the name, version, creation time and canonical address keys of a Node', () => {
    const projected = projectIndexedNode({
      metadata: { name: 'n1', resourceVersion: '42', creationTimestamp: '2026-01-01T00:00:00Z' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'ExternalIP', address: '::FFFF:54.1.2.3' },
          { type: 'Hostname', address: 'N1.Example.' },
          { type: 'InternalDNS', address: 'n1.internal' },
        ],
      },
    });
    assert.deepEqual(
      { ...projected, keys: [...(projected?.keys ?? [])].sort() },
      {
        name: 'n1',
        resourceVersion: '42',
        createdAtMs: Date.parse('2026-01-01T00:00:00Z'),
        keys: ['dns:n1', 'dns:n1.example', 'dns:n1.internal', 'ip:10.0.0.1', 'ip:54.1.2.3'],
      },
    );
  });

  it('never keeps more than 64 keys for one Node', () => {
    const addresses = Array.from({ length: 300 }, (_, i) => ({
      type: 'InternalIP',
      address: `10.0.${i >> 8}.${i & 255}`,
    }));
    const projected = projectIndexedNode({
      metadata: { name: 'n1', resourceVersion: '1' },
      status: { addresses },
    });
    assert.equal(projected?.keys.length, 64);
  });
});
