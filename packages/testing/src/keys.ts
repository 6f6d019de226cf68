// Test keys, generated once per process and kind: RSA generation takes up to a second, and tests
// need many requests but few distinct keys. Pass `fresh: true` when a test needs its own key.

import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export type KeySpec =
  | { readonly type: 'ecdsa'; readonly curve: 'P-256' | 'P-384' | 'P-521' | 'secp256k1' }
  | { readonly type: 'rsa'; readonly bits: number; readonly publicExponent?: number }
  | { readonly type: 'ed25519' }
  | { readonly type: 'ed448' };

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const cache = new Map<string, KeyPair>();

function generate(spec: KeySpec): KeyPair {
  switch (spec.type) {
    case 'ecdsa': {
      const namedCurve = spec.curve === 'secp256k1' ? 'secp256k1' : spec.curve;
      return generateKeyPairSync('ec', { namedCurve });
    }
    case 'rsa':
      return generateKeyPairSync('rsa', {
        modulusLength: spec.bits,
        publicExponent: spec.publicExponent ?? 65537,
      });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ed448':
      return generateKeyPairSync('ed448');
  }
}

/** A key pair of the given kind, shared within the process unless `fresh`. */
export function testKey(spec: KeySpec, options: { readonly fresh?: boolean } = {}): KeyPair {
  const id = JSON.stringify(spec);
  const cached = cache.get(id);
  if (cached !== undefined && options.fresh !== true) return cached;
  const pair = generate(spec);
  if (options.fresh !== true) cache.set(id, pair);
  return pair;
}

/** Wraps a caller's private key (its public half is derived). */
export function keyPairFrom(privateKey: KeyObject): KeyPair {
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
