import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { defaultPolicy } from '../policy.ts';
import { requestedSans } from './sans.ts';
import { checkServiceIps, readServiceRanges } from './service-ranges.ts';
import {
  claimantsOf,
  CREATED,
  csrRequest,
  dns,
  fakeVerifier,
  ip,
  nodeFact,
  parsedOk,
} from '../../test/fixtures.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';
import type { Fact, GeneralName } from '../types.ts';

const sans = (...list: GeneralName[]) => ({ sans: list });
const ranges = (...value: string[]) => ({ serviceRanges: { state: 'known', value } as const });
const unavailable = (reason: string) => ({ state: 'unavailable', reason }) as const;
/** The Node lists the address in its status, which does not make a Service IP its own. */
const reports = (address: string) => ({
  addresses: [
    { type: 'Hostname', address: 'node-a' },
    { type: 'InternalIP', address },
  ],
});

// The fixture cluster's Service ranges are 10.96.0.0/12 and fd00:10:96::/112.
const cases: Case[] = [
  { name: 'approves IP SANs outside every Service range', expect: 'approve' },
  {
    name: 'denies the kubernetes Service IP even when the Node lists it as its InternalIP',
    csr: sans(dns('node-a'), ip('10.96.0.1')),
    node: reports('10.96.0.1'),
    expect: ['deny', 'ServiceIp'],
    message:
      /^ServiceIp: IP SAN 10\.96\.0\.1 is a Service IP \(Service range 10\.96\.0\.0\/12\), never a Node's$/,
  },
  {
    name: 'denies a Service IP the Node does not report, and says it is not the Node’s either',
    csr: sans(ip('10.100.7.7')),
    expect: ['deny', 'ServiceIp', 'SanNotOwned'],
  },
  {
    name: 'denies an IPv6 Service IP',
    csr: sans(ip('fd00:10:96::a')),
    node: reports('fd00:10:96::a'),
    expect: ['deny', 'ServiceIp'],
    message: /Service range fd00:10:96::\/112/,
  },
  {
    name: 'denies a Service IP written as IPv4-mapped IPv6',
    csr: sans(ip('::ffff:10.96.0.10')),
    node: reports('10.96.0.10'),
    expect: ['deny', 'ServiceIp'],
  },
  {
    name: 'approves the address just past the end of the Service range',
    csr: sans(ip('10.112.0.1')),
    node: reports('10.112.0.1'),
    expect: 'approve',
  },
  {
    name: 'approves the address just before the Service range',
    csr: sans(ip('10.95.255.255')),
    node: reports('10.95.255.255'),
    expect: 'approve',
  },
  {
    name: 'denies the ClusterIP given as a single address (a cluster without ServiceCIDRs)',
    csr: sans(ip('10.43.0.1')),
    node: reports('10.43.0.1'),
    facts: ranges('10.43.0.1'),
    expect: ['deny', 'ServiceIp'],
    message: /Service range 10\.43\.0\.1\/32/,
  },
  {
    name: 'approves the neighbour of a single-address range',
    csr: sans(ip('10.43.0.2')),
    node: reports('10.43.0.2'),
    facts: ranges('10.43.0.1'),
    expect: 'approve',
  },
  {
    name: 'reads a range with host bits set as Go does, as the masked network',
    csr: sans(ip('10.100.0.1')),
    node: reports('10.100.0.1'),
    facts: ranges('10.96.0.1/12'),
    expect: ['deny', 'ServiceIp'],
    message: /Service range 10\.96\.0\.0\/12/,
  },
  {
    name: 'reads leading zeros in a range as decimal, as Kubernetes does',
    csr: sans(ip('10.96.0.5')),
    node: reports('10.96.0.5'),
    facts: ranges('010.096.000.000/012'),
    expect: ['deny', 'ServiceIp'],
  },
  {
    name: 'approves when the cluster reports no Service range at all',
    csr: sans(ip('10.96.0.1')),
    node: reports('10.96.0.1'),
    facts: ranges(),
    expect: 'approve',
  },
  {
    name: 'denies a Service IP in allow-lists-only mode too',
    csr: sans(dns('node-a'), ip('10.96.0.1')),
    policy: { ownership: { mode: 'allow-lists-only', allowedIpCidrs: ['10.0.0.0/8'] } },
    expect: ['deny', 'ServiceIp'],
  },
  {
    name: 'approves a Service IP the Node reports once reserved.serviceRanges is off',
    csr: sans(ip('10.96.0.1')),
    node: reports('10.96.0.1'),
    policy: { reserved: { serviceRanges: false } },
    expect: 'approve',
  },
  {
    name: 'does not wait for the Service ranges once reserved.serviceRanges is off',
    policy: { reserved: { serviceRanges: false } },
    facts: { serviceRanges: unavailable('never asked') },
    expect: 'approve',
  },
  {
    name: 'reports a Service IP before ownership and contest, in rule order',
    csr: sans(ip('10.96.0.1')),
    facts: {
      claimants: {
        state: 'known',
        value: claimantsOf({ 'ip:10.96.0.1': [{ node: 'node-old', createdAtMs: 0 }] }),
      },
    },
    expect: ['deny', 'ServiceIp', 'SanNotOwned', 'SanContested'],
  },
  // Missing or unreadable ranges: retry, never an approval, never a deny for that alone.
  {
    name: 'retries when the Service ranges could not be read',
    facts: { serviceRanges: unavailable('ServiceCIDR list failed: 503') },
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
    message: /^serviceRanges unavailable: ServiceCIDR list failed: 503$/,
  },
  {
    name: 'retries when no Service ranges were reported',
    facts: { serviceRanges: { state: 'absent' } },
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
    message: /not reported/,
  },
  {
    name: 'retries on a range it cannot read, and names it',
    facts: ranges('10.96.0.0/12', '10.96.0.0/33'),
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
    message:
      /^serviceRanges unavailable: Service range 10\.96\.0\.0\/33 is not an IP address or CIDR$/,
  },
  {
    name: 'names a long unreadable range whole, escaping it once, not cutting it short',
    facts: ranges('x'.repeat(60)),
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
    message: /^serviceRanges unavailable: Service range x{60} is not an IP address or CIDR$/,
  },
  {
    name: 'still escapes a reason the shell gives, as for every other fact',
    facts: { serviceRanges: unavailable('list failed:\nretry') },
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
    message: /^serviceRanges unavailable: "list failed:\\u000aretry"$/,
  },
  {
    name: 'retries on an empty range string',
    facts: ranges(''),
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
    message: /Service range "" is not/,
  },
  {
    name: 'retries on a range with a control character, shown escaped',
    facts: ranges('10.96.0.0/12\nx'),
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
    message: /^[^\n]*"10\.96\.0\.0\/12\\u000ax"[^\n]*$/,
  },
  {
    name: 'never denies for unavailable Service ranges, however long after the grace window',
    facts: { serviceRanges: unavailable('503'), nowMs: CREATED + 100 * 600_000 },
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
  },
  {
    name: 'denies a fact-free violation at once while the Service ranges are unavailable',
    request: { usages: ['digital signature', 'server auth', 'client auth'] },
    facts: { serviceRanges: unavailable('503') },
    expect: ['deny', 'DisallowedUsages'],
  },
  {
    name: 'denies an unowned SAN without waiting for unreadable Service ranges',
    csr: sans(ip('10.0.0.2')),
    facts: ranges('not-a-cidr'),
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'asks for the Service ranges before the address index and the SubjectAccessReview',
    facts: {
      serviceRanges: unavailable('a'),
      claimants: unavailable('b'),
      authorization: unavailable('c'),
    },
    expect: ['retry', 'serviceRanges', 'ServiceRangesUnavailable'],
  },
  {
    name: 'asks for the Node before the Service ranges',
    facts: { node: unavailable('a'), serviceRanges: unavailable('b') },
    expect: ['retry', 'node', 'NodeUnavailable'],
  },
];

