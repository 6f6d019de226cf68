// `stampede demo`: the default policy over a handful of sample kubelet CSRs, built in memory with
// real keys, mapped from Kubernetes objects exactly as `stampede check` maps files.
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { defaultPolicy } from '@stampede/policy';
import { buildCsr, kubeletCsr } from '@stampede/testing';
import { checkObjects } from './report.ts';
import type { CheckReport } from './report.ts';
import { columns } from './columns.ts';

const MINUTE = 60_000;

interface Sample {
  readonly title: string;
  readonly pem: string;
  readonly username?: string;
  readonly usages?: readonly string[];
  readonly signerName?: string;
  readonly ageMs?: number;
}

function csrObject(name: string, sample: Sample, nowMs: number): object {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: {
      name,
      uid: `uid-${name}`,
      creationTimestamp: iso(nowMs - (sample.ageMs ?? MINUTE)),
    },
    spec: {
      request: Buffer.from(sample.pem).toString('base64'),
      signerName: sample.signerName ?? 'kubernetes.io/kubelet-serving',
      usages: sample.usages ?? ['digital signature', 'server auth'],
      username: sample.username ?? 'system:node:node-a',
      groups: ['system:nodes', 'system:authenticated'],
    },
  };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function nodeObject(name: string, created: string, addresses: [string, string][]): object {
  return {
    kind: 'Node',
    metadata: { name, creationTimestamp: created },
    status: { addresses: addresses.map(([type, address]) => ({ type, address })) },
  };
}

const NODES = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    nodeObject('node-a', '2025-06-01T00:00:00Z', [
      ['Hostname', 'node-a'],
      ['InternalIP', '10.0.0.1'],
    ]),
    nodeObject('node-b', '2025-01-01T00:00:00Z', [
      ['Hostname', 'node-b'],
      ['InternalIP', '10.0.0.2'],
    ]),
  ],
};

/** The sample cluster's Service IP range (kubeadm's default). */
const SERVICE_RANGES = ['10.96.0.0/12'];

function samples(): Sample[] {
  const nodeA = { nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1'] };
  const rsa = buildCsr({
    key: { type: 'rsa', bits: 2048 },
    sans: [
      { kind: 'dns', value: 'node-a' },
      { kind: 'ip', value: '10.0.0.1' },
    ],
  });
  return [
    { title: 'valid ECDSA P-256 request from node-a', pem: kubeletCsr(nodeA).pemText },
    {
      title: 'valid RSA-2048 request with key encipherment',
      pem: rsa.pemText,
      usages: ['digital signature', 'key encipherment', 'server auth'],
    },
    {
      title: 'node-a asks for node-b’s IP 10.0.0.2',
      pem: kubeletCsr({ ...nodeA, ips: ['10.0.0.1', '10.0.0.2'] }).pemText,
    },
    {
      title: 'node-a asks for client auth too',
      pem: kubeletCsr(nodeA).pemText,
      usages: ['digital signature', 'server auth', 'client auth'],
    },
    {
      title: 'node-a asks for kubernetes.default.svc',
      pem: kubeletCsr({ ...nodeA, dnsNames: ['node-a', 'kubernetes.default.svc'] }).pemText,
    },
    {
      title: 'node-a asks for the kubernetes Service IP 10.96.0.1',
      pem: kubeletCsr({ ...nodeA, ips: ['10.0.0.1', '10.96.0.1'] }).pemText,
    },
    {
      title: 'a CSR for another signer',
      pem: kubeletCsr(nodeA).pemText,
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
    },
    {
      title: 'node-z, whose Node does not exist yet',
      pem: kubeletCsr({ nodeName: 'node-z', dnsNames: ['node-z'] }).pemText,
      username: 'system:node:node-z',
    },
    {
      title: 'node-z, still missing after the grace window',
      pem: kubeletCsr({ nodeName: 'node-z', dnsNames: ['node-z'] }).pemText,
      username: 'system:node:node-z',
      ageMs: 20 * MINUTE,
    },
  ];
}

/** Runs the samples; returns the text to print. */
export function runDemo(nowMs: number): string {
  const verifier = createNodeSignatureVerifier();
  const results: [Sample, CheckReport][] = samples().map((sample, i) => [
    sample,
    checkObjects({
      csr: csrObject(`csr-demo-${i + 1}`, sample, nowMs),
      nodes: NODES,
      policy: defaultPolicy,
      authorized: true,
      serviceRanges: SERVICE_RANGES,
      nowMs,
      verifier,
    }),
  ]);
  const rows = [
    ['#', 'sample', 'decision', 'reasons'],
    ...results.map(([sample, report], i) => [
      String(i + 1),
      sample.title,
      report.decision,
      report.reasons.map(r => r.code).join(', '),
    ]),
  ];
  return [
    'stampede demo: the default policy over sample kubelet-serving CSRs',
    'Nodes: node-a (node-a, 10.0.0.1), node-b (node-b, 10.0.0.2, older); Service range 10.96.0.0/12;',
    'SubjectAccessReview assumed allowed.',
    '',
    columns(rows),
    '',
    'Decisions, as `stampede check` prints them:',
    ...results.map(([, report]) => JSON.stringify(report)),
  ].join('\n');
}
