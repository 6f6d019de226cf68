import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostnameProblem, isDns1123Subdomain, isIpLiteralName, normaliseDnsName } from './dns.ts';

describe('normaliseDnsName', () => {
  const cases: [string, string, string][] = [
    ['lowercases ASCII letters', 'Node-A.Example.COM', 'node-a.example.com'],
    ['removes one trailing dot', 'node-a.example.com.', 'node-a.example.com'],
    ['removes only one trailing dot', 'node-a..', 'node-a.'],
    ['does not map the Kelvin sign to k', '\u212Aubernetes', '\u212Aubernetes'],
    ['does not map dotted capital I to i', '\u0130nternal', '\u0130nternal'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      assert.equal(normaliseDnsName(input), expected);
    });
  }
});

describe('hostnameProblem', () => {
  const valid = [
    'node-a',
    'a',
    '1',
    'ip-10-0-0-1.eu-west-1.compute.internal',
    'x'.repeat(63),
    '10.0.0.1',
  ];
  for (const name of valid) {
    it(`accepts ${name.length > 20 ? `a ${name.length}-character label` : name}`, () => {
      assert.equal(hostnameProblem(name), undefined);
    });
  }
  const invalid: [string, string, RegExp][] = [
    ['refuses an empty name', '', /empty/],
    ['refuses a wildcard label', '*.example.com', /wildcard/],
    ['refuses a wildcard inside a label', 'a*.example.com', /wildcard/],
    ['refuses an empty label', 'node-a..example.com', /empty label/],
    ['refuses a leading dot', '.example.com', /empty label/],
    ['refuses a label of 64 characters', `${'x'.repeat(64)}.example.com`, /63/],
    ['refuses a name of 254 characters', `${'a.'.repeat(126)}ab`, /253/],
    ['refuses a leading hyphen', '-node.example.com', /not a valid hostname/],
    ['refuses a trailing hyphen', 'node-.example.com', /not a valid hostname/],
    ['refuses an underscore', 'node_a', /not a valid hostname/],
    ['refuses a space', 'node a', /not a valid hostname/],
    ['refuses a NUL byte', 'node-a\u0000.evil', /not a valid hostname/],
    ['refuses a newline', 'node-a\nevil', /not a valid hostname/],
    ['refuses uppercase (names are normalised first)', 'Node-A', /not a valid hostname/],
    ['refuses non-ASCII letters', 'n\u00f6de', /not a valid hostname/],
  ];
  for (const [name, input, pattern] of invalid) {
    it(name, () => {
      assert.match(hostnameProblem(input) ?? 'valid', pattern);
    });
  }
});

describe('isDns1123Subdomain', () => {
  const cases: [string, boolean][] = [
    ['node-a', true],
    ['ip-10-0-0-1.ec2.internal', true],
    ['Node-A', false],
    ['', false],
    ['node-a.', false],
    ['-node', false],
    ['a'.repeat(254), false],
    ['a'.repeat(253), true],
  ];
  for (const [name, expected] of cases) {
    it(`${expected ? 'accepts' : 'refuses'} ${JSON.stringify(name.length > 20 ? `${name.length} chars` : name)}`, () => {
      assert.equal(isDns1123Subdomain(name), expected);
    });
  }
});

describe('isIpLiteralName (RFC 1123 §2.1: the last label of a host name is never all digits)', () => {
  const cases: [string, boolean][] = [
    ['10.0.0.11', true],
    ['167772171', true],
    ['node.123', true],
    ['0', true],
    ['010.000.000.010', true],
    ['node-a', false],
    ['10.0.0.11.nip.example', false],
    ['node.123a', false],
    ['node.1-2', false],
    ['ip-10-0-0-1', false],
  ];
  for (const [name, expected] of cases) {
    it(`${expected ? 'takes' : 'does not take'} ${name} for an IP literal`, () => {
      assert.equal(isIpLiteralName(name), expected);
    });
  }
});
