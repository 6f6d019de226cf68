// What a check reads. Checks are pure functions of a context and return the violations they find;
// decide() builds the context once per CSR (parse, normalise SANs) and runs the ordered table.
import type { Cidr, IpAddress } from '../ip.ts';
import type { Policy } from '../policy.ts';
import type {
  AddressClaimant,
  CsrRequest,
  FactName,
  GeneralName,
  InventoryAnswer,
  NodeFact,
  ParsedCsr,
  ParseResult,
  SignatureVerifier,
  Violation,
} from '../types.ts';

/** Why a DNS SAN is not a host name: its violation code and the end of a message about it. */
export interface DnsNameProblem {
  readonly code: 'InvalidDnsName' | 'DnsNameIsIpLiteral';
  readonly text: string;
}

/** A requested SAN, normalised once so every check compares the same form. */
export type RequestedSan =
  | {
      readonly kind: 'dns';
      /** As encoded in the request. */
      readonly raw: string;
      /** ASCII-lowercase, one trailing dot removed. */
      readonly name: string;
      /** Why the name is not a host name (rule 11), or undefined; such a name takes no part in later rules. */
      readonly problem: DnsNameProblem | undefined;
      /** `dns:<name>`: the key of the address index (Facts.claimants). */
      readonly key: string;
    }
  | {
      readonly kind: 'ip';
      readonly raw: string;
      /** Undefined when the encoded address is not 4 or 16 bytes. */
      readonly ip: IpAddress | undefined;
      /** `ip:<canonical>`, IPv4-mapped IPv6 folded to IPv4. */
      readonly key: string;
    }
  | { readonly kind: 'other'; readonly name: GeneralName };

/** Everything known without asking the API: the request, the policy and what was parsed from it. */
export interface CheckContext {
  readonly request: CsrRequest;
  readonly policy: Policy;
  /** The node name from `spec.username`, or undefined when the username is not a node identity. */
  readonly nodeName: string | undefined;
  /** Undefined when the request was too large to parse. */
  readonly parsed: ParseResult | undefined;
  /** The SANs of the parsed request; empty when it did not parse. */
  readonly sans: readonly RequestedSan[];
  readonly verifier: SignatureVerifier;
}

/** A check that also reads facts from the API; decide() runs it only once its facts are known. */
export interface FactContext extends CheckContext {
  readonly node: NodeFact;
  readonly claimants: (key: string) => readonly AddressClaimant[];
  readonly authorization: { readonly allowed: boolean; readonly reason: string } | undefined;
  /** The cluster's Service IP ranges, parsed; undefined unless a row that needs them runs. */
  readonly serviceRanges: readonly Cidr[] | undefined;
  /** The inventory's verdicts; undefined unless the inventory row runs. */
  readonly inventory: InventoryAnswer | undefined;
}

export type CheckResult = Violation | readonly Violation[] | undefined;

/** One row of the ordered rule table. */
export type Check =
  | {
      readonly name: string;
      readonly needs: readonly [];
      readonly check: (ctx: CheckContext) => CheckResult;
    }
  | {
      readonly name: string;
      readonly needs: readonly [FactName, ...FactName[]];
      /** Whether the policy turns this check on (e.g. SubjectAccessReview enabled). */
      readonly enabled: (policy: Policy) => boolean;
      readonly check: (ctx: FactContext) => CheckResult;
    };

export const violation = (code: string, message: string): Violation => ({ code, message });

const PLAIN = /^[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?$/;
const UNSAFE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g;

/**
 * Shows a value taken from the request in a message. Requests are attacker-controlled: anything but
 * short printable ASCII (inner spaces allowed) is quoted, escaped and truncated, so no control character reaches a condition
 * message, an Event or a log line.
 */
export function show(value: string): string {
  if (PLAIN.test(value)) return value;
  const cut = value.length > 64 ? value.slice(0, 64) : value;
  const escaped = cut.replace(UNSAFE, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}"${cut === value ? '' : '…'}`;
}

/** The successfully parsed request, or undefined (the parse failure is reported by its own check). */
export function parsedCsr(ctx: CheckContext): ParsedCsr | undefined {
  return ctx.parsed?.ok === true ? ctx.parsed.csr : undefined;
}

/** Human label of a SAN for messages: `DNS SAN node-a`, `IP SAN 10.0.0.1`. */
export function sanLabel(san: Exclude<RequestedSan, { kind: 'other' }>): string {
  return san.kind === 'dns'
    ? `DNS SAN ${show(san.raw)}`
    : `IP SAN ${show(san.ip?.text ?? san.raw)}`;
}
