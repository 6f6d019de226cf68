import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cidrContains,
  embeddedIpv4,
  formatIpBytes,
  parseCidr,
  parseIp,
  parseIpOrCidr,
  parseIpOrCidrSloppy,
  parseIpSloppy,
  specialIpClass,
} from './ip.ts';

describe('parseIp', () => {
  const canonical: [string, string, string][] = [
    ['reads a dotted quad', '10.0.0.1', '10.0.0.1'],
    ['folds IPv4-mapped IPv6 to IPv4', '::ffff:10.0.0.1', '10.0.0.1'],
    ['folds IPv4-mapped IPv6 written in hex', '::FFFF:a00:1', '10.0.0.1'],
    ['folds IPv4-mapped IPv6 written in full', '0:0:0:0:0:ffff:0a00:0001', '10.0.0.1'],
    ['lowercases and compresses IPv6', 'FD00:0:0:0:0:0:0:A', 'fd00::a'],
    [
      'drops leading zeros in IPv6 groups',
      '2001:0db8:0000:0000:0000:0000:0000:0001',
      '2001:db8::1',
    ],
    ['compresses the longest zero run', '2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
    ['compresses the first of two equal zero runs', '2001:0:0:1:0:0:1:1', '2001::1:0:0:1:1'],
    ['does not compress a single zero group', '2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['reads the unspecified IPv6 address', '::', '::'],
    ['reads the IPv6 loopback', '::1', '::1'],
    ['reads a trailing ::', '1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['reads an embedded IPv4 after ::', '64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['reads an embedded IPv4 without ::', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ];
  for (const [name, input, expected] of canonical) {
    it(`${name} (${input} → ${expected})`, () => {
      assert.equal(parseIp(input)?.text, expected);
    });
  }

  const invalid: [string, string][] = [
    ['refuses an empty string', ''],
    ['refuses leading zeros in an IPv4 octet', '010.0.0.1'],
    ['refuses an octet above 255', '10.0.0.256'],
    ['refuses three octets', '10.0.1'],
    ['refuses a trailing dot', '10.0.0.1.'],
    ['refuses two ::', '1::2::3'],
    ['refuses nine groups', '1:2:3:4:5:6:7:8:9'],
    ['refuses seven groups without ::', '1:2:3:4:5:6:7'],
    ['refuses eight groups with ::', '1:2:3:4:5:6:7::8'],
    ['refuses a five-digit group', '12345::1'],
    ['refuses a zone', 'fe80::1%eth0'],
    ['refuses a prefix', '10.0.0.0/8'],
    ['refuses an embedded IPv4 before the end', '1.2.3.4::1'],
    ['refuses a leading single colon', ':1::2'],
    ['refuses spaces', ' 10.0.0.1'],
    ['refuses a name', 'node-a'],
  ];
  for (const [name, input] of invalid) {
    it(`${name} (${JSON.stringify(input)})`, () => {
      assert.equal(parseIp(input), undefined);
    });
  }
});

describe('parseCidr and cidrContains', () => {
  const cases: [string, string, string, boolean][] = [
    ['an IPv4 prefix holds an address inside it', '10.0.0.0/8', '10.255.1.2', true],
    ['an IPv4 prefix does not hold an address outside it', '10.0.0.0/8', '11.0.0.1', false],
    ['a /0 holds every IPv4 address', '0.0.0.0/0', '203.0.113.7', true],
    ['a /32 holds exactly its address', '192.0.2.1/32', '192.0.2.1', true],
    ['a /32 does not hold its neighbour', '192.0.2.1/32', '192.0.2.2', false],
    ['a non-octet prefix is honoured', '10.0.0.0/12', '10.15.255.255', true],
    ['a non-octet prefix ends where it should', '10.0.0.0/12', '10.16.0.0', false],
    ['an IPv6 prefix holds an address inside it', 'fd00::/8', 'fd12:3456::1', true],
    ['an IPv6 prefix does not hold an IPv4 address', '::/0', '10.0.0.1', false],
    ['an IPv4 prefix holds an IPv4-mapped IPv6 address', '10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['an IPv4-mapped prefix is folded to IPv4', '::ffff:10.0.0.0/104', '10.1.2.3', true],
  ];
  for (const [name, cidr, address, expected] of cases) {
    it(name, () => {
      const parsed = parseCidr(cidr);
      assert.ok('cidr' in parsed, JSON.stringify(parsed));
      const ip = parseIp(address);
      assert.ok(ip);
      assert.equal(cidrContains(parsed.cidr, ip), expected);
    });
  }

  const errors: [string, string, RegExp][] = [
    ['refuses a missing prefix length', '10.0.0.0', /missing/],
    ['refuses a prefix longer than the address', '10.0.0.0/33', /too long/],
    ['refuses an IPv6 prefix longer than 128', 'fd00::/129', /too long/],
    [
      'refuses host bits and suggests the masked prefix',
      '10.0.0.1/8',
      /did you mean 10\.0\.0\.0\/8/,
    ],
    ['refuses a bad address', '10.0.0/8', /not an IP address/],
    ['refuses a signed prefix length', '10.0.0.0/+8', /bad prefix length/],
  ];
  for (const [name, cidr, pattern] of errors) {
    it(name, () => {
      const parsed = parseCidr(cidr);
      assert.ok('error' in parsed);
      assert.match(parsed.error, pattern);
    });
  }

  it('reads a bare address as a single-address prefix', () => {
    const parsed = parseIpOrCidr('fd00::1');
    assert.ok('cidr' in parsed);
    assert.equal(parsed.cidr.text, 'fd00::1/128');
  });
});

describe('specialIpClass', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['10.0.0.1', undefined],
    ['fd00::1', undefined],
    ['203.0.113.10', undefined],
  ];
  for (const [address, expected] of cases) {
    it(`classes ${address} as ${expected ?? 'an ordinary address'}`, () => {
      const parsed = parseIp(address);
      assert.ok(parsed);
      assert.equal(specialIpClass(parsed), expected);
    });
  }
});

describe('formatIpBytes', () => {
  it('does not fold an IPv4-mapped address given as 16 bytes', () => {
    const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
    assert.equal(formatIpBytes(bytes), '::ffff:a00:1');
  });
});

describe('parseIpSloppy (k8s.io/utils/net ParseIPSloppy: leading zeros read as decimal)', () => {
  const cases: [string, string, string | undefined][] = [
    ['reads a canonical address as parseIp does', '10.0.0.1', '10.0.0.1'],
    ['reads zero-padded octets as decimal, never octal', '010.000.000.010', '10.0.0.10'],
    ['reads many leading zeros', '0000010.0.0.1', '10.0.0.1'],
    ['reads an all-zero octet', '10.00.000.1', '10.0.0.1'],
    ['reads zeros in the IPv4 tail of IPv4-mapped IPv6', '::ffff:010.0.0.1', '10.0.0.1'],
    ['reads zeros in the IPv4 tail of other IPv6', '64:ff9b::010.0.0.1', '64:ff9b::a00:1'],
    ['reads IPv6 as parseIp does', 'FD00::A', 'fd00::a'],
    ['reads zero-padded IPv6 groups, as Go 1.16 net.ParseIP did', 'fd00::00001', 'fd00::1'],
    ['reads a six-digit zero-padded group', '2001:db8:000000:1::0001', '2001:db8:0:1::1'],
    ['refuses an IPv6 group above 0xffff', 'fd00::10000', undefined],
    ['refuses an octet above 255 after the zeros', '10.0.0.0256', undefined],
    ['refuses hex octets', '0x0a.0.0.1', undefined],
    ['refuses three octets', '010.0.1', undefined],
    ['refuses a name', 'node-a', undefined],
    ['refuses a zone', 'fe80::1%eth0', undefined],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name} (${input})`, () => {
      assert.equal(parseIpSloppy(input)?.text, expected);
    });
  }
});

describe('parseIpOrCidrSloppy (a Service range as Kubernetes reads it)', () => {
  const cases: [string, string, string | undefined][] = [
    ['reads a CIDR', '10.96.0.0/12', '10.96.0.0/12'],
    ['reads an IPv6 CIDR canonically', 'FD00:10:96:0::/112', 'fd00:10:96::/112'],
    ['reads a single address as a host prefix', '10.96.0.1', '10.96.0.1/32'],
    ['clears host bits, as Go’s net.ParseCIDR does', '10.96.0.1/12', '10.96.0.0/12'],
    ['reads zero-padded octets and prefix length as decimal', '010.096.0.0/012', '10.96.0.0/12'],
    ['reads a zero-padded IPv6 prefix length', 'fd00::/064', 'fd00::/64'],
    ['reads a zero-padded single address', '010.096.000.001', '10.96.0.1/32'],
    ['refuses a prefix longer than the address', '10.96.0.0/33', undefined],
    ['refuses an empty prefix length', '10.96.0.0/', undefined],
    ['refuses two prefix lengths', '10.96.0.0/12/12', undefined],
    ['refuses an empty string', '', undefined],
    ['refuses a name', 'kubernetes', undefined],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name} (${JSON.stringify(input)})`, () => {
      const parsed = parseIpOrCidrSloppy(input);
      assert.equal('cidr' in parsed ? parsed.cidr.text : undefined, expected);
      if (!('cidr' in parsed)) assert.equal(parsed.error, 'is not an IP address or CIDR');
    });
  }
});

describe('embeddedIpv4', () => {
  const cases: [string, string, string | undefined][] = [
    ['finds an IPv4-compatible address', '::10.0.0.1', 'IPv4-compatible ::/96 10.0.0.1'],
    ['finds a NAT64 address', '64:ff9b::192.0.2.33', 'NAT64 64:ff9b::/96 192.0.2.33'],
    [
      'finds a NAT64 local-use address',
      '64:ff9b:1:c000:2:2100::',
      'NAT64 local-use 64:ff9b:1::/48 -',
    ],
    ['finds a 6to4 address', '2002:c000:221::1', '6to4 2002::/16 192.0.2.33'],
    ['does not take :: for IPv4-compatible', '::', undefined],
    ['does not take ::1 for IPv4-compatible', '::1', undefined],
    ['takes ::2 for IPv4-compatible', '::2', 'IPv4-compatible ::/96 0.0.0.2'],
    ['leaves IPv4-mapped to the folding (it parses as IPv4)', '::ffff:10.0.0.1', undefined],
    ['ignores an ordinary IPv6 address', '2001:db8::1', undefined],
    ['ignores an address just outside ::/96', '::1:0:0:1', undefined],
    ['ignores an IPv4 address', '10.0.0.1', undefined],
  ];
  for (const [name, address, expected] of cases) {
    it(`${name} (${address})`, () => {
      const parsed = parseIp(address);
      assert.ok(parsed);
      const found = embeddedIpv4(parsed);
      assert.equal(found && `${found.label} ${found.range} ${found.ipv4 ?? '-'}`, expected);
    });
  }
});

describe('parseCidr with host bits masked', () => {
  it('clears host bits when asked to', () => {
    const parsed = parseCidr('10.0.0.1/8', 'mask');
    assert.ok('cidr' in parsed);
    assert.equal(parsed.cidr.text, '10.0.0.0/8');
  });
});
