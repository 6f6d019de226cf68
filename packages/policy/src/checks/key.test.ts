import { describe } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';
import type { PublicKey, SignatureAlgorithm } from '../types.ts';

const rsa = (bits: number, exponent = 65537n): PublicKey => ({ algorithm: 'rsa', bits, exponent });
const ecdsa = (curve: 'P-256' | 'P-384' | 'P-521'): PublicKey => ({
  algorithm: 'ecdsa',
  curve,
  bits: Number(curve.slice(2)),
});
const sha256WithRsa: SignatureAlgorithm = {
  scheme: 'rsa-pkcs1',
  hash: 'SHA-256',
  oid: '1.2.840.113549.1.1.11',
};
const pss = (
  hash: 'SHA-256' | 'SHA-1',
  mgfHash: 'SHA-256' | 'SHA-1',
  saltLength: number,
): SignatureAlgorithm => ({
  scheme: 'rsa-pss',
  hash,
  mgfHash,
  saltLength,
  oid: '1.2.840.113549.1.1.10',
});
const ecdsaWith = (hash: 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA-1'): SignatureAlgorithm => ({
  scheme: 'ecdsa',
  hash,
  oid: '1.2.840.10045.4.3.x',
});
const ed25519Sig: SignatureAlgorithm = { scheme: 'ed25519', oid: '1.3.101.112' };
const rsaUsages = { usages: ['digital signature', 'key encipherment', 'server auth'] };

