// decide() end to end: real requests signed with real keys (@stampede/testing), the real parser and
// the real verifier (@stampede/crypto), the default policy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { buildCsr, kubeletCsr, Oids } from '@stampede/testing';
import type { BuildCsrOptions, SanSpec } from '@stampede/testing';
import { decide } from './decide.ts';
import { defaultPolicy, loadPolicy } from './policy.ts';
import { assertDecision } from '../test/cases.ts';
import type { Expected } from '../test/cases.ts';
import { CREATED, claimantsOf, csrRequest, facts, nodeFact } from '../test/fixtures.ts';
import type { CsrRequest, Facts, PolicyConfig } from './index.ts';

const verifier = createNodeSignatureVerifier();
const DS = 'digital signature';
const KE = 'key encipherment';
const SA = 'server auth';
const rsaUsages = [DS, KE, SA];

const dns = (value: string): SanSpec => ({ kind: 'dns', value });
const ip = (value: string | Uint8Array): SanSpec => ({ kind: 'ip', value });
const KUBELET_SANS = [dns('node-a'), ip('10.0.0.1')];
const subject = (cn = 'system:node:node-a') => [
  { type: 'O', value: 'system:nodes' },
  { type: 'CN', value: cn },
];
const ascii = (text: string) => new TextEncoder().encode(text);

interface RealCase {
  readonly name: string;
  /** The PEM bytes of spec.request, or options for buildCsr (kubelet defaults otherwise). */
  readonly csr?: BuildCsrOptions | Uint8Array;
  readonly request?: Partial<CsrRequest>;
  readonly facts?: Partial<Facts>;
  readonly policy?: PolicyConfig;
  readonly expect: Expected;
  readonly message?: RegExp;
}

function pemOf(csr: RealCase['csr']): Uint8Array {
  if (csr instanceof Uint8Array) return csr;
  return buildCsr({ subject: subject(), sans: KUBELET_SANS, ...csr }).pem;
}

function decideCase(c: RealCase) {
  const loaded = loadPolicy(c.policy ?? {});
  assert.ok(loaded.ok);
  return decide(
    csrRequest({ request: pemOf(c.csr), ...c.request }),
    loaded.policy,
    { ...facts(), ...c.facts },
    verifier,
  );
}

const PEM = kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1'] }).pemText;

