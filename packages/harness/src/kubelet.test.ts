import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSubjectAltName, servingSans } from './kubelet.ts';

describe('servingSans', () => {
  it('puts host names and DNS addresses in DNS SANs and IP addresses in IP SANs, once each', () => {
    assert.deepEqual(
      servingSans([
        { type: 'Hostname', address: 'n1' },
        { type: 'InternalDNS', address: 'n1.internal' },
        { type: 'ExternalDNS', address: 'n1.example.com' },
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'ExternalIP', address: '2001:db8::1' },
        { type: 'InternalIP', address: '10.0.0.1' },
      ]),
      { dnsNames: ['n1', 'n1.internal', 'n1.example.com'], ips: ['10.0.0.1', '2001:db8::1'] },
    );
  });
});

describe('parseSubjectAltName', () => {
  it('normalises IP addresses so OpenSSL’s long IPv6 form equals the short one', () => {
    assert.deepEqual(
      [...parseSubjectAltName('DNS:n1, IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1')],
      ['DNS:n1', 'IP:0a000001', 'IP:20010db8000000000000000000000001'],
    );
  });
});
