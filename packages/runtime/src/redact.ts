// Secrets never reach a log line: known secret fields are censored by name, and any string that
// looks like one (PEM blocks, base64 PEM, bearer tokens, JWTs, passwords in Redis URLs) is censored
// by shape, wherever it sits (message, error text, nested fields).

export const CENSORED = '[redacted]';

const SHAPES: readonly (readonly [RegExp, string])[] = [
  // PEM blocks, whole or cut off (a truncated error message keeps only the head).
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g, CENSORED],
  // base64 of "-----BEGIN" (how a CSR's spec.request and kubeconfig *-data fields carry PEM).
  [/LS0tLS1CRUdJTi[A-Za-z0-9+/=]*/g, CENSORED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${CENSORED}`],
  // JWTs (service account tokens): three base64url segments, the first a JSON header.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, CENSORED],
  // user:password@ in URLs (redis://, rediss://, http://).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]+@/gi, `$1${CENSORED}@`],
];

/** Field names whose values are secret whatever they look like. */
const SECRET_KEYS =
  /^(password|passwd|token|bearer|authorization|secret|client-key-data|clientKey|privateKey|request|certificate|tls\.key)$/i;

export function redactString(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
  return out;
}

function redactError(error: Error): Record<string, unknown> {
  return {
    type: error.name,
    message: redactString(error.message),
    ...(error.stack === undefined ? {} : { stack: redactString(error.stack) }),
  };
}

/** A copy of `value` with secrets censored; depth-limited and cycle-safe. */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  return redactObject(value, depth, seen);
}

function redactObject(value: object, depth: number, seen: WeakSet<object>): unknown {
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map(item => redactValue(item, depth + 1, seen));
  if (value instanceof Error) return redactError(value);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const secret = SECRET_KEYS.test(key) && item !== undefined;
    out[key] = secret ? CENSORED : redactValue(item, depth + 1, seen);
  }
  return out;
}
