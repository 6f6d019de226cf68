export { APPROVAL_JOB, APPROVAL_QUEUE, QUEUE_PREFIX } from './queue.ts';
export { csrJobSchema, deduplicationId, parseCsrJob } from './csr-job.ts';
export type { CsrJob, CsrJobResult, TraceCarrier } from './csr-job.ts';
export { INVENTORY_API_VERSION, INVENTORY_REVIEW_KIND } from './inventory-review.ts';
