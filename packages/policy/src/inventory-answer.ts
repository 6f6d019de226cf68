// The operator's inventory answer to an InventoryReview (docs/inventory-review.md), read into the
// `inventory` fact. Shared by the worker (which POSTs the review) and `stampede check` (which reads
// a saved answer). Anything but a well-formed answer for this very CSR is `unavailable`: the policy
// retries, never denies, for it. The version is in every message: a change that is not backwards
// compatible gets a new one, and both sides refuse a version they do not speak.
import { z } from 'zod';
import { normaliseDnsName } from './dns.ts';
import { parseIp } from './ip.ts';
import type { Fact, InventoryAnswer } from './types.ts';

export const INVENTORY_API_VERSION = 'stampede.io/v1alpha1';
export const INVENTORY_REVIEW_KIND = 'InventoryReview';

/** What the worker asks the inventory about one CSR. */
export interface InventoryQuestion {
  readonly csrName: string;
  readonly csrUid: string;
  readonly node: string;
  readonly username: string;
  /** The CSR's well-formed SAN keys (`dns:…`, `ip:…`), as requestedSanKeys gives them. */
  readonly sanKeys: readonly string[];
}

/** `dns:node-a` → {type: DNS, value: node-a}; `ip:10.0.0.1` → {type: IP, value: 10.0.0.1}. */
export function sanOfKey(key: string): { type: 'DNS' | 'IP'; value: string } {
  return key.startsWith('ip:')
    ? { type: 'IP', value: key.slice(3) }
    : { type: 'DNS', value: key.slice(4) };
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

/**
 * The SAN key (`dns:…`, `ip:…`) of a SAN given as type and text, in the form decide() compares
 * (an inventory's answer, a served certificate); undefined when the value is no name or address.
 */
export function sanKeyOf(entry: { type: 'DNS' | 'IP'; value: string }): string | undefined {
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
    const key = sanKeyOf(entry);
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
export function readInventoryAnswer(
  body: string,
  question: Pick<InventoryQuestion, 'csrUid' | 'sanKeys'>,
): Fact<InventoryAnswer> {
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
