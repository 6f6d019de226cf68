import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { reportedAddressKeys } from './ownership.ts';
import { claimantsOf, CREATED, dns, ip } from '../../test/fixtures.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';
import type { AddressClaimant, GeneralName } from '../types.ts';

const sans = (...list: GeneralName[]) => ({ sans: list });
const NODE_A_CREATED = Date.UTC(2025, 5, 1);
const older = (node: string): AddressClaimant => ({
  node,
  createdAtMs: NODE_A_CREATED - 86_400_000,
});
const newer = (node: string): AddressClaimant => ({
  node,
  createdAtMs: NODE_A_CREATED + 86_400_000,
});
const sameAge = (node: string): AddressClaimant => ({ node, createdAtMs: NODE_A_CREATED });
const index = (entries: Record<string, AddressClaimant[]>) => ({
  claimants: { state: 'known', value: claimantsOf(entries) } as const,
});
const forNode = (name: string) => ({
  request: { username: `system:node:${name}` },
  csrSubject: [
    [{ oid: '2.5.4.10', tag: 19, value: 'system:nodes' }],
    [{ oid: '2.5.4.3', tag: 12, value: `system:node:${name}` }],
  ],
});
const foo = forNode('foo');
const allowListsOnly = (extra: object) => ({
  ownership: { mode: 'allow-lists-only' as const, ...extra },
});

