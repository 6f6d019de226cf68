// Rule 14: every SAN belongs to the requesting Node. The allow-lists are fact-free and narrow it
// further (or replace it in allow-lists-only mode); ownership and contest read the Node and the
// address index.
import { normaliseDnsName } from '../dns.ts';
import { cidrContains, parseIpSloppy } from '../ip.ts';
import { isDnsSan, isIpSan, wellFormedSans } from './sans.ts';
import { sanLabel, show, violation } from './context.ts';
import type { CheckContext, CheckResult, FactContext, RequestedSan } from './context.ts';
import type { AddressClaimant, NodeFact, Violation } from '../types.ts';

const DNS_ADDRESS_TYPES: ReadonlySet<string> = new Set(['Hostname', 'InternalDNS', 'ExternalDNS']);
/** The address types the kubelet reads as an IP when it builds its CSR. */
const IP_ADDRESS_TYPES: ReadonlySet<string> = new Set(['InternalIP', 'ExternalIP', 'Hostname']);

/**
 * The SAN keys a Node reports as its own (`dns:…`, `ip:…`), in the form the SANs are keyed.
 * Addresses are read the way the kubelet reads them when it builds its CSR
 * (pkg/kubelet/certificate addressesToHostnamesAndIPs): InternalIP, ExternalIP and Hostname through
 * netutils.ParseIPSloppy, so `010.000.000.010` is 10.0.0.10 (decimal, never octal); a Hostname that
 * is an IP becomes an IP SAN and only that, any other Hostname a DNS SAN, like InternalDNS and
 * ExternalDNS. Only Node addresses are read leniently: a SAN is bytes in the request.
 */
export function reportedAddressKeys(node: NodeFact): Set<string> {
  const keys = new Set<string>([`dns:${node.name}`]);
  for (const { type, address } of node.addresses) {
    const ip = IP_ADDRESS_TYPES.has(type) ? parseIpSloppy(address) : undefined;
    if (ip !== undefined) keys.add(`ip:${ip.text}`);
    else if (DNS_ADDRESS_TYPES.has(type)) keys.add(`dns:${normaliseDnsName(address)}`);
  }
  return keys;
}

function dnsAllowListed(name: string, ctx: CheckContext): boolean | undefined {
  const { allowedDnsSuffixes, allowedDnsPattern } = ctx.policy.ownership;
  if (allowedDnsSuffixes === undefined && allowedDnsPattern === undefined) return undefined;
  const bySuffix = allowedDnsSuffixes?.some(s => name === s || name.endsWith(`.${s}`)) ?? false;
  return bySuffix || (allowedDnsPattern?.test(name) ?? false);
}

function allowListProblem(san: RequestedSan, ctx: CheckContext): string | undefined {
  const { mode, allowedIpCidrs } = ctx.policy.ownership;
  // Unconfigured list: anything in node-addresses mode (ownership decides), nothing in allow-lists-only.
  const unconfigured = mode === 'node-addresses';
  if (isDnsSan(san)) {
    // The requester's own name is always its own (its identity is already bound by username and CN).
    if (san.name === ctx.nodeName) return undefined;
    const allowed = dnsAllowListed(san.name, ctx) ?? unconfigured;
    return allowed ? undefined : 'ownership.allowedDnsSuffixes or ownership.allowedDnsPattern';
  }
  if (isIpSan(san) && san.ip !== undefined) {
    const { ip } = san;
    const allowed = allowedIpCidrs?.some(cidr => cidrContains(cidr, ip)) ?? unconfigured;
    return allowed ? undefined : 'ownership.allowedIpCidrs';
  }
  return undefined;
}

/** Rule 14, allow-lists: every SAN but the node name is inside the configured allow-lists. */
export function checkAllowLists(ctx: CheckContext): CheckResult {
  return wellFormedSans(ctx.sans).flatMap(san => {
    const list = allowListProblem(san, ctx);
    return list === undefined
      ? []
      : [violation('SanNotAllowed', `${sanLabel(san)} is not allowed by ${list}`)];
  });
}

/** Rule 14: every SAN is the node name or one of the Node's reported addresses of a fitting type. */
export function checkOwnership(ctx: FactContext): CheckResult {
  const owned = reportedAddressKeys(ctx.node);
  const nodeName = show(ctx.node.name);
  return wellFormedSans(ctx.sans).flatMap(san => {
    if (owned.has(san.key)) return [];
    const what = san.kind === 'dns' ? 'the node name or a DNS address' : 'an IP address';
    return [violation('SanNotOwned', `${sanLabel(san)} is not ${what} of Node ${nodeName}`)];
  });
}

/** A creation time that is not a number counts as the newest, so it can never win a contest. */
const age = (c: AddressClaimant): number =>
  Number.isFinite(c.createdAtMs) ? c.createdAtMs : Infinity;

/** Orders Nodes by age: the older one owns a contested address; the name breaks a tie. */
const isOlder = (a: AddressClaimant, b: AddressClaimant): boolean =>
  age(a) < age(b) || (age(a) === age(b) && a.node < b.node);

/**
 * Rule 14, contested SANs: an address another Node also reports belongs to the oldest of them, so a
 * newer Node can neither take an older Node's address nor block its certificate. A Node's own name is
 * always its own: the requester's is never contested, and another Node's name is never the requester's.
 */
export function checkContested(ctx: FactContext): CheckResult {
  const self: AddressClaimant = { node: ctx.node.name, createdAtMs: ctx.node.createdAtMs };
  const found: Violation[] = [];
  for (const san of wellFormedSans(ctx.sans)) {
    if (san.kind === 'dns' && san.name === ctx.node.name) continue;
    const others = ctx.claimants(san.key).filter(claimant => claimant.node !== self.node);
    const named =
      san.kind === 'dns' ? others.find(claimant => claimant.node === san.name) : undefined;
    if (named !== undefined) {
      const message = `${sanLabel(san)} is the name of Node ${show(named.node)}`;
      found.push(violation('SanContested', message));
      continue;
    }
    const oldest = others.reduce<AddressClaimant>((a, b) => (isOlder(b, a) ? b : a), self);
    if (oldest === self) continue;
    const message = `${sanLabel(san)} is also reported by Node ${show(oldest.node)}, which is older and owns it`;
    found.push(violation('SanContested', message));
  }
  return found;
}
