import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kubeletCsr } from '@stampede/testing';
import { ipBytes } from './der.ts';
import { CertificateAuthority, createCsr, fromPem, generateKeyPair } from './pki.ts';

// OpenSSL is the independent parser here: if it reads our DER the same way, so will Go.
const openssl = (args: string[], input: string): string =>
  execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

describe('pki', () => {
  const ca = CertificateAuthority.create('test-ca');

  it('makes a self-signed CA that OpenSSL and Node both accept as a CA', () => {
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.ok(cert.verify(ca.key.publicKey));
    assert.ok(cert.checkIssued(cert));
    const text = openssl(['x509', '-noout', '-text'], ca.certPem);
    assert.match(text, /CA:TRUE/);
    assert.match(text, /Certificate Sign, CRL Sign/);
  });

  it('issues a leaf with SANs, usages and subject that chains to the CA', () => {
    const key = generateKeyPair();
    const leaf = ca.issue(
      {
        subject: { commonName: 'system:node:n1', organizations: ['system:nodes'] },
        extKeyUsages: ['clientAuth'],
        dnsNames: ['n1.example'],
        ips: ['127.0.0.1', '::1'],
      },
      key.spki,
    );
    const cert = new X509Certificate(leaf.certPem);
    assert.ok(cert.verify(ca.key.publicKey));
    assert.ok(cert.checkIssued(new X509Certificate(ca.certPem)));
    assert.equal(cert.subject, 'O=system:nodes\nCN=system:node:n1');
    assert.equal(
      cert.subjectAltName,
      'DNS:n1.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.equal(cert.keyUsage.join(','), '1.3.6.1.5.5.7.3.2');
    assert.equal(cert.ca, false);
    assert.ok(cert.publicKey.equals(key.publicKey));
    const dir = mkdtempSync(join(tmpdir(), 'pki-test-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), ca.certPem);
      writeFileSync(join(dir, 'leaf.crt'), leaf.certPem);
      const verified = execFileSync(
        'openssl',
        ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.crt')],
        {
          encoding: 'utf8',
        },
      );
      assert.match(verified, /: OK/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('builds a CSR whose self-signature and SAN extension OpenSSL verifies', () => {
    const key = generateKeyPair();
    const csr = createCsr(key, {
      subject: { commonName: 'system:node:n2', organizations: ['system:nodes'] },
      dnsNames: ['n2', 'n2.cluster.local'],
      ips: ['10.1.2.3'],
    });
    const text = openssl(['req', '-noout', '-text', '-verify'], csr.pem);
    assert.match(text, /O\s*=\s*system:nodes, CN\s*=\s*system:node:n2/);
    assert.match(text, /DNS:n2, DNS:n2.cluster.local, IP Address:10.1.2.3/);
    assert.deepEqual(fromPem(csr.pem), csr.der);
  });

  it('builds the same certificationRequestInfo as @stampede/testing’s Go-faithful kubeletCsr', () => {
    const key = generateKeyPair();
    const template = { dnsNames: ['n3', 'n3.internal'], ips: ['10.0.0.3', 'fd00::3'] };
    const ours = createCsr(key, {
      subject: { commonName: 'system:node:n3', organizations: ['system:nodes'] },
      ...template,
    });
    const reference = kubeletCsr({ nodeName: 'n3', key, ...template });
    // The signed part (info) comes first in the request, right after the outer SEQUENCE header.
    const info = Buffer.from(reference.info);
    const lengthByte = ours.der[1] ?? 0;
    const header = lengthByte & 0x80 ? 2 + (lengthByte & 0x7f) : 2;
    assert.deepEqual(ours.der.subarray(header, header + info.length), info);
  });

  it('builds a CSR without SANs as an empty attribute set', () => {
    const csr = createCsr(generateKeyPair(), { subject: { commonName: 'x' } });
    assert.doesNotMatch(openssl(['req', '-noout', '-text', '-verify'], csr.pem), /Alternative/);
  });

  const ipCases: [string, string][] = [
    ['10.0.0.1', '0a000001'],
    ['::1', '00000000000000000000000000000001'],
    ['fd00::a:1', 'fd0000000000000000000000000a0001'],
    ['2001:db8::', '20010db8000000000000000000000000'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
  ];
  for (const [ip, hex] of ipCases) {
    it(`encodes ${ip} as ${hex.length / 2} address bytes`, () => {
      assert.equal(ipBytes(ip).toString('hex'), hex);
    });
  }

  it('issues a hundred node client certificates with one shared key quickly', () => {
    const key = generateKeyPair();
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      ca.issue(
        { subject: { commonName: `system:node:n${i}`, organizations: ['system:nodes'] } },
        key.spki,
      );
    }
    assert.ok(performance.now() - started < 2000);
  });
});
