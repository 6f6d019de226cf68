// How a processor tells the queue what to do with a job it could not finish. The worker factory maps
// each class to BullMQ's mechanism (worker.ts); processors never import BullMQ themselves.

/** The job's payload is not a valid job. It fails alone, at once, with no retry. */
export class MalformedJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedJobError';
  }
}

/**
 * Try the job again after `delayMs` (a retry attempt with this exact delay instead of the computed
 * backoff). Used when the caller knows when a retry can first succeed, e.g. the end of a grace window.
 */
export class RetryLaterError extends Error {
  readonly delayMs: number;

  constructor(message: string, delayMs: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryLaterError';
    this.delayMs = delayMs;
  }
}

/**
 * The downstream service asked every client to slow down (HTTP 429 with Retry-After). The whole
 * queue pauses for `retryAfterMs` on every worker, and the job goes back to waiting without using
 * an attempt: it did nothing wrong.
 */
export class ThrottledError extends Error {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ThrottledError';
    this.retryAfterMs = retryAfterMs;
  }
}
