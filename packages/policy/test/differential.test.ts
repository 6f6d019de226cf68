// Differential test against Go: the apiserver and the signer read
// spec.request with Go's encoding/pem and crypto/x509, so Go is the oracle. Every corpus input and a
// set of kubelet-shaped requests go through both readers.
//
// The contract checked here:
// 1. Whenever both readers accept a request, they agree exactly: signed bytes, subject (types, tags and
//    values), DNS/IP/email/URI SANs, extensions, key algorithm and size, signature algorithm, and
//    whether the signature verifies.
// 2. Where they legitimately disagree, it is because we are stricter: we refuse what Go reads
//    (trailing bytes inside SEQUENCEs, non-DER encodings, a second extensionRequest value, …), or
//    we read what Go refuses (unsupported curves, malformed IPs and URIs, unknown GeneralNames) and
//    the default policy then denies it. So a request we read with a valid signature while Go
//    cannot read it must be denied by decide() even when every fact is granted; anything else is a bug.
// 3. kubeletCsr() writes what x509.CreateCertificateRequest writes for a kubelet, byte for byte.
//
// Go must be installed (the test builds go/csrparse once and caches the binary); it fails otherwise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNodeSignatureVerifier } from '@stampede/crypto';
import {
  type GeneralName,
  type ParsedCsr,
  type PublicKey,
  type RdnAttribute,
  type SignatureAlgorithm,
  parseCsr,
} from '@stampede/policy';
import {
  buildCorpus,
  kubeletCsr,
  runGoOracle,
  testKey,
  type GoAttribute,
  type GoCsr,
  type GoResult,
} from '@stampede/testing';
import { decideWithEveryFact, goIpText } from './grant-all.ts';

const verifier = createNodeSignatureVerifier();

interface Input {
  readonly name: string;
  readonly input: Uint8Array;
}

function kubeletInputs(): Input[] {
  const shapes = [
    { nodeName: 'worker-1', dnsNames: ['worker-1'], ips: ['10.0.0.1'] },
    {
      nodeName: 'ip-10-0-0-1.ec2.internal',
      dnsNames: ['ip-10-0-0-1.ec2.internal', 'ec2-1-2-3-4.compute.amazonaws.com'],
      ips: ['10.0.0.1', '1.2.3.4'],
    },
    { nodeName: 'gke-pool-1-abcd', dnsNames: [], ips: ['10.128.0.7', '2600:1900:4000:1:0:0:0:7'] },
    { nodeName: 'n', dnsNames: ['N', 'n.'], ips: ['::ffff:10.1.2.3', 'fe80::1', '::'] },
    {
      nodeName: 'node-x',
      dnsNames: Array.from({ length: 40 }, (_, i) => `n${i}.example.com`),
      ips: [],
    },
  ];
  return shapes.map((shape, i) => ({
    name: `kubelet shape ${i}: ${shape.nodeName}`,
    input: kubeletCsr(shape).pem,
  }));
}

// ---- Go's view, mapped into ours ----

const STRING_TAGS_GO_DECODES = new Set([12, 18, 19, 20, 22, 30]);

function latin1FromHex(contentHex: string): string {
  return Buffer.from(contentHex, 'hex').toString('latin1');
}

function utf32FromHex(contentHex: string): string {
  const bytes = Buffer.from(contentHex, 'hex');
  let out = '';
  for (let i = 0; i + 3 < bytes.length; i += 4) out += String.fromCodePoint(bytes.readUInt32BE(i));
  return out;
}

/** What our RdnAttribute must be, given Go's raw view of the same attribute. */
function expectedAttribute(a: GoAttribute): RdnAttribute {
  const universalPrimitive = a.class === 0 && !a.compound && a.tag < 31;
  const tag = universalPrimitive
    ? a.tag
    : (a.class << 6) | (a.compound ? 0x20 : 0) | Math.min(a.tag, 31);
  let value = a.contentHex;
  if (universalPrimitive && STRING_TAGS_GO_DECODES.has(a.tag))
    value = a.goString ?? '<Go did not decode>';
  else if (universalPrimitive && a.tag === 26) value = latin1FromHex(a.contentHex);
  else if (universalPrimitive && a.tag === 28) value = utf32FromHex(a.contentHex);
  return { oid: a.oid, tag, value };
}

function sansOfKind(sans: readonly GeneralName[], kind: GeneralName['kind']): string[] {
  return sans.filter(s => s.kind === kind).map(s => s.value);
}

