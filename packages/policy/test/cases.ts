// A table-driven harness for the policy rules: each case is a sentence, a few overrides of the
// default kubelet request (test/fixtures.ts) and the outcome it must produce.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadPolicy } from '@stampede/policy';
import { csrRequest, facts as defaultFacts, fakeVerifier, nodeFact, parsedOk } from './fixtures.ts';
import type {
  CsrRequest,
  Decision,
  FactName,
  Facts,
  NodeFact,
  ParsedCsr,
  ParseResult,
  Policy,
  PolicyConfig,
  SignatureVerifier,
} from '@stampede/policy';

export type Expected =
  | 'approve'
  | readonly ['deny', ...string[]]
  | readonly ['retry', FactName, string]
  | readonly ['ignore', string];

export interface Case {
  readonly name: string;
  /** Overrides of the parsed request. */
  readonly csr?: Partial<ParsedCsr>;
  /** Replaces the parse result (a parse failure, or undefined for "too large to parse"). */
  readonly parsed?: ParseResult | undefined;
  readonly request?: Partial<CsrRequest>;
  /** Overrides of the requesting Node (the fact is `known`). */
  readonly node?: Partial<NodeFact>;
  readonly facts?: Partial<Facts>;
  readonly policy?: PolicyConfig;
  /** What the signature verifier answers (default true). */
  readonly signatureValid?: boolean;
  /** Replaces the recording verifier. */
  readonly verifier?: SignatureVerifier;
  readonly expect: Expected;
  /** The deny / retry / approve message must match. */
  readonly message?: RegExp;
  /** How often the verifier must have been called. */
  readonly verifierCalls?: number;
}

export type Evaluator = (input: {
  request: CsrRequest;
  parsed: ParseResult | undefined;
  policy: Policy;
  facts: Facts;
  verifier: SignatureVerifier;
}) => Decision;

function codesOf(decision: Decision): string[] {
  switch (decision.kind) {
    case 'approve':
      return [];
    case 'deny':
      return decision.violations.map(v => v.code);
    case 'ignore':
    case 'retry':
      return [decision.reason.code];
  }
}

function messageOf(decision: Decision): string {
  return decision.kind === 'ignore' || decision.kind === 'retry'
    ? decision.reason.message
    : decision.message;
}

export function assertDecision(decision: Decision, expected: Expected): void {
  const shown = JSON.stringify(decision, (_, v: unknown) =>
    typeof v === 'bigint' ? String(v) : v,
  );
  if (expected === 'approve') {
    assert.equal(decision.kind, 'approve', shown);
    return;
  }
  const [kind, ...rest] = expected;
  assert.equal(decision.kind, kind, shown);
  if (decision.kind === 'retry') {
    assert.deepEqual([decision.fact, decision.reason.code], rest, shown);
    return;
  }
  assert.deepEqual(codesOf(decision), rest, shown);
  if (decision.kind === 'deny') assert.equal(decision.reason, rest[0]);
}

/** Registers one `it` per case. */
export function runCases(cases: readonly Case[], evaluate: Evaluator): void {
  for (const c of cases) {
    it(c.name, () => {
      const loaded = loadPolicy(c.policy ?? {});
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
      const verifier = fakeVerifier(c.signatureValid ?? true);
      const facts: Facts = {
        ...defaultFacts(),
        ...(c.node ? { node: { state: 'known', value: nodeFact(c.node) } } : {}),
        ...c.facts,
      };
      const decision = evaluate({
        request: csrRequest(c.request),
        parsed: 'parsed' in c ? c.parsed : parsedOk(c.csr),
        policy: loaded.policy,
        facts,
        verifier: c.verifier ?? verifier,
      });
      assertDecision(decision, c.expect);
      if (c.message) assert.match(messageOf(decision), c.message);
      if (c.verifierCalls !== undefined) assert.equal(verifier.calls, c.verifierCalls);
    });
  }
}
