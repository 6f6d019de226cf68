// The approval job: a pointer to a CSR, never its content. The worker re-reads the CSR from the API
// server (the truth) and checks the uid, so nothing in Redis is trusted beyond "look at this CSR".
import { z } from 'zod';

/** Kubernetes UIDs are UUIDs; accept any short token of the same alphabet so a test cluster may differ. */
const uid = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z-]{0,127}$/, 'must be 1-128 letters, digits or dashes');

/**
 * CSR names are not validated by the API server beyond being a path segment. A kubelet's CSR is named
 * `csr-xxxxx`; longer or odd names are refused here (and so stay pending, never approved).
 */
const name = z
  .string()
  .min(1)
  .max(253)
  .refine(s => s !== '.' && s !== '..' && !/[/%\s]/.test(s), 'must be a path segment');

/**
 * Written by watchers before this field was dropped (nothing reads it: the worker reads the CSR
 * and writes conditioned on the version it read). Still accepted, so jobs queued by an older
 * watcher during an upgrade are processed, not failed as malformed; never written.
 */
const resourceVersion = z
  .string()
  .regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters');

/** W3C Trace Context, version 00 (https://www.w3.org/TR/trace-context/#traceparent-header). */
const traceparent = z
  .string()
  .regex(
    /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/,
    'must be a W3C traceparent',
  );

const trace = z.strictObject({
  traceparent,
  tracestate: z.string().max(512).optional(),
});

/** The job payload. Strict: an unknown field is a malformed job, not something to ignore. */
export const csrJobSchema = z.strictObject({
  uid,
  name,
  resourceVersion: resourceVersion.optional(),
  trace: trace.optional(),
});

/** A parsed, valid job payload. Built only by parseCsrJob, so holding one proves it was checked. */
export type CsrJob = z.infer<typeof csrJobSchema>;

/** The W3C trace carrier the watcher injects and the worker extracts. */
export type TraceCarrier = z.infer<typeof trace>;

export type CsrJobResult =
  { readonly ok: true; readonly job: CsrJob } | { readonly ok: false; readonly error: string };

/**
 * Parses untrusted job data once, at the boundary. On failure, `error` names every bad field
 * (`uid: must be …; trace.traceparent: …`) so the failed job explains itself in Bull Board.
 */
export function parseCsrJob(data: unknown): CsrJobResult {
  const parsed = csrJobSchema.safeParse(data);
  if (parsed.success) return { ok: true, job: parsed.data };
  const error = parsed.error.issues
    .map(issue => `${issue.path.length > 0 ? issue.path.join('.') : '(payload)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, error };
}

/**
 * The deduplication id of a CSR's job: one live job per CSR object, however many watchers enqueue it
 * and however often (docs/adr/0005). Keyed by uid, not name: a CSR deleted and re-created under the
 * same name is a different object and gets its own job.
 */
export function deduplicationId(csrUid: string): string {
  return `csr:${csrUid}`;
}
