// Per-requester fairness (docs/adr/0006): at most `window` pending CSRs of one requester are queued
// at a time, newest first, and each job's priority is its rank within its requester, so a node's
// newest CSR never waits behind another node's backlog.
import type { PendingCsr } from './pending.ts';

export interface PlannedJob {
  readonly csr: PendingCsr;
  /** 1 for the requester's newest pending CSR, 2 for the next, … */
  readonly priority: number;
}

const newestFirst = (a: PendingCsr, b: PendingCsr): number =>
  b.createdAtMs - a.createdAtMs || a.name.localeCompare(b.name);

/** The jobs for one requester's pending CSRs. */
export function planRequester(pending: Iterable<PendingCsr>, window: number): PlannedJob[] {
  return [...pending]
    .sort(newestFirst)
    .slice(0, Math.max(1, window))
    .map((csr, i) => ({ csr, priority: i + 1 }));
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
