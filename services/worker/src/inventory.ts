// The inventory fact (docs/adr/0022, docs/inventory-review.md): the worker POSTs an InventoryReview
// naming the node, the requester, the CSR and its SANs to the operator's HTTPS endpoint, and reads
// back which SANs the inventory vouches for. Anything but a well-formed answer for this very CSR —
// a network error, a timeout, a non-2xx status, a body too large or malformed, another uid — makes
// the fact `unavailable`, which the policy retries and never denies for.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { z } from 'zod';
import { INVENTORY_API_VERSION, INVENTORY_REVIEW_KIND } from '@stampede/contracts';
import { normaliseDnsName, parseIp } from '@stampede/policy';
import type { Fact, InventoryAnswer } from '@stampede/policy';

const MAX_RESPONSE_BYTES = 64 * 1024;
/** A rotated token file is picked up within this long, without a read per CSR. */
const TOKEN_TTL_MS = 60_000;

export interface InventoryOptions {
  readonly url: URL;
  /** PEM bundle that signs the endpoint's certificate; undefined: the system's CAs. */
  readonly caPem?: string;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** Sent as `Authorization: Bearer …`, re-read every minute. */
  readonly tokenFile?: string;
  readonly timeoutMs: number;
  readonly now?: () => number;
}

export interface InventoryQuestion {
  readonly csrName: string;
  readonly csrUid: string;
  readonly node: string;
  readonly username: string;
  /** The CSR's well-formed SAN keys (`dns:…`, `ip:…`), as requestedSanKeys gives them. */
  readonly sanKeys: readonly string[];
}

export interface Inventory {
  review(question: InventoryQuestion, signal: AbortSignal): Promise<Fact<InventoryAnswer>>;
}

const answerSchema = z.strictObject({
  apiVersion: z.literal(INVENTORY_API_VERSION),
  kind: z.literal(INVENTORY_REVIEW_KIND),
  response: z.strictObject({
    uid: z.string(),
    sans: z
      .array(
        z.strictObject({
          type: z.enum(['DNS', 'IP']),
          value: z.string().max(1024),
          vouched: z.boolean(),
          reason: z.string().max(512).optional(),
        }),
      )
      .max(1024),
  }),
});

/** `dns:node-a` → {type: DNS, value: node-a}; `ip:10.0.0.1` → {type: IP, value: 10.0.0.1}. */
export function sanOfKey(key: string): { type: 'DNS' | 'IP'; value: string } {
  return key.startsWith('ip:')
    ? { type: 'IP', value: key.slice(3) }
    : { type: 'DNS', value: key.slice(4) };
}

/** The SAN key an answer entry speaks of, or undefined when its value is no name or address. */
function keyOfEntry(entry: { type: 'DNS' | 'IP'; value: string }): string | undefined {
  if (entry.type === 'DNS') return `dns:${normaliseDnsName(entry.value)}`;
  const ip = parseIp(entry.value);
  return ip === undefined ? undefined : `ip:${ip.text}`;
}

/** The verdict per asked-about SAN key. A SAN named twice counts as refused unless both vouch. */
function verdictsOf(
  entries: z.output<typeof answerSchema>['response']['sans'],
  asked: ReadonlySet<string>,
): Map<string, { vouched: boolean; reason?: string }> {
  const verdicts = new Map<string, { vouched: boolean; reason?: string }>();
  for (const entry of entries) {
    const key = keyOfEntry(entry);
    if (key === undefined || !asked.has(key)) continue;
    const before = verdicts.get(key);
    const vouched = entry.vouched && (before?.vouched ?? true);
    const reason = entry.reason ?? before?.reason;
    verdicts.set(key, reason === undefined ? { vouched } : { vouched, reason });
  }
  return verdicts;
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Reads an answer body; only entries for SANs that were asked about count. */
export function readAnswer(body: string, question: InventoryQuestion): Fact<InventoryAnswer> {
  const parsed = answerSchema.safeParse(parseBody(body));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.join('.') ?? '';
    const what = at === '' ? 'not an InventoryReview' : `malformed at ${at}`;
    return { state: 'unavailable', reason: `inventory answer ${what}: ${issue?.message ?? ''}` };
  }
  const { response } = parsed.data;
  if (response.uid !== question.csrUid)
    return { state: 'unavailable', reason: 'inventory answered for another CSR (uid differs)' };
  return { state: 'known', value: verdictsOf(response.sans, new Set(question.sanKeys)) };
}

export function createInventory(options: InventoryOptions): Inventory {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 8,
    ...(options.caPem === undefined ? {} : { ca: options.caPem }),
    ...(options.clientCertPem === undefined ? {} : { cert: options.clientCertPem }),
    ...(options.clientKeyPem === undefined ? {} : { key: options.clientKeyPem }),
  });
  const now = options.now ?? Date.now;
  let token: { value: string; readAtMs: number } | undefined;
  const bearer = (): string | undefined => {
    if (options.tokenFile === undefined) return undefined;
    if (token === undefined || now() - token.readAtMs > TOKEN_TTL_MS)
      token = { value: readFileSync(options.tokenFile, 'utf8').trim(), readAtMs: now() };
    return token.value;
  };

  return {
    async review(question, signal) {
      const body = JSON.stringify({
        apiVersion: INVENTORY_API_VERSION,
        kind: INVENTORY_REVIEW_KIND,
        request: {
          uid: question.csrUid,
          csrName: question.csrName,
          node: question.node,
          username: question.username,
          sans: question.sanKeys.map(sanOfKey),
        },
      });
      try {
        const token = bearer();
        const text = await post({ options, agent, body, signal, ...(token ? { token } : {}) });
        return readAnswer(text, question);
      } catch (error) {
        if (signal.aborted) throw error;
        const detail = error instanceof Error ? error.message : String(error);
        return { state: 'unavailable', reason: `inventory: ${detail.slice(0, 200)}` };
      }
    },
  };
}

/** POSTs `body`; resolves with the response text of a 2xx, rejects on anything else. */
function post(input: {
  readonly options: InventoryOptions;
  readonly agent: Agent;
  readonly body: string;
  readonly token?: string;
  readonly signal: AbortSignal;
}): Promise<string> {
  const { options, agent, body, token, signal: jobSignal } = input;
  const signal = AbortSignal.any([jobSignal, AbortSignal.timeout(options.timeoutMs)]);
  return new Promise((resolve, reject) => {
    const req = request(
      options.url,
      {
        method: 'POST',
        agent,
        signal,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
      },
      res => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`answer larger than ${String(MAX_RESPONSE_BYTES)} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) reject(new Error(`HTTP ${String(status)}`));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error: Error) => {
      reject(
        signal.aborted && !jobSignal.aborted
          ? new Error(`timed out after ${String(options.timeoutMs)} ms`)
          : error,
      );
    });
    req.end(body);
  });
}
