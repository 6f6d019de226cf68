// Rules 6–7: a key the policy allows, a signature algorithm Go and the policy accept, and a
// self-signature that verifies (proof of possession).
import { parsedCsr, show, violation } from './context.ts';
import type { CheckContext, CheckResult } from './context.ts';
import type { Policy } from '../policy.ts';
import type { HashName, PublicKey, SignatureAlgorithm } from '../types.ts';

const RSA_EXPONENT = 65537n;
const HASH_BYTES: Partial<Record<HashName, number>> = {
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
};

function describeKey(key: PublicKey): string {
  switch (key.algorithm) {
    case 'ecdsa':
      return `ECDSA ${key.curve}`;
    case 'ecdsa-unsupported-curve':
      return `ECDSA on curve ${show(key.curveOid)}`;
    case 'rsa':
      return `RSA-${key.bits}`;
    case 'ed25519':
      return 'Ed25519';
    case 'unknown':
      return `algorithm ${show(key.oid)}`;
  }
}

/** Why the policy refuses this key, or undefined. */
export function keyProblem(key: PublicKey, policy: Policy): string | undefined {
  const { keys } = policy;
  switch (key.algorithm) {
    case 'ecdsa':
      return keys.ecdsaCurves.has(key.curve) ? undefined : 'its curve is not in keys.ecdsaCurves';
    case 'rsa':
      if (!keys.rsa.enabled) return 'RSA keys are disabled by keys.rsa.enabled';
      if (key.bits < keys.rsa.minBits || key.bits > keys.rsa.maxBits) {
        return `RSA keys must have ${keys.rsa.minBits} to ${keys.rsa.maxBits} bits`;
      }
      return key.exponent === RSA_EXPONENT ? undefined : `its exponent is not ${RSA_EXPONENT}`;
    case 'ed25519':
      return keys.ed25519 ? undefined : 'Ed25519 keys are disabled by keys.ed25519';
    case 'ecdsa-unsupported-curve':
    case 'unknown':
      return 'it is not an ECDSA, RSA or Ed25519 key';
  }
}

function keyMatches(algorithm: SignatureAlgorithm, key: PublicKey): boolean {
  switch (algorithm.scheme) {
    case 'rsa-pkcs1':
    case 'rsa-pss':
      return key.algorithm === 'rsa';
    case 'ecdsa':
      return key.algorithm === 'ecdsa';
    case 'ed25519':
      return key.algorithm === 'ed25519';
    case 'unknown':
      return false;
  }
}

/** Why this signature algorithm is refused, or undefined. SHA-1, MD5 and unknown ones always are. */
export function signatureAlgorithmProblem(
  algorithm: SignatureAlgorithm,
  key: PublicKey,
): string | undefined {
  if (algorithm.scheme === 'unknown')
    return `signature algorithm ${show(algorithm.oid)} is not allowed`;
  if (algorithm.scheme !== 'ed25519' && HASH_BYTES[algorithm.hash] === undefined) {
    return `signature algorithm ${algorithm.scheme} with ${algorithm.hash} is not allowed (SHA-256/384/512 only)`;
  }
  if (algorithm.scheme === 'rsa-pss') {
    // The parameters Go's crypto/x509 accepts: MGF1 with the same hash, salt as long as the hash.
    const saltOk = algorithm.saltLength === HASH_BYTES[algorithm.hash];
    if (algorithm.mgfHash !== algorithm.hash || !saltOk) {
      return 'RSA-PSS parameters must use MGF1 with the same hash and a salt as long as the hash';
    }
  }
  // A mismatch is reported only for a key of a known kind; checkPublicKey reports the others.
  const knownKind =
    key.algorithm === 'ecdsa' || key.algorithm === 'rsa' || key.algorithm === 'ed25519';
  if (knownKind && !keyMatches(algorithm, key)) {
    return `signature algorithm ${algorithm.scheme} does not match the ${describeKey(key)} key`;
  }
  return undefined;
}

/** Rule 6: the signature algorithm is allowed and fits the key. */
export function checkSignatureAlgorithm(ctx: CheckContext): CheckResult {
  const csr = parsedCsr(ctx);
  if (csr === undefined) return undefined;
  const problem = signatureAlgorithmProblem(csr.signatureAlgorithm, csr.publicKey);
  return problem === undefined ? undefined : violation('DisallowedSignatureAlgorithm', problem);
}

/** Rule 7: ECDSA P-256/384/521, RSA 2048–8192 with e = 65537, or Ed25519, as the policy allows. */
export function checkPublicKey(ctx: CheckContext): CheckResult {
  const csr = parsedCsr(ctx);
  if (csr === undefined) return undefined;
  const problem = keyProblem(csr.publicKey, ctx.policy);
  if (problem === undefined) return undefined;
  return violation('DisallowedKey', `${describeKey(csr.publicKey)} key is not allowed: ${problem}`);
}

/**
 * Rule 6: proof of possession. Only an allowed algorithm with an allowed key reaches the verifier;
 * otherwise the two checks above have already reported why.
 */
export function checkSignature(ctx: CheckContext): CheckResult {
  const csr = parsedCsr(ctx);
  if (csr === undefined) return undefined;
  const { signatureAlgorithm: algorithm, publicKey } = csr;
  if (signatureAlgorithmProblem(algorithm, publicKey) !== undefined) return undefined;
  if (keyProblem(publicKey, ctx.policy) !== undefined) return undefined;
  let verified: boolean;
  try {
    verified = ctx.verifier.verify({
      algorithm,
      spki: csr.spki,
      data: csr.signedData,
      signature: csr.signature,
    });
  } catch {
    // The verifier's contract is to return false; a throw is treated the same way (fail closed).
    verified = false;
  }
  if (verified) return undefined;
  return violation(
    'InvalidSignature',
    `the request's signature does not verify with its own ${describeKey(publicKey)} key`,
  );
}
