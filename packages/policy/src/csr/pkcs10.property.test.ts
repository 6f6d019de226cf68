// Properties of the CSR reader under random and mutated input:
// - parseCsr and parseCsrDer always return a ParseResult (never throw, never an internal error);
// - a mutant of a real request that still reads never verifies unless its signed bytes are unchanged
//   (proof of possession cannot survive a change to what was signed);
// - requests built from random valid options read back exactly as built.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { buildCsr, encodePem, kubeletCsr, type SanSpec } from '@stampede/testing';
import { parseCsr, parseCsrDer } from './pkcs10.ts';
import type { ParseResult } from '../types.ts';

const verifier = createNodeSignatureVerifier();
const seeds = [
  kubeletCsr({
    nodeName: 'node-a',
    dnsNames: ['node-a', 'node-a.example.com'],
    ips: ['10.0.0.1', 'fd00::1'],
  }),
  buildCsr({ key: { type: 'rsa', bits: 2048 }, rsaPss: true, sans: [{ kind: 'dns', value: 'a' }] }),
  buildCsr({ key: { type: 'ed25519' }, sans: [{ kind: 'ip', value: '10.0.0.2' }] }),
];

function assertWellFormed(result: ParseResult): void {
  if (result.ok) return;
  assert.ok(result.failure.message.length > 0);
  assert.ok(!result.failure.message.includes('internal error'), result.failure.message);
}

function verifies(result: ParseResult): boolean {
  if (!result.ok) return false;
  const { csr } = result;
  return verifier.verify({
    algorithm: csr.signatureAlgorithm,
    spki: csr.spki,
    data: csr.signedData,
    signature: csr.signature,
  });
}

/** A mutation of `der`: flipped bits, a changed byte, a cut, an insertion, a duplicated or dropped slice. */
function mutant(der: Uint8Array) {
  const at = fc.nat({ max: der.length - 1 });
  return fc.oneof(
    fc.record({ at, bit: fc.nat({ max: 7 }) }).map(({ at: i, bit }) => {
      const out = Uint8Array.from(der);
      out[i] = (out[i] ?? 0) ^ (1 << bit);
      return out;
    }),
    fc.record({ at, value: fc.nat({ max: 255 }) }).map(({ at: i, value }) => {
      const out = Uint8Array.from(der);
      out[i] = value;
      return out;
    }),
    at.map(i => der.slice(0, i)),
    fc
      .record({ at, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) })
      .map(({ at: i, bytes }) =>
        Uint8Array.from([...der.subarray(0, i), ...bytes, ...der.subarray(i)]),
      ),
    fc
      .record({ from: at, length: fc.integer({ min: 1, max: 40 }), to: at })
      .map(({ from, length, to }) =>
        Uint8Array.from([
          ...der.subarray(0, to),
          ...der.subarray(from, from + length),
          ...der.subarray(to),
        ]),
      ),
    fc
      .record({ from: at, length: fc.integer({ min: 1, max: 40 }) })
      .map(({ from, length }) =>
        Uint8Array.from([...der.subarray(0, from), ...der.subarray(from + length)]),
      ),
  );
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe('parseCsr under random input', () => {
  it('returns a result for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), bytes => {
        assertWellFormed(parseCsrDer(bytes));
        assertWellFormed(parseCsr(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns a result for random bytes wrapped in PEM', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), bytes => {
        assertWellFormed(parseCsr(new TextEncoder().encode(encodePem(bytes))));
      }),
      { numRuns: 1000 },
    );
  });

  it('returns a result for random DER-shaped trees', () => {
    const tree = fc.letrec<{ node: Uint8Array }>(tie => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.uint8Array({ maxLength: 6 }).map(b => Uint8Array.of(0x04, b.length, ...b)),
        fc.constantFrom(
          Uint8Array.of(0x05, 0),
          Uint8Array.of(0x02, 1, 0),
          Uint8Array.of(0x06, 3, 0x55, 4, 3),
        ),
        fc
          .tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa3), fc.array(tie('node'), { maxLength: 4 }))
          .map(([tag, kids]) => {
            const content = Uint8Array.from(kids.flatMap(k => [...k]));
            const length =
              content.length < 128
                ? [content.length]
                : [0x82, content.length >> 8, content.length & 0xff];
            return Uint8Array.from([tag, ...length, ...content]);
          }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, bytes => {
        assertWellFormed(parseCsrDer(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseCsr under mutation of real requests', () => {
  for (const [i, seed] of seeds.entries()) {
    const original = parseCsr(seed.pem);
    assert.ok(original.ok);
    it(`never verifies a mutant of request ${i} whose signed bytes changed`, () => {
      fc.assert(
        fc.property(mutant(seed.der), der => {
          const result = parseCsrDer(der);
          assertWellFormed(result);
          if (result.ok && verifies(result)) {
            assert.ok(
              sameBytes(result.csr.signedData, original.csr.signedData),
              'a change to the signed bytes verified',
            );
          }
        }),
        { numRuns: 600 },
      );
    });
  }

  it('never verifies a mutant of the PEM text whose signed bytes changed', () => {
    const [seed] = seeds;
    assert.ok(seed !== undefined);
    const original = parseCsr(seed.pem);
    assert.ok(original.ok);
    fc.assert(
      fc.property(mutant(seed.pem), pem => {
        const result = parseCsr(pem);
        assertWellFormed(result);
        if (result.ok && verifies(result)) {
          assert.ok(sameBytes(result.csr.signedData, original.csr.signedData));
        }
      }),
      { numRuns: 600 },
    );
  });
});

describe('parseCsr on requests built from random options', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const san: fc.Arbitrary<SanSpec> = fc.oneof(
    fc
      .array(label, { minLength: 1, maxLength: 3 })
      .map(labels => ({ kind: 'dns' as const, value: labels.join('.') })),
    fc.ipV4().map(value => ({ kind: 'ip' as const, value })),
    fc.ipV6().map(value => ({ kind: 'ip' as const, value })),
  );
  const cn = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 });

  it('reads back the subject and SANs as built, with a valid signature', () => {
    fc.assert(
      fc.property(fc.array(san, { minLength: 1, maxLength: 12 }), cn, (sans, name) => {
        const built = buildCsr({
          sans,
          subject: [
            { type: 'O', value: 'system:nodes' },
            { type: 'CN', value: name },
          ],
        });
        const result = parseCsr(built.pem);
        assert.ok(result.ok, result.ok ? '' : result.failure.message);
        assert.equal(result.csr.subject[1]?.[0]?.value, name);
        assert.deepEqual(
          result.csr.sans.map(s => s.kind),
          sans.map(s => s.kind),
        );
        const dns = sans.flatMap(s => (s.kind === 'dns' ? [s.value] : []));
        assert.deepEqual(
          result.csr.sans.filter(s => s.kind === 'dns').map(s => s.value),
          dns,
        );
        for (const ip of result.csr.sans.filter(s => s.kind === 'ip')) {
          assert.equal(
            ip.value,
            new URL(
              `http://${ip.value.includes(':') ? `[${ip.value}]` : ip.value}/`,
            ).hostname.replace(/^\[|\]$/g, ''),
          );
        }
        assert.ok(verifies(result));
      }),
      { numRuns: 150 },
    );
  });
});

