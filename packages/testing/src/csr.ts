// buildCsr: PKCS#10 requests signed with real keys, shaped by options that reach every field a request
// can get wrong. The defaults give what a kubelet sends; each option bends one thing. kubeletCsr()
// reproduces a kubelet's request byte for byte (apart from key and signature), as Go's
// x509.CreateCertificateRequest writes it.

import { KeyObject, constants, sign } from 'node:crypto';
import {
  bitString,
  bool,
  concat,
  ctx,
  derSorted,
  explicit,
  int,
  nullValue,
  octets,
  oid,
  oidContent,
  seq,
  set,
  str,
  StringTags,
} from './der.ts';
import { parseIpBytes } from './ip.ts';
import { keyPairFrom, testKey, type KeyPair, type KeySpec } from './keys.ts';

export const Oids = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  country: '2.5.4.6',
  serialNumber: '2.5.4.5',
  emailAddress: '1.2.840.113549.1.9.1',
  challengePassword: '1.2.840.113549.1.9.7',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
} as const;

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5';

const HASH_OIDS: Readonly<Record<HashName, string>> = {
  'SHA-1': '1.3.14.3.2.26',
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
  MD5: '1.2.840.113549.2.5',
};

const HASH_LENGTHS: Readonly<Record<HashName, number>> = {
  'SHA-1': 20,
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
  MD5: 16,
};

const RSA_PKCS1_OIDS: Readonly<Record<HashName, string>> = {
  MD5: '1.2.840.113549.1.1.4',
  'SHA-1': '1.2.840.113549.1.1.5',
  'SHA-256': '1.2.840.113549.1.1.11',
  'SHA-384': '1.2.840.113549.1.1.12',
  'SHA-512': '1.2.840.113549.1.1.13',
};

const ECDSA_OIDS: Readonly<Record<HashName, string>> = {
  MD5: '1.2.840.10045.4.3.99',
  'SHA-1': '1.2.840.10045.4.1',
  'SHA-256': '1.2.840.10045.4.3.2',
  'SHA-384': '1.2.840.10045.4.3.3',
  'SHA-512': '1.2.840.10045.4.3.4',
};

