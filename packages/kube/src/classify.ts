// Pure mapping from an HTTP outcome to the typed errors of errors.ts. No I/O.
import {
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  NotFoundError,
  PermanentError,
  RetryableError,
} from './errors.ts';
import type { KubeApiError, KubeApiErrorInit, RetryableKind } from './errors.ts';

/** Retry-After is capped so that a hostile or broken header cannot park a worker for hours. */
export const MAX_RETRY_AFTER_MS = 600_000;

/**
 * Parses an HTTP Retry-After value (delta-seconds or an HTTP-date) into milliseconds from `nowMs`.
 * Returns undefined when absent or unreadable; negative delays become 0; the result is capped at
 * {@link MAX_RETRY_AFTER_MS}.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands); never a bare number.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - nowMs, 0), MAX_RETRY_AFTER_MS);
}

export interface HttpOutcome {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The response body when it was a JSON object (a metav1.Status on errors), else undefined. */
  readonly body: unknown;
  readonly retryAfter?: string | undefined;
  readonly nowMs: number;
}

interface StatusFields {
  readonly message: string | undefined;
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;
}

function statusFields(body: unknown): StatusFields {
  if (typeof body !== 'object' || body === null) {
    return { message: undefined, reason: undefined, retryAfterSeconds: undefined };
  }
  const status = body as { message?: unknown; reason?: unknown; details?: unknown };
  const details = status.details as { retryAfterSeconds?: unknown } | null | undefined;
  const retry = details?.retryAfterSeconds;
  return {
    message: typeof status.message === 'string' ? status.message : undefined,
    reason: typeof status.reason === 'string' ? status.reason : undefined,
    retryAfterSeconds: typeof retry === 'number' && retry >= 0 ? retry : undefined,
  };
}

function retryAfterMs(outcome: HttpOutcome, fields: StatusFields): number | undefined {
  const header = parseRetryAfter(outcome.retryAfter, outcome.nowMs);
  if (header !== undefined) return header;
  if (fields.retryAfterSeconds === undefined) return undefined;
  return Math.min(fields.retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS);
}

const byStatus: Readonly<Record<number, new (init: KubeApiErrorInit) => KubeApiError>> = {
  401: ForbiddenError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  410: GoneError,
  422: InvalidError,
};

function retryableKind(status: number): RetryableKind {
  if (status === 429) return 'throttled';
  return status === 408 || status === 504 ? 'timeout' : 'server';
}

/** Maps a non-2xx response to its error class. */
export function classifyStatus(outcome: HttpOutcome): KubeApiError {
  const fields = statusFields(outcome.body);
  const { method, path, status } = outcome;
  const detail = fields.message === undefined ? '' : `: ${fields.message}`;
  const init: KubeApiErrorInit = {
    method,
    path,
    status,
    ...(fields.reason === undefined ? {} : { reason: fields.reason }),
    message: `${method} ${path}: HTTP ${status}${detail}`,
  };
  if (status === 429 || status === 408 || status >= 500) {
    const after = retryAfterMs(outcome, fields);
    return new RetryableError({
      ...init,
      kind: retryableKind(status),
      ...(after === undefined ? {} : { retryAfterMs: after }),
    });
  }
  const ErrorClass = byStatus[status] ?? PermanentError;
  return new ErrorClass(init);
}

const networkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const timeoutCodes = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  for (
    let e: unknown = error, depth = 0;
    depth < 4 && typeof e === 'object' && e !== null;
    depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Maps a failure that produced no HTTP status (socket, TLS, DNS, timeout, unreadable body) to
 * RetryableError. TLS verification failures are retryable too: a rotated CA or a restarting API
 * server presents them transiently, and a deny must never follow from them.
 */
export function classifyFailure(input: {
  readonly method: string;
  readonly path: string;
  readonly error: unknown;
}): RetryableError {
  const code = errorCode(input.error);
  const text = input.error instanceof Error ? input.error.message : String(input.error);
  const kind = code !== undefined && timeoutCodes.has(code) ? 'timeout' : 'network';
  return new RetryableError({
    method: input.method,
    path: input.path,
    kind,
    message: `${input.method} ${input.path}: ${code ?? 'error'}: ${text}`,
    cause: input.error,
  });
}

/** True for error codes known to be connection-level (used for logging; all map to retryable). */
export function isNetworkCode(code: string | undefined): boolean {
  return code !== undefined && networkCodes.has(code);
}
