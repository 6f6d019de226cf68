import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sign } from 'node:crypto';
import { parseCsr, type SignatureAlgorithm, type SignatureVerifier } from '@stampede/policy';
import { buildCsr, testKey, type BuildCsrOptions } from '@stampede/testing';
import { createNodeSignatureVerifier } from './index.ts';

type VerifyInput = Parameters<SignatureVerifier['verify']>[0];

const verifier = createNodeSignatureVerifier();
const rsa = { type: 'rsa', bits: 2048 } as const;

/** The verifier's input for a built request, as the policy would pass it. */
function inputOf(options: BuildCsrOptions): VerifyInput {
  const result = parseCsr(buildCsr({ sans: [{ kind: 'dns', value: 'a' }], ...options }).pem);
  assert.ok(result.ok, result.ok ? '' : result.failure.message);
  const { csr } = result;
  return {
    algorithm: csr.signatureAlgorithm,
    spki: csr.spki,
    data: csr.signedData,
    signature: csr.signature,
  };
}

const ecdsaSha256: SignatureAlgorithm = {
  scheme: 'ecdsa',
  hash: 'SHA-256',
  oid: '1.2.840.10045.4.3.2',
};
const sha256WithRsa: SignatureAlgorithm = {
  scheme: 'rsa-pkcs1',
  hash: 'SHA-256',
  oid: '1.2.840.113549.1.1.11',
};

describe('createNodeSignatureVerifier', () => {
  const cases: { name: string; input: () => VerifyInput; want: boolean }[] = [
    { name: 'verifies ECDSA P-256 with SHA-256', input: () => inputOf({}), want: true },
    {
      name: 'verifies ECDSA P-384 with SHA-384',
      input: () => inputOf({ key: { type: 'ecdsa', curve: 'P-384' } }),
      want: true,
    },
    {
      name: 'verifies ECDSA P-521 with SHA-512',
      input: () => inputOf({ key: { type: 'ecdsa', curve: 'P-521' } }),
      want: true,
    },
    {
      name: 'verifies ECDSA with SHA-1 (the policy, not the verifier, refuses it)',
      input: () => inputOf({ hash: 'SHA-1' }),
      want: true,
    },
    {
      name: 'verifies RSA PKCS#1 v1.5 with SHA-256',
      input: () => inputOf({ key: rsa }),
      want: true,
    },
    {
      name: 'verifies RSA-PSS with SHA-256',
      input: () => inputOf({ key: rsa, rsaPss: true }),
      want: true,
    },
    {
      name: 'verifies RSA-PSS with SHA-512',
      input: () => inputOf({ key: rsa, rsaPss: true, hash: 'SHA-512' }),
      want: true,
    },
    { name: 'verifies Ed25519', input: () => inputOf({ key: { type: 'ed25519' } }), want: true },
    {
      name: 'refuses MD5 whatever the signature, as Go does',
      input: () => inputOf({ key: rsa, hash: 'MD5' }),
      want: false,
    },
    {
      name: 'refuses a corrupted ECDSA signature',
      input: () => inputOf({ corruptSignature: true }),
      want: false,
    },
    {
      name: 'refuses a corrupted RSA signature',
      input: () => inputOf({ key: rsa, corruptSignature: true }),
      want: false,
    },
    {
      name: 'refuses a corrupted Ed25519 signature',
      input: () => inputOf({ key: { type: 'ed25519' }, corruptSignature: true }),
      want: false,
    },
    {
      name: 'refuses changed data',
      input: () => {
        const input = inputOf({});
        return { ...input, data: Uint8Array.from([...input.data, 0]) };
      },
      want: false,
    },
    {
      name: 'refuses an RSA signature labelled ECDSA (OpenSSL alone would verify it)',
      input: () => ({ ...inputOf({ key: rsa }), algorithm: ecdsaSha256 }),
      want: false,
    },
    {
      name: 'refuses an ECDSA signature labelled RSA',
      input: () => ({ ...inputOf({}), algorithm: sha256WithRsa }),
      want: false,
    },
    {
      name: 'refuses an RSA signature with its leading zero octet dropped (OpenSSL accepts, Go does not)',
      input: () => {
        // About one RSA signature in 256 starts with 0x00; sign counters until one does.
        const key = testKey(rsa);
        const spki = new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' }));
        for (let n = 0; ; n++) {
          const data = Uint8Array.of(n & 255, n >> 8);
          const signature = sign('sha256', data, key.privateKey);
          if (signature[0] === 0) {
            return { algorithm: sha256WithRsa, spki, data, signature: signature.subarray(1) };
          }
        }
      },
      want: false,
    },
    {
      name: 'refuses RSA-PSS whose MGF hash differs from the message hash',
      input: () => {
        const input = inputOf({ key: rsa, rsaPss: true });
        assert.equal(input.algorithm.scheme, 'rsa-pss');
        return { ...input, algorithm: { ...input.algorithm, mgfHash: 'SHA-384' } };
      },
      want: false,
    },
    {
      name: 'refuses RSA-PSS with a salt other than the hash length',
      input: () => {
        const input = inputOf({ key: rsa, rsaPss: { saltLength: 48 } });
        return {
          ...input,
          algorithm: {
            scheme: 'rsa-pss',
            hash: 'SHA-256',
            mgfHash: 'SHA-256',
            saltLength: 48,
            oid: '1.2.840.113549.1.1.10',
          },
        };
      },
      want: false,
    },
    {
      name: 'refuses RSA keys under 1024 bits, as Go does',
      input: () => inputOf({ key: { type: 'rsa', bits: 768 } }),
      want: false,
    },
    {
      name: 'refuses an unknown algorithm',
      input: () => ({ ...inputOf({}), algorithm: { scheme: 'unknown', oid: '1.2.3' } }),
      want: false,
    },
    {
      name: 'refuses, without throwing, a key OpenSSL cannot load',
      input: () => ({ ...inputOf({}), spki: Uint8Array.of(0x30, 0x00) }),
      want: false,
    },
    {
      name: 'refuses, without throwing, an empty signature',
      input: () => ({ ...inputOf({}), signature: new Uint8Array(0) }),
      want: false,
    },
    {
      name: 'refuses an ECDSA signature in raw r||s form instead of DER',
      input: () => {
        const input = inputOf({});
        const raw = sign('sha256', input.data, {
          key: testKey({ type: 'ecdsa', curve: 'P-256' }).privateKey,
          dsaEncoding: 'ieee-p1363',
        });
        return { ...input, signature: raw };
      },
      want: false,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.equal(verifier.verify(c.input()), c.want);
    });
});
