// Rules 10–13: the shape of the subject alternative names, before asking who owns them.
import { hostnameProblem, isIpLiteralName, normaliseDnsName } from '../dns.ts';
import { cidrContains, embeddedIpv4, parseIp, specialIpClass } from '../ip.ts';
import type { IpAddress } from '../ip.ts';
import { sanLabel, show, violation } from './context.ts';
import type { CheckContext, CheckResult, DnsNameProblem, RequestedSan } from './context.ts';
import type { Policy } from '../policy.ts';
import type { GeneralName, Violation } from '../types.ts';

type NameSan = Extract<RequestedSan, { kind: 'dns' }>;
type IpSan = Extract<RequestedSan, { kind: 'ip' }>;

/** Rule 11: why a normalised DNS SAN is not a host name, or undefined. */
function dnsNameProblem(name: string): DnsNameProblem | undefined {
  const invalid = hostnameProblem(name);
  if (invalid !== undefined) return { code: 'InvalidDnsName', text: invalid };
  // Always denied, even for the node name: the kubelet puts a Hostname that is an IP into an IP
  // SAN, where rules 12–14 see the address; as a DNS SAN it would slip past them.
  if (isIpLiteralName(name)) {
    return {
      code: 'DnsNameIsIpLiteral',
      text: 'is an IP literal, not a host name (its last label is all digits); an address belongs in an IP SAN',
    };
  }
  return undefined;
}

/** Normalises each SAN once: DNS names lowercased without a trailing dot, IPs canonical and folded. */
export function requestedSans(names: readonly GeneralName[]): RequestedSan[] {
  return names.map((name): RequestedSan => {
    if (name.kind === 'dns') {
      const normalised = normaliseDnsName(name.value);
      const problem = dnsNameProblem(normalised);
      return { kind: 'dns', raw: name.value, name: normalised, problem, key: `dns:${normalised}` };
    }
    if (name.kind === 'ip') {
      const ip = parseIp(name.value);
      return { kind: 'ip', raw: name.value, ip, key: `ip:${ip?.text ?? name.value}` };
    }
    return { kind: 'other', name };
  });
}

export const isDnsSan = (san: RequestedSan): san is NameSan => san.kind === 'dns';
export const isIpSan = (san: RequestedSan): san is IpSan => san.kind === 'ip';

/** DNS names that are valid hostnames, and IPs that parsed: the SANs later rules reason about. */
export function wellFormedSans(sans: readonly RequestedSan[]): (NameSan | IpSan)[] {
  return sans.filter(
    (san): san is NameSan | IpSan =>
      (san.kind === 'dns' && san.problem === undefined) ||
      (san.kind === 'ip' && san.ip !== undefined),
  );
}

/** Rule 10: at least one DNS or IP SAN, at most maxSans SANs in total. */
export function checkSanCount(ctx: CheckContext): CheckResult {
  if (ctx.parsed?.ok !== true) return undefined;
  const { maxSans } = ctx.policy;
  if (ctx.sans.length > maxSans) {
    return violation(
      'TooManySans',
      `request has ${ctx.sans.length} SANs, more than maxSans ${maxSans}`,
    );
  }
  if (!ctx.sans.some(san => san.kind !== 'other')) {
    return violation('NoSans', 'request has no DNS or IP subject alternative name');
  }
  return undefined;
}

/** Rule 10: only DNS names and IP addresses; email, URI, otherName and the rest are refused. */
export function checkSanTypes(ctx: CheckContext): CheckResult {
  return ctx.sans.flatMap(san =>
    san.kind === 'other'
      ? [
          violation(
            'DisallowedSanType',
            `${san.name.kind} SAN ${show(san.name.value)} is not allowed`,
          ),
        ]
      : [],
  );
}

