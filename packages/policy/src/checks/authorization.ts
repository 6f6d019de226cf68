// Rule 16: RBAC says this requester may have a self-node serving certificate.
import { show, violation } from './context.ts';
import type { CheckResult, FactContext } from './context.ts';

/** Rule 16: the SubjectAccessReview allowed `create certificatesigningrequests/<subresource>`. */
export function checkAuthorization(ctx: FactContext): CheckResult {
  const review = ctx.authorization;
  // Fail closed: a review that is somehow missing counts as a refusal.
  if (review?.allowed === true) return undefined;
  const { subresource } = ctx.policy.subjectAccessReview;
  const why = review === undefined || review.reason === '' ? '' : `: ${show(review.reason)}`;
  return violation(
    'NotAuthorized',
    `${show(ctx.request.username)} may not create certificatesigningrequests/${subresource}${why}`,
  );
}
