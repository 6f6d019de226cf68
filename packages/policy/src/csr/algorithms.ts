// AlgorithmIdentifiers: the subject public key and the signature algorithm. Parameters are held to the
// one DER form each algorithm has; an algorithm we do not know is reported as `unknown` (the policy
// denies it) rather than failing, so the deny names the algorithm.

import type { HashName, PublicKey, SignatureAlgorithm } from '../types.ts';
import {
  DerCursor,
  DerError,
  type DerElement,
  Tag,
  expectTag,
  integerToBigInt,
  readElement,
  readIntegerBytes,
  readNull,
  readOctetAlignedBitString,
  readOid,
  readSmallInteger,
} from './der.ts';
import { Oid } from './oids.ts';

interface AlgorithmIdentifier {
  readonly oid: string;
  readonly params: DerElement | undefined;
  readonly path: string;
}

export function readAlgorithmIdentifier(el: DerElement): AlgorithmIdentifier {
  expectTag(el, Tag.sequence, 'an AlgorithmIdentifier SEQUENCE');
  const cursor = new DerCursor(el);
  const oid = readOid(cursor.next('algorithm'));
  const params = cursor.atEnd ? undefined : cursor.next('parameters');
  cursor.finish();
  return { oid, params, path: el.path };
}

function expectNullParams(ai: AlgorithmIdentifier): void {
  if (ai.params === undefined) throw new DerError(ai.path, 'parameters must be NULL');
  readNull(ai.params);
}

function expectNoParams(ai: AlgorithmIdentifier): void {
  if (ai.params !== undefined) throw new DerError(ai.path, 'parameters must be absent');
}

// ---- Public keys ----

interface Curve {
  readonly curve: 'P-256' | 'P-384' | 'P-521';
  readonly bits: number;
  readonly pointLength: number;
}

const CURVES = new Map<string, Curve>([
  [Oid.p256, { curve: 'P-256', bits: 256, pointLength: 65 }],
  [Oid.p384, { curve: 'P-384', bits: 384, pointLength: 97 }],
  [Oid.p521, { curve: 'P-521', bits: 521, pointLength: 133 }],
]);

function bitLength(unsigned: Uint8Array): number {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const top = unsigned[i] ?? 0;
  return (unsigned.length - i - 1) * 8 + (top === 0 ? 0 : 32 - Math.clz32(top));
}

function readRsaKey(key: DerElement, keyBytes: Uint8Array): PublicKey {
  const start = key.end - keyBytes.length;
  const path = `${key.path}.rsaPublicKey`;
  const seq = readElement(key.data, start, key.end, path);
  if (seq.end !== key.end) throw new DerError(path, 'trailing data after RSAPublicKey');
  expectTag(seq, Tag.sequence, 'an RSAPublicKey SEQUENCE');
  const cursor = new DerCursor(seq);
  const modulus = readIntegerBytes(cursor.next('modulus'));
  const exponentEl = cursor.next('publicExponent');
  const exponentBytes = readIntegerBytes(exponentEl);
  cursor.finish();
  // Go reads the exponent into an int64 and refuses the request beyond it; so do we.
  if (exponentBytes.length > 8) throw new DerError(exponentEl.path, 'RSA exponent is too large');
  const exponent = integerToBigInt(exponentBytes);
  if ((modulus[0] ?? 0) >= 0x80 || bitLength(modulus) === 0) {
    throw new DerError(`${path}.modulus`, 'RSA modulus must be positive');
  }
  if (exponent <= 0n) throw new DerError(exponentEl.path, 'RSA exponent must be positive');
  return { algorithm: 'rsa', bits: bitLength(modulus), exponent };
}