/** Rule 10: no two SANs are the same after normalisation (`Node-A.` and `node-a`, `::ffff:10.0.0.1` and `10.0.0.1`). */
export function checkDuplicateSans(ctx: CheckContext): CheckResult {
  const seen = new Map<string, NameSan | IpSan>();
  const found: Violation[] = [];
  for (const san of wellFormedSans(ctx.sans)) {
    const first = seen.get(san.key);
    if (first === undefined) seen.set(san.key, san);
    else found.push(violation('DuplicateSan', `${sanLabel(san)} repeats ${sanLabel(first)}`));
  }
  return found;
}

/**
 * Rule 11: DNS SANs are RFC 1123 hostnames (no wildcards, no empty labels, no stray characters),
 * and not IP literals such as `10.0.0.11`.
 */
export function checkDnsNames(ctx: CheckContext): CheckResult {
  return ctx.sans
    .filter(isDnsSan)
    .flatMap(san =>
      san.problem === undefined
        ? []
        : [violation(san.problem.code, `${sanLabel(san)} ${san.problem.text}`)],
    );
}

/** Rule 12, IPv6 that embeds IPv4 (when `reserved.embeddedIpv4`): the message, or undefined. */
function embeddedIpv4Problem(ip: IpAddress, ctx: CheckContext): string | undefined {
  if (!ctx.policy.reserved.embeddedIpv4) return undefined;
  const embedded = embeddedIpv4(ip);
  if (embedded === undefined) return undefined;
  const what = embedded.ipv4 === undefined ? 'an IPv4 address' : `IPv4 ${embedded.ipv4}`;
  return `embeds ${what} (${embedded.label} ${embedded.range}); request the IPv4 address itself`;
}

/**
 * Rule 12: IP SANs are 4 or 16 bytes and not loopback, unspecified, link-local, multicast or
 * broadcast, nor (by default) an IPv6 form that embeds an IPv4 address.
 */
export function checkIpAddresses(ctx: CheckContext): CheckResult {
  return ctx.sans.filter(isIpSan).flatMap(san => {
    if (san.ip === undefined) {
      return [
        violation('InvalidIpAddress', `IP SAN ${show(san.raw)} is not a 4- or 16-byte address`),
      ];
    }
    const special = specialIpClass(san.ip);
    if (special !== undefined) {
      return [violation('DisallowedIp', `${sanLabel(san)} is a ${special} address`)];
    }
    const embedded = embeddedIpv4Problem(san.ip, ctx);
    if (embedded === undefined) return [];
    return [violation('EmbeddedIpv4Address', `${sanLabel(san)} ${embedded}`)];
  });
}

/**
 * Why a normalised DNS name is reserved (localhost, the kubernetes Service names, cloud metadata
 * names, *.svc, …), or undefined.
 */
export function reservedNameProblem(name: string, policy: Policy): string | undefined {
  if (policy.reserved.names.has(name)) return 'is a reserved name';
  const suffix = policy.reserved.nameSuffixes.find(s => name.endsWith(s));
  return suffix === undefined ? undefined : `is under the reserved suffix ${suffix}`;
}

/** Rule 13: no reserved name and no reserved IP (case-insensitive, trailing dot ignored). */
export function checkReserved(ctx: CheckContext): CheckResult {
  const { policy } = ctx;
  return wellFormedSans(ctx.sans).flatMap(san => {
    if (san.kind === 'dns') {
      const problem = reservedNameProblem(san.name, policy);
      return problem === undefined
        ? []
        : [violation('ReservedName', `${sanLabel(san)} ${problem}`)];
    }
    const { ip } = san;
    if (ip === undefined) return [];
    const reserved = policy.reserved.ips.find(r => cidrContains(r.cidr, ip));
    if (reserved === undefined) return [];
    const where =
      reserved.source === 'built-in'
        ? `built-in reserved IP ${reserved.cidr.text}`
        : `reserved.ips ${reserved.cidr.text}`;
    return [violation('ReservedIp', `${sanLabel(san)} is reserved (${where})`)];
  });
}
