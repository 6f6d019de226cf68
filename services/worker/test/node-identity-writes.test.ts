// What a node's own identity (system:node:<name>, through the Node authorizer and NodeRestriction
// admission, as a kubelet runs) can write about itself on the real control plane. These facts
// bound what a Node object can be evidence of (docs/adr/0021): its status.addresses are the node's
// own claim, and so is the metadata.managedFields that would say who wrote them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeApiError, startControlPlane } from '@stampede/harness';
import type { ControlPlane, KubeNode } from '@stampede/harness';

interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly subresource?: string;
  readonly fieldsV1?: { readonly 'f:status'?: { readonly 'f:addresses'?: object } };
}

const ADDED = { type: 'ExternalIP', address: '192.0.2.77' };
/** The set-based key server-side apply gives one element of status.addresses. */
const elementKey = (a: { type: string; address: string }) =>
  `k:${JSON.stringify({ address: a.address, type: a.type })}`;

describe('what a node identity can write about its own Node', () => {
  let cp: ControlPlane;

  before(async () => {
    cp = await startControlPlane();
    await cp.createNode('self-writer', [
      { type: 'InternalIP', address: '10.77.0.1' },
      { type: 'Hostname', address: 'self-writer' },
    ]);
    await cp.createNode('bystander', [{ type: 'InternalIP', address: '10.77.0.2' }]);
  });

  after(async () => {
    await cp.stop();
  });

  const read = (name: string) => cp.admin.get<KubeNode>(`/api/v1/nodes/${name}`);

  it('a node can add any address to its own Node status', async () => {
    const node = await read('self-writer');
    const addresses = [...(node.status?.addresses ?? []), ADDED];
    await cp
      .nodeClient('self-writer')
      .patch('/api/v1/nodes/self-writer/status', { status: { addresses } });
    const after = await read('self-writer');
    assert.ok(
      after.status?.addresses?.some(a => a.address === ADDED.address),
      'the address the node wrote is on its Node',
    );
  });

  it('a node can write its own Node’s managedFields, naming any field manager as the writer of an address', async () => {
    const node = (await read('self-writer')) as KubeNode & {
      metadata: { managedFields?: ManagedFieldsEntry[] };
    };
    const forged: ManagedFieldsEntry = {
      manager: 'cloud-controller-manager',
      subresource: 'status',
      fieldsV1: {
        'f:status': {
          'f:addresses': { [elementKey(ADDED)]: { '.': {}, 'f:address': {}, 'f:type': {} } },
        },
      },
    };
    const entries = [
      ...(node.metadata.managedFields ?? []),
      { ...forged, operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1' },
    ];
    await cp
      .nodeClient('self-writer')
      .patch('/api/v1/nodes/self-writer', { metadata: { managedFields: entries } });
    const after = (await read('self-writer')) as typeof node;
    const claimed = (after.metadata.managedFields ?? []).find(
      e => e.manager === 'cloud-controller-manager',
    );
    assert.ok(claimed, 'the API server kept the entry the node wrote');
    assert.ok(
      Object.keys(claimed.fieldsV1?.['f:status']?.['f:addresses'] ?? {}).includes(
        elementKey(ADDED),
      ),
      'and it says the cloud controller wrote the address the node added',
    );
  });

  it('a node cannot write another Node (so what it forges is about itself only)', async () => {
    await assert.rejects(
      cp
        .nodeClient('self-writer')
        .patch('/api/v1/nodes/bystander/status', { status: { addresses: [ADDED] } }),
      (error: unknown) => error instanceof KubeApiError && error.status === 403,
    );
  });
});
