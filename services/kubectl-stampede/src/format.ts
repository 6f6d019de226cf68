// What `kubectl stampede` prints: pure functions from results to text, so the layout is tested
// without a cluster.
import { columns } from '@stampede/cli';
import type { AccessReviewNote, Explanation } from './explain.ts';
import type { PendingRow } from './pending.ts';

/** An age the way kubectl prints one (45s, 3m12s, 42m, 5h3m, 30h, 3d4h, 12d): whole units. */
export function humanAge(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '<unknown>';
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  const unit = (big: number, bigUnit: string, small: number, smallUnit: string): string =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
  if (s < 120) return `${s}s`;
  if (m < 10) return unit(m, 'm', s % 60, 's');
  if (m < 180) return `${m}m`;
  if (h < 8) return unit(h, 'h', m % 60, 'm');
  if (h < 48) return `${h}h`;
  if (h < 192) return unit(d, 'd', h % 24, 'h');
  return `${d}d`;
}

function accessReviewLine(note: AccessReviewNote): string {
  switch (note.state) {
    case 'asked':
      return `${note.allowed ? 'allowed' : 'not allowed'}${note.reason === '' ? '' : ` (${note.reason})`}`;
    case 'skipped':
      return `skipped: you may not create SubjectAccessReviews (${note.reason}); assumed allowed`;
    case 'not-needed':
      return 'not asked (the policy does not need it for this CSR)';
  }
}

/** The human form of `explain`: the decision, every reason, and what a worker would write. */
export function formatExplanation(explanation: Explanation, nowMs: number): string {
  const { report, recorded, wouldWrite, accessReview, createdAt } = explanation;
  const created = createdAt === undefined ? undefined : Date.parse(createdAt);
  const rows: [string, string][] = [
    [
      'CSR:',
      `${report.csr} (age ${humanAge(created === undefined ? undefined : nowMs - created)})`,
    ],
    ['Node:', report.node ?? '(the requester is not a node)'],
  ];
  if (recorded !== undefined) {
    rows.push(['Recorded:', `${recorded.type} ${recorded.reason}: ${recorded.message}`]);
  }
  const asIf = recorded === undefined ? '' : ' (evaluated as if still pending)';
  rows.push(['Decision:', `${report.decision}${asIf}`]);
  const width = Math.max(...report.reasons.map(r => r.code.length));
  report.reasons.forEach((reason, i) => {
    rows.push([i === 0 ? 'Reasons:' : '', `${reason.code.padEnd(width)}  ${reason.message}`]);
  });
  if (report.fact !== undefined) rows.push(['Missing fact:', report.fact]);
  if (report.leavePending === true) {
    rows.push(['Would write:', 'nothing (onViolation: leave-pending)']);
  } else if (wouldWrite !== undefined) {
    rows.push(['Would write:', `${wouldWrite.type} ${wouldWrite.reason}: ${wouldWrite.message}`]);
  }
  rows.push(['SubjectAccessReview:', accessReviewLine(accessReview)]);
  return columns(rows);
}

/** The JSON form of `explain` (-o json): `stampede check`'s object plus what only a live read knows. */
export function explanationJson(explanation: Explanation): string {
  const { report, recorded, wouldWrite, accessReview } = explanation;
  return JSON.stringify(
    { ...report, wouldWrite, recorded, subjectAccessReview: accessReview },
    null,
    2,
  );
}

/** The `pending` table, kubectl-style: upper-case headers, columns padded to the widest cell. */
export function formatPending(rows: readonly PendingRow[]): string {
  if (rows.length === 0) return 'No pending kubelet-serving CSRs.';
  const withNow = rows.some(r => r.now !== undefined);
  const header = ['NAME', 'AGE', 'NODE', 'LAST RECORDED', ...(withNow ? ['DECISION NOW'] : [])];
  const cells = rows.map(r => [
    r.name,
    humanAge(r.ageMs),
    r.node ?? '<not a node>',
    r.recorded === null ? '<cannot list events>' : (r.recorded ?? '<none>'),
    ...(withNow
      ? [r.now === undefined ? '' : `${r.now.decision} ${r.now.code}: ${r.now.message}`]
      : []),
  ]);
  return columns([header, ...cells], 3);
}
