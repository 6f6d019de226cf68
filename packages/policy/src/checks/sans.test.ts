import { describe } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { dns, ip } from '../../test/fixtures.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';
import type { GeneralName } from '../types.ts';

const sans = (...list: GeneralName[]) => ({ sans: list });
const other = (kind: GeneralName['kind'], tag: number, value: string): GeneralName => ({
  kind,
  tag,
  value,
});
const manyIps = (n: number) =>
  Array.from({ length: n }, (_, i) => ip(`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`));
const nodeWithIps = (n: number) => ({
  addresses: manyIps(n).map(san => ({ type: 'InternalIP', address: san.value })),
});

const cases: Case[] = [
  // Rule 10: kinds and counts.
  { name: 'approves one DNS name and one IP address of the Node', expect: 'approve' },
  { name: 'approves a single IP SAN', csr: sans(ip('10.0.0.1')), expect: 'approve' },
  { name: 'approves a single DNS SAN', csr: sans(dns('node-a')), expect: 'approve' },
  { name: 'denies a request without SANs', csr: sans(), expect: ['deny', 'NoSans'] },
  {
    name: 'denies an email SAN next to valid ones',
    csr: sans(dns('node-a'), other('email', 1, 'root@node-a')),
    expect: ['deny', 'DisallowedSanType'],
    message: /email SAN root@node-a is not allowed/,
  },
  {
    name: 'denies a request whose only SAN is an email, and says it has no DNS or IP SAN',
    csr: sans(other('email', 1, 'root@node-a')),
    expect: ['deny', 'NoSans', 'DisallowedSanType'],
  },
  {
    name: 'denies a URI SAN',
    csr: sans(dns('node-a'), other('uri', 6, 'spiffe://x/y')),
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies an otherName SAN (Go drops it)',
    csr: sans(dns('node-a'), other('otherName', 0, 'a0')),
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies a directoryName SAN',
    csr: sans(dns('node-a'), other('directoryName', 4, '30')),
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies a registeredID SAN',
    csr: sans(dns('node-a'), other('registeredId', 8, '2a03')),
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies an x400Address SAN',
    csr: sans(dns('node-a'), other('x400Address', 3, '30')),
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies an ediPartyName SAN',
    csr: sans(dns('node-a'), other('ediPartyName', 5, '30')),
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies a SAN of an unknown kind',
    csr: sans(dns('node-a'), other('unknown', 9, '00')),
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'approves 32 SANs, all the Node’s',
    csr: sans(...manyIps(32)),
    node: nodeWithIps(32),
    expect: 'approve',
  },
  {
    name: 'denies 33 SANs',
    csr: sans(...manyIps(33)),
    node: nodeWithIps(33),
    expect: ['deny', 'TooManySans'],
    message: /33 SANs, more than maxSans 32/,
  },
  {
    name: 'denies three SANs when maxSans is 2',
    csr: sans(dns('node-a'), ip('10.0.0.1'), ip('203.0.113.10')),
    policy: { maxSans: 2 },
    expect: ['deny', 'TooManySans'],
  },
  {
    name: 'denies the same DNS name twice in different case and with a trailing dot',
    csr: sans(dns('node-a'), dns('NODE-A.')),
    expect: ['deny', 'DuplicateSan'],
    message: /DNS SAN NODE-A\. repeats DNS SAN node-a/,
  },
  {
    name: 'denies an IPv4 address repeated as IPv4-mapped IPv6',
    csr: sans(ip('10.0.0.1'), ip('::ffff:10.0.0.1')),
    expect: ['deny', 'DuplicateSan'],
  },
  {
    name: 'denies an identical SAN twice',
    csr: sans(ip('10.0.0.1'), ip('10.0.0.1')),
    expect: ['deny', 'DuplicateSan'],
  },
  // Rule 11: DNS names.
  { name: 'approves a DNS SAN with a trailing dot', csr: sans(dns('node-a.')), expect: 'approve' },
  { name: 'approves a DNS SAN in upper case', csr: sans(dns('NODE-A')), expect: 'approve' },
  {
    name: 'approves an InternalDNS name written with a trailing dot',
    csr: sans(dns('node-a.internal.example.')),
    expect: 'approve',
  },
  {
    name: 'denies a wildcard DNS SAN',
    csr: sans(dns('*.node-a.example.com')),
    expect: ['deny', 'InvalidDnsName'],
    message: /is a wildcard/,
  },
  { name: 'denies a lone wildcard', csr: sans(dns('*')), expect: ['deny', 'InvalidDnsName'] },
  { name: 'denies an empty DNS SAN', csr: sans(dns('')), expect: ['deny', 'InvalidDnsName'] },
  {
    name: 'denies a DNS SAN of a single dot',
    csr: sans(dns('.')),
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies two trailing dots',
    csr: sans(dns('node-a..')),
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies an empty label',
    csr: sans(dns('node-a..example.com')),
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies an underscore',
    csr: sans(dns('_node.example.com')),
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies a DNS SAN with trailing garbage after a NUL, showing it escaped',
    csr: sans(dns('node-a\u0000.evil.com')),
    expect: ['deny', 'InvalidDnsName'],
    message: /"node-a\\u0000\.evil\.com"/,
  },
  {
    name: 'denies a DNS SAN with a newline and never writes the newline into the message',
    csr: sans(dns('node-a\nInjected: yes')),
    expect: ['deny', 'InvalidDnsName'],
    message: /^[^\n]*\\u000a[^\n]*$/,
  },
  {
    name: 'denies a 64-character label',
    csr: sans(dns(`${'a'.repeat(64)}.example.com`)),
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies a 254-character name',
    csr: sans(dns(`${'a.'.repeat(126)}ab`)),
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies a Unicode look-alike of the node name',
    csr: sans(dns('node-\u0430')),
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies a DNS SAN that is a dotted quad, as an IP literal',
    csr: sans(dns('node-a'), dns('10.0.0.11')),
    expect: ['deny', 'DnsNameIsIpLiteral'],
    message:
      /^DnsNameIsIpLiteral: DNS SAN 10\.0\.0\.11 is an IP literal, not a host name .*IP SAN$/,
  },
  {
    name: 'denies a single all-digit label (10.0.0.11 as one decimal number)',
    csr: sans(dns('167772171')),
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'denies a name whose last label is all digits',
    csr: sans(dns('node.123')),
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'denies an IP literal written with a trailing dot',
    csr: sans(dns('10.0.0.11.')),
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'denies an IP literal even when the Node reports it as its InternalDNS',
    csr: sans(dns('10.0.0.1')),
    node: { addresses: [{ type: 'InternalDNS', address: '10.0.0.1' }] },
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'denies an IP literal even when it is the node name',
    request: { username: 'system:node:10.0.0.11' },
    csr: {
      subject: [
        [{ oid: '2.5.4.10', tag: 19, value: 'system:nodes' }],
        [{ oid: '2.5.4.3', tag: 12, value: 'system:node:10.0.0.11' }],
      ],
      sans: [dns('10.0.0.11')],
    },
    node: { name: '10.0.0.11', addresses: [{ type: 'Hostname', address: '10.0.0.11' }] },
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'approves the IP SAN a kubelet sends for a Node named by its IP',
    request: { username: 'system:node:10.0.0.11' },
    csr: {
      subject: [
        [{ oid: '2.5.4.10', tag: 19, value: 'system:nodes' }],
        [{ oid: '2.5.4.3', tag: 12, value: 'system:node:10.0.0.11' }],
      ],
      sans: [ip('10.0.0.11')],
    },
    node: { name: '10.0.0.11', addresses: [{ type: 'Hostname', address: '10.0.0.11' }] },
    expect: 'approve',
  },
  {
    name: 'reports an IP literal once, not also as outside the DNS allow-lists',
    csr: sans(dns('10.0.0.11')),
    policy: { ownership: { allowedDnsSuffixes: ['internal.example'] } },
    expect: ['deny', 'DnsNameIsIpLiteral'],
  },
  {
    name: 'approves a name whose first labels are all digits',
    csr: sans(dns('10.0.0.11.nip.example')),
    node: { addresses: [{ type: 'InternalDNS', address: '10.0.0.11.nip.example' }] },
    expect: 'approve',
  },
  {
    name: 'approves a last label of digits and a letter',
    csr: sans(dns('node.123a')),
    node: { addresses: [{ type: 'InternalDNS', address: 'node.123a' }] },
    expect: 'approve',
  },
  // Rule 12: IP addresses.
  { name: 'approves the Node’s IPv6 address', csr: sans(ip('fd00::a')), expect: 'approve' },
  {
    name: 'approves an IPv6 SAN written uncompressed in upper case',
    csr: sans(ip('FD00:0:0:0:0:0:0:A')),
    expect: 'approve',
  },
  {
    name: 'approves an IPv4-mapped IPv6 SAN of the Node’s IPv4 address',
    csr: sans(ip('::ffff:10.0.0.1')),
    expect: 'approve',
  },
  {
    name: 'approves an IPv4 SAN when the Node reports it as IPv4-mapped IPv6',
    csr: sans(ip('10.0.0.7')),
    node: { addresses: [{ type: 'InternalIP', address: '::ffff:10.0.0.7' }] },
    expect: 'approve',
  },
  {
    name: 'approves a compressed IPv6 SAN when the Node reports it uncompressed in upper case',
    csr: sans(ip('2001:db8::7')),
    node: {
      addresses: [{ type: 'ExternalIP', address: '2001:0DB8:0000:0000:0000:0000:0000:0007' }],
    },
    expect: 'approve',
  },
  {
    name: 'denies an IP SAN that is neither 4 nor 16 bytes',
    csr: sans(ip('invalid:0a0000')),
    expect: ['deny', 'InvalidIpAddress'],
  },
  {
    name: 'denies 127.0.0.1',
    csr: sans(ip('127.0.0.1')),
    expect: ['deny', 'DisallowedIp'],
    message: /loopback/,
  },
  { name: 'denies ::1', csr: sans(dns('node-a'), ip('::1')), expect: ['deny', 'DisallowedIp'] },
  {
    name: 'denies loopback written as IPv4-mapped IPv6',
    csr: sans(ip('::ffff:127.0.0.1')),
    expect: ['deny', 'DisallowedIp'],
  },
  {
    name: 'denies 0.0.0.0',
    csr: sans(ip('0.0.0.0')),
    expect: ['deny', 'DisallowedIp'],
    message: /unspecified/,
  },
  { name: 'denies ::', csr: sans(ip('::')), expect: ['deny', 'DisallowedIp'] },
  {
    name: 'denies the cloud metadata address (link-local)',
    csr: sans(ip('169.254.169.254')),
    expect: ['deny', 'DisallowedIp'],
    message: /link-local/,
  },
  {
    name: 'denies an IPv6 link-local address',
    csr: sans(ip('fe80::1')),
    expect: ['deny', 'DisallowedIp'],
  },
  {
    name: 'denies an IPv4 multicast address',
    csr: sans(ip('224.0.0.251')),
    expect: ['deny', 'DisallowedIp'],
    message: /multicast/,
  },
  {
    name: 'denies an IPv6 multicast address',
    csr: sans(ip('ff02::1')),
    expect: ['deny', 'DisallowedIp'],
  },
  {
    name: 'denies the broadcast address',
    csr: sans(ip('255.255.255.255')),
    expect: ['deny', 'DisallowedIp'],
    message: /broadcast/,
  },
  {
    name: 'denies a loopback address even when the Node reports it',
    csr: sans(ip('127.0.0.1')),
    node: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
    expect: ['deny', 'DisallowedIp'],
  },
  // Rule 12: IPv6 that embeds IPv4 (IPv4-mapped is folded instead, above).
  {
    name: 'denies an IPv4-compatible address and names the IPv4 inside it',
    csr: sans(ip('::10.0.0.1')),
    expect: ['deny', 'EmbeddedIpv4Address'],
    message: /IP SAN ::a00:1 embeds IPv4 10\.0\.0\.1 \(IPv4-compatible ::\/96\)/,
  },
  {
    name: 'denies an IPv4-compatible address even when the Node reports it',
    csr: sans(ip('::10.0.0.1')),
    node: { addresses: [{ type: 'InternalIP', address: '::10.0.0.1' }] },
    expect: ['deny', 'EmbeddedIpv4Address'],
  },
  {
    name: 'denies a NAT64 address (64:ff9b::/96)',
    csr: sans(ip('64:ff9b::10.96.0.1')),
    expect: ['deny', 'EmbeddedIpv4Address'],
    message: /embeds IPv4 10\.96\.0\.1 \(NAT64 64:ff9b::\/96\)/,
  },
  {
    name: 'denies a NAT64 local-use address (64:ff9b:1::/48)',
    csr: sans(ip('64:ff9b:1:a00:1::')),
    expect: ['deny', 'EmbeddedIpv4Address'],
    message: /embeds an IPv4 address \(NAT64 local-use 64:ff9b:1::\/48\)/,
  },
  {
    name: 'denies a 6to4 address (2002::/16)',
    csr: sans(ip('2002:a00:1::1')),
    expect: ['deny', 'EmbeddedIpv4Address'],
    message: /embeds IPv4 10\.0\.0\.1 \(6to4 2002::\/16\)/,
  },
  {
    name: 'approves an address just outside the NAT64 prefix',
    csr: sans(ip('64:ff9b:0:0:1::a')),
    node: { addresses: [{ type: 'InternalIP', address: '64:ff9b:0:0:1::a' }] },
    expect: 'approve',
  },
  {
    name: 'approves an address just past 6to4',
    csr: sans(ip('2003::1')),
    node: { addresses: [{ type: 'ExternalIP', address: '2003::1' }] },
    expect: 'approve',
  },
  {
    name: 'approves an IPv4-compatible address the Node reports once reserved.embeddedIpv4 is off',
    csr: sans(ip('::10.0.0.1')),
    node: { addresses: [{ type: 'InternalIP', address: '::10.0.0.1' }] },
    policy: { reserved: { embeddedIpv4: false } },
    expect: 'approve',
  },
  {
    name: 'approves a 6to4 address the Node reports once reserved.embeddedIpv4 is off',
    csr: sans(ip('2002:a00:1::1')),
    node: { addresses: [{ type: 'InternalIP', address: '2002:a00:1::1' }] },
    policy: { reserved: { embeddedIpv4: false } },
    expect: 'approve',
  },
  {
    name: 'still denies loopback as loopback, not as IPv4-compatible, with the switch off',
    csr: sans(ip('::1')),
    policy: { reserved: { embeddedIpv4: false } },
    expect: ['deny', 'DisallowedIp'],
  },
  // Rule 13: reserved names and IPs.
  { name: 'denies localhost', csr: sans(dns('localhost')), expect: ['deny', 'ReservedName'] },
  {
    name: 'denies LOCALHOST. in any case with a trailing dot',
    csr: sans(dns('LOCALHOST.')),
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies a name under .localhost',
    csr: sans(dns('node-a.localhost')),
    expect: ['deny', 'ReservedName'],
  },
  { name: 'denies kubernetes', csr: sans(dns('kubernetes')), expect: ['deny', 'ReservedName'] },
  {
    name: 'denies Kubernetes.Default in mixed case',
    csr: sans(dns('Kubernetes.Default')),
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies kubernetes.default.svc',
    csr: sans(dns('kubernetes.default.svc')),
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies kubernetes.default.svc.cluster.local',
    csr: sans(dns('kubernetes.default.svc.cluster.local')),
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies any Service name under .svc',
    csr: sans(dns('metrics.monitoring.svc')),
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies a Service name under .svc.<clusterDomain> for a custom cluster domain',
    csr: sans(dns('api.default.svc.corp.example')),
    policy: { clusterDomain: 'corp.example' },
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies a reserved name even when the Node reports it as its InternalDNS',
    csr: sans(dns('kubernetes')),
    node: { addresses: [{ type: 'InternalDNS', address: 'kubernetes' }] },
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies a configured reserved name',
    csr: sans(dns('node-a.internal.example')),
    policy: { reserved: { names: ['node-a.internal.example'] } },
    expect: ['deny', 'ReservedName'],
    message: /DNS SAN node-a\.internal\.example is a reserved name$/,
  },
  {
    name: 'still denies localhost when another reserved name is configured',
    csr: sans(dns('localhost')),
    policy: { reserved: { names: ['node-a.internal.example'] } },
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'names the reserved suffix a Service name falls under',
    csr: sans(dns('metrics.monitoring.svc')),
    expect: ['deny', 'ReservedName'],
    message: /DNS SAN metrics\.monitoring\.svc is under the reserved suffix \.svc$/,
  },
  {
    name: 'denies the GCE metadata name, in any case, even when the Node reports it',
    csr: sans(dns('Metadata.Google.Internal.')),
    node: { addresses: [{ type: 'InternalDNS', address: 'metadata.google.internal' }] },
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'approves the metadata name once it is removed from the built-ins',
    csr: sans(dns('metadata.google.internal')),
    node: { addresses: [{ type: 'InternalDNS', address: 'metadata.google.internal' }] },
    policy: { reserved: { removeBuiltIns: { names: ['metadata.google.internal'] } } },
    expect: 'approve',
  },
  {
    name: 'approves a name under .svc once the svc suffix is removed from the built-ins',
    csr: sans(dns('node-a.svc')),
    node: { addresses: [{ type: 'InternalDNS', address: 'node-a.svc' }] },
    policy: { reserved: { removeBuiltIns: { nameSuffixes: ['svc'] } } },
    expect: 'approve',
  },
  {
    name: 'still denies .svc.<clusterDomain> with the svc suffix removed',
    csr: sans(dns('api.default.svc.cluster.local')),
    policy: { reserved: { removeBuiltIns: { nameSuffixes: ['svc'] } } },
    expect: ['deny', 'ReservedName'],
  },
  {
    name: 'denies the EC2 IPv6 metadata address, even when the Node reports it',
    csr: sans(ip('fd00:ec2::254')),
    node: { addresses: [{ type: 'InternalIP', address: 'fd00:ec2::254' }] },
    expect: ['deny', 'ReservedIp'],
    message: /IP SAN fd00:ec2::254 is reserved \(built-in reserved IP fd00:ec2::254\/128\)$/,
  },
  {
    name: 'denies the EC2 IPv6 metadata address written in full',
    csr: sans(ip('FD00:0EC2:0:0:0:0:0:0254')),
    expect: ['deny', 'ReservedIp'],
  },
  {
    name: 'still denies the EC2 IPv6 metadata address when other reserved IPs are configured',
    csr: sans(ip('fd00:ec2::254')),
    policy: { reserved: { ips: ['10.96.0.1'] } },
    expect: ['deny', 'ReservedIp'],
  },
  {
    name: 'approves the EC2 IPv6 metadata address once it is removed from the built-ins',
    csr: sans(ip('fd00:ec2::254')),
    node: { addresses: [{ type: 'InternalIP', address: 'fd00:ec2::254' }] },
    policy: { reserved: { removeBuiltIns: { ips: ['fd00:ec2::254'] } } },
    expect: 'approve',
  },
  {
    name: 'approves a name that only starts like a reserved one',
    csr: sans(dns('kubernetes-node')),
    node: { name: 'node-a', addresses: [{ type: 'Hostname', address: 'kubernetes-node' }] },
    expect: 'approve',
  },
  {
    name: 'approves a name ending in svc without the dot',
    csr: sans(dns('mysvc')),
    node: { addresses: [{ type: 'InternalDNS', address: 'mysvc' }] },
    expect: 'approve',
  },
  {
    name: 'denies the kubernetes Service IP once it is configured as reserved',
    csr: sans(ip('10.96.0.1')),
    node: { addresses: [{ type: 'InternalIP', address: '10.96.0.1' }] },
    policy: { reserved: { ips: ['10.96.0.1'] } },
    expect: ['deny', 'ReservedIp'],
    message: /reserved\.ips 10\.96\.0\.1\/32/,
  },
  {
    name: 'denies an address inside a reserved Service CIDR, written as IPv4-mapped IPv6',
    csr: sans(ip('::ffff:10.100.7.7')),
    policy: { reserved: { ips: ['10.96.0.0/12'] } },
    expect: ['deny', 'ReservedIp'],
  },
  {
    name: 'denies a reserved IPv6 address given in another spelling',
    csr: sans(ip('fd00:0:0:0:0:0:0:a')),
    policy: { reserved: { ips: ['FD00::A'] } },
    expect: ['deny', 'ReservedIp'],
  },
  // All violations at once.
  {
    name: 'reports every SAN violation, in rule order',
    csr: sans(
      dns('*.evil'),
      ip('127.0.0.1'),
      dns('kubernetes'),
      other('uri', 6, 'https://x'),
      dns('node-a'),
      dns('Node-A'),
    ),
    expect: [
      'deny',
      'DisallowedSanType',
      'DuplicateSan',
      'InvalidDnsName',
      'DisallowedIp',
      'ReservedName',
    ],
  },
];

describe('rules 10–13: SAN kinds, names, addresses and reserved values', () => {
  runCases(cases, evaluate);
});
