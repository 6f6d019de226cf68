// Default test objects that each case overrides: a kubelet-shaped request from Node node-a, the
// Node itself, and facts under which it is approved. Used by the tests of the checks and decide().
import type {
  AddressClaimant,
  CsrRequest,
  Facts,
  GeneralName,
  NodeFact,
  ParsedCsr,
  ParseResult,
  SignatureVerifier,
} from '@stampede/policy';

export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
export const CREATED = NOW - 30_000;

export const dns = (value: string): GeneralName => ({ kind: 'dns', tag: 2, value });
export const ip = (value: string): GeneralName => ({ kind: 'ip', tag: 7, value });

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** A parsed ECDSA P-256 kubelet request for node-a with SANs node-a and 10.0.0.1. */
export function parsedCsr(overrides: Partial<ParsedCsr> = {}): ParsedCsr {
  return {
    version: 0,
    subject: [
      [{ oid: '2.5.4.10', tag: 19, value: 'system:nodes' }],
      [{ oid: '2.5.4.3', tag: 12, value: 'system:node:node-a' }],
    ],
    publicKey: { algorithm: 'ecdsa', curve: 'P-256', bits: 256 },
    spki: new Uint8Array([1, 2, 3]),
    attributes: [{ oid: EXTENSION_REQUEST, values: [new Uint8Array([0x30, 0])] }],
    extensions: [{ oid: '2.5.29.17', critical: false, value: new Uint8Array([0x30, 0]) }],
    sans: [dns('node-a'), ip('10.0.0.1')],
    signatureAlgorithm: { scheme: 'ecdsa', hash: 'SHA-256', oid: '1.2.840.10045.4.3.2' },
    signedData: new Uint8Array([4, 5, 6]),
    signature: new Uint8Array([7, 8, 9]),
    ...overrides,
  };
}

export const parsedOk = (overrides: Partial<ParsedCsr> = {}): ParseResult => ({
  ok: true,
  csr: parsedCsr(overrides),
});

export function csrRequest(overrides: Partial<CsrRequest> = {}): CsrRequest {
  return {
    name: 'csr-abc12',
    uid: '3f6f5b2c-0000-4000-8000-000000000001',
    signerName: 'kubernetes.io/kubelet-serving',
    username: 'system:node:node-a',
    groups: ['system:nodes', 'system:authenticated'],
    extra: {},
    usages: ['digital signature', 'server auth'],
    request: new Uint8Array(900),
    conditionTypes: [],
    hasCertificate: false,
    deleting: false,
    createdAtMs: CREATED,
    ...overrides,
  };
}

export function nodeFact(overrides: Partial<NodeFact> = {}): NodeFact {
  return {
    name: 'node-a',
    createdAtMs: Date.UTC(2025, 5, 1),
    addresses: [
      { type: 'Hostname', address: 'node-a' },
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'ExternalIP', address: '203.0.113.10' },
      { type: 'InternalIP', address: 'fd00::a' },
      { type: 'InternalDNS', address: 'node-a.internal.example' },
      { type: 'ExternalDNS', address: 'node-a.example.com' },
    ],
    ...overrides,
  };
}

/** The cluster's Service IP ranges: kubeadm's IPv4 default and an IPv6 one. */
export const SERVICE_RANGES: readonly string[] = ['10.96.0.0/12', 'fd00:10:96::/112'];

/** An address index: SAN key → Nodes (other than the requester) reporting it. */
export const claimantsOf =
  (index: Readonly<Record<string, readonly AddressClaimant[]>> = {}) =>
  (key: string): readonly AddressClaimant[] =>
    index[key] ?? [];

export function facts(overrides: Partial<Facts> = {}): Facts {
  return {
    nowMs: NOW,
    node: { state: 'known', value: nodeFact() },
    claimants: { state: 'known', value: claimantsOf() },
    authorization: { state: 'known', value: { allowed: true, reason: 'RBAC: allowed' } },
    serviceRanges: { state: 'known', value: SERVICE_RANGES },
    ...overrides,
  };
}

/** A verifier that answers `result` and records what it was asked to verify. */
export function fakeVerifier(result = true): SignatureVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    verify(): boolean {
      verifier.calls++;
      return result;
    },
  };
  return verifier;
}