const cases: Case[] = [
  // Rule 6: signature and algorithm.
  {
    name: 'verifies the signature of an allowed request exactly once',
    expect: 'approve',
    verifierCalls: 1,
  },
  {
    name: 'denies a request whose self-signature does not verify',
    signatureValid: false,
    expect: ['deny', 'InvalidSignature'],
    message: /does not verify with its own ECDSA P-256 key/,
  },
  {
    name: 'denies ECDSA with SHA-1 without asking the verifier',
    csr: { signatureAlgorithm: ecdsaWith('SHA-1') },
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
    verifierCalls: 0,
  },
  {
    name: 'denies RSA with MD5',
    csr: {
      publicKey: rsa(2048),
      signatureAlgorithm: { scheme: 'rsa-pkcs1', hash: 'MD5', oid: '1.2.840.113549.1.1.4' },
    },
    request: rsaUsages,
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
    verifierCalls: 0,
  },
  {
    name: 'denies RSA with SHA-1',
    csr: {
      publicKey: rsa(2048),
      signatureAlgorithm: { scheme: 'rsa-pkcs1', hash: 'SHA-1', oid: '1.2.840.113549.1.1.5' },
    },
    request: rsaUsages,
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
  },
  {
    name: 'denies an unknown signature algorithm',
    csr: { signatureAlgorithm: { scheme: 'unknown', oid: '1.2.3.4' } },
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
    message: /1\.2\.3\.4/,
    verifierCalls: 0,
  },
  {
    name: 'approves ECDSA with SHA-384',
    csr: { signatureAlgorithm: ecdsaWith('SHA-384') },
    expect: 'approve',
  },
  {
    name: 'approves ECDSA with SHA-512',
    csr: { signatureAlgorithm: ecdsaWith('SHA-512') },
    expect: 'approve',
  },
  {
    name: 'approves RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt',
    csr: { publicKey: rsa(2048), signatureAlgorithm: pss('SHA-256', 'SHA-256', 32) },
    request: rsaUsages,
    expect: 'approve',
  },
  {
    name: 'denies RSA-PSS whose MGF1 hash differs from the signature hash',
    csr: { publicKey: rsa(2048), signatureAlgorithm: pss('SHA-256', 'SHA-1', 32) },
    request: rsaUsages,
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
    verifierCalls: 0,
  },
  {
    name: 'denies RSA-PSS with a salt shorter than the hash',
    csr: { publicKey: rsa(2048), signatureAlgorithm: pss('SHA-256', 'SHA-256', 20) },
    request: rsaUsages,
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
  },
  {
    name: 'denies RSA-PSS with SHA-1',
    csr: { publicKey: rsa(2048), signatureAlgorithm: pss('SHA-1', 'SHA-1', 20) },
    request: rsaUsages,
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
  },
  {
    name: 'denies an ECDSA signature over an RSA key',
    csr: { publicKey: rsa(2048) },
    request: rsaUsages,
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
    message: /does not match the RSA-2048 key/,
    verifierCalls: 0,
  },
  {
    name: 'denies an RSA signature over an ECDSA key',
    csr: { signatureAlgorithm: sha256WithRsa },
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
  },
  {
    name: 'denies an Ed25519 signature over an ECDSA key',
    csr: { signatureAlgorithm: ed25519Sig },
    expect: ['deny', 'DisallowedSignatureAlgorithm'],
  },
  {
    name: 'treats a verifier that throws as a signature that does not verify',
    verifier: {
      verify: () => {
        throw new Error('boom');
      },
    },
    expect: ['deny', 'InvalidSignature'],
  },
  // Rule 7: keys.
  { name: 'approves an ECDSA P-384 key', csr: { publicKey: ecdsa('P-384') }, expect: 'approve' },
  { name: 'approves an ECDSA P-521 key', csr: { publicKey: ecdsa('P-521') }, expect: 'approve' },
  {
    name: 'denies a P-521 key when keys.ecdsaCurves allows only P-256',
    csr: { publicKey: ecdsa('P-521') },
    policy: { keys: { ecdsaCurves: ['P-256'] } },
    expect: ['deny', 'DisallowedKey'],
    message: /ECDSA P-521 key is not allowed: its curve is not in keys.ecdsaCurves/,
    verifierCalls: 0,
  },
  {
    name: 'denies an ECDSA key on an unsupported curve (secp256k1)',
    csr: { publicKey: { algorithm: 'ecdsa-unsupported-curve', curveOid: '1.3.132.0.10' } },
    expect: ['deny', 'DisallowedKey'],
    verifierCalls: 0,
  },
  {
    name: 'approves an RSA-2048 key with the three-usage set',
    csr: { publicKey: rsa(2048), signatureAlgorithm: sha256WithRsa },
    request: rsaUsages,
    expect: 'approve',
  },
  {
    name: 'approves an RSA-2048 key with the two-usage set',
    csr: { publicKey: rsa(2048), signatureAlgorithm: sha256WithRsa },
    expect: 'approve',
  },
  {
    name: 'approves an RSA-8192 key',
    csr: { publicKey: rsa(8192), signatureAlgorithm: sha256WithRsa },
    expect: 'approve',
  },
  {
    name: 'denies an RSA-1024 key without asking the verifier',
    csr: { publicKey: rsa(1024), signatureAlgorithm: sha256WithRsa },
    expect: ['deny', 'DisallowedKey'],
    message: /RSA-1024 key is not allowed: RSA keys must have 2048 to 8192 bits/,
    verifierCalls: 0,
  },
  {
    name: 'denies an RSA-2047 key',
    csr: { publicKey: rsa(2047), signatureAlgorithm: sha256WithRsa },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'denies an RSA-16384 key (verification cost)',
    csr: { publicKey: rsa(16384), signatureAlgorithm: sha256WithRsa },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'denies an RSA-2048 key below keys.rsa.minBits 3072',
    csr: { publicKey: rsa(2048), signatureAlgorithm: sha256WithRsa },
    policy: { keys: { rsa: { minBits: 3072 } } },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'denies an RSA key with exponent 3',
    csr: { publicKey: rsa(2048, 3n), signatureAlgorithm: sha256WithRsa },
    expect: ['deny', 'DisallowedKey'],
    message: /exponent is not 65537/,
  },
  {
    name: 'denies an RSA key when keys.rsa.enabled is false',
    csr: { publicKey: rsa(2048), signatureAlgorithm: sha256WithRsa },
    policy: { keys: { rsa: { enabled: false } } },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'approves an Ed25519 key',
    csr: { publicKey: { algorithm: 'ed25519', bits: 256 }, signatureAlgorithm: ed25519Sig },
    expect: 'approve',
  },
  {
    name: 'denies an Ed25519 key when keys.ed25519 is false',
    csr: { publicKey: { algorithm: 'ed25519', bits: 256 }, signatureAlgorithm: ed25519Sig },
    policy: { keys: { ed25519: false } },
    expect: ['deny', 'DisallowedKey'],
  },
  {
    name: 'denies a DSA key with its own algorithm and reports the key once',
    csr: {
      publicKey: { algorithm: 'unknown', oid: '1.2.840.10040.4.1' },
      signatureAlgorithm: { scheme: 'unknown', oid: '2.16.840.1.101.3.4.3.2' },
    },
    expect: ['deny', 'DisallowedSignatureAlgorithm', 'DisallowedKey'],
    verifierCalls: 0,
  },
];

describe('rules 6–7: signature, algorithm and key', () => {
  runCases(cases, evaluate);
});
