import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, MAX_MESSAGE_LENGTH, requiredFacts, triage } from './evaluate.ts';
import { defaultPolicy, loadPolicy } from './policy.ts';
import { CREATED, csrRequest, dns, facts, fakeVerifier, ip, parsedOk } from '../test/fixtures.ts';
import { runCases } from '../test/cases.ts';
import type { Case } from '../test/cases.ts';
import type { Decision } from './types.ts';

const GRACE_MS = 600_000;
const unavailable = (reason: string) => ({ state: 'unavailable', reason }) as const;
const absent = { state: 'absent' } as const;
const denied = {
  state: 'known',
  value: { allowed: false, reason: 'no RBAC rule grants selfnodeserver' },
} as const;

const outcomes: Case[] = [
  // Rule 16: SubjectAccessReview.
  { name: 'approves when the SubjectAccessReview allows selfnodeserver', expect: 'approve' },
  {
    name: 'denies when the SubjectAccessReview does not allow it, quoting its reason',
    facts: { authorization: denied },
    expect: ['deny', 'NotAuthorized'],
    message:
      /system:node:node-a may not create certificatesigningrequests\/selfnodeserver: no RBAC rule grants selfnodeserver$/,
  },
  {
    name: 'names the configured subresource in a NotAuthorized message',
    facts: { authorization: denied },
    policy: { subjectAccessReview: { subresource: 'kubeletserving' } },
    expect: ['deny', 'NotAuthorized'],
    message: /certificatesigningrequests\/kubeletserving/,
  },
  {
    name: 'retries when the SubjectAccessReview failed',
    facts: { authorization: unavailable('503 from the apiserver') },
    expect: ['retry', 'authorization', 'AuthorizationUnavailable'],
  },
  {
    name: 'retries when no SubjectAccessReview result was reported',
    facts: { authorization: absent },
    expect: ['retry', 'authorization', 'AuthorizationUnavailable'],
  },
  {
    name: 'ignores a refusing SubjectAccessReview when the check is switched off',
    facts: { authorization: denied },
    policy: { subjectAccessReview: { enabled: false } },
    expect: 'approve',
  },
  {
    name: 'does not wait for a SubjectAccessReview when the check is switched off',
    facts: { authorization: unavailable('never asked') },
    policy: { subjectAccessReview: { enabled: false } },
    expect: 'approve',
  },
  {
    name: 'reports an unowned SAN and a refused SubjectAccessReview together',
    csr: { sans: [ip('10.0.0.2')] },
    facts: { authorization: denied },
    expect: ['deny', 'SanNotOwned', 'NotAuthorized'],
  },
  {
    name: 'denies an unowned SAN without waiting for a failed SubjectAccessReview',
    csr: { sans: [ip('10.0.0.2')] },
    facts: { authorization: unavailable('timeout') },
    expect: ['deny', 'SanNotOwned'],
  },
  // The Node fact and the grace window.
  {
    name: 'retries when the Node could not be read',
    facts: { node: unavailable('connection refused') },
    expect: ['retry', 'node', 'NodeUnavailable'],
    message: /could not read Node node-a: connection refused/,
  },
  {
    name: 'retries while the Node does not exist yet, within the grace window',
    facts: { node: absent },
    expect: ['retry', 'node', 'NodeNotFound'],
    message: /570 s of grace left/,
  },
  {
    name: 'still retries at the last millisecond of the grace window',
    facts: { node: absent, nowMs: CREATED + GRACE_MS },
    expect: ['retry', 'node', 'NodeNotFound'],
  },
  {
    name: 'denies NodeNotFound one millisecond after the grace window',
    facts: { node: absent, nowMs: CREATED + GRACE_MS + 1 },
    expect: ['deny', 'NodeNotFound'],
    message: /Node node-a does not exist 600 s after the CSR was created/,
  },
  {
    name: 'honours a shorter configured grace window',
    facts: { node: absent, nowMs: CREATED + 61_000 },
    policy: { nodeGraceSeconds: 60 },
    expect: ['deny', 'NodeNotFound'],
  },
  {
    name: 'denies a missing Node at once with a grace window of zero',
    facts: { node: absent },
    policy: { nodeGraceSeconds: 0 },
    expect: ['deny', 'NodeNotFound'],
  },
  {
    name: 'never denies an unreadable Node, however long after the grace window',
    facts: { node: unavailable('503'), nowMs: CREATED + 100 * GRACE_MS },
    expect: ['retry', 'node', 'NodeUnavailable'],
  },
  {
    name: 'never denies an unavailable address index, however long after the grace window',
    facts: { claimants: unavailable('not synced'), nowMs: CREATED + 100 * GRACE_MS },
    expect: ['retry', 'claimants', 'ClaimantsUnavailable'],
  },
  {
    name: 'denies a fact-free violation at once while the Node is missing',
    request: { usages: ['digital signature', 'server auth', 'client auth'] },
    facts: { node: absent },
    expect: ['deny', 'DisallowedUsages'],
  },
  {
    name: 'denies a fact-free violation at once while the Node is unreadable',
    csr: { sans: [ip('127.0.0.1')] },
    facts: { node: unavailable('503') },
    expect: ['deny', 'DisallowedIp'],
  },
  {
    name: 'retries when the Node fact is for another Node',
    facts: {
      node: { state: 'known', value: { name: 'node-b', createdAtMs: 0, addresses: [] } },
    },
    expect: ['retry', 'node', 'NodeUnavailable'],
  },
  {
    name: 'asks for the Node before the address index and the SubjectAccessReview',
    facts: { node: unavailable('a'), claimants: unavailable('b'), authorization: unavailable('c') },
    expect: ['retry', 'node', 'NodeUnavailable'],
  },
  {
    name: 'asks for the address index before the SubjectAccessReview',
    facts: { claimants: unavailable('b'), authorization: unavailable('c') },
    expect: ['retry', 'claimants', 'ClaimantsUnavailable'],
  },
  // leave-pending.
  {
    name: 'denies with leavePending false by default',
    csr: { sans: [ip('10.0.0.2')] },
    expect: ['deny', 'SanNotOwned'],
  },
  // All violations at once.
  {
    name: 'reports every violation of a hostile request, first code as the reason',
    request: {
      groups: ['system:authenticated'],
      usages: ['digital signature', 'server auth', 'client auth'],
      expirationSeconds: 10 * 31_708_800,
    },
    csr: {
      publicKey: { algorithm: 'rsa', bits: 1024, exponent: 65537n },
      signatureAlgorithm: { scheme: 'rsa-pkcs1', hash: 'SHA-1', oid: '1.2.840.113549.1.1.5' },
      extensions: [
        { oid: '2.5.29.17', critical: false, value: new Uint8Array() },
        { oid: '2.5.29.19', critical: true, value: new Uint8Array() },
      ],
      sans: [dns('kubernetes.default.svc'), ip('169.254.169.254'), dns('*.node-a')],
    },
    expect: [
      'deny',
      'MissingGroup',
      'DisallowedSignatureAlgorithm',
      'DisallowedKey',
      'DisallowedExtension',
      'DisallowedUsages',
      'InvalidDnsName',
      'DisallowedIp',
      'ReservedName',
      'ExpirationTooLong',
    ],
    verifierCalls: 0,
  },
];

