// Properties of decide(): whatever arrives, it returns a decision (no internal error) and approves
// nothing but an intact request. Runs real parsing and real signature verification.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { encodePem, kubeletCsr } from '@stampede/testing';
import { decide } from './decide.ts';
import { evaluate } from './evaluate.ts';
import { defaultPolicy } from './policy.ts';
import { csrRequest, facts, fakeVerifier, parsedOk } from '../test/fixtures.ts';
import type { Decision, GeneralName } from './types.ts';

const verifier = createNodeSignatureVerifier();
const valid = kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1'] });
const RUNS = 400;

function assertNoInternalError(decision: Decision): void {
  if (decision.kind === 'ignore')
    assert.notEqual(decision.reason.code, 'InternalError', decision.reason.message);
}

const decideBytes = (request: Uint8Array): Decision =>
  decide(csrRequest({ request }), defaultPolicy, facts(), verifier);

/** A mutation of the valid request's DER: one byte changed, bytes cut, or bytes inserted. */
const mutatedDer = fc.oneof(
  fc
    .record({
      at: fc.nat({ max: valid.der.length - 1 }),
      xor: fc.integer({ min: 1, max: 255 }),
    })
    .map(({ at, xor }) => {
      const der = Uint8Array.from(valid.der);
      der[at] = (der[at] ?? 0) ^ xor;
      return der;
    }),
  fc.nat({ max: valid.der.length - 1 }).map(length => valid.der.slice(0, length)),
  fc
    .record({
      at: fc.nat({ max: valid.der.length }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    })
    .map(({ at, bytes }) =>
      Uint8Array.from([...valid.der.slice(0, at), ...bytes, ...valid.der.slice(at)]),
    ),
);

describe('decide properties', () => {
  it('approves the intact request (the baseline the mutations start from)', () => {
    assert.equal(decideBytes(valid.pem).kind, 'approve');
  });

  it('never approves a request whose DER was mutated, and never fails internally', () => {
    fc.assert(
      fc.property(mutatedDer, der => {
        const decision = decideBytes(new TextEncoder().encode(encodePem(der)));
        assertNoInternalError(decision);
        assert.notEqual(decision.kind, 'approve');
      }),
      { numRuns: RUNS },
    );
  });

  it('never approves random bytes, and never fails internally', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), bytes => {
        const decision = decideBytes(bytes);
        assertNoInternalError(decision);
        assert.notEqual(decision.kind, 'approve');
      }),
      { numRuns: RUNS },
    );
  });

  it('never approves random base64 wrapped as a PEM block', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 1024 }), der => {
        const decision = decideBytes(new TextEncoder().encode(encodePem(der)));
        assertNoInternalError(decision);
        assert.notEqual(decision.kind, 'approve');
      }),
      { numRuns: RUNS },
    );
  });

  it('never approves a valid request for a requester it does not name', () => {
    const requester = fc.record({
      username: fc.oneof(
        fc.string(),
        fc.constantFrom('system:node:node-b', 'system:node:', 'node-a'),
      ),
      groups: fc.array(
        fc.oneof(fc.string(), fc.constantFrom('system:nodes', 'system:authenticated')),
      ),
      usages: fc.array(
        fc.constantFrom('digital signature', 'server auth', 'key encipherment', 'client auth', 'x'),
      ),
    });
    fc.assert(
      fc.property(requester, r => {
        const decision = decide(
          csrRequest({ request: valid.pem, ...r }),
          defaultPolicy,
          facts(),
          verifier,
        );
        assertNoInternalError(decision);
        if (decision.kind === 'approve') {
          assert.equal(r.username, 'system:node:node-a');
          assert.ok(r.groups.includes('system:nodes') && r.groups.includes('system:authenticated'));
          assert.ok(r.usages.includes('server auth') && r.usages.includes('digital signature'));
          assert.ok(!r.usages.includes('client auth'));
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('evaluate properties over arbitrary SANs', () => {
  const OWNED = new Set([
    'dns:node-a',
    'dns:node-a.internal.example',
    'dns:node-a.example.com',
    'ip:10.0.0.1',
    'ip:203.0.113.10',
    'ip:fd00::a',
  ]);
  const generalName: fc.Arbitrary<GeneralName> = fc.oneof(
    fc
      .oneof(
        fc.string(),
        fc.constantFrom('node-a', 'NODE-A.', 'node-a.internal.example', '*.node-a', 'kubernetes'),
      )
      .map(value => ({ kind: 'dns' as const, tag: 2, value })),
    fc
      .oneof(
        fc.string(),
        fc.constantFrom('10.0.0.1', '::ffff:10.0.0.1', 'fd00::a', '127.0.0.1', 'invalid:00'),
      )
      .map(value => ({ kind: 'ip' as const, tag: 7, value })),
    fc
      .constantFrom('email', 'uri', 'otherName', 'unknown')
      .map(kind => ({ kind, tag: 9, value: 'x' })),
  );

  it('approves only when every SAN is a well-formed name or address the Node owns', () => {
    fc.assert(
      fc.property(fc.array(generalName, { maxLength: 40 }), sans => {
        const decision = evaluate({
          request: csrRequest(),
          parsed: parsedOk({ sans }),
          policy: defaultPolicy,
          facts: facts(),
          verifier: fakeVerifier(),
        });
        if (decision.kind !== 'approve') return;
        assert.ok(sans.length > 0 && sans.length <= 32);
        for (const san of sans) {
          assert.ok(san.kind === 'dns' || san.kind === 'ip', san.kind);
        }
        const keys = sans.map(san =>
          san.kind === 'dns'
            ? `dns:${san.value.toLowerCase().replace(/\.$/, '')}`
            : `ip:${san.value.replace(/^::ffff:/, '')}`,
        );
        for (const key of keys) assert.ok(OWNED.has(key), key);
        assert.equal(new Set(keys).size, keys.length);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