const GO_SIGNATURE_NAMES: Readonly<Record<string, string>> = {
  'rsa-pkcs1 MD5': 'MD5-RSA',
  'rsa-pkcs1 SHA-1': 'SHA1-RSA',
  'rsa-pkcs1 SHA-256': 'SHA256-RSA',
  'rsa-pkcs1 SHA-384': 'SHA384-RSA',
  'rsa-pkcs1 SHA-512': 'SHA512-RSA',
  'rsa-pss SHA-256': 'SHA256-RSAPSS',
  'rsa-pss SHA-384': 'SHA384-RSAPSS',
  'rsa-pss SHA-512': 'SHA512-RSAPSS',
  'ecdsa SHA-1': 'ECDSA-SHA1',
  'ecdsa SHA-256': 'ECDSA-SHA256',
  'ecdsa SHA-384': 'ECDSA-SHA384',
  'ecdsa SHA-512': 'ECDSA-SHA512',
};

/** Go's name for our algorithm; "0" (unknown) and Go's DSA names all mean `unknown` to us. */
function signatureMatches(ours: SignatureAlgorithm, go: string): boolean {
  if (ours.scheme === 'unknown') return ['0', 'DSA-SHA1', 'DSA-SHA256'].includes(go);
  if (ours.scheme === 'ed25519') return go === 'Ed25519';
  return GO_SIGNATURE_NAMES[`${ours.scheme} ${ours.hash}`] === go;
}

