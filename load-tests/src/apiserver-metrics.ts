// kube-apiserver's own request counters (GET /metrics as admin), before and after a run: requests
// by verb, resource, subresource and code, and the requests API Priority and Fairness rejected.
// The apiserver counts every client; `attribute` splits the delta into the approver's calls, the
// load generator's (CSR creates, its one watch) and the signer's (status updates).

export interface RequestCount {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource: string;
  readonly code: string;
  readonly count: number;
}

export interface ApiserverCounters {
  readonly requests: readonly RequestCount[];
  /** apiserver_flowcontrol_rejected_requests_total, all labels summed. */
  readonly apfRejected: number;
}

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function labels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of text.matchAll(LABEL)) out[match[1] ?? ''] = match[2] ?? '';
  return out;
}

/** Parses the Prometheus text exposition format for the two counters we read. */
export function parseApiserverMetrics(text: string): ApiserverCounters {
  const requests: RequestCount[] = [];
  let apfRejected = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{')) {
      const close = line.lastIndexOf('}');
      const l = labels(line.slice(line.indexOf('{') + 1, close));
      requests.push({
        verb: l['verb'] ?? '',
        group: l['group'] ?? '',
        resource: l['resource'] ?? '',
        subresource: l['subresource'] ?? '',
        code: l['code'] ?? '',
        count: Number(line.slice(close + 1).trim()),
      });
    } else if (line.startsWith('apiserver_flowcontrol_rejected_requests_total{')) {
      apfRejected += Number(line.slice(line.lastIndexOf('}') + 1).trim());
    }
  }
  return { requests, apfRejected };
}

const keyOf = (r: Omit<RequestCount, 'count'>): string =>
  [r.verb, r.group, r.resource, r.subresource, r.code].join('|');

/** after − before, only rows that moved. */
export function diffCounters(
  before: ApiserverCounters,
  after: ApiserverCounters,
): ApiserverCounters {
  const previous = new Map(before.requests.map(r => [keyOf(r), r.count]));
  const requests = after.requests
    .map(r => ({ ...r, count: r.count - (previous.get(keyOf(r)) ?? 0) }))
    .filter(r => r.count > 0);
  return { requests, apfRejected: after.apfRejected - before.apfRejected };
}

export type Caller = 'approver' | 'generator' | 'signer' | 'other';

/**
 * Who makes a request of this shape during a run, first match wins: `verb resource/subresource`
 * with `*` for any verb and an empty subresource written as nothing.
 */
const CALLERS: readonly (readonly [RegExp, Caller])[] = [
  [/^POST certificatesigningrequests$/, 'generator'],
  [/^DELETE certificatesigningrequests$/, 'generator'],
  [/^\S+ certificatesigningrequests\/status$/, 'signer'],
  [/^\S+ certificatesigningrequests\/approval$/, 'approver'],
  [/^(GET|LIST|WATCH) (certificatesigningrequests|nodes)$/, 'approver'],
  [/^\S+ (subjectaccessreviews|events)$/, 'approver'],
];

export function callerOf(r: Omit<RequestCount, 'count' | 'code'>): Caller {
  const call = `${r.verb} ${r.resource}${r.subresource === '' ? '' : `/${r.subresource}`}`;
  return CALLERS.find(([pattern]) => pattern.test(call))?.[1] ?? 'other';
}

export interface VerbRow {
  readonly caller: Caller;
  /** e.g. `PUT certificatesigningrequests/approval`. */
  readonly call: string;
  readonly count: number;
  /** Responses with status 429. */
  readonly throttled: number;
  /** Responses with another status ≥ 400. */
  readonly errors: number;
}

/** Rows per (caller, verb, resource/subresource), largest first. */
export function byCall(delta: ApiserverCounters): VerbRow[] {
  const rows = new Map<
    string,
    { caller: Caller; call: string; count: number; throttled: number; errors: number }
  >();
  for (const r of delta.requests) {
    const call = `${r.verb} ${r.resource}${r.subresource === '' ? '' : `/${r.subresource}`}`;
    const caller = callerOf(r);
    const key = `${caller} ${call}`;
    const row = rows.get(key) ?? { caller, call, count: 0, throttled: 0, errors: 0 };
    row.count += r.count;
    if (r.code === '429') row.throttled += r.count;
    else if (Number(r.code) >= 400) row.errors += r.count;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.count - a.count);
}
