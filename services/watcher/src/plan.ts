// Per-requester fairness (docs/adr/0010): each job's priority is the CSR's rank among its
// requester's pending CSRs, oldest first, so one requester's backlog queues behind every other
// requester's first CSR. Only the oldest `window` and the newest pending CSR of a requester are
// enqueued at a time; the rest follow as earlier ones are decided.
//
// A CSR its kubelet has given up on is not planned at all: the kubelet waits 15 minutes for a
// certificate, then files a new CSR with a new key and never reads the old one again. After a long
// outage approving the old ones would issue certificates nobody holds the key of, and would spend
// the recovery's API calls on them. Such a CSR is left to the API server's 24-hour clean-up.
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

export interface PlanOptions {
  /** The oldest pending CSRs of a requester queued at once (its newest too). */
  readonly window: number;
  /**
   * A CSR created this long before its requester's newest is abandoned (the kubelet's wait for a
   * certificate, 15 minutes); 0: none is. Both times are the API server's, so no clock of ours is
   * compared with them.
   */
  readonly abandonedAfterMs: number;
}

/**
 * Pending CSRs of one requester that its newest supersedes: filed long before it. `newestGoneMs` is
 * the creation time of the requester's newest CSR that is no longer pending (approved, say): the
 * kubelet moved on to it, so what it filed long before stays abandoned once that one is decided.
 */
export function abandonedOf(
  pending: Iterable<PendingCsr>,
  abandonedAfterMs: number,
  newestGoneMs = 0,
): PendingCsr[] {
  const all = [...pending];
  if (abandonedAfterMs <= 0 || all.length === 0) return [];
  const newest = all.reduce((a, b) => (oldestFirst(a, b) < 0 ? b : a));
  const newestMs = Math.max(newest.createdAtMs, newestGoneMs);
  // A CSR without a creation time (the API server always sets one) is never taken for abandoned.
  return all.filter(csr => csr.createdAtMs > 0 && newestMs - csr.createdAtMs >= abandonedAfterMs);
}

/** The jobs for one requester's pending CSRs. */
export function planRequester(
  pending: Iterable<PendingCsr>,
  options: PlanOptions,
  newestGoneMs = 0,
): PlannedJob[] {
  const all = [...pending];
  const abandoned = new Set(abandonedOf(all, options.abandonedAfterMs, newestGoneMs));
  const ranked = all
    .filter(csr => !abandoned.has(csr))
    .sort(oldestFirst)
    .map((csr, i) => ({ csr, priority: i + 1 }));
  const admitted = ranked.slice(0, Math.max(1, options.window));
  // The newest is the one a live kubelet waits for: never behind a stuck backlog of its own.
  const newest = ranked.at(-1);
  if (newest !== undefined && newest.priority > admitted.length) admitted.push(newest);
  return admitted;
}

/** The jobs for every pending CSR, grouped by requester. */
export function planAll(
  pending: Iterable<PendingCsr>,
  options: PlanOptions,
  newestGoneMs: (requester: string) => number = () => 0,
): PlannedJob[] {
  const byRequester = new Map<string, PendingCsr[]>();
  for (const csr of pending) {
    const group = byRequester.get(csr.requester);
    if (group === undefined) byRequester.set(csr.requester, [csr]);
    else group.push(csr);
  }
  return [...byRequester.values()].flatMap(group =>
    planRequester(group, options, newestGoneMs(group[0]?.requester ?? '')),
  );
}