const cases: Case[] = [
  // Ownership by the Node's reported addresses.
  { name: 'approves the node name, its Hostname and its InternalIP', expect: 'approve' },
  {
    name: 'approves every address type the kubelet uses',
    csr: sans(
      dns('node-a'),
      dns('node-a.internal.example'),
      dns('node-a.example.com'),
      ip('10.0.0.1'),
      ip('203.0.113.10'),
      ip('fd00::a'),
    ),
    expect: 'approve',
  },
  {
    name: 'approves the node name even when the Node reports no Hostname',
    csr: sans(dns('node-a'), ip('10.0.0.1')),
    node: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    expect: 'approve',
  },
  {
    name: 'approves an IP SAN vouched for by a Hostname address that is an IP',
    csr: sans(ip('192.0.2.44')),
    node: { addresses: [{ type: 'Hostname', address: '192.0.2.44' }] },
    expect: 'approve',
  },
  // The kubelet reads Node addresses with netutils.ParseIPSloppy: leading zeros are decimal.
  {
    name: 'approves an IP SAN vouched for by a Hostname written with leading zeros, read as decimal',
    csr: sans(ip('10.0.0.10')),
    node: { addresses: [{ type: 'Hostname', address: '010.000.000.010' }] },
    expect: 'approve',
  },
  {
    name: 'approves an IP SAN vouched for by an InternalIP written with leading zeros',
    csr: sans(ip('10.0.0.11')),
    node: { addresses: [{ type: 'InternalIP', address: '010.0.0.011' }] },
    expect: 'approve',
  },
  {
    name: 'approves an IP SAN vouched for by an ExternalIP in IPv4-mapped form with leading zeros',
    csr: sans(ip('192.0.2.7')),
    node: { addresses: [{ type: 'ExternalIP', address: '::ffff:192.000.002.007' }] },
    expect: 'approve',
  },
  {
    name: 'denies the octal reading of a zero-padded Hostname',
    csr: sans(ip('8.0.0.8')),
    node: { addresses: [{ type: 'Hostname', address: '010.000.000.010' }] },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'denies a DNS SAN spelled like a zero-padded Hostname, as an IP literal',
    csr: sans(dns('010.000.000.010')),
    node: { addresses: [{ type: 'Hostname', address: '010.000.000.010' }] },
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'denies an IP SAN when a zero-padded octet is above 255',
    csr: sans(ip('10.0.0.1')),
    node: { addresses: [{ type: 'InternalIP', address: '10.0.0.0256' }] },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'contests an address an older Node reports as a zero-padded Hostname',
    csr: sans(ip('10.0.0.10')),
    node: { addresses: [{ type: 'InternalIP', address: '10.0.0.10' }] },
    facts: index({ 'ip:10.0.0.10': [older('node-old')] }),
    expect: ['deny', 'SanContested'],
  },
  {
    name: 'denies another node’s IP address',
    csr: sans(dns('node-a'), ip('10.0.0.2')),
    expect: ['deny', 'SanNotOwned'],
    message: /^SanNotOwned: IP SAN 10\.0\.0\.2 is not an IP address of Node node-a$/,
  },
  {
    name: 'denies another node’s name',
    csr: sans(dns('node-b')),
    expect: ['deny', 'SanNotOwned'],
    message: /DNS SAN node-b is not the node name or a DNS address of Node node-a/,
  },
  {
    name: 'denies the node-name prefix trick: system:node:foo asking for foo.evil',
    request: foo.request,
    csr: { subject: foo.csrSubject, sans: [dns('foo'), dns('foo.evil')] },
    node: { name: 'foo', addresses: [{ type: 'Hostname', address: 'foo' }] },
    expect: ['deny', 'SanNotOwned'],
    message: /DNS SAN foo\.evil/,
  },
  {
    name: 'denies a name that merely starts with the node name',
    request: foo.request,
    csr: { subject: foo.csrSubject, sans: [dns('foobar')] },
    node: { name: 'foo', addresses: [] },
    facts: { nowMs: CREATED + 3_600_000 },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'denies a DNS SAN that spells one of the Node’s IP addresses, as an IP literal',
    csr: sans(dns('10.0.0.1')),
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'denies an IP SAN that is only reported as an InternalDNS string',
    csr: sans(ip('192.0.2.9')),
    node: { addresses: [{ type: 'InternalDNS', address: '192.0.2.9' }] },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'denies an address of an unknown type, which is never trusted',
    csr: sans(ip('192.0.2.9')),
    node: { addresses: [{ type: 'CustomIP', address: '192.0.2.9' }] },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'reports every SAN the Node does not own',
    csr: sans(dns('node-a'), ip('10.0.0.2'), dns('node-b'), ip('fd00::b')),
    expect: ['deny', 'SanNotOwned', 'SanNotOwned', 'SanNotOwned'],
  },
  // A Node that has no addresses yet.
  {
    name: 'retries while the Node reports no addresses yet, within the grace window',
    node: { addresses: [] },
    expect: ['retry', 'node', 'NodeHasNoAddresses'],
  },
  {
    name: 'denies when the Node still reports no addresses after the grace window',
    node: { addresses: [] },
    facts: { nowMs: CREATED + 600_001 },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'approves a request for only the node name from a Node without addresses',
    csr: sans(dns('node-a')),
    node: { addresses: [] },
    expect: 'approve',
  },
  // Contested SANs (rule 14).
  {
    name: 'denies an address an older Node also reports',
    facts: index({ 'ip:10.0.0.1': [older('node-old')] }),
    expect: ['deny', 'SanContested'],
    message: /IP SAN 10\.0\.0\.1 is also reported by Node node-old, which is older/,
  },
  {
    name: 'approves an address that only a newer Node also reports (it cannot take it away)',
    facts: index({ 'ip:10.0.0.1': [newer('node-new')] }),
    expect: 'approve',
  },
  {
    name: 'denies when the oldest of several claimants is older than the requester',
    facts: index({ 'ip:10.0.0.1': [newer('node-new'), older('node-old')] }),
    expect: ['deny', 'SanContested'],
    message: /node-old/,
  },
  {
    name: 'gives a tie in age to the node with the smaller name',
    facts: index({ 'ip:10.0.0.1': [sameAge('node-0')] }),
    expect: ['deny', 'SanContested'],
  },
  {
    name: 'keeps a tie in age for the requester when its name is smaller',
    facts: index({ 'ip:10.0.0.1': [sameAge('node-z')] }),
    expect: 'approve',
  },
  {
    name: 'treats a requester without a valid creation time as the newest Node',
    node: { createdAtMs: Number.NaN },
    facts: index({ 'ip:10.0.0.1': [newer('node-new')] }),
    expect: ['deny', 'SanContested'],
  },
  {
    name: 'ignores the requester itself in the address index',
    facts: index({ 'ip:10.0.0.1': [{ node: 'node-a', createdAtMs: 0 }] }),
    expect: 'approve',
  },
  {
    name: 'never contests the requester’s own name, whatever older Nodes report',
    facts: index({ 'dns:node-a': [older('node-old')] }),
    expect: 'approve',
  },
  {
    name: 'denies another Node’s name even when that Node is newer',
    csr: sans(dns('node-b')),
    node: { addresses: [{ type: 'InternalDNS', address: 'node-b' }] },
    facts: index({ 'dns:node-b': [newer('node-b')] }),
    expect: ['deny', 'SanContested'],
    message: /DNS SAN node-b is the name of Node node-b/,
  },
  {
    name: 'contests a DNS address an older Node also reports',
    csr: sans(dns('node-a.internal.example')),
    facts: index({ 'dns:node-a.internal.example': [older('node-old')] }),
    expect: ['deny', 'SanContested'],
  },
  {
    name: 'looks an IPv4-mapped SAN up in the index by its folded IPv4 key',
    csr: sans(ip('::ffff:10.0.0.1')),
    facts: index({ 'ip:10.0.0.1': [older('node-old')] }),
    expect: ['deny', 'SanContested'],
  },
  {
    name: 'looks an upper-case DNS SAN with a trailing dot up by its normalised key',
    csr: sans(dns('NODE-A.Internal.Example.')),
    facts: index({ 'dns:node-a.internal.example': [older('node-old')] }),
    expect: ['deny', 'SanContested'],
  },
  {
    name: 'retries when the address index is unavailable',
    facts: { claimants: { state: 'unavailable', reason: 'index not synced' } },
    expect: ['retry', 'claimants', 'ClaimantsUnavailable'],
  },
  {
    name: 'denies an unowned SAN even while the address index is unavailable',
    csr: sans(ip('10.0.0.2')),
    facts: { claimants: { state: 'unavailable', reason: 'index not synced' } },
    expect: ['deny', 'SanNotOwned'],
  },
  // Allow-lists narrow ownership (node-addresses mode).
  {
    name: 'approves an owned IP inside allowedIpCidrs',
    policy: { ownership: { allowedIpCidrs: ['10.0.0.0/8'] } },
    expect: 'approve',
  },
  {
    name: 'denies an owned IP outside allowedIpCidrs',
    csr: sans(ip('203.0.113.10')),
    policy: { ownership: { allowedIpCidrs: ['10.0.0.0/8', 'fd00::/8'] } },
    expect: ['deny', 'SanNotAllowed'],
    message: /IP SAN 203\.0\.113\.10 is not allowed by ownership\.allowedIpCidrs/,
  },
  {
    name: 'denies an address outside the allow-list at once, even while the Node is missing',
    csr: sans(ip('203.0.113.10')),
    policy: { ownership: { allowedIpCidrs: ['10.0.0.0/8'] } },
    facts: { node: { state: 'absent' } },
    expect: ['deny', 'SanNotAllowed'],
  },
  {
    name: 'approves an owned DNS name under an allowed suffix',
    csr: sans(dns('node-a.internal.example')),
    policy: { ownership: { allowedDnsSuffixes: ['internal.example'] } },
    expect: 'approve',
  },
  {
    name: 'denies an owned DNS name outside the allowed suffixes',
    csr: sans(dns('node-a.example.com')),
    policy: { ownership: { allowedDnsSuffixes: ['internal.example'] } },
    expect: ['deny', 'SanNotAllowed'],
  },
  {
    name: 'matches a suffix only at a label boundary',
    csr: sans(dns('node-a.evilinternal.example')),
    node: { addresses: [{ type: 'InternalDNS', address: 'node-a.evilinternal.example' }] },
    policy: { ownership: { allowedDnsSuffixes: ['internal.example'] } },
    expect: ['deny', 'SanNotAllowed'],
  },
  {
    name: 'approves a DNS name matching allowedDnsPattern',
    csr: sans(dns('node-a.example.com')),
    policy: { ownership: { allowedDnsPattern: 'node-[a-z]\\.example\\.com' } },
    expect: 'approve',
  },
  {
    name: 'denies a DNS name the anchored pattern matches only in part',
    csr: sans(dns('node-a.example.com')),
    policy: { ownership: { allowedDnsPattern: 'node-[a-z]\\.example' } },
    expect: ['deny', 'SanNotAllowed'],
  },
  {
    name: 'accepts a DNS name allowed by either the suffixes or the pattern',
    csr: sans(dns('node-a.example.com'), dns('node-a.internal.example')),
    policy: {
      ownership: {
        allowedDnsSuffixes: ['internal.example'],
        allowedDnsPattern: '.*\\.example\\.com',
      },
    },
    expect: 'approve',
  },
  {
    name: 'exempts the node name from the DNS allow-lists',
    csr: sans(dns('node-a')),
    policy: { ownership: { allowedDnsSuffixes: ['internal.example'] } },
    expect: 'approve',
  },
  {
    name: 'still requires ownership of an allow-listed address',
    csr: sans(ip('10.0.0.2')),
    policy: { ownership: { allowedIpCidrs: ['10.0.0.0/8'] } },
    expect: ['deny', 'SanNotOwned'],
  },
  // allow-lists-only mode.
  {
    name: 'approves, in allow-lists-only mode, an IP inside the allow-list that the Node does not report',
    csr: sans(dns('node-a'), ip('10.9.9.9')),
    policy: allowListsOnly({ allowedIpCidrs: ['10.0.0.0/8'] }),
    expect: 'approve',
  },
  {
    name: 'denies, in allow-lists-only mode, an IP outside the allow-list',
    csr: sans(ip('192.0.2.1')),
    policy: allowListsOnly({ allowedIpCidrs: ['10.0.0.0/8'] }),
    expect: ['deny', 'SanNotAllowed'],
  },
  {
    name: 'denies, in allow-lists-only mode, a DNS name when no DNS allow-list is configured',
    csr: sans(dns('node-a.internal.example')),
    policy: allowListsOnly({ allowedIpCidrs: ['10.0.0.0/8'] }),
    expect: ['deny', 'SanNotAllowed'],
  },
  {
    name: 'denies, in allow-lists-only mode, any IP when no CIDR allow-list is configured',
    csr: sans(ip('10.0.0.1')),
    policy: allowListsOnly({ allowedDnsSuffixes: ['internal.example'] }),
    expect: ['deny', 'SanNotAllowed'],
  },
  {
    name: 'approves, in allow-lists-only mode, the node name and an allow-listed DNS name',
    csr: sans(dns('node-a'), dns('whatever.internal.example')),
    policy: allowListsOnly({ allowedDnsSuffixes: ['internal.example'] }),
    expect: 'approve',
  },
  {
    name: 'does not need the address index in allow-lists-only mode',
    csr: sans(dns('node-a'), ip('10.0.0.1')),
    policy: allowListsOnly({ allowedIpCidrs: ['10.0.0.0/8'] }),
    facts: { claimants: { state: 'unavailable', reason: 'not synced' } },
    expect: 'approve',
  },
  {
    name: 'still requires the Node to exist in allow-lists-only mode',
    policy: allowListsOnly({ allowedIpCidrs: ['10.0.0.0/8'] }),
    facts: { node: { state: 'absent' } },
    expect: ['retry', 'node', 'NodeNotFound'],
  },
  {
    name: 'approves in allow-lists-only mode a Node that reports no addresses',
    policy: allowListsOnly({ allowedIpCidrs: ['10.0.0.0/8'] }),
    node: { addresses: [] },
    expect: 'approve',
  },
];

