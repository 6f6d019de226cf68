import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertificateSigningRequest } from '@stampede/kube';
import { projectPendingCsr } from './pending.ts';

const base: CertificateSigningRequest = {
  metadata: {
    name: 'csr-1',
    uid: 'u-1',
    resourceVersion: '7',
    creationTimestamp: '2026-11-29T10:00:00Z',
  },
  spec: {
    signerName: 'kubernetes.io/kubelet-serving',
    username: 'system:node:n1',
    request: '',
  },
};

describe('projectPendingCsr', () => {
  it('keeps a pointer, the requester and the creation time of a pending CSR', () => {
    assert.deepEqual(projectPendingCsr(base), {
      uid: 'u-1',
      name: 'csr-1',
      resourceVersion: '7',
      requester: 'system:node:n1',
      createdAtMs: Date.parse('2026-11-29T10:00:00Z'),
    });
  });

  const skipped: { name: string; csr: CertificateSigningRequest }[] = [
    {
      name: 'skips another signer',
      csr: { ...base, spec: { ...base.spec, signerName: 'kubernetes.io/kube-apiserver-client' } },
    },
    {
      name: 'skips an approved CSR',
      csr: { ...base, status: { conditions: [{ type: 'Approved', status: 'True' }] } },
    },
    {
      name: 'skips a denied CSR',
      csr: { ...base, status: { conditions: [{ type: 'Denied', status: 'True' }] } },
    },
    {
      name: 'skips a failed CSR',
      csr: { ...base, status: { conditions: [{ type: 'Failed', status: 'True' }] } },
    },
    { name: 'skips an issued CSR', csr: { ...base, status: { certificate: 'LS0t' } } },
    {
      name: 'skips a CSR being deleted',
      csr: { ...base, metadata: { ...base.metadata, deletionTimestamp: '2026-11-29T10:01:00Z' } },
    },
    { name: 'skips an object without a uid', csr: { ...base, metadata: { name: 'x' } } },
  ];
  for (const { name, csr } of skipped) {
    it(name, () => {
      assert.equal(projectPendingCsr(csr), undefined);
    });
  }
});
