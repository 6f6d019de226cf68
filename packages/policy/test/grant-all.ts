// decide() for a parsed request with every fact granted: the Node its CN names exists, reports every
// DNS and IP SAN of the request, no other Node claims them, none is a Service IP, and authorization
// allows. What is denied then is denied for the request's own content, never for a missing fact.
import { createNodeSignatureVerifier } from '@stampede/crypto';
import {
  decide,
  defaultPolicy,
  type CsrRequest,
  type Decision,
  type Facts,
  type ParsedCsr,
} from '@stampede/policy';

const verifier = createNodeSignatureVerifier();

/** Go prints IPv4-mapped IPv6 as IPv4 (net.IP.String); we keep it IPv6 for the checks to fold. */
export function goIpText(ours: string): string {
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ours);
  if (mapped === null) return ours;
  const hi = parseInt(mapped[1] ?? '0', 16);
  const lo = parseInt(mapped[2] ?? '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** decide() for this request from the node its CN names, which reports every SAN the request holds. */
export function decideWithEveryFact(input: Uint8Array, csr: ParsedCsr): Decision {
  const cn = csr.subject.flat().find(a => a.oid === '2.5.4.3')?.value ?? '';
  const nodeName = /^system:node:[a-z0-9.-]{1,253}$/.test(cn)
    ? cn.slice('system:node:'.length)
    : 'node-a';
  const nowMs = Date.UTC(2026, 0, 1);
  const request: CsrRequest = {
    name: 'csr-differential',
    uid: '00000000-0000-4000-8000-000000000000',
    signerName: 'kubernetes.io/kubelet-serving',
    username: `system:node:${nodeName}`,
    groups: ['system:nodes', 'system:authenticated'],
    extra: {},
    usages: ['digital signature', 'server auth'],
    request: input,
    conditionTypes: [],
    hasCertificate: false,
    deleting: false,
    createdAtMs: nowMs - 1000,
  };
  const addresses = csr.sans.flatMap(san => {
    if (san.kind === 'dns') return [{ type: 'Hostname', address: san.value }];
    if (san.kind === 'ip') return [{ type: 'InternalIP', address: goIpText(san.value) }];
    return [];
  });
  const facts: Facts = {
    nowMs,
    node: { state: 'known', value: { name: nodeName, createdAtMs: nowMs - 86_400_000, addresses } },
    claimants: { state: 'known', value: () => [] },
    authorization: { state: 'known', value: { allowed: true, reason: 'granted by the test' } },
    // No Service range: every address the request holds is taken to be a Node's.
    serviceRanges: { state: 'known', value: [] },
  };
  return decide(request, defaultPolicy, facts, verifier);
}