function keyMatches(ours: PublicKey, go: GoCsr['publicKey']): boolean {
  switch (ours.algorithm) {
    case 'ecdsa':
      return go.algorithm === 'ECDSA' && go.curve === ours.curve && go.bits === ours.bits;
    case 'rsa':
      return (
        go.algorithm === 'RSA' &&
        go.bits === ours.bits &&
        BigInt(go.exponent ?? -1) === ours.exponent
      );
    case 'ed25519':
      return go.algorithm === 'Ed25519';
    case 'unknown':
      return !['ECDSA', 'RSA', 'Ed25519'].includes(go.algorithm);
    case 'ecdsa-unsupported-curve':
      return false; // Go refuses unsupported curves, so it never reads such a request
  }
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Every field on which the two readers differ; empty when they agree. */
function differences(ours: ParsedCsr, ourSignature: boolean, go: GoCsr): string[] {
  const found: string[] = [];
  const check = (what: string, a: unknown, b: unknown) => {
    try {
      assert.deepStrictEqual(a, b);
    } catch {
      found.push(`${what}: ours ${JSON.stringify(a)}, Go ${JSON.stringify(b)}`);
    }
  };
  check('signed bytes', hexOf(ours.signedData), Buffer.from(go.rawTbs, 'base64').toString('hex'));
  check(
    'subject',
    ours.subject,
    go.subject?.map(rdn => rdn.map(expectedAttribute)) ?? go.subjectError,
  );
  check('dns SANs', sansOfKind(ours.sans, 'dns'), go.dnsNames);
  check('ip SANs', sansOfKind(ours.sans, 'ip').map(goIpText), go.ipAddresses);
  check('email SANs', sansOfKind(ours.sans, 'email'), go.emailAddresses);
  check('uri SANs', sansOfKind(ours.sans, 'uri'), go.uris);
  check(
    'extensions',
    ours.extensions.map(e => ({ oid: e.oid, critical: e.critical, valueHex: hexOf(e.value) })),
    go.extensions,
  );
  if (!keyMatches(ours.publicKey, go.publicKey)) {
    check('public key', ours.publicKey.algorithm, go.publicKey);
  }
  if (!signatureMatches(ours.signatureAlgorithm, go.signatureAlgorithm)) {
    check('signature algorithm', ours.signatureAlgorithm, go.signatureAlgorithm);
  }
  check('signature valid', ourSignature, go.signatureOk);
  return found;
}

// ---- The run ----

interface Outcome {
  readonly name: string;
  readonly input: Uint8Array;
  readonly go: GoResult;
  readonly ours: ReturnType<typeof parseCsr>;
  readonly ourSignature: boolean;
}

function runAll(): Outcome[] {
  const inputs = [
    ...buildCorpus().map(c => ({ name: c.name, input: c.input })),
    ...kubeletInputs(),
  ];
  const go = runGoOracle(inputs.map(i => ({ name: i.name, input: i.input })));
  return inputs.map((input, i) => {
    const ours = parseCsr(input.input);
    const ourSignature =
      ours.ok &&
      verifier.verify({
        algorithm: ours.csr.signatureAlgorithm,
        spki: ours.csr.spki,
        data: ours.csr.signedData,
        signature: ours.csr.signature,
      });
    const goResult = go[i];
    assert.ok(goResult?.name === input.name, 'Go answered out of order');
    return { ...input, go: goResult, ours, ourSignature };
  });
}

describe('the CSR reader against Go crypto/x509', () => {
  const outcomes = runAll();

  it('agrees with Go on every field of every request both read', () => {
    const disagreements: string[] = [];
    for (const o of outcomes) {
      if (!o.ours.ok || !o.go.parseOk || o.go.csr === undefined) continue;
      const pemOk =
        o.go.pem?.type === 'CERTIFICATE REQUEST' &&
        Object.keys(o.go.pem.headers ?? {}).length === 0;
      const found = differences(o.ours.csr, o.ourSignature, o.go.csr);
      if (!pemOk) found.push('Go found another PEM block');
      if (found.length > 0) disagreements.push(`${o.name}:\n    ${found.join('\n    ')}`);
    }
    assert.deepEqual(disagreements, [], `\n${disagreements.join('\n')}`);
  });

  it('reads with a valid signature nothing that Go refuses, unless the policy denies it', () => {
    const disagreements: string[] = [];
    for (const o of outcomes) {
      if (!o.ours.ok || !o.ourSignature || o.go.parseOk) continue;
      const decision = decideWithEveryFact(o.input, o.ours.csr);
      if (decision.kind !== 'deny') {
        disagreements.push(
          `${o.name}: Go says ${o.go.parseError ?? 'no PEM block'}, decide() says ${decision.kind}`,
        );
      }
    }
    assert.deepEqual(disagreements, [], `\n${disagreements.join('\n')}`);
  });

  it('finds in PEM exactly the DER Go finds, whenever we read it', () => {
    const disagreements: string[] = [];
    for (const o of outcomes) {
      if (!o.ours.ok) continue;
      const goBytes = Buffer.from(o.go.pem?.bytes ?? '', 'base64');
      const tbs = hexOf(o.ours.csr.signedData);
      if (o.go.pem?.found !== true || !goBytes.toString('hex').includes(tbs)) {
        disagreements.push(o.name);
      }
    }
    assert.deepEqual(disagreements, []);
  });

  it('approves the kubelet-shaped requests that Go reads, when every fact is granted', () => {
    for (const o of outcomes.filter(
      x => x.name.startsWith('kubelet shape 0') || x.name.startsWith('kubelet shape 1'),
    )) {
      assert.ok(o.ours.ok && o.go.parseOk, o.name);
      assert.equal(decideWithEveryFact(o.input, o.ours.csr).kind, 'approve', o.name);
    }
  });

  it('builds kubelet requests byte for byte as Go does', () => {
    const key = testKey({ type: 'ecdsa', curve: 'P-256' });
    const shapes = [
      {
        nodeName: 'worker-1',
        dnsNames: ['worker-1'],
        ips: ['10.0.0.1', '::ffff:10.0.0.2', '2001:db8::1'],
      },
      { nodeName: 'a_b*c', dnsNames: [], ips: ['10.0.0.1'] },
      { nodeName: 'x'.repeat(200), dnsNames: ['x'.repeat(200)], ips: [] },
    ];
    const pkcs8 = new Uint8Array(key.privateKey.export({ type: 'pkcs8', format: 'der' }));
    const go = runGoOracle(
      shapes.map((s, i) => ({ name: `kubelet ${i}`, kubelet: { ...s, key: pkcs8 } })),
    );
    shapes.forEach((shape, i) => {
      const goDer = Buffer.from(go[i]?.built ?? '', 'base64');
      const goParsed = parseCsr(
        new TextEncoder().encode(
          `-----BEGIN CERTIFICATE REQUEST-----\n${goDer.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`,
        ),
      );
      const ours = kubeletCsr({ ...shape, key });
      assert.ok(goParsed.ok, `${shape.nodeName}: ${go[i]?.error ?? ''}`);
      assert.equal(hexOf(ours.info), hexOf(goParsed.csr.signedData), shape.nodeName);
      const oursParsed = parseCsr(ours.pem);
      assert.ok(oursParsed.ok);
      assert.deepEqual(oursParsed.csr.signatureAlgorithm, goParsed.csr.signatureAlgorithm);
    });
  });
});
