import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCsr, der, kubeletCsr, type BuildCsrOptions } from '@stampede/testing';
import { parseCsr, parseCsrDer } from './pkcs10.ts';
import type { ParsedCsr, ParseResult } from '../types.ts';

function parsed(options: BuildCsrOptions): ParsedCsr {
  const result = parseCsr(buildCsr(options).pem);
  assert.ok(result.ok, result.ok ? '' : result.failure.message);
  return result.csr;
}

const failure = (result: ParseResult): string =>
  result.ok ? 'ok' : `${result.failure.code}: ${result.failure.message}`;

describe('parseCsr', () => {
  it('reads a kubelet request completely', () => {
    const built = kubeletCsr({
      nodeName: 'node-a',
      dnsNames: ['node-a'],
      ips: ['10.0.0.1', 'fd00::a'],
    });
    const result = parseCsr(built.pem);
    assert.ok(result.ok);
    const { csr } = result;
    assert.deepEqual(csr.subject, [
      [{ oid: '2.5.4.10', tag: 19, value: 'system:nodes' }],
      [{ oid: '2.5.4.3', tag: 19, value: 'system:node:node-a' }],
    ]);
    assert.deepEqual(csr.sans, [
      { kind: 'dns', tag: 2, value: 'node-a' },
      { kind: 'ip', tag: 7, value: '10.0.0.1' },
      { kind: 'ip', tag: 7, value: 'fd00::a' },
    ]);
    assert.deepEqual(csr.publicKey, { algorithm: 'ecdsa', curve: 'P-256', bits: 256 });
    assert.deepEqual(csr.signatureAlgorithm, {
      scheme: 'ecdsa',
      hash: 'SHA-256',
      oid: '1.2.840.10045.4.3.2',
    });
    assert.equal(csr.version, 0);
    assert.deepEqual(Buffer.from(csr.signedData), Buffer.from(built.info));
    assert.deepEqual(Buffer.from(csr.spki), Buffer.from(built.spki));
    assert.deepEqual(Buffer.from(csr.signature), Buffer.from(built.signature));
    assert.deepEqual(
      csr.extensions.map(e => [e.oid, e.critical]),
      [['2.5.29.17', false]],
    );
    assert.deepEqual(
      csr.attributes.map(a => [a.oid, a.values.length]),
      [['1.2.840.113549.1.9.14', 1]],
    );
  });

  const fields: {
    name: string;
    options: BuildCsrOptions;
    read: (csr: ParsedCsr) => unknown;
    want: unknown;
  }[] = [
    {
      name: 'keeps every SAN kind in order',
      options: {
        sans: [
          { kind: 'otherName', typeId: '1.2.3', value: der.utf8('x') },
          { kind: 'email', value: 'a@b' },
          { kind: 'dns', value: 'Node-A.' },
          { kind: 'x400Address', content: der.seq() },
          { kind: 'directoryName', name: [{ type: 'CN', value: 'x' }] },
          { kind: 'ediPartyName', content: der.explicit(1, der.utf8('e')) },
          { kind: 'uri', value: 'https://x/' },
          { kind: 'ip', value: '::ffff:1.2.3.4' },
          { kind: 'registeredId', oid: '1.2.3.4' },
          { kind: 'raw', der: der.ctx(12, Uint8Array.of(1), false) },
        ],
      },
      read: csr => csr.sans.map(s => `${s.kind}/${s.tag}/${s.value}`),
      want: [
        'otherName/0/06022a03a0030c0178',
        'email/1/a@b',
        'dns/2/Node-A.',
        'x400Address/3/3000',
        'directoryName/4/300c310a30080603550403130178',
        'ediPartyName/5/a1030c0165',
        'uri/6/https://x/',
        'ip/7/::ffff:102:304',
        'registeredId/8/2a0304',
        'unknown/12/01',
      ],
    },
    {
      name: 'keeps unknown subject attributes, non-string values and multi-valued RDNs',
      options: {
        subject: [
          [
            { type: 'CN', value: 'a' },
            { type: '1.2.3', value: '', rawValue: der.int(5) },
          ],
          { type: 'O', value: '', rawValue: der.ctx(0, Uint8Array.of(0x61), false) },
        ],
      },
      read: csr => csr.subject,
      want: [
        [
          { oid: '1.2.3', tag: 2, value: '05' },
          { oid: '2.5.4.3', tag: 19, value: 'a' },
        ],
        [{ oid: '2.5.4.10', tag: 0x80, value: '61' }],
      ],
    },
    {
      name: 'reads an RSA key size and exponent',
      options: { key: { type: 'rsa', bits: 2048 }, sans: [{ kind: 'dns', value: 'a' }] },
      read: csr => csr.publicKey,
      want: { algorithm: 'rsa', bits: 2048, exponent: 65537n },
    },
    {
      name: 'reads RSA-PSS parameters',
      options: { key: { type: 'rsa', bits: 2048 }, rsaPss: true, hash: 'SHA-384' },
      read: csr => csr.signatureAlgorithm,
      want: {
        scheme: 'rsa-pss',
        hash: 'SHA-384',
        mgfHash: 'SHA-384',
        saltLength: 48,
        oid: '1.2.840.113549.1.1.10',
      },
    },
    {
      name: 'reads Ed25519',
      options: { key: { type: 'ed25519' } },
      read: csr => [csr.publicKey, csr.signatureAlgorithm],
      want: [
        { algorithm: 'ed25519', bits: 256 },
        { scheme: 'ed25519', oid: '1.3.101.112' },
      ],
    },
    {
      name: 'reports an unsupported curve by OID',
      options: { key: { type: 'ecdsa', curve: 'secp256k1' } },
      read: csr => csr.publicKey,
      want: { algorithm: 'ecdsa-unsupported-curve', curveOid: '1.3.132.0.10' },
    },
    {
      name: 'keeps a critical flag and every requested extension',
      options: {
        sans: [{ kind: 'dns', value: 'a' }],
        sanCritical: true,
        extensions: [{ oid: '2.5.29.15', value: der.bitString(Uint8Array.of(0x80), 7) }],
      },
      read: csr =>
        csr.extensions.map(e => [e.oid, e.critical, Buffer.from(e.value).toString('hex')]),
      want: [
        ['2.5.29.17', true, '3003820161'],
        ['2.5.29.15', false, '03020780'],
      ],
    },
    {
      name: 'reads a request without extensionRequest as having no extensions',
      options: { sans: [] },
      read: csr => [csr.extensions, csr.sans, csr.attributes],
      want: [[], [], []],
    },
  ];
  for (const c of fields)
    it(c.name, () => {
      assert.deepEqual(c.read(parsed(c.options)), c.want);
    });

  const failures: { name: string; options: BuildCsrOptions; want: string }[] = [
    {
      name: 'names the place of a bad subject string',
      options: { subject: [{ type: 'CN', value: Uint8Array.of(0xff), tag: 12 }] },
      want: 'MalformedRequest: certificationRequestInfo.subject[0][0].value: invalid UTF8String contents',
    },
    {
      name: 'names the place of a bad SAN',
      options: {
        sans: [
          { kind: 'dns', value: 'a' },
          { kind: 'dns', value: Uint8Array.of(0xe9) },
        ],
      },
      want: 'MalformedExtension: extensionRequest.subjectAltName[1]: IA5String must be ASCII',
    },
    {
      name: 'names a duplicated extension by OID',
      options: {
        sans: [{ kind: 'dns', value: 'a' }],
        extensions: [{ oid: '2.5.29.17', value: der.seq() }],
      },
      want: 'DuplicateExtension: certificationRequestInfo.attributes[0].values[0]: extension 2.5.29.17 appears more than once',
    },
    {
      name: 'names trailing bytes inside the signed part',
      options: { trailingInInfo: der.nullValue() },
      want: 'MalformedRequest: certificationRequestInfo: unexpected trailing data inside the element',
    },
    {
      name: 'refuses version 1',
      options: { version: 1 },
      want: 'MalformedRequest: certificationRequestInfo.version: version must be 0 (v1)',
    },
  ];
  for (const c of failures)
    it(c.name, () => {
      assert.equal(failure(parseCsr(buildCsr(c.options).pem)), c.want);
    });
});

describe('parseCsrDer', () => {
  it('reads the DER of a request', () => {
    assert.ok(parseCsrDer(kubeletCsr({ nodeName: 'a', dnsNames: ['a'] }).der).ok);
  });

  it('refuses DER above 64 KiB before reading it', () => {
    assert.equal(failure(parseCsrDer(new Uint8Array(65537))).split(':')[0], 'RequestTooLarge');
  });

  it('refuses empty input', () => {
    assert.equal(
      failure(parseCsrDer(new Uint8Array(0))),
      'MalformedRequest: certificationRequest: missing element',
    );
  });
});
