// Proof of possession with node:crypto (OpenSSL), for the policy core's SignatureVerifier port.
// Synchronous on purpose: one verify is tens of microseconds, cheaper than a trip through the
// WebCrypto promise machinery. Every check Go's x509.CheckSignature makes beyond the raw signature
// math is repeated here (key type matches the scheme, RSA size and exponent limits, signature length),
// so that we never call valid a signature the Go signer would reject, nor the reverse.

import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { HashName, SignatureAlgorithm, SignatureVerifier } from '@stampede/policy';

/** MD5 is never verified: Go's CheckSignature refuses it as insecure, whatever the signature. */
const NODE_HASH: Readonly<Record<HashName, string | undefined>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  MD5: undefined,
  unknown: undefined,
};

const HASH_LENGTH: Readonly<Record<HashName, number>> = {
  'SHA-1': 20,
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
  MD5: 16,
  unknown: -1,
};

interface VerifyInput {
  readonly algorithm: SignatureAlgorithm;
  readonly spki: Uint8Array;
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Go's limits on RSA public keys when verifying (crypto/rsa checkPublicKey and checkKeySize): at
 * least 1024 bits, an odd modulus, an odd exponent in [3, 2^31 - 1]. The policy's own limits are
 * tighter; these only keep our verdict equal to Go's.
 */
function isUsableRsaKey(key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails;
  const bits = details?.modulusLength ?? 0;
  const e = details?.publicExponent ?? 0n;
  if (bits < 1024 || e < 3n || e > 0x7fffffffn || e % 2n === 0n) return false;
  const modulus = Buffer.from(key.export({ format: 'jwk' }).n ?? '', 'base64url');
  return ((modulus.at(-1) ?? 0) & 1) === 1;
}

/** RSA signatures must be exactly as long as the modulus (RFC 8017 8.2.2); OpenSSL accepts shorter. */
function rsaSignatureFits(key: KeyObject, signature: Uint8Array): boolean {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return signature.length === Math.ceil(bits / 8);
}

function verifyRsa(key: KeyObject, input: VerifyInput): boolean {
  const { algorithm, data, signature } = input;
  if (algorithm.scheme !== 'rsa-pkcs1' && algorithm.scheme !== 'rsa-pss') return false;
  const hash = NODE_HASH[algorithm.hash];
  if (hash === undefined || key.asymmetricKeyType !== 'rsa') return false;
  if (!isUsableRsaKey(key) || !rsaSignatureFits(key, signature)) return false;
  if (algorithm.scheme === 'rsa-pkcs1') {
    return verify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  }
  // OpenSSL's MGF1 uses the message hash, and Go accepts only salt = hash length.
  if (algorithm.mgfHash !== algorithm.hash) return false;
  if (algorithm.saltLength !== HASH_LENGTH[algorithm.hash]) return false;
  const options = {
    key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: algorithm.saltLength,
  };
  return verify(hash, data, options, signature);
}

function verifyOrThrow(input: VerifyInput): boolean {
  const { algorithm, spki, data, signature } = input;
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  switch (algorithm.scheme) {
    case 'rsa-pkcs1':
    case 'rsa-pss':
      return verifyRsa(key, input);
    case 'ecdsa': {
      const hash = NODE_HASH[algorithm.hash];
      if (hash === undefined || key.asymmetricKeyType !== 'ec') return false;
      // The signature is an ECDSA-Sig-Value SEQUENCE; OpenSSL refuses non-DER forms of it.
      return verify(hash, data, { key, dsaEncoding: 'der' }, signature);
    }
    case 'ed25519':
      if (key.asymmetricKeyType !== 'ed25519') return false;
      return verify(null, data, key, signature);
    case 'unknown':
      return false;
  }
}

/**
 * A SignatureVerifier backed by node:crypto. `verify` returns true only when the signature is valid
 * for the scheme and the key is of the scheme's type; any error (a key OpenSSL cannot load, an off-curve
 * point, a malformed signature, an unsupported hash) is `false`, never an exception.
 */
export function createNodeSignatureVerifier(): SignatureVerifier {
  return {
    verify(input) {
      try {
        return verifyOrThrow(input);
      } catch {
        return false;
      }
    },
  };
}

export { notTheRequesters, servedCertificateOf, servedSanKeys } from './served-certificate.ts';
