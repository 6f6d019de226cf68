// Which CSRs the watcher enqueues: kubelet-serving CSRs that nobody has settled yet. The worker
// triages again from a fresh read; this only avoids queueing work that is certainly not needed.
import { KUBELET_SERVING_SIGNER } from '@stampede/kube';
import type { CertificateSigningRequest } from '@stampede/kube';

/** A pending CSR as the watcher keeps it: a pointer and what fairness needs, ~200 bytes. */
export interface PendingCsr {
  readonly uid: string;
  readonly name: string;
  readonly resourceVersion: string;
  /** spec.username: the identity that created it (set by the API server, not by the requester). */
  readonly requester: string;
  readonly createdAtMs: number;
}

const SETTLED: ReadonlySet<string> = new Set(['Approved', 'Denied', 'Failed']);

function isSettled(csr: CertificateSigningRequest): boolean {
  if (csr.metadata?.deletionTimestamp !== undefined) return true;
  if ((csr.status?.certificate ?? '') !== '') return true;
  return (csr.status?.conditions ?? []).some(condition => SETTLED.has(condition.type));
}

function createdAtMs(csr: CertificateSigningRequest): number {
  const created = Date.parse(csr.metadata?.creationTimestamp ?? '');
  return Number.isNaN(created) ? 0 : created;
}

/** The projection kept by the CSR list/watch; undefined (not kept) for anything not pending. */
export function projectPendingCsr(csr: CertificateSigningRequest): PendingCsr | undefined {
  const { uid, name, resourceVersion } = csr.metadata ?? {};
  if (uid === undefined || name === undefined || resourceVersion === undefined) return undefined;
  if (csr.spec.signerName !== KUBELET_SERVING_SIGNER || isSettled(csr)) return undefined;
  return {
    uid,
    name,
    resourceVersion,
    requester: csr.spec.username ?? '',
    createdAtMs: createdAtMs(csr),
  };
}
