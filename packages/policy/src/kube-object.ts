// Kubernetes objects (as the API or `kubectl get -o json|yaml` gives them) mapped to the policy's
// inputs. Pure: the worker maps what it GETs, `stampede check` maps files, tests map fixtures.
import { z } from 'zod';
import { reportedAddressKeys } from './checks/ownership.ts';
import { decodeBase64LikeGo } from './csr/pem.ts';
import type { AddressClaimant, CsrRequest, NodeFact } from './types.ts';

export type Mapped<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Days from 1970-01-01 to a proleptic Gregorian date (no Date: the core has no clock). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const minutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  return zone.startsWith('-') ? -minutes : minutes;
}

function validDate(year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day >= 1 && day <= days;
}

interface Civil {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly ms: number;
  readonly offsetMinutes: number;
}

function readTimestamp(text: string): Civil | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map(Number);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    ms,
    offsetMinutes: zoneOffsetMinutes(m[8] ?? 'Z'),
  };
}

const validTime = (c: Civil): boolean =>
  validDate(c.year, c.month, c.day) && c.hour <= 23 && c.minute <= 59 && c.second <= 60;

/** An RFC 3339 timestamp (`metadata.creationTimestamp`) in ms since the epoch, or undefined. */
export function parseKubeTimestamp(text: string): number | undefined {
  const c = readTimestamp(text);
  if (c === undefined || !validTime(c)) return undefined;
  const seconds =
    daysFromCivil(c.year, c.month, c.day) * 86_400 + c.hour * 3600 + c.minute * 60 + c.second;
  return (seconds - c.offsetMinutes * 60) * 1000 + c.ms;
}

/** An RFC 3339 time, parsed to ms since the epoch (Kubernetes objects and the policy file). */
export const rfc3339Ms = z.string().transform((text, ctx) => {
  const ms = parseKubeTimestamp(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(text.slice(0, 40))} is not an RFC 3339 time`,
    });
    return z.NEVER;
  }
  return ms;
});

const metadata = z.looseObject({
  name: z.string().min(1),
  uid: z.string().default(''),
  creationTimestamp: rfc3339Ms,
  deletionTimestamp: z.string().nullish(),
});

const kindIs = (kind: string) => z.literal(kind).optional();

const csrObject = z.looseObject({
  kind: kindIs('CertificateSigningRequest'),
  metadata,
  spec: z.looseObject({
    request: z.string(),
    signerName: z.string(),
    usages: z.array(z.string()).default([]),
    username: z.string().default(''),
    uid: z.string().optional(),
    groups: z.array(z.string()).default([]),
    extra: z.record(z.string(), z.array(z.string())).default({}),
    expirationSeconds: z.int().optional(),
  }),
  status: z
    .looseObject({
      conditions: z.array(z.looseObject({ type: z.string() })).nullish(),
      certificate: z.string().nullish(),
    })
    .optional(),
});

const nodeObject = z.looseObject({
  kind: kindIs('Node'),
  metadata,
  status: z
    .looseObject({
      addresses: z.array(z.looseObject({ type: z.string(), address: z.string() })).nullish(),
    })
    .optional(),
});

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid object';
  const path = issue.path.map(String).join('.');
  return `${path === '' ? '(object)' : path}: ${issue.message}`;
}

const asciiBytes = (text: string): Uint8Array =>
  Uint8Array.from(text, c => Math.min(c.charCodeAt(0), 0xff));

/** A CertificateSigningRequest object → CsrRequest (spec.request base64-decoded). */
export function csrRequestFromObject(object: unknown): Mapped<CsrRequest> {
  const parsed = csrObject.safeParse(object);
  if (!parsed.success)
    return { ok: false, error: `not a CertificateSigningRequest: ${firstIssue(parsed.error)}` };
  const { metadata: meta, spec, status } = parsed.data;
  const text = asciiBytes(spec.request);
  const request = decodeBase64LikeGo(text, 0, text.length);
  if (request === undefined) return { ok: false, error: 'spec.request is not base64' };
  return {
    ok: true,
    value: {
      name: meta.name,
      uid: meta.uid,
      signerName: spec.signerName,
      username: spec.username,
      ...(spec.uid === undefined ? {} : { requesterUid: spec.uid }),
      groups: spec.groups,
      extra: spec.extra,
      usages: spec.usages,
      ...(spec.expirationSeconds === undefined
        ? {}
        : { expirationSeconds: spec.expirationSeconds }),
      request: request.bytes,
      conditionTypes: (status?.conditions ?? []).map(c => c.type),
      hasCertificate: (status?.certificate ?? '') !== '',
      deleting: (meta.deletionTimestamp ?? '') !== '',
      createdAtMs: meta.creationTimestamp,
    },
  };
}

/** A Node object → NodeFact. */
export function nodeFactFromObject(object: unknown): Mapped<NodeFact> {
  const parsed = nodeObject.safeParse(object);
  if (!parsed.success) return { ok: false, error: `not a Node: ${firstIssue(parsed.error)}` };
  const { metadata: meta, status } = parsed.data;
  const addresses = (status?.addresses ?? []).map(({ type, address }) => ({ type, address }));
  return { ok: true, value: { name: meta.name, createdAtMs: meta.creationTimestamp, addresses } };
}

const listObject = z.looseObject({
  kind: z.enum(['List', 'NodeList']),
  items: z.array(z.unknown()),
});

/** A Node, or a List / NodeList of Nodes (what `kubectl get nodes -o json` prints) → NodeFacts. */
export function nodeFactsFromObject(object: unknown): Mapped<NodeFact[]> {
  const list = listObject.safeParse(object);
  if (!list.success) {
    const node = nodeFactFromObject(object);
    return node.ok ? { ok: true, value: [node.value] } : node;
  }
  const nodes: NodeFact[] = [];
  for (const [i, item] of list.data.items.entries()) {
    const node = nodeFactFromObject(item);
    if (!node.ok) return { ok: false, error: `items[${i}]: ${node.error}` };
    nodes.push(node.value);
  }
  return { ok: true, value: nodes };
}

/**
 * The address index over a set of Nodes: for a SAN key (`dns:…`, `ip:…`), every Node that reports
 * it. Built with the same normalisation the ownership check uses (reportedAddressKeys).
 */
export function addressIndex(
  nodes: readonly NodeFact[],
): (key: string) => readonly AddressClaimant[] {
  const index = new Map<string, AddressClaimant[]>();
  for (const node of nodes) {
    for (const key of reportedAddressKeys(node)) {
      const claimants = index.get(key) ?? [];
      claimants.push({ node: node.name, createdAtMs: node.createdAtMs });
      index.set(key, claimants);
    }
  }
  return key => index.get(key) ?? [];
}