describe('decision outcomes: SubjectAccessReview, facts, grace window, all violations', () => {
  runCases(outcomes, evaluate);
});

function run(overrides: Partial<Parameters<typeof evaluate>[0]> = {}): Decision {
  return evaluate({
    request: csrRequest(),
    parsed: parsedOk(),
    policy: defaultPolicy,
    facts: facts(),
    verifier: fakeVerifier(),
    ...overrides,
  });
}

describe('decision messages', () => {
  it('approves with reason AutoApproved and names every check that passed', () => {
    const decision = run();
    assert.equal(decision.kind, 'approve');
    assert.equal(decision.reason, 'AutoApproved');
    for (const check of [
      'Node exists',
      'signature',
      'Service IP ranges',
      'subject',
      'usages',
      'ownership',
      'contested SANs',
      'SubjectAccessReview',
    ]) {
      assert.ok(decision.message.includes(check), `${check} missing from ${decision.message}`);
    }
  });

  it('does not claim a SubjectAccessReview passed when the check is off', () => {
    const loaded = loadPolicy({ subjectAccessReview: { enabled: false } });
    assert.ok(loaded.ok);
    const decision = run({ policy: loaded.policy });
    assert.equal(decision.kind, 'approve');
    assert.ok(!decision.message.includes('SubjectAccessReview'));
  });

  it('lists every violation in the message, as "Code: message" joined by semicolons', () => {
    const decision = run({ parsed: parsedOk({ sans: [ip('10.0.0.2'), dns('node-b')] }) });
    assert.equal(decision.kind, 'deny');
    assert.equal(
      decision.message,
      'SanNotOwned: IP SAN 10.0.0.2 is not an IP address of Node node-a; ' +
        'SanNotOwned: DNS SAN node-b is not the node name or a DNS address of Node node-a',
    );
  });

  it('caps a long message and says how many violations it left out', () => {
    const loaded = loadPolicy({ maxSans: 1024 });
    assert.ok(loaded.ok);
    const sans = Array.from({ length: 500 }, (_, i) => dns(`bad_name_${i}.example.com`));
    const decision = run({ policy: loaded.policy, parsed: parsedOk({ sans }) });
    assert.equal(decision.kind, 'deny');
    assert.equal(decision.violations.length, 500);
    assert.ok(decision.message.length <= MAX_MESSAGE_LENGTH, `${decision.message.length}`);
    assert.match(decision.message, /; … and \d+ more$/);
  });

  it('sets leavePending when the policy says leave-pending', () => {
    const loaded = loadPolicy({ onViolation: 'leave-pending' });
    assert.ok(loaded.ok);
    const decision = run({ policy: loaded.policy, parsed: parsedOk({ sans: [ip('10.0.0.2')] }) });
    assert.equal(decision.kind, 'deny');
    assert.equal(decision.leavePending, true);
  });

  it('sets leavePending on NodeNotFound too', () => {
    const loaded = loadPolicy({ onViolation: 'leave-pending' });
    assert.ok(loaded.ok);
    const decision = run({
      policy: loaded.policy,
      facts: facts({ node: absent, nowMs: CREATED + GRACE_MS + 1 }),
    });
    assert.equal(decision.kind, 'deny');
    assert.equal(decision.leavePending, true);
  });

  it('leaves leave-pending approvals untouched', () => {
    const loaded = loadPolicy({ onViolation: 'leave-pending' });
    assert.ok(loaded.ok);
    assert.equal(run({ policy: loaded.policy }).kind, 'approve');
  });
});