const NODE_HASHES: Readonly<Record<HashName, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** One subject attribute. `tag` defaults to PrintableString when the text allows it, else UTF8String (Go's choice). */
export interface AttributeSpec {
  readonly type: string;
  readonly value: string | Uint8Array;
  readonly tag?: number;
  /** A whole value TLV, used as is (non-string values, constructed strings, …). */
  readonly rawValue?: Uint8Array;
}

/** One RDN: a single attribute, or several (a multi-valued RDN). */
export type RdnSpec = AttributeSpec | readonly AttributeSpec[];

export type SanSpec =
  | { readonly kind: 'dns' | 'email' | 'uri'; readonly value: string | Uint8Array }
  | { readonly kind: 'ip'; readonly value: string | Uint8Array }
  | { readonly kind: 'otherName'; readonly typeId: string; readonly value: Uint8Array }
  | { readonly kind: 'directoryName'; readonly name: readonly RdnSpec[] }
  | { readonly kind: 'x400Address' | 'ediPartyName'; readonly content: Uint8Array }
  | { readonly kind: 'registeredId'; readonly oid: string }
  /** A whole GeneralName TLV, for tags and forms the kinds above do not produce. */
  | { readonly kind: 'raw'; readonly der: Uint8Array };

export interface ExtensionSpec {
  readonly oid: string;
  readonly critical?: boolean;
  /** Writes `critical FALSE` explicitly, which DER forbids. */
  readonly encodeCriticalFalse?: boolean;
  readonly value: Uint8Array;
}

export interface PemOptions {
  readonly type?: string;
  readonly headers?: readonly (readonly [string, string])[];
  readonly before?: string;
  readonly after?: string;
  readonly lineLength?: number;
  readonly lineEnding?: string;
  /** Replaces the base64 body text entirely. */
  readonly body?: string;
}

export interface BuildCsrOptions {
  /** A key kind (cached per process) or a key pair; default ECDSA P-256. */
  readonly key?: KeySpec | KeyPair | KeyObject;
  /** RDNs in order; default O=system:nodes, CN=system:node:node-a (a kubelet's order). */
  readonly subject?: readonly RdnSpec[];
  /** A whole Name TLV in place of `subject`. */
  readonly rawSubject?: Uint8Array;
  /** A whole SubjectPublicKeyInfo in place of the key's own (the signature is still the key's). */
  readonly spki?: Uint8Array;
  readonly sans?: readonly SanSpec[];
  /** The SAN extnValue in place of one built from `sans`. */
  readonly sanValue?: Uint8Array;
  readonly sanCritical?: boolean;
  /** Extensions after the SAN extension. */
  readonly extensions?: readonly ExtensionSpec[];
  /** How many extensionRequest attributes to write (default 1 when there are extensions, else 0). */
  readonly extensionRequestCount?: number;
  /** How many copies of the Extensions value each extensionRequest holds (default 1). */
  readonly extensionRequestValues?: number;
  /** A whole extensionRequest value in place of the built Extensions SEQUENCE. */
  readonly extensionRequestValue?: Uint8Array;
  /** Other attributes (each value a whole TLV). */
  readonly attributes?: readonly { readonly oid: string; readonly values: readonly Uint8Array[] }[];
  /** Keep attributes in the order given instead of DER order. */
  readonly attributesInOrder?: boolean;
  readonly version?: number | bigint;
  readonly hash?: HashName;
  /** RSA keys: sign with RSA-PSS (salt defaults to the hash length; mgf hash to the hash). */
  readonly rsaPss?: boolean | { readonly saltLength?: number; readonly mgfHash?: HashName };
  /** A whole AlgorithmIdentifier in place of the one matching how the request was signed. */
  readonly signatureAlgorithm?: Uint8Array;
  /** Flips one bit of the signature after signing. */
  readonly corruptSignature?: boolean;
  /** A signature in place of the real one. */
  readonly signature?: Uint8Array;
  /** The unused-bits octet of the signature BIT STRING (default 0). */
  readonly signatureUnusedBits?: number;
  /** Rewrites certificationRequestInfo before it is signed: the result is still validly signed. */
  readonly mutateInfo?: (info: Uint8Array) => Uint8Array;
  /** Rewrites the finished DER (after signing). */
  readonly mutateDer?: (der: Uint8Array) => Uint8Array;
  /** Bytes appended inside certificationRequestInfo (signed). */
  readonly trailingInInfo?: Uint8Array;
  /** Bytes appended inside the outer SEQUENCE, after the signature. */
  readonly trailingInRequest?: Uint8Array;
  /** Bytes appended after the outer SEQUENCE. */
  readonly trailingAfter?: Uint8Array;
  readonly pem?: PemOptions;
}

export interface BuiltCsr {
  readonly pem: Uint8Array;
  readonly pemText: string;
  readonly der: Uint8Array;
  /** certificationRequestInfo as signed. */
  readonly info: Uint8Array;
  readonly spki: Uint8Array;
  readonly keys: KeyPair;
  readonly signature: Uint8Array;
}

const NAME_OIDS: Readonly<Record<string, string>> = {
  CN: Oids.commonName,
  O: Oids.organization,
  OU: Oids.organizationalUnit,
  C: Oids.country,
  SERIALNUMBER: Oids.serialNumber,
  emailAddress: Oids.emailAddress,
};

/** Go's marshalling rule: PrintableString unless a character needs UTF8String (`*` and `&` do). */
function defaultStringTag(text: string): number {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text) ? StringTags.printable : StringTags.utf8;
}

function encodeAttribute(spec: AttributeSpec): Uint8Array {
  const type = oid(NAME_OIDS[spec.type] ?? spec.type);
  if (spec.rawValue !== undefined) return seq(type, spec.rawValue);
  const tag =
    spec.tag ?? (typeof spec.value === 'string' ? defaultStringTag(spec.value) : StringTags.utf8);
  return seq(type, str(tag, spec.value));
}

/** A Name from RDN specs; multi-valued RDNs are written in DER SET order. */
export function encodeName(rdns: readonly RdnSpec[]): Uint8Array {
  return seq(...rdns.map(rdn => set(...(Array.isArray(rdn) ? rdn : [rdn]).map(encodeAttribute))));
}

function ia5Bytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? Uint8Array.from(value, c => c.charCodeAt(0) & 0xff) : value;
}

const SAN_TAGS = { email: 1, dns: 2, uri: 6 } as const;

