// Typed errors: each class tells the caller how to react, as bullmq's UnrecoverableError does.
// A transient failure is never reported as anything a policy could read as a deny.

/** What made a request retryable. */
export type RetryableKind = 'network' | 'timeout' | 'throttled' | 'server';

export interface KubeApiErrorInit {
  readonly message: string;
  readonly method: string;
  readonly path: string;
  /** HTTP status, absent for network failures and timeouts. */
  readonly status?: number;
  /** `Status.reason` from the API server (e.g. `Conflict`, `NotFound`, `Forbidden`). */
  readonly reason?: string;
  readonly cause?: unknown;
}

/** Base class of every error this package rejects with. */
export class KubeApiError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly reason: string | undefined;

  constructor(init: KubeApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.reason = init.reason;
  }
}

/**
 * Network failure, timeout, 408, 429 or 5xx: retry later with backoff. `retryAfterMs` is the
 * server's Retry-After when it sent one (429 and some 5xx); wait at least that long.
 */
export class RetryableError extends KubeApiError {
  readonly kind: RetryableKind;
  readonly retryAfterMs: number | undefined;

  constructor(
    init: KubeApiErrorInit & { readonly kind: RetryableKind; readonly retryAfterMs?: number },
  ) {
    super(init);
    this.kind = init.kind;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** 409: the object changed since it was read (resourceVersion or uid precondition). Re-read. */
export class ConflictError extends KubeApiError {}

/** 404: the object (or its namespace) does not exist. */
export class NotFoundError extends KubeApiError {}

/** 410: the resourceVersion or continue token is too old. List/watch relists; others re-read. */
export class GoneError extends KubeApiError {}

/**
 * The same request will fail again (400, 405, 406, 413, 415, other 4xx): a bug or a
 * misconfiguration. Fail the job and alert; never deny a CSR because of it.
 */
export class PermanentError extends KubeApiError {}

/** 401 or 403: missing credentials or RBAC (e.g. `approve` on the signer). Permanent. */
export class ForbiddenError extends PermanentError {}

/** 422: the API server rejected the body (e.g. a duplicate Approved condition). Permanent. */
export class InvalidError extends PermanentError {}