describe('triage (rules 1–2)', () => {
  const cases: [string, Parameters<typeof csrRequest>[0], string | undefined][] = [
    ['takes a pending kubelet-serving CSR', {}, undefined],
    [
      'ignores another signer',
      { signerName: 'kubernetes.io/kube-apiserver-client-kubelet' },
      'SignerMismatch',
    ],
    [
      'ignores a signer that differs only in case',
      { signerName: 'Kubernetes.io/kubelet-serving' },
      'SignerMismatch',
    ],
    ['ignores an approved CSR', { conditionTypes: ['Approved'] }, 'AlreadyDecided'],
    ['ignores a denied CSR', { conditionTypes: ['Denied'] }, 'AlreadyDecided'],
    ['ignores a failed CSR', { conditionTypes: ['Failed'] }, 'AlreadyDecided'],
    [
      'takes a CSR with only an unrelated condition',
      { conditionTypes: ['SomethingElse'] },
      undefined,
    ],
    ['ignores a CSR that already has a certificate', { hasCertificate: true }, 'AlreadyIssued'],
    ['ignores a CSR being deleted', { deleting: true }, 'Deleting'],
    [
      'ignores another signer before looking at anything else',
      { signerName: 'x', deleting: true },
      'SignerMismatch',
    ],
  ];
  for (const [name, overrides, code] of cases) {
    it(name, () => {
      assert.equal(triage(csrRequest(overrides))?.code, code);
    });
  }
});

describe('requiredFacts', () => {
  const policy = (config: object) => {
    const loaded = loadPolicy(config);
    assert.ok(loaded.ok);
    return loaded.policy;
  };
  it('asks for the Node, the Service ranges, the address index and a SubjectAccessReview by default', () => {
    assert.deepEqual(requiredFacts(csrRequest(), defaultPolicy), {
      nodeName: 'node-a',
      facts: ['node', 'serviceRanges', 'claimants', 'authorization'],
    });
  });
  it('asks the inventory only when the policy requires it', () => {
    assert.deepEqual(
      requiredFacts(csrRequest(), policy({ evidence: { require: ['inventory'] } })).facts,
      ['node', 'serviceRanges', 'claimants', 'inventory', 'authorization'],
    );
  });
  it('reads the served certificate only when the policy accepts it', () => {
    const accepting = policy({
      evidence: {
        require: ['inventory'],
        servedCertificate: { issuedAfter: '2026-01-01T00:00:00Z' },
      },
    });
    assert.deepEqual(requiredFacts(csrRequest(), accepting).facts, [
      'node',
      'serviceRanges',
      'claimants',
      'inventory',
      'authorization',
      'servedCertificate',
    ]);
  });
  it('does not ask for a SubjectAccessReview when it is switched off', () => {
    assert.deepEqual(
      requiredFacts(csrRequest(), policy({ subjectAccessReview: { enabled: false } })).facts,
      ['node', 'serviceRanges', 'claimants'],
    );
  });
  it('does not ask for the address index in allow-lists-only mode', () => {
    assert.deepEqual(
      requiredFacts(
        csrRequest(),
        policy({ ownership: { mode: 'allow-lists-only', allowedIpCidrs: ['10.0.0.0/8'] } }),
      ).facts,
      ['node', 'serviceRanges', 'authorization'],
    );
  });
  it('does not ask for the Service ranges when reserved.serviceRanges is off', () => {
    assert.deepEqual(
      requiredFacts(csrRequest(), policy({ reserved: { serviceRanges: false } })).facts,
      ['node', 'claimants', 'authorization'],
    );
  });
  it('names no Node for a username that is not a node identity', () => {
    assert.equal(
      requiredFacts(csrRequest({ username: 'alice' }), defaultPolicy).nodeName,
      undefined,
    );
  });
  it('evaluates without the facts it did not ask for', () => {
    const decision = run({
      policy: policy({ subjectAccessReview: { enabled: false } }),
      facts: facts({ authorization: unavailable('not fetched') }),
    });
    assert.equal(decision.kind, 'approve');
  });
});
