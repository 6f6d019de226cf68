import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeAddress } from './csr.ts';
import { servingSans, sloppyIpText } from './kubelet-sans.ts';

const hostname = (address: string): NodeAddress => ({ type: 'Hostname', address });
const internalIp = (address: string): NodeAddress => ({ type: 'InternalIP', address });

describe('servingSans derives SANs as kubelet v1.37.2 does', () => {
  const cases: { what: string; addresses: NodeAddress[]; want: ReturnType<typeof servingSans> }[] =
    [
      {
        what: 'host names and DNS addresses become DNS SANs, IP addresses IP SANs, once each',
        addresses: [
          hostname('n1'),
          { type: 'InternalDNS', address: 'n1.internal' },
          { type: 'ExternalDNS', address: 'n1.example.com' },
          internalIp('10.0.0.1'),
          { type: 'ExternalIP', address: '2001:db8::1' },
          internalIp('10.0.0.1'),
        ],
        want: {
          dnsNames: ['n1', 'n1.example.com', 'n1.internal'],
          ips: ['10.0.0.1', '2001:db8::1'],
        },
      },
      {
        what: 'both lists are sorted, whatever order the Node lists them in',
        addresses: [
          internalIp('fd00:66::1'),
          hostname('b'),
          internalIp('10.66.0.1'),
          hostname('a'),
        ],
        want: { dnsNames: ['a', 'b'], ips: ['10.66.0.1', 'fd00:66::1'] },
      },
      {
        what: 'a Hostname that is an IP becomes an IP SAN, not a DNS SAN',
        addresses: [hostname('10.66.7.8'), internalIp('10.66.7.8')],
        want: { dnsNames: [], ips: ['10.66.7.8'] },
      },
      {
        what: 'leading zeros in an IPv4 address are decimal, and IPv6 is written the Go way',
        addresses: [internalIp('010.066.000.001'), internalIp('FD00:66:0:0:0:0:0:1')],
        want: { dnsNames: [], ips: ['10.66.0.1', 'fd00:66::1'] },
      },
      {
        what: 'an InternalIP that is no address and an empty address are dropped',
        addresses: [internalIp('not-an-ip'), hostname(''), hostname('n1')],
        want: { dnsNames: ['n1'], ips: [] },
      },
    ];
  for (const { what, addresses, want } of cases)
    it(what, () => {
      assert.deepEqual(servingSans(addresses), want);
    });
});

describe('sloppyIpText reads addresses as netutils.ParseIPSloppy and prints them as Go does', () => {
  const cases: [string, string | undefined][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['010.000.000.010', '10.0.0.10'],
    ['256.0.0.1', undefined],
    ['0000010.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', undefined],
    ['node-1', undefined],
  ];
  for (const [input, want] of cases)
    it(`${input} is ${want ?? 'no address'}`, () => {
      assert.equal(sloppyIpText(input), want);
    });
});
