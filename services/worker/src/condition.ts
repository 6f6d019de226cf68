// The condition a worker writes for a decision, and how a condition written by a stampede worker is
// recognised. Pure (no queue, no tracing), so `kubectl stampede` says to the letter what a worker
// would write without loading the worker's runtime.
import type { ApprovalCondition, CsrCondition } from '@stampede/kube';
import type { Decision } from '@stampede/policy';

/** The Events' reportingController. */
export const REPORTING_CONTROLLER = 'stampede.io/approver';

// CSRs carry no managedFields (the API server does not track them for this resource), so the
// conditions this worker writes say who wrote them: every message starts with one of these.
const APPROVED_BY_US = 'stampede approved';
const DENIED_BY_US = 'stampede denied';

/** True when the condition was written by a stampede worker (so its Event is ours to ensure). */
export function writtenByUs(condition: Pick<CsrCondition, 'type' | 'message'>): boolean {
  const message = condition.message ?? '';
  return condition.type === 'Approved'
    ? message.startsWith(APPROVED_BY_US)
    : condition.type === 'Denied' && message.startsWith(DENIED_BY_US);
}

const withPrefix = (prefix: string, message: string): string =>
  message.startsWith(prefix) ? message : `${prefix}: ${message}`;

/** The condition a decision writes, or undefined when it writes none. */
export function conditionOf(decision: Decision): ApprovalCondition | undefined {
  if (decision.kind === 'approve') {
    const message = withPrefix(APPROVED_BY_US, decision.message);
    return { type: 'Approved', reason: decision.reason, message };
  }
  if (decision.kind === 'deny' && !decision.leavePending) {
    const message = withPrefix(DENIED_BY_US, decision.message);
    return { type: 'Denied', reason: decision.reason, message };
  }
  return undefined;
}
