// Certificates and certificate requests, ECDSA P-256 / SHA-256 throughout, built with ./der.ts.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  generalName,
  integer,
  namedBits,
  objectIdentifier,
  octetString,
  sequence,
  set,
  time,
  tlv,
  utf8String,
  printableString,
} from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
const KU = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Buffer;
  /** PKCS#8 PEM, which Go's tls.X509KeyPair and k8s keyutil accept. */
  readonly privateKeyPem: string;
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    publicKey,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export interface DistinguishedName {
  readonly commonName: string;
  readonly organizations?: readonly string[];
}

/** Go's rule: PrintableString when every character allows it, else UTF8String. */
const directoryString = (value: string): Buffer =>
  /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? printableString(value) : utf8String(value);

/** O before CN: the order Go's pkix.Name produces, so our requests look like a kubelet's. */
function encodeName(name: DistinguishedName): Buffer {
  const rdn = (oid: string, value: string): Buffer =>
    set(sequence(objectIdentifier(oid), directoryString(value)));
  return sequence(
    ...(name.organizations ?? []).map(o => rdn(OID.organization, o)),
    rdn(OID.commonName, name.commonName),
  );
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function fromPem(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

const algorithm = (): Buffer => sequence(objectIdentifier(OID.ecdsaWithSha256));

function signed(toBeSigned: Buffer, key: KeyObject): Buffer {
  const signature = sign('sha256', toBeSigned, { key, dsaEncoding: 'der' });
  return sequence(toBeSigned, algorithm(), bitString(signature));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

export interface SubjectAltNames {
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
  readonly emails?: readonly string[];
  readonly uris?: readonly string[];
}

function subjectAltNameExtension(names: SubjectAltNames): Buffer[] {
  const entries = [
    ...(names.dnsNames ?? []).map(v => generalName('dns', v)),
    ...(names.emails ?? []).map(v => generalName('email', v)),
    ...(names.ips ?? []).map(v => generalName('ip', v)),
    ...(names.uris ?? []).map(v => generalName('uri', v)),
  ];
  return entries.length === 0 ? [] : [extension(OID.subjectAltName, false, sequence(...entries))];
}

/** RFC 5280 allows any unique value; a truncated SHA-256 of the SPKI is stable and cheap. */
const keyIdentifier = (spki: Buffer): Buffer =>
  createHash('sha256').update(spki).digest().subarray(0, 20);

export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

export interface CertificateTemplate extends SubjectAltNames {
  readonly subject: DistinguishedName;
  readonly isCA?: boolean;
  readonly extKeyUsages?: readonly ExtKeyUsage[];
  /** Defaults: 5 minutes ago (clock skew between us and Go is nil, but be kind). */
  readonly notBefore?: Date;
  /** Defaults: 10 years for CAs, 1 year for leaves. */
  readonly notAfter?: Date;
}

export interface IssuedCertificate {
  readonly certPem: string;
  readonly certDer: Buffer;
}

const HOUR_MS = 3_600_000;

/** A CA whose key stays in memory; `issue` signs templates for any public key. */
export class CertificateAuthority {
  readonly key: KeyPair;
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly #subject: Buffer;
  readonly #keyId: Buffer;

  private constructor(key: KeyPair, subject: DistinguishedName) {
    this.key = key;
    this.#subject = encodeName(subject);
    this.#keyId = keyIdentifier(key.spki);
    const cert = this.#build({ subject, isCA: true }, key.spki);
    this.certDer = cert;
    this.certPem = toPem('CERTIFICATE', cert);
  }

  static create(commonName: string): CertificateAuthority {
    return new CertificateAuthority(generateKeyPair(), { commonName });
  }

  /** Signs a certificate for `publicKeySpki` (DER SubjectPublicKeyInfo). */
  issue(template: CertificateTemplate, publicKeySpki: Buffer): IssuedCertificate {
    const certDer = this.#build(template, publicKeySpki);
    return { certDer, certPem: toPem('CERTIFICATE', certDer) };
  }

  #build(template: CertificateTemplate, spki: Buffer): Buffer {
    const now = Date.now();
    const isCA = template.isCA ?? false;
    const notBefore = template.notBefore ?? new Date(now - 5 * 60_000);
    const notAfter = template.notAfter ?? new Date(now + (isCA ? 10 * 8760 : 8760) * HOUR_MS);
    const serial = randomBytes(16);
    serial[0] = (serial[0] ?? 0) & 0x7f; // positive, ≤ 20 octets

    const usages = isCA ? [KU.digitalSignature, KU.keyCertSign, KU.cRLSign] : [KU.digitalSignature]; // ECDSA: no keyEncipherment, as Go's and kubelet's ECDSA certs
    const extensions = [
      extension(OID.keyUsage, true, namedBits(usages)),
      ...(template.extKeyUsages && template.extKeyUsages.length > 0
        ? [
            extension(
              OID.extKeyUsage,
              false,
              sequence(...template.extKeyUsages.map(u => objectIdentifier(OID[u]))),
            ),
          ]
        : []),
      extension(OID.basicConstraints, true, isCA ? sequence(boolean(true)) : sequence()),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
      extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, this.#keyId))),
      ...subjectAltNameExtension(template),
    ];
    const tbs = sequence(
      explicit(0, integer(2n)), // v3
      integer(serial),
      algorithm(),
      this.#subject,
      sequence(time(notBefore), time(notAfter)),
      encodeName(template.subject),
      spki,
      explicit(3, sequence(...extensions)),
    );
    return signed(tbs, this.key.privateKey);
  }
}

export interface CsrTemplate extends SubjectAltNames {
  readonly subject: DistinguishedName;
}

/**
 * A PKCS#10 request shaped like Go's x509.CreateCertificateRequest output, which is what the
 * kubelet sends: subject O then CN, and the SANs in an extensionRequest attribute.
 */
export function createCsr(key: KeyPair, template: CsrTemplate): { pem: string; der: Buffer } {
  const san = subjectAltNameExtension(template);
  const attributes =
    san.length === 0
      ? tlv(0xa0)
      : tlv(0xa0, sequence(objectIdentifier(OID.extensionRequest), set(sequence(...san))));
  const info = sequence(integer(0n), encodeName(template.subject), key.spki, attributes);
  const der = signed(info, key.privateKey);
  return { der, pem: toPem('CERTIFICATE REQUEST', der) };
}
