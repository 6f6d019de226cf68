import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSubjectAltName } from './kubelet.ts';

describe('parseSubjectAltName', () => {
  it('normalises IP addresses so OpenSSL’s long IPv6 form equals the short one', () => {
    assert.deepEqual(
      [...parseSubjectAltName('DNS:n1, IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1')],
      ['DNS:n1', 'IP:0a000001', 'IP:20010db8000000000000000000000001'],
    );
  });
});
