export {
  createRedisConnection,
  reconnectDelay,
  redactRedisUrl,
  waitForReady,
} from './connection.ts';
export type { RedisConnectionOptions, RedisRole } from './connection.ts';
export { MalformedJobError, RetryLaterError, ThrottledError } from './errors.ts';
export type { QueueLogger } from './logger.ts';
export {
  APPROVAL_ATTEMPTS,
  APPROVAL_BACKOFF,
  clampPriority,
  createApprovalQueue,
} from './producer.ts';
export type { ApprovalQueue, EnqueueItem } from './producer.ts';
export { backoffDelay, createApprovalWorker, retryDelay } from './worker.ts';
export type {
  ApprovalProcessor,
  ApprovalWorker,
  ApprovalWorkerOptions,
  BackoffOptions,
  JobContext,
  JobRetention,
} from './worker.ts';
export {
  EVICTING_NOW,
  EVICTION_RECHECK_MS,
  EvictionPolicyError,
  checkEvictionPolicy,
  maxmemoryPolicyFromInfo,
  watchEvictionPolicy,
} from './eviction.ts';
export type { EvictionWatch } from './eviction.ts';
export { RedisRequirementError, checkRedisRequirements, clusterEnabled } from './requirements.ts';
