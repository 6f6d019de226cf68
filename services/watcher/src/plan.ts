// Per-requester fairness (docs/adr/0010): each job's priority is the CSR's rank among its
// requester's pending CSRs, oldest first, so one requester's backlog queues behind every other
// requester's first CSR. Only the oldest `window` and the newest pending CSR of a requester are
// enqueued at a time; the rest follow as earlier ones are decided.
import type { PendingCsr } from './pending.ts';

export interface PlannedJob {
  readonly csr: PendingCsr;
  /** 1 for the requester's oldest pending CSR, 2 for the next, … */
  readonly priority: number;
}

/**
 * Numeric order of two resourceVersions (etcd revisions). creationTimestamp has second resolution;
 * a pending CSR is rarely written after creation, so its resourceVersion orders CSRs created within
 * the same second. Non-numeric versions compare equal.
 */
function revisionOrder(a: string, b: string): number {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return 0;
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

const oldestFirst = (a: PendingCsr, b: PendingCsr): number =>
  a.createdAtMs - b.createdAtMs ||
  revisionOrder(a.resourceVersion, b.resourceVersion) ||
  a.name.localeCompare(b.name);

/** The jobs for one requester's pending CSRs. */
export function planRequester(pending: Iterable<PendingCsr>, window: number): PlannedJob[] {
  const ranked = [...pending].sort(oldestFirst).map((csr, i) => ({ csr, priority: i + 1 }));
  const admitted = ranked.slice(0, Math.max(1, window));
  // The newest is the one a live kubelet waits for: never behind a stuck backlog of its own.
  const newest = ranked.at(-1);
  if (newest !== undefined && newest.priority > admitted.length) admitted.push(newest);
  return admitted;
}

/** The jobs for every pending CSR, grouped by requester. */
export function planAll(pending: Iterable<PendingCsr>, window: number): PlannedJob[] {
  const byRequester = new Map<string, PendingCsr[]>();
  for (const csr of pending) {
    const group = byRequester.get(csr.requester);
    if (group === undefined) byRequester.set(csr.requester, [csr]);
    else group.push(csr);
  }
  return [...byRequester.values()].flatMap(group => planRequester(group, window));
}