export function encodeGeneralName(san: SanSpec): Uint8Array {
  switch (san.kind) {
    case 'dns':
    case 'email':
    case 'uri':
      return ctx(SAN_TAGS[san.kind], ia5Bytes(san.value), false);
    case 'ip':
      return ctx(7, typeof san.value === 'string' ? parseIpBytes(san.value) : san.value, false);
    case 'otherName':
      return ctx(0, [oid(san.typeId), explicit(0, san.value)], true);
    case 'directoryName':
      return ctx(4, encodeName(san.name), true);
    case 'x400Address':
      return ctx(3, san.content, true);
    case 'ediPartyName':
      return ctx(5, san.content, true);
    case 'registeredId':
      return ctx(8, oidContent(san.oid), false);
    case 'raw':
      return san.der;
  }
}

export function encodeExtension(ext: ExtensionSpec): Uint8Array {
  const flag =
    ext.critical === true ? [bool(true)] : ext.encodeCriticalFalse === true ? [bool(false)] : [];
  return seq(oid(ext.oid), ...flag, octets(ext.value));
}

function buildExtensions(options: BuildCsrOptions): Uint8Array[] {
  const out: Uint8Array[] = [];
  const sans = options.sans ?? [];
  if (options.sanValue !== undefined || sans.length > 0) {
    const value = options.sanValue ?? seq(...sans.map(encodeGeneralName));
    const critical = options.sanCritical === true;
    out.push(encodeExtension({ oid: Oids.subjectAltName, critical, value }));
  }
  for (const ext of options.extensions ?? []) out.push(encodeExtension(ext));
  return out;
}

function buildAttributes(options: BuildCsrOptions): Uint8Array {
  const extensions = buildExtensions(options);
  const hasRequest = extensions.length > 0 || options.extensionRequestValue !== undefined;
  const requestCount = options.extensionRequestCount ?? (hasRequest ? 1 : 0);
  const value = options.extensionRequestValue ?? seq(...extensions);
  const values = Array.from({ length: options.extensionRequestValues ?? 1 }, () => value);
  const request = seq(oid(Oids.extensionRequest), set(...values));
  const others = (options.attributes ?? []).map(a => seq(oid(a.oid), set(...a.values)));
  const all = [...others, ...Array.from({ length: requestCount }, () => request)];
  return ctx(0, options.attributesInOrder === true ? all : derSorted(all), true);
}

function resolveKeys(key: BuildCsrOptions['key']): KeyPair {
  if (key === undefined) return testKey({ type: 'ecdsa', curve: 'P-256' });
  if (key instanceof KeyObject) return keyPairFrom(key);
  return 'privateKey' in key ? key : testKey(key);
}

function defaultHash(keys: KeyPair): HashName {
  const details = keys.publicKey.asymmetricKeyDetails;
  if (keys.publicKey.asymmetricKeyType !== 'ec') return 'SHA-256';
  if (details?.namedCurve === 'secp384r1') return 'SHA-384';
  return details?.namedCurve === 'secp521r1' ? 'SHA-512' : 'SHA-256';
}

function pssAlgorithm(hash: HashName, saltLength: number, mgfHash: HashName): Uint8Array {
  const hashId = (h: HashName) => seq(oid(HASH_OIDS[h]), nullValue());
  return seq(
    oid(Oids.rsaPss),
    seq(
      explicit(0, hashId(hash)),
      explicit(1, seq(oid(Oids.mgf1), hashId(mgfHash))),
      explicit(2, int(saltLength)),
    ),
  );
}

/** Signs `info` as the key type requires, returning the signature and its AlgorithmIdentifier. */
function signInfo(keys: KeyPair, info: Uint8Array, options: BuildCsrOptions) {
  const type = keys.privateKey.asymmetricKeyType;
  const hash = options.hash ?? defaultHash(keys);
  const key = keys.privateKey;
  if (type === 'ed25519' || type === 'ed448') {
    const algorithm = seq(oid(type === 'ed25519' ? Oids.ed25519 : Oids.ed448));
    return { signature: sign(null, info, key), algorithm };
  }
  if (type === 'ec') {
    const signature = sign(NODE_HASHES[hash], info, { key, dsaEncoding: 'der' });
    return { signature, algorithm: seq(oid(ECDSA_OIDS[hash])) };
  }
  if (options.rsaPss !== undefined && options.rsaPss !== false) {
    const pss = options.rsaPss === true ? {} : options.rsaPss;
    const saltLength = pss.saltLength ?? HASH_LENGTHS[hash];
    const padding = constants.RSA_PKCS1_PSS_PADDING;
    const signature = sign(NODE_HASHES[hash], info, { key, padding, saltLength });
    return { signature, algorithm: pssAlgorithm(hash, saltLength, pss.mgfHash ?? hash) };
  }
  const signature = sign(NODE_HASHES[hash], info, { key, padding: constants.RSA_PKCS1_PADDING });
  return { signature, algorithm: seq(oid(RSA_PKCS1_OIDS[hash]), nullValue()) };
}

