import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { CertificateAuthority, generateKeyPair } from '@stampede/harness';
import type { NodeAddress, StoredCertificate } from '@stampede/harness';
import { problemsOf, servedLines } from './demo-real-kubelets.ts';

const servingCa = CertificateAuthority.create('kubelet-serving-ca');
const otherCa = CertificateAuthority.create('some-other-ca');
const NAME = 'real-kubelet-1';
const ADDRESSES: NodeAddress[] = [
  { type: 'InternalIP', address: '10.66.0.7' },
  { type: 'Hostname', address: NAME },
];

function certificate(
  options: { ca?: CertificateAuthority; cn?: string; dnsNames?: string[]; ips?: string[] } = {},
) {
  const issued = (options.ca ?? servingCa).issue(
    {
      subject: { commonName: options.cn ?? `system:node:${NAME}`, organizations: ['system:nodes'] },
      dnsNames: options.dnsNames ?? [NAME],
      ips: options.ips ?? ['10.66.0.7'],
      extKeyUsages: ['serverAuth'],
    },
    generateKeyPair().spki,
  );
  return new X509Certificate(issued.certPem);
}

const kubeletStoring = (stored: X509Certificate) => ({
  name: NAME,
  storedCertificate: (): StoredCertificate => ({ pem: stored.toString(), certificate: stored }),
});

describe('what the demo says about a real kubelet’s served certificate', () => {
  const right = certificate();
  // [case, served, stored on disk, the problem expected (none: right)]
  const cases: [string, X509Certificate, X509Certificate, RegExp | undefined][] = [
    ['the stored certificate, issued for its Node, is right', right, right, undefined],
    ['one signed by another CA does not chain', certificate({ ca: otherCa }), right, /chain/],
    [
      'one for another node has the wrong subject',
      certificate({ cn: 'system:node:x' }),
      right,
      /subject/,
    ],
    [
      'one with an IP its Node lacks has the wrong SANs',
      certificate({ ips: ['10.66.0.7', '10.0.0.1'] }),
      right,
      /SANs/,
    ],
    ['one missing its host name has the wrong SANs', certificate({ dnsNames: [] }), right, /SANs/],
    ['one that is not the file on disk is flagged', right, certificate(), /kubelet-server-current/],
  ];
  for (const [name, served, stored, problem] of cases) {
    it(name, () => {
      const ca = new X509Certificate(servingCa.certPem);
      const problems = problemsOf(kubeletStoring(stored), served, ca, ADDRESSES);
      if (problem === undefined) assert.deepEqual(problems, []);
      else assert.match(problems.join('; '), problem);
    });
  }
});

describe('the summary lines for real kubelets', () => {
  it('says none were run with --real-kubelets 0', () => {
    assert.deepEqual(servedLines([], 0), ['  real kubelets:       none (--real-kubelets 0)']);
  });

  it('shows subject, SANs and issuer of a verified one, and the problems of a wrong one', () => {
    const lines = servedLines(
      [
        {
          name: 'real-kubelet-1',
          endpoint: '10.66.0.7:40001',
          subject: 'O=system:nodes, CN=system:node:real-kubelet-1',
          sans: 'DNS:real-kubelet-1, IP:10.66.0.7',
          issuer: 'CN=kubelet-serving-ca',
          notAfter: '2027-12-03T00:00:00.000Z',
          problems: [],
        },
        {
          name: 'real-kubelet-2',
          endpoint: '10.66.0.8:40002',
          problems: ['no certificate served'],
        },
      ],
      2,
    ).join('\n');
    assert.match(lines, /real-kubelet-1 +10\.66\.0\.7:40001 +verified/);
    assert.match(lines, /SANs: +DNS:real-kubelet-1, IP:10\.66\.0\.7/);
    assert.match(lines, /issuer: +CN=kubelet-serving-ca/);
    assert.match(
      lines,
      /real-kubelet-2 +10\.66\.0\.8:40002 +WRONG\n +problem: +no certificate served/,
    );
  });
});
