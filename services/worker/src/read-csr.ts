// Reading the CSR a job names (docs/adr/0020). The watch cache answers a GET with
// resourceVersion=0 without touching etcd, but may be behind. That is safe for a decision because
// the approval is written conditioned on the version read: a stale copy is refused with 409 and the
// job reads again, at quorum. The cache can also be behind the other way, and not yet have the CSR
// (404) or still have an older object of the same name (another uid); neither ends a job without
// a quorum read saying so.
import { NotFoundError } from '@stampede/kube';
import type { CertificateSigningRequest, KubeClient } from '@stampede/kube';
import type { CsrJob } from '@stampede/contracts';

/** 'cache-first': the watch cache, then etcd where the cache cannot be believed. 'quorum': etcd. */
export type CsrReads = 'cache-first' | 'quorum';

export type CsrRead =
  | { readonly found: CertificateSigningRequest; readonly from: 'cache' | 'quorum' }
  | { readonly gone: true }
  | { readonly superseded: true };

type Reader = Pick<KubeClient, 'getCsr'>;

async function quorum(kube: Reader, job: CsrJob, signal: AbortSignal): Promise<CsrRead> {
  let csr: CertificateSigningRequest;
  try {
    csr = await kube.getCsr(job.name, { signal });
  } catch (error) {
    if (error instanceof NotFoundError) return { gone: true };
    throw error;
  }
  // Same name, different object: deleted and re-created. The new one has its own job.
  if (csr.metadata?.uid !== job.uid) return { superseded: true };
  return { found: csr, from: 'quorum' };
}

/** The job's CSR, or why there is none; only the object with the job's uid is ever returned. */
export async function readCsr(
  kube: Reader,
  job: CsrJob,
  reads: CsrReads,
  signal: AbortSignal,
): Promise<CsrRead> {
  if (reads === 'quorum') return quorum(kube, job, signal);
  let cached: CertificateSigningRequest;
  try {
    cached = await kube.getCsr(job.name, { signal, resourceVersion: '0' });
  } catch (error) {
    // A cache that has not seen the create yet answers 404: only etcd may say "gone".
    if (error instanceof NotFoundError) return quorum(kube, job, signal);
    throw error;
  }
  // A cache that has not seen a delete and re-create still holds the old uid: ask etcd.
  if (cached.metadata?.uid !== job.uid) return quorum(kube, job, signal);
  return { found: cached, from: 'cache' };
}

/** After a 409 the copy read was stale or the CSR changed: read it again from etcd, not the cache. */
export const readsAfter = (conflicts: number, configured: CsrReads): CsrReads =>
  conflicts > 0 ? 'quorum' : configured;
