import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressIndex } from '@stampede/policy';
import type { NodeFact } from '@stampede/policy';
import { ClaimsIndex, compareResourceVersions, nodeClaims } from './claims-index.ts';

const node = (name: string, createdAtMs: number, ...ips: string[]): NodeFact => ({
  name,
  createdAtMs,
  addresses: [
    { type: 'Hostname', address: name },
    ...ips.map(address => ({ type: 'InternalIP', address })),
  ],
});

const names = (index: ClaimsIndex, key: string): string[] =>
  index
    .claimants(key)
    .map(c => c.node)
    .sort();

describe('ClaimsIndex', () => {
  it('lists every Node that reports a key, and its own name', () => {
    const index = new ClaimsIndex();
    index.add(nodeClaims(node('a', 1, '10.1.0.1')));
    index.add(nodeClaims(node('b', 2, '10.1.0.1', '10.1.0.2')));
    assert.deepEqual(names(index, 'ip:10.1.0.1'), ['a', 'b']);
    assert.deepEqual(names(index, 'ip:10.1.0.2'), ['b']);
    assert.deepEqual(names(index, 'dns:a'), ['a']);
    assert.deepEqual(names(index, 'ip:10.1.0.3'), []);
  });

  it('forgets an address a Node no longer reports, and keeps the other claimants', () => {
    const index = new ClaimsIndex();
    const before = nodeClaims(node('a', 1, '10.1.0.1'));
    index.add(before);
    index.add(nodeClaims(node('b', 2, '10.1.0.1')));
    index.add(nodeClaims(node('c', 3, '10.1.0.1')));
    index.replace(before, nodeClaims(node('a', 1, '10.1.0.9')));
    assert.deepEqual(names(index, 'ip:10.1.0.1'), ['b', 'c']);
    assert.deepEqual(names(index, 'ip:10.1.0.9'), ['a']);
  });

  it('forgets every key of a deleted Node', () => {
    const index = new ClaimsIndex();
    const a = nodeClaims(node('a', 1, '10.1.0.1'));
    index.add(a);
    index.add(nodeClaims(node('b', 2, '10.1.0.1')));
    index.replace(a, undefined);
    assert.deepEqual(names(index, 'ip:10.1.0.1'), ['b']);
    assert.deepEqual(names(index, 'dns:a'), []);
    assert.equal(index.size, 2, 'dns:b and ip:10.1.0.1 are left');
  });

  it('keeps all of a Node with more than 64 addresses (no cap hides a claim)', () => {
    const ips = Array.from({ length: 70 }, (_, i) => `10.2.0.${i + 1}`);
    const index = new ClaimsIndex();
    index.add(nodeClaims(node('big', 1, ...ips)));
    assert.deepEqual(names(index, 'ip:10.2.0.65'), ['big']);
    assert.deepEqual(names(index, 'ip:10.2.0.70'), ['big']);
  });

  it('gives the same claimants as the policy core over the same Nodes (what stampede check uses)', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const nodes = Array.from({ length: 300 }, (_, i) =>
      node(
        `n${i}`,
        random(50),
        ...Array.from({ length: 1 + random(4) }, () => `10.3.${random(3)}.${random(40)}`),
      ),
    );
    const index = new ClaimsIndex();
    const kept = new Map<string, ReturnType<typeof nodeClaims>>();
    for (const n of nodes) {
      const claims = nodeClaims(n);
      index.replace(kept.get(n.name), claims);
      kept.set(n.name, claims);
    }
    // Churn: a third of the Nodes change addresses, a tenth are deleted.
    const final = new Map(nodes.map(n => [n.name, n]));
    for (const n of nodes.slice(0, 100)) {
      const changed = node(n.name, n.createdAtMs, `10.3.9.${random(40)}`);
      const claims = nodeClaims(changed);
      index.replace(kept.get(n.name), claims);
      kept.set(n.name, claims);
      final.set(n.name, changed);
    }
    for (const n of nodes.slice(200, 230)) {
      index.replace(kept.get(n.name), undefined);
      final.delete(n.name);
    }
    const core = addressIndex([...final.values()]);
    const keys = new Set([...final.values()].flatMap(n => nodeClaims(n).keys));
    for (const n of nodes) keys.add(`dns:${n.name}`);
    for (const key of keys) {
      const want = core(key)
        .map(c => c.node)
        .sort();
      assert.deepEqual(names(index, key), want, key);
    }
  });
});

describe('compareResourceVersions', () => {
  const cases: { name: string; a: string; b: string; want: number | undefined }[] = [
    { name: 'a longer number is larger', a: '100', b: '99', want: 1 },
    { name: 'equal versions are equal', a: '12345', b: '12345', want: 0 },
    { name: 'same length compares digit by digit', a: '123', b: '124', want: -1 },
    { name: 'a leading zero is not a resourceVersion', a: '0123', b: '99', want: undefined },
    { name: 'zero is not a live resourceVersion', a: '0', b: '1', want: undefined },
    { name: 'an empty version cannot be ordered', a: '', b: '1', want: undefined },
    { name: 'an opaque version cannot be ordered', a: 'abc', b: '1', want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = compareResourceVersions(c.a, c.b);
      assert.equal(got === undefined ? undefined : Math.sign(got), c.want);
    });
  }
});
