import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { projectNodeAddresses } from './project.ts';
import type { Node } from './types.ts';

describe('projectNodeAddresses', () => {
  const cases: { name: string; node: Node; expected: ReturnType<typeof projectNodeAddresses> }[] = [
    {
      name: 'keeps the name, uid and addresses only',
      node: {
        metadata: { name: 'n1', uid: 'u1', labels: { a: 'b' } },
        status: {
          addresses: [
            { type: 'InternalIP', address: '10.0.0.1' },
            { type: 'Hostname', address: 'n1' },
          ],
          images: [{ names: ['big'], sizeBytes: 1 }],
        },
      },
      expected: {
        name: 'n1',
        uid: 'u1',
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'n1' },
        ],
      },
    },
    {
      name: 'gives a Node without status no addresses',
      node: { metadata: { name: 'n2', uid: 'u2' } },
      expected: { name: 'n2', uid: 'u2', addresses: [] },
    },
    { name: 'drops an object without a name', node: { metadata: {} }, expected: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(projectNodeAddresses(c.node), c.expected);
    });
  }
});