function readEcKey(ai: AlgorithmIdentifier, key: DerElement, keyBytes: Uint8Array): PublicKey {
  // Only namedCurve: implicitCurve (NULL) and explicit curve parameters are refused, as Go does.
  if (ai.params === undefined) throw new DerError(ai.path, 'EC parameters must name a curve');
  const curveOid = readOid(ai.params);
  const known = CURVES.get(curveOid);
  if (known === undefined) return { algorithm: 'ecdsa-unsupported-curve', curveOid };
  const { curve, bits, pointLength } = known;
  // Uncompressed points only (what Go reads); that the point is on the curve is the verifier's job.
  if (keyBytes.length !== pointLength || keyBytes[0] !== 0x04) {
    throw new DerError(key.path, `${curve} public key must be an uncompressed point`);
  }
  return { algorithm: 'ecdsa', curve, bits };
}

/** Reads SubjectPublicKeyInfo. The caller keeps its DER for the verifier. */
export function readPublicKey(spki: DerElement): PublicKey {
  expectTag(spki, Tag.sequence, 'a SubjectPublicKeyInfo SEQUENCE');
  const cursor = new DerCursor(spki);
  const ai = readAlgorithmIdentifier(cursor.next('algorithm'));
  const key = cursor.next('subjectPublicKey');
  const keyBytes = readOctetAlignedBitString(key);
  cursor.finish();
  switch (ai.oid) {
    case Oid.rsaEncryption:
      expectNullParams(ai);
      return readRsaKey(key, keyBytes);
    case Oid.ecPublicKey:
      return readEcKey(ai, key, keyBytes);
    case Oid.ed25519:
      expectNoParams(ai);
      if (keyBytes.length !== 32) throw new DerError(key.path, 'Ed25519 key must be 32 octets');
      return { algorithm: 'ed25519', bits: 256 };
    default:
      return { algorithm: 'unknown', oid: ai.oid };
  }
}

// ---- Signature algorithms ----

const PKCS1: Readonly<Record<string, HashName>> = {
  [Oid.md5WithRsa]: 'MD5',
  [Oid.sha1WithRsa]: 'SHA-1',
  [Oid.sha1WithRsaIso]: 'SHA-1',
  [Oid.sha256WithRsa]: 'SHA-256',
  [Oid.sha384WithRsa]: 'SHA-384',
  [Oid.sha512WithRsa]: 'SHA-512',
};

const ECDSA: Readonly<Record<string, HashName>> = {
  [Oid.ecdsaWithSha1]: 'SHA-1',
  [Oid.ecdsaWithSha256]: 'SHA-256',
  [Oid.ecdsaWithSha384]: 'SHA-384',
  [Oid.ecdsaWithSha512]: 'SHA-512',
};

const HASHES: Readonly<Record<string, { name: HashName; length: number }>> = {
  [Oid.sha1]: { name: 'SHA-1', length: 20 },
  [Oid.sha256]: { name: 'SHA-256', length: 32 },
  [Oid.sha384]: { name: 'SHA-384', length: 48 },
  [Oid.sha512]: { name: 'SHA-512', length: 64 },
};

/** A hash AlgorithmIdentifier inside RSA-PSS parameters: NULL or absent parameters (RFC 4055). */
function readHashAlgorithm(el: DerElement): string {
  const ai = readAlgorithmIdentifier(el);
  if (ai.params !== undefined) readNull(ai.params);
  return ai.oid;
}

/** The content of an EXPLICIT [n] wrapper that holds exactly one element. */
function unwrapExplicit(el: DerElement, name: string): DerElement {
  const cursor = new DerCursor(el);
  const inner = cursor.next(name);
  cursor.finish();
  return inner;
}

interface PssParams {
  readonly hashOid: string;
  readonly mgfOid: string;
  readonly mgfHashOid: string;
  readonly saltLength: number;
  readonly trailerField: number;
}

const ENCODED_DEFAULT = 'a field equal to its DEFAULT must be omitted in DER';

function readPssHash(cursor: DerCursor): string {
  if (cursor.peek() !== 0xa0) return Oid.sha1;
  const hash = unwrapExplicit(cursor.next('hashAlgorithm'), 'algorithm');
  const oid = readHashAlgorithm(hash);
  if (oid === Oid.sha1) throw new DerError(hash.path, ENCODED_DEFAULT);
  return oid;
}

