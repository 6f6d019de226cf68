import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatSanIp } from './ip-text.ts';

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));

describe('formatSanIp', () => {
  const cases: { name: string; hex: string; want: string }[] = [
    { name: 'writes IPv4 as a dotted quad', hex: '0a000001', want: '10.0.0.1' },
    { name: 'writes the IPv6 loopback', hex: '00000000 00000000 00000000 00000001', want: '::1' },
    { name: 'writes the unspecified IPv6 address', hex: '00'.repeat(16), want: '::' },
    {
      name: 'keeps an IPv4-mapped address IPv6',
      hex: '00000000 00000000 0000ffff 0a000001',
      want: '::ffff:a00:1',
    },
    {
      name: 'compresses the longest zero run',
      hex: '20010db8 00000001 00000000 00000001',
      want: '2001:db8:0:1::1',
    },
    {
      name: 'compresses the first of two equal runs',
      hex: '20010db8 00000000 00010000 00000001',
      want: '2001:db8::1:0:0:1',
    },
    {
      name: 'does not compress a single zero group',
      hex: '20010db8 00000001 00010001 00010001',
      want: '2001:db8:0:1:1:1:1:1',
    },
    {
      name: 'compresses a trailing run',
      hex: '20010db8 00010001 00010001 00000000',
      want: '2001:db8:1:1:1:1::',
    },
    {
      name: 'writes lowercase without leading zeros',
      hex: 'ABCD000F 00000000 00000000 00000000',
      want: 'abcd:f::',
    },
    { name: 'marks an address of 5 octets invalid', hex: '0a00000100', want: 'invalid:0a00000100' },
    { name: 'marks an empty address invalid', hex: '', want: 'invalid:' },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.equal(formatSanIp(bytes(c.hex)), c.want);
    });

  it('writes IPv6 as the WHATWG URL serializer does (RFC 5952)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
          minLength: 8,
          maxLength: 8,
        }),
        groups => {
          const raw = new Uint8Array(16);
          groups.forEach((g, i) => {
            raw[i * 2] = g >> 8;
            raw[i * 2 + 1] = g & 0xff;
          });
          const text = groups.map(g => g.toString(16)).join(':');
          assert.equal(formatSanIp(raw), new URL(`http://[${text}]/`).hostname.slice(1, -1));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