function finalSignature(raw: Uint8Array, options: BuildCsrOptions): Uint8Array {
  const signature = Uint8Array.from(options.signature ?? raw);
  if (options.corruptSignature === true) {
    const at = Math.floor(signature.length / 2);
    signature[at] = (signature[at] ?? 0) ^ 0x01;
  }
  return signature;
}

/** PEM the way Go's pem.Encode writes it, with options to break it. */
export function encodePem(der: Uint8Array, options: PemOptions = {}): string {
  const type = options.type ?? 'CERTIFICATE REQUEST';
  const eol = options.lineEnding ?? '\n';
  const lineLength = options.lineLength ?? 64;
  const b64 = options.body ?? Buffer.from(der).toString('base64');
  const lines: string[] = [];
  if (options.body !== undefined) lines.push(b64);
  else for (let i = 0; i < b64.length; i += lineLength) lines.push(b64.slice(i, i + lineLength));
  const headers = (options.headers ?? []).map(([k, v]) => `${k}: ${v}`);
  const headerBlock = headers.length > 0 ? [...headers, ''] : [];
  const block = [`-----BEGIN ${type}-----`, ...headerBlock, ...lines, `-----END ${type}-----`];
  return `${options.before ?? ''}${block.join(eol)}${eol}${options.after ?? ''}`;
}

const KUBELET_SUBJECT = (nodeName: string): RdnSpec[] => [
  { type: 'O', value: 'system:nodes' },
  { type: 'CN', value: `system:node:${nodeName}` },
];

/** Builds, signs and encodes a request. Defaults: what a kubelet named `node-a` sends, with no SANs. */
const optional = (bytes: Uint8Array | undefined): Uint8Array[] =>
  bytes === undefined ? [] : [bytes];

function buildInfo(keys: KeyPair, options: BuildCsrOptions) {
  const spki =
    options.spki ?? new Uint8Array(keys.publicKey.export({ type: 'spki', format: 'der' }));
  const subject = options.rawSubject ?? encodeName(options.subject ?? KUBELET_SUBJECT('node-a'));
  const version = int(options.version ?? 0);
  const built = seq(
    version,
    subject,
    spki,
    buildAttributes(options),
    ...optional(options.trailingInInfo),
  );
  return { spki, info: options.mutateInfo?.(built) ?? built };
}

export function buildCsr(options: BuildCsrOptions = {}): BuiltCsr {
  const keys = resolveKeys(options.key);
  const { spki, info } = buildInfo(keys, options);
  const signed = signInfo(keys, info, options);
  const signature = finalSignature(new Uint8Array(signed.signature), options);
  const request = seq(
    info,
    options.signatureAlgorithm ?? signed.algorithm,
    bitString(signature, options.signatureUnusedBits ?? 0),
    ...optional(options.trailingInRequest),
  );
  const joined = concat([request, ...optional(options.trailingAfter)]);
  const der = options.mutateDer?.(joined) ?? joined;
  const pemText = encodePem(der, options.pem);
  return { pem: new TextEncoder().encode(pemText), pemText, der, info, spki, keys, signature };
}

export interface KubeletCsrOptions {
  readonly nodeName: string;
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
  readonly key?: KeyPair;
}

/**
 * Exactly what a kubelet sends for its serving certificate (k8s.io/client-go/util/certificate +
 * x509.CreateCertificateRequest): ECDSA P-256, ECDSA-with-SHA256, subject O=system:nodes then
 * CN=system:node:<name>, one non-critical SAN extension with the DNS names then the IPs (IPv4 as
 * four octets, including IPv4-mapped input, as Go's To4 does).
 */
export function kubeletCsr(options: KubeletCsrOptions): BuiltCsr {
  const sans: SanSpec[] = [
    ...(options.dnsNames ?? []).map(value => ({ kind: 'dns' as const, value })),
    ...(options.ips ?? []).map(value => ({
      kind: 'ip' as const,
      value: parseIpBytes(value, { to4: true }),
    })),
  ];
  return buildCsr({
    key: options.key ?? testKey({ type: 'ecdsa', curve: 'P-256' }),
    subject: KUBELET_SUBJECT(options.nodeName),
    sans,
    hash: 'SHA-256',
  });
}