function readPssMgf(cursor: DerCursor): { mgfOid: string; mgfHashOid: string } {
  if (cursor.peek() !== 0xa1) return { mgfOid: Oid.mgf1, mgfHashOid: Oid.sha1 };
  const mgf = readAlgorithmIdentifier(unwrapExplicit(cursor.next('maskGenAlgorithm'), 'mgf'));
  if (mgf.params === undefined) throw new DerError(mgf.path, 'MGF parameters are required');
  const mgfHashOid = readHashAlgorithm(mgf.params);
  if (mgf.oid === Oid.mgf1 && mgfHashOid === Oid.sha1)
    throw new DerError(mgf.path, ENCODED_DEFAULT);
  return { mgfOid: mgf.oid, mgfHashOid };
}

/** An optional `[tag] EXPLICIT INTEGER DEFAULT fallback`, non-negative. */
function readPssInteger(cursor: DerCursor, tag: number, name: string, fallback: number): number {
  if (cursor.peek() !== tag) return fallback;
  const el = unwrapExplicit(cursor.next(name), 'value');
  const value = readSmallInteger(el);
  if (value < 0) throw new DerError(el.path, 'must not be negative');
  if (value === fallback) throw new DerError(el.path, ENCODED_DEFAULT);
  return value;
}

/** RSASSA-PSS-params (RFC 4055), with DER's rule that a field equal to its DEFAULT is omitted. */
function readPssParams(ai: AlgorithmIdentifier): PssParams {
  if (ai.params === undefined) throw new DerError(ai.path, 'RSA-PSS parameters are required');
  const params = expectTag(ai.params, Tag.sequence, 'RSASSA-PSS-params SEQUENCE');
  const cursor = new DerCursor(params);
  const hashOid = readPssHash(cursor);
  const { mgfOid, mgfHashOid } = readPssMgf(cursor);
  const saltLength = readPssInteger(cursor, 0xa2, 'saltLength', 20);
  const trailerField = readPssInteger(cursor, 0xa3, 'trailerField', 1);
  cursor.finish();
  return { hashOid, mgfOid, mgfHashOid, saltLength, trailerField };
}

/**
 * The three RSA-PSS forms Go accepts (SHA-256/384/512, MGF1 with the same hash, salt as long as the
 * hash, trailer 1). Anything else is reported as an unknown algorithm: Go's signer would not verify it.
 */
function readPss(ai: AlgorithmIdentifier): SignatureAlgorithm {
  const p = readPssParams(ai);
  const hash = HASHES[p.hashOid];
  const goForm =
    hash !== undefined &&
    hash.name !== 'SHA-1' &&
    p.mgfOid === Oid.mgf1 &&
    p.mgfHashOid === p.hashOid &&
    p.saltLength === hash.length &&
    p.trailerField === 1;
  if (!goForm) return { scheme: 'unknown', oid: ai.oid };
  return {
    scheme: 'rsa-pss',
    hash: hash.name,
    mgfHash: hash.name,
    saltLength: p.saltLength,
    oid: ai.oid,
  };
}

export function readSignatureAlgorithm(el: DerElement): SignatureAlgorithm {
  const ai = readAlgorithmIdentifier(el);
  const pkcs1 = PKCS1[ai.oid];
  if (pkcs1 !== undefined) {
    expectNullParams(ai);
    return { scheme: 'rsa-pkcs1', hash: pkcs1, oid: ai.oid };
  }
  const ecdsa = ECDSA[ai.oid];
  if (ecdsa !== undefined) {
    expectNoParams(ai);
    return { scheme: 'ecdsa', hash: ecdsa, oid: ai.oid };
  }
  if (ai.oid === Oid.ed25519) {
    expectNoParams(ai);
    return { scheme: 'ed25519', oid: ai.oid };
  }
  if (ai.oid === Oid.rsaPss) return readPss(ai);
  return { scheme: 'unknown', oid: ai.oid };
}