// Parser DoS (threat T12): every shape an attacker can fill 64 KiB with is read in linear time. The
// bound is generous (a loaded CI machine); a quadratic path takes seconds here.
describe('parseCsr on 64 KiB of adversarial structure', () => {
  const filler = (n: number, make: (i: number) => Uint8Array) =>
    Array.from({ length: n }, (_, i) => make(i));
  const shapes: { name: string; options: Parameters<typeof buildCsr>[0] }[] = [
    {
      name: 'a subject value of 45 KB',
      options: { subject: [{ type: 'CN', value: 'x'.repeat(45000), tag: 12 }] },
    },
    {
      name: 'a BMPString of 45 KB',
      options: { subject: [{ type: 'CN', value: 'x'.repeat(22000), tag: 30 }] },
    },
    {
      name: '15000 empty DNS SANs',
      options: {
        sans: filler(15000, () => Uint8Array.of(0x82, 0)).map(der => ({
          kind: 'raw' as const,
          der,
        })),
      },
    },
    {
      name: '3500 RDNs',
      options: {
        subject: filler(3500, () => Uint8Array.of(0)).map(() => ({ type: '2.5.4.3', value: 'a' })),
      },
    },
    {
      name: 'an OID of 45000 arcs',
      options: { extensions: [{ oid: `1.2.${'1.'.repeat(44999)}1`, value: Uint8Array.of(5, 0) }] },
    },
    {
      name: 'an IP SAN of 45 KB',
      options: { sans: [{ kind: 'ip', value: new Uint8Array(45000) }] },
    },
  ];
  for (const shape of shapes) {
    it(`reads ${shape.name} within 250 ms`, () => {
      const { pem } = buildCsr(shape.options);
      assert.ok(pem.length <= 65536, `${pem.length} bytes`);
      parseCsr(pem);
      const start = performance.now();
      assertWellFormed(parseCsr(pem));
      assert.ok(performance.now() - start < 250);
    });
  }
});
