// `kubectl stampede pending`: the kubelet-serving CSRs that have no decision yet, with what stampede
// recorded about each (its Events regarding the CSR, events.k8s.io/v1 in `default`) and, unless
// asked not to, what a worker would decide now (explain.ts): a worker records nothing while it
// retries, so "why is it pending" is only answered by deciding it again.
import { ForbiddenError } from '@stampede/kube';
import type { CertificateSigningRequest, CsrEvent, KubeClient } from '@stampede/kube';
import { nodeNameFromUsername, parseKubeTimestamp } from '@stampede/policy';
import { REPORTING_CONTROLLER } from '@stampede/worker/facts';
import { explainObject } from './explain.ts';
import type { ExplainOptions } from './explain.ts';

export interface PendingRow {
  readonly name: string;
  /** ms since the CSR was created; undefined when it has no readable creationTimestamp. */
  readonly ageMs: number | undefined;
  /** The Node named by spec.username; undefined when the requester is not a node. */
  readonly node: string | undefined;
  /** The reason of stampede's newest Event about this CSR; undefined: none; null: not readable. */
  readonly recorded: string | undefined | null;
  /** `decision Reason` a worker would reach now; undefined when not asked for. */
  readonly now?: { readonly decision: string; readonly code: string; readonly message: string };
}

const isSettled = (csr: CertificateSigningRequest): boolean =>
  (csr.status?.conditions ?? []).some(
    c => c.type === 'Approved' || c.type === 'Denied' || c.type === 'Failed',
  );

/** Newest first by eventTime (falling back to creationTimestamp), per CSR uid. */
export function newestEventByUid(events: readonly CsrEvent[]): Map<string, CsrEvent> {
  const at = (e: CsrEvent): number =>
    parseKubeTimestamp(e.eventTime ?? e.metadata?.creationTimestamp ?? '') ?? 0;
  const newest = new Map<string, CsrEvent>();
  for (const event of events) {
    const uid = event.regarding?.uid;
    if (uid === undefined) continue;
    const known = newest.get(uid);
    if (known === undefined || at(event) >= at(known)) newest.set(uid, event);
  }
  return newest;
}

/** stampede's Events, or null when the user may not list Events (the column then says so). */
async function recordedEvents(
  kube: Pick<KubeClient, 'listCsrEvents'>,
  signal: AbortSignal,
): Promise<Map<string, CsrEvent> | null> {
  try {
    const { items } = await kube.listCsrEvents({
      reportingController: REPORTING_CONTROLLER,
      signal,
    });
    return newestEventByUid(items);
  } catch (error) {
    if (error instanceof ForbiddenError) return null;
    throw error;
  }
}

/** How many pending CSRs are explained at once (each is a Node GET and a SubjectAccessReview). */
const EXPLAIN_CONCURRENCY = 8;

async function mapLimited<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>) {
  const results: R[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

const createdAtMs = (csr: CertificateSigningRequest): number | undefined =>
  parseKubeTimestamp(csr.metadata?.creationTimestamp ?? '');

function rowOf(
  csr: CertificateSigningRequest,
  events: Map<string, CsrEvent> | null,
  nowMs: number,
): PendingRow {
  const at = createdAtMs(csr);
  return {
    name: csr.metadata?.name ?? '',
    ageMs: at === undefined ? undefined : nowMs - at,
    node: nodeNameFromUsername(csr.spec.username ?? ''),
    recorded: events === null ? null : events.get(csr.metadata?.uid ?? '')?.reason,
  };
}

/** The pending kubelet-serving CSRs, oldest first. `explain` undefined: no decision column. */
export async function listPending(
  kube: Pick<KubeClient, 'listCsrs' | 'listCsrEvents'>,
  options: { readonly now: () => number; readonly signal: AbortSignal },
  explain: ExplainOptions | undefined,
): Promise<PendingRow[]> {
  const [{ items }, events] = await Promise.all([
    kube.listCsrs({ signal: options.signal }),
    recordedEvents(kube, options.signal),
  ]);
  const pending = items
    .filter(csr => !isSettled(csr))
    .sort((a, b) => (createdAtMs(a) ?? 0) - (createdAtMs(b) ?? 0));
  return mapLimited(pending, EXPLAIN_CONCURRENCY, async csr => {
    const row = rowOf(csr, events, options.now());
    if (explain === undefined) return row;
    const { report } = await explainObject(explain, csr);
    const reason = report.reasons[0];
    return {
      ...row,
      now: { decision: report.decision, code: reason?.code ?? '', message: reason?.message ?? '' },
    };
  });
}
