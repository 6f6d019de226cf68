import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { servedSanKeys } from './served-certificate.ts';

describe('servedSanKeys', () => {
  const cases: [string, string | undefined, string[]][] = [
    [
      'reads DNS and IP entries as SAN keys',
      'DNS:Node-A, IP Address:10.0.0.1',
      ['dns:node-a', 'ip:10.0.0.1'],
    ],
    ['writes an IPv6 address canonically', 'IP Address:FD00:0:0:0:0:0:0:A', ['ip:fd00::a']],
    ['skips entries of other kinds', 'email:a@b, URI:https://x, DNS:n', ['dns:n']],
    ['reads a quoted list as no evidence at all', 'DNS:"a, IP Address:10.0.0.9", DNS:b', []],
    ['reads no extension as no SANs', undefined, []],
  ];
  for (const [name, text, keys] of cases) {
    it(name, () => {
      assert.deepEqual([...servedSanKeys(text)], keys);
    });
  }
});
