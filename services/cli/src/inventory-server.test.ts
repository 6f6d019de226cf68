import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INVENTORY_API_VERSION } from '@stampede/policy';
import { answerReview } from './inventory-server.ts';

const FILE = 'nodes:\n  node-a: [Node-A.Example.com., 10.0.0.1, "fd00:0::a"]\n';
const review = (node: string, sans: { type: string; value: string }[]) =>
  JSON.stringify({
    apiVersion: INVENTORY_API_VERSION,
    kind: 'InventoryReview',
    request: { uid: 'u-1', csrName: 'csr-1', node, username: `system:node:${node}`, sans },
  });

describe('the reference inventory answers a review from its file', () => {
  it('vouches for what the file lists under the node, in any spelling, and refuses the rest', () => {
    const answer = answerReview(
      review('node-a', [
        { type: 'DNS', value: 'node-a.example.com' },
        { type: 'IP', value: '10.0.0.1' },
        { type: 'IP', value: 'fd00::a' },
        { type: 'IP', value: '10.0.0.2' },
      ]),
      FILE,
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), {
      apiVersion: INVENTORY_API_VERSION,
      kind: 'InventoryReview',
      response: {
        uid: 'u-1',
        sans: [
          { type: 'DNS', value: 'node-a.example.com', vouched: true },
          { type: 'IP', value: '10.0.0.1', vouched: true },
          { type: 'IP', value: 'fd00::a', vouched: true },
          {
            type: 'IP',
            value: '10.0.0.2',
            vouched: false,
            reason: 'not in the inventory for node-a',
          },
        ],
      },
    });
  });

  it('refuses another node’s SANs', () => {
    const body = JSON.parse(
      answerReview(review('node-b', [{ type: 'IP', value: '10.0.0.1' }]), FILE).body,
    ) as {
      response: { sans: { vouched: boolean }[] };
    };
    assert.deepEqual(
      body.response.sans.map(s => s.vouched),
      [false],
    );
  });

  const vouched = (node: string, file: string): boolean[] =>
    (
      JSON.parse(answerReview(review(node, [{ type: 'IP', value: '10.0.0.1' }]), file).body) as {
        response: { sans: { vouched: boolean }[] };
      }
    ).response.sans.map(s => s.vouched);

  it('keeps numeric-looking node names as written: 0123 and 1e3 vouch for nobody else', () => {
    const file = 'nodes:\n  0123: [10.0.0.1]\n  1e3: [10.0.0.1]\n  0x10: [10.0.0.1]\n';
    assert.deepEqual(vouched('123', file), [false]);
    assert.deepEqual(vouched('1000', file), [false]);
    assert.deepEqual(vouched('16', file), [false]);
    assert.deepEqual(vouched('0123', file), [true]);
    assert.deepEqual(vouched('1e3', file), [true]);
  });

  it('answers a node named like an Object property from the file alone', () => {
    for (const node of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const answer = answerReview(review(node, [{ type: 'IP', value: '10.0.0.1' }]), FILE);
      assert.equal(answer.status, 200, node);
      assert.deepEqual(vouched(node, FILE), [false], node);
    }
    assert.deepEqual(vouched('constructor', 'nodes:\n  constructor: [10.0.0.1]\n'), [true]);
  });

  it('answers 400 to anything but an InventoryReview', () => {
    assert.equal(answerReview('{"kind":"Other"}', FILE).status, 400);
    assert.equal(answerReview('not json', FILE).status, 400);
  });
});
