// Median and p90 cost of decide() for a typical kubelet request, and of its two expensive parts
// (parsing, signature verification) on their own. Run: npm run bench -w @stampede/policy
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { buildCsr, kubeletCsr } from '@stampede/testing';
import { decide, defaultPolicy, evaluate, parseCsr } from '@stampede/policy';
import type { CsrRequest, Facts, SignatureVerifier } from '@stampede/policy';

const BATCHES = 200;
const PER_BATCH = 100;
const TARGET_DECIDE_US = 150;

const verifier = createNodeSignatureVerifier();
const acceptAll: SignatureVerifier = { verify: () => true };
const NOW = Date.now();

function request(pem: Uint8Array, usages: readonly string[]): CsrRequest {
  return {
    name: 'csr-bench',
    uid: 'uid',
    signerName: 'kubernetes.io/kubelet-serving',
    username: 'system:node:node-a',
    groups: ['system:nodes', 'system:authenticated'],
    extra: {},
    usages,
    request: pem,
    conditionTypes: [],
    hasCertificate: false,
    deleting: false,
    createdAtMs: NOW - 1000,
  };
}

const facts: Facts = {
  nowMs: NOW,
  node: {
    state: 'known',
    value: {
      name: 'node-a',
      createdAtMs: NOW - 86_400_000,
      addresses: [
        { type: 'Hostname', address: 'node-a' },
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'InternalIP', address: 'fd00::a' },
      ],
    },
  },
  claimants: { state: 'known', value: () => [] },
  authorization: { state: 'known', value: { allowed: true, reason: '' } },
  serviceRanges: { state: 'known', value: ['10.96.0.0/12', 'fd00:10:96::/112'] },
};

const ecdsa = request(
  kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1', 'fd00::a'] }).pem,
  ['digital signature', 'server auth'],
);
const rsa = request(
  buildCsr({
    key: { type: 'rsa', bits: 2048 },
    sans: [
      { kind: 'dns', value: 'node-a' },
      { kind: 'ip', value: '10.0.0.1' },
    ],
  }).pem,
  ['digital signature', 'key encipherment', 'server auth'],
);

function parsedOf(r: CsrRequest) {
  const parsed = parseCsr(r.request);
  if (!parsed.ok) throw new Error(`bench request does not parse: ${parsed.failure.message}`);
  return parsed;
}

/** µs per call of `fn`, one sample per batch; returns [median, p90]. */
function measure(fn: () => unknown): [number, number] {
  for (let i = 0; i < 2000; i++) fn();
  const samples: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < PER_BATCH; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / PER_BATCH);
  }
  samples.sort((a, z) => a - z);
  const at = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return [at(0.5), at(0.9)];
}

function expectKind(kind: string, r: CsrRequest, v: SignatureVerifier) {
  const decision = decide(r, defaultPolicy, facts, v);
  if (decision.kind !== kind)
    throw new Error(`bench expected ${kind}, got ${JSON.stringify(decision)}`);
}

const rows: [string, () => unknown][] = [];
for (const [label, r] of [
  ['ECDSA P-256', ecdsa],
  ['RSA-2048', rsa],
] as const) {
  expectKind('approve', r, verifier);
  const parsed = parsedOf(r);
  const { csr } = parsed;
  const input = {
    algorithm: csr.signatureAlgorithm,
    spki: csr.spki,
    data: csr.signedData,
    signature: csr.signature,
  };
  rows.push(
    [
      `decide() ${label} (parse + checks + verify)`,
      () => decide(r, defaultPolicy, facts, verifier),
    ],
    [`  parseCsr() alone`, () => parseCsr(r.request)],
    [`  verify() alone`, () => verifier.verify(input)],
    [
      `  checks alone (parsed, verify stubbed)`,
      () => evaluate({ request: r, parsed, policy: defaultPolicy, facts, verifier: acceptAll }),
    ],
  );
}

const results = rows.map(([name, fn]) => [name, ...measure(fn)] as const);
const width = Math.max(...results.map(([name]) => name.length));
console.log(`${'benchmark'.padEnd(width)}  median µs      p90 µs`);
for (const [name, median, p90] of results) {
  console.log(
    `${name.padEnd(width)}  ${median.toFixed(1).padStart(9)}  ${p90.toFixed(1).padStart(10)}`,
  );
}
const decideMedian = results[0]?.[1] ?? Infinity;
console.log(
  `\n${BATCHES} batches × ${PER_BATCH} calls after 2000 warm-up calls; target: decide() median ≤ ${TARGET_DECIDE_US} µs (ECDSA P-256): ${decideMedian <= TARGET_DECIDE_US ? 'met' : 'MISSED'}`,
);