describe('rule 14: ownership, contested SANs and allow-lists', () => {
  runCases(cases, evaluate);
});

describe('reportedAddressKeys: a Node’s addresses read as the kubelet reads them', () => {
  const cases: [string, { type: string; address: string }[], string[]][] = [
    ['always holds the node name', [], ['dns:node-a']],
    [
      'reads a Hostname that is a name as a DNS key',
      [{ type: 'Hostname', address: 'Node-A.Example.' }],
      ['dns:node-a', 'dns:node-a.example'],
    ],
    [
      'reads a Hostname that is an IP as an IP key only, as the kubelet makes it an IP SAN',
      [{ type: 'Hostname', address: '192.0.2.44' }],
      ['dns:node-a', 'ip:192.0.2.44'],
    ],
    [
      'reads leading zeros of a Hostname as decimal (ParseIPSloppy)',
      [{ type: 'Hostname', address: '010.000.000.010' }],
      ['dns:node-a', 'ip:10.0.0.10'],
    ],
    [
      'reads leading zeros of InternalIP and ExternalIP as decimal too',
      [
        { type: 'InternalIP', address: '010.000.000.011' },
        { type: 'ExternalIP', address: '::ffff:0203.0.0113.010' },
      ],
      ['dns:node-a', 'ip:10.0.0.11', 'ip:203.0.113.10'],
    ],
    [
      'keeps an InternalDNS that spells an IP as a DNS key, never an IP one',
      [{ type: 'InternalDNS', address: '192.0.2.9' }],
      ['dns:node-a', 'dns:192.0.2.9'],
    ],
    [
      'drops an InternalIP that is no address even read leniently',
      [
        { type: 'InternalIP', address: '10.0.0.0256' },
        { type: 'InternalIP', address: '0x0a.0.0.1' },
      ],
      ['dns:node-a'],
    ],
    [
      'ignores address types the kubelet does not use',
      [{ type: 'CustomIP', address: '192.0.2.9' }],
      ['dns:node-a'],
    ],
  ];
  for (const [name, addresses, expected] of cases) {
    it(name, () => {
      const keys = reportedAddressKeys({ name: 'node-a', createdAtMs: 0, addresses });
      assert.deepEqual([...keys], expected);
    });
  }
});