describe('rule 13: Service IP ranges (a fact from the API server)', () => {
  runCases(cases, evaluate);
});

describe('readServiceRanges', () => {
  const read = (fact: Fact<readonly string[]>) => readServiceRanges(fact);
  it('parses CIDRs and single addresses canonically', () => {
    const result = read({
      state: 'known',
      value: ['10.96.0.0/12', 'FD00:10:96::/112', '10.43.0.1'],
    });
    assert.ok(result.state === 'known');
    assert.deepEqual(
      result.value.map(c => c.text),
      ['10.96.0.0/12', 'fd00:10:96::/112', '10.43.0.1/32'],
    );
  });
  it('passes an unavailable fact through as it is', () => {
    assert.deepEqual(read(unavailable('timeout')), unavailable('timeout'));
  });
  it('passes an absent fact through as it is', () => {
    assert.deepEqual(read({ state: 'absent' }), { state: 'absent' });
  });
  it('answers the same for an entry read again, also after more entries than it keeps', () => {
    const first = read({ state: 'known', value: ['10.96.0.0/12', 'bad'] });
    const many = Array.from({ length: 300 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const all = read({ state: 'known', value: many });
    assert.ok(all.state === 'known');
    assert.equal(all.value.length, 300);
    assert.equal(all.value[299]?.text, '10.1.43.0/24');
    assert.deepEqual(read({ state: 'known', value: ['10.96.0.0/12', 'bad'] }), first);
    const again = read({ state: 'known', value: ['10.96.0.1/12'] });
    assert.ok(again.state === 'known');
    assert.equal(again.value[0]?.text, '10.96.0.0/12');
  });
  it('makes the fact unavailable at the first entry it cannot read', () => {
    assert.deepEqual(read({ state: 'known', value: ['10.96.0.0/12', 'x', 'y'] }), {
      state: 'unavailable',
      reason: 'Service range x is not an IP address or CIDR',
    });
  });
});

describe('checkServiceIps', () => {
  it('throws rather than approve when it runs without the ranges', () => {
    const parsed = parsedOk({ sans: [ip('10.96.0.1')] });
    assert.throws(
      () =>
        checkServiceIps({
          request: csrRequest(),
          policy: defaultPolicy,
          nodeName: 'node-a',
          parsed,
          sans: requestedSans(parsed.ok ? parsed.csr.sans : []),
          verifier: fakeVerifier(),
          node: nodeFact(),
          claimants: claimantsOf(),
          authorization: { allowed: true, reason: '' },
          serviceRanges: undefined,
          inventory: undefined,
        }),
      /serviceRanges read without being declared in needs/,
    );
  });
});
