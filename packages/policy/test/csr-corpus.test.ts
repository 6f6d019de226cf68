// The adversarial corpus through parseCsr and the Node verifier: every case must come out as the
// corpus says. The same corpus feeds the differential test against Go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsr, type ParseResult } from '@stampede/policy';
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { buildCorpus, type CorpusExpectation } from '@stampede/testing';
import { decideWithEveryFact } from './grant-all.ts';

const verifier = createNodeSignatureVerifier();
const corpus = buildCorpus();

function signatureValid(result: ParseResult): boolean | undefined {
  if (!result.ok) return undefined;
  const { csr } = result;
  return verifier.verify({
    algorithm: csr.signatureAlgorithm,
    spki: csr.spki,
    data: csr.signedData,
    signature: csr.signature,
  });
}

function describeOutcome(result: ParseResult): string {
  if (!result.ok) return `fails ${result.failure.code}: ${result.failure.message}`;
  return `ok, signature ${signatureValid(result) === true ? 'valid' : 'invalid'}`;
}

function matches(result: ParseResult, expect: CorpusExpectation): boolean {
  switch (expect.parse) {
    case 'fails':
      return !result.ok && result.failure.code === expect.code;
    case 'ok':
      return result.ok && signatureValid(result) === (expect.signature === 'valid');
    case 'rejected':
      return !result.ok || signatureValid(result) === false;
  }
}

describe('parseCsr on the adversarial corpus', () => {
  it('has well over a hundred cases with unique names', () => {
    assert.ok(corpus.length > 100, `only ${corpus.length} cases`);
    const names = new Set(corpus.map(c => c.name));
    assert.equal(names.size, corpus.length, 'duplicate case names');
  });

  it('never reports an internal error', () => {
    for (const c of corpus) {
      const result = parseCsr(c.input);
      assert.ok(result.ok || !result.failure.message.includes('internal error'), c.name);
    }
  });

  for (const c of corpus) {
    it(c.name, () => {
      const result = parseCsr(c.input);
      assert.ok(
        matches(result, c.expect),
        `expected ${JSON.stringify(c.expect)}, got ${describeOutcome(result)}`,
      );
    });
  }
});

// The corpus's `denied` marks against the real policy, with every fact granted: a marked case (or one
// whose signature does not verify) is denied for its content alone; an unmarked one that verifies is
// approved, so the corpus also guards against false denials of legitimate variants (threat T24).
describe('decide() on the corpus cases that parse', () => {
  for (const c of corpus) {
    const expect = c.expect;
    if (expect.parse !== 'ok') continue;
    const denied = expect.denied !== undefined || expect.signature === 'invalid';
    it(`${denied ? 'denies' : 'approves'}: ${c.name}`, () => {
      const result = parseCsr(c.input);
      assert.ok(result.ok);
      const decision = decideWithEveryFact(c.input, result.csr);
      const detail = decision.kind === 'deny' ? decision.message : decision.kind;
      assert.equal(decision.kind, denied ? 'deny' : 'approve', detail);
    });
  }
});