const cases: RealCase[] = [
  // The two shapes a kubelet sends.
  {
    name: 'approves a kubelet’s ECDSA P-256 request with {digital signature, server auth}',
    csr: kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1', 'fd00::a'] }).pem,
    expect: 'approve',
  },
  {
    name: 'approves an RSA-2048 request with {digital signature, key encipherment, server auth}',
    csr: { key: { type: 'rsa', bits: 2048 } },
    request: { usages: rsaUsages },
    expect: 'approve',
  },
  {
    name: 'approves an RSA-2048 request with the two-usage set',
    csr: { key: { type: 'rsa', bits: 2048 } },
    expect: 'approve',
  },
  {
    name: 'approves an RSA-PSS signature',
    csr: { key: { type: 'rsa', bits: 2048 }, rsaPss: true },
    expect: 'approve',
  },
  {
    name: 'approves an ECDSA P-384 request',
    csr: { key: { type: 'ecdsa', curve: 'P-384' } },
    expect: 'approve',
  },
  {
    name: 'approves an ECDSA P-521 request',
    csr: { key: { type: 'ecdsa', curve: 'P-521' } },
    expect: 'approve',
  },
  { name: 'approves an Ed25519 request', csr: { key: { type: 'ed25519' } }, expect: 'approve' },
  {
    name: 'approves a request whose IP SAN is IPv4-mapped IPv6 (16 bytes)',
    csr: {
      sans: [
        dns('node-a'),
        ip(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 1])),
      ],
    },
    expect: 'approve',
  },
  {
    name: 'approves upper-case and trailing-dot DNS SANs of the Node',
    csr: { sans: [dns('NODE-A.'), dns('Node-A.Internal.Example')] },
    expect: 'approve',
  },
  {
    name: 'approves a request surrounded by whitespace',
    csr: ascii(`\n\n${PEM}\n  \n`),
    expect: 'approve',
  },
  // Signature and keys.
  {
    name: 'denies a request whose signature was tampered with',
    csr: { corruptSignature: true },
    expect: ['deny', 'InvalidSignature'],
  },
  {
    name: 'denies a request signed by another key than the one it carries',
    csr: {
      mutateInfo: info => info,
      signature: buildCsr({ key: { type: 'ecdsa', curve: 'P-256' }, subject: subject('x') })
        .signature,
    },
    expect: ['deny', 'InvalidSignature'],
  },
  {
    name: 'denies an ECDSA request signed with SHA-1',
    csr: { hash: 'SHA-1' },
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
  },
  {
    name: 'denies an RSA request signed with SHA-1',
    csr: { key: { type: 'rsa', bits: 2048 }, hash: 'SHA-1' },
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
  },
  {
    name: 'denies a secp256k1 key',
    csr: { key: { type: 'ecdsa', curve: 'secp256k1' } },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'denies an RSA-1024 key',
    csr: { key: { type: 'rsa', bits: 1024 } },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'denies an RSA key with exponent 3',
    csr: { key: { type: 'rsa', bits: 2048, publicExponent: 3 } },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'denies an Ed448 key',
    csr: { key: { type: 'ed448' } },
    expect: ['deny', 'DisallowedSignatureAlgorithm', 'DisallowedKey'],
  },
  // Encoding.
  {
    name: 'denies a request that is not PEM',
    csr: ascii('hello'),
    expect: ['deny', 'MalformedPem'],
  },
  {
    name: 'denies two PEM blocks (the signer would read the first)',
    csr: ascii(`${PEM}\n${kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-b'] }).pemText}`),
    expect: ['deny', 'MalformedPem'],
  },
  {
    name: 'denies text after the PEM block',
    csr: ascii(`${PEM}\ntrailing`),
    expect: ['deny', 'MalformedPem'],
  },
  {
    name: 'denies a PEM block of another type',
    csr: { pem: { type: 'CERTIFICATE' } },
    expect: ['deny', 'MalformedPem'],
  },
  {
    name: 'denies PEM headers',
    csr: { pem: { headers: [['Proc-Type', '4,ENCRYPTED']] } },
    expect: ['deny', 'MalformedPem'],
  },
  {
    name: 'denies bytes after the DER request',
    csr: { trailingAfter: new Uint8Array([0]) },
    expect: ['deny', 'MalformedRequest'],
  },
  {
    name: 'denies a request larger than 64 KiB without parsing it',
    csr: new Uint8Array(65_537).fill(0x41),
    expect: ['deny', 'RequestTooLarge'],
  },
  {
    name: 'denies a real request larger than a configured maxRequestBytes',
    policy: { maxRequestBytes: 512 },
    csr: { key: { type: 'rsa', bits: 2048 } },
    expect: ['deny', 'RequestTooLarge'],
  },
  {
    name: 'denies a duplicated subjectAltName extension',
    csr: {
      extensions: [
        { oid: Oids.subjectAltName, value: new Uint8Array([0x30, 0x03, 0x82, 0x01, 0x78]) },
      ],
    },
    expect: ['deny', 'DuplicateExtension'],
  },
  {
    name: 'denies two extensionRequest attributes',
    csr: { extensionRequestCount: 2 },
    expect: ['deny', 'MalformedRequest'],
  },
  {
    name: 'denies a requested basicConstraints extension',
    csr: {
      extensions: [
        { oid: Oids.basicConstraints, critical: true, value: new Uint8Array([0x30, 0]) },
      ],
    },
    expect: ['deny', 'DisallowedExtension'],
  },
  // Subject and SANs.
  {
    name: 'denies a CN naming another node',
    csr: { subject: subject('system:node:node-b') },
    expect: ['deny', 'CommonNameMismatch'],
  },
  {
    name: 'denies a second CN',
    csr: { subject: [...subject(), { type: 'CN', value: 'system:node:node-b' }] },
    expect: ['deny', 'InvalidSubject', 'CommonNameMismatch'],
  },
  {
    name: 'denies an email SAN',
    csr: { sans: [...KUBELET_SANS, { kind: 'email', value: 'root@node-a' }] },
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies a URI SAN',
    csr: { sans: [...KUBELET_SANS, { kind: 'uri', value: 'spiffe://cluster/node-a' }] },
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies an otherName SAN, which Go would drop',
    csr: {
      sans: [
        ...KUBELET_SANS,
        {
          kind: 'otherName',
          typeId: '1.3.6.1.4.1.311.20.2.3',
          value: new Uint8Array([0x0c, 1, 0x61]),
        },
      ],
    },
    expect: ['deny', 'DisallowedSanType'],
  },
  {
    name: 'denies a wildcard',
    csr: { sans: [dns('*.node-a')] },
    expect: ['deny', 'InvalidDnsName'],
  },
  {
    name: 'denies kubernetes.default.svc',
    csr: { sans: [dns('kubernetes.default.svc')] },
    expect: ['deny', 'ReservedName'],
  },
  { name: 'denies 127.0.0.1', csr: { sans: [ip('127.0.0.1')] }, expect: ['deny', 'DisallowedIp'] },
  { name: 'denies a request without SANs', csr: { sans: [] }, expect: ['deny', 'NoSans'] },
  // Ownership, facts, authorization.
  {
    name: 'denies another node’s IP address',
    csr: kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.7'] }).pem,
    expect: ['deny', 'SanNotOwned'],
    message: /^SanNotOwned: IP SAN 10\.0\.0\.7 is not an IP address of Node node-a$/,
  },
  {
    name: 'denies the node-name prefix trick (system:node:foo asking for foo.evil)',
    csr: kubeletCsr({ nodeName: 'foo', dnsNames: ['foo', 'foo.evil'] }).pem,
    request: { username: 'system:node:foo' },
    facts: {
      node: {
        state: 'known',
        value: nodeFact({ name: 'foo', addresses: [{ type: 'Hostname', address: 'foo' }] }),
      },
    },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'denies an address an older Node also reports',
    facts: {
      claimants: {
        state: 'known',
        value: claimantsOf({ 'ip:10.0.0.1': [{ node: 'node-0', createdAtMs: 0 }] }),
      },
    },
    expect: ['deny', 'SanContested'],
  },
  {
    name: 'retries while the Node does not exist yet',
    facts: { node: { state: 'absent' } },
    expect: ['retry', 'node', 'NodeNotFound'],
  },
  {
    name: 'denies NodeNotFound after the grace window',
    facts: { node: { state: 'absent' }, nowMs: CREATED + 600_001 },
    expect: ['deny', 'NodeNotFound'],
  },
  {
    name: 'denies client auth at once, even while the Node does not exist',
    request: { usages: [DS, SA, 'client auth'] },
    facts: { node: { state: 'absent' } },
    expect: ['deny', 'DisallowedUsages'],
  },
  {
    name: 'denies when the SubjectAccessReview does not allow selfnodeserver',
    facts: { authorization: { state: 'known', value: { allowed: false, reason: '' } } },
    expect: ['deny', 'NotAuthorized'],
  },
  {
    name: 'retries when the SubjectAccessReview failed',
    facts: { authorization: { state: 'unavailable', reason: 'timeout' } },
    expect: ['retry', 'authorization', 'AuthorizationUnavailable'],
  },
  // Triage.
  {
    name: 'ignores a CSR for another signer without reading its request',
    csr: ascii('garbage'),
    request: { signerName: 'kubernetes.io/kube-apiserver-client' },
    expect: ['ignore', 'SignerMismatch'],
  },
  {
    name: 'ignores an approved CSR',
    request: { conditionTypes: ['Approved'] },
    expect: ['ignore', 'AlreadyDecided'],
  },
  {
    name: 'ignores a denied CSR',
    request: { conditionTypes: ['Denied'] },
    expect: ['ignore', 'AlreadyDecided'],
  },
  {
    name: 'ignores a failed CSR',
    request: { conditionTypes: ['Failed'] },
    expect: ['ignore', 'AlreadyDecided'],
  },
  {
    name: 'ignores an issued CSR',
    request: { hasCertificate: true },
    expect: ['ignore', 'AlreadyIssued'],
  },
  {
    name: 'ignores a CSR being deleted',
    request: { deleting: true },
    expect: ['ignore', 'Deleting'],
  },
];

describe('decide over real kubelet requests', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = decideCase(c);
      assertDecision(decision, c.expect);
      if (c.message && decision.kind === 'deny') assert.match(decision.message, c.message);
    });
  }
});

describe('decide never throws', () => {
  it('turns a claimants lookup that throws into ignore InternalError, writing nothing', () => {
    const decision = decide(
      csrRequest({ request: pemOf(undefined) }),
      defaultPolicy,
      {
        ...facts(),
        claimants: {
          state: 'known',
          value: () => {
            throw new Error('index exploded');
          },
        },
      },
      verifier,
    );
    assert.equal(decision.kind, 'ignore');
    assert.equal(decision.reason.code, 'InternalError');
    assert.match(decision.reason.message, /index exploded/);
  });
});
