// Names shared by every producer and consumer of the approval queue. Changing one is a migration: old
// watchers and new workers must agree, so these are constants here rather than configuration.

/**
 * BullMQ key prefix. The braces are a Redis Cluster hash tag: every key of the queue lands in one
 * slot, which BullMQ's multi-key Lua scripts require.
 */
export const QUEUE_PREFIX = '{stampede}';

/** The one queue: kubelet-serving CSRs waiting for a decision. */
export const APPROVAL_QUEUE = 'csr-approvals';

/** The BullMQ job name of every job on APPROVAL_QUEUE. */
export const APPROVAL_JOB = 'decide-csr';
