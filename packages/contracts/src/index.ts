export { APPROVAL_JOB, APPROVAL_QUEUE, QUEUE_PREFIX } from './queue.ts';
export { csrJobSchema, deduplicationId, parseCsrJob } from './csr-job.ts';
export type { CsrJob, CsrJobResult, TraceCarrier } from './csr-job.ts';
