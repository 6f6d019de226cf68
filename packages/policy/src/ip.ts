// IP addresses and CIDR prefixes, parsed strictly and compared in one canonical form.
// A SAN, a Node address and a policy CIDR are all read through here, so `10.0.0.1`,
// `::ffff:10.0.0.1` and `::FFFF:a00:1` are the same address everywhere in the policy.

/** An address as bytes: 4 for IPv4, 16 for IPv6. IPv4-mapped IPv6 is folded to IPv4 by `parseIp`. */
export interface IpAddress {
  readonly bytes: Uint8Array;
  /** Canonical text: dotted quad, or RFC 5952 compressed lowercase IPv6. */
  readonly text: string;
}

export interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
  /** Canonical text, e.g. `10.0.0.0/8`, `fd00::/8`. */
  readonly text: string;
}

const V4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    // Leading zeros are refused, as Go's netip does: `010` is octal to some parsers.
    if (!V4_OCTET.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseV6Groups(groups: readonly string[], out: number[]): boolean {
  for (const group of groups) {
    if (!V6_GROUP.test(group)) return false;
    out.push(parseInt(group, 16));
  }
  return true;
}

/** Splits a trailing embedded IPv4 (`::ffff:1.2.3.4`) into two 16-bit groups. */
function splitEmbeddedV4(groups: string[]): string[] | undefined {
  const last = groups.at(-1);
  if (!last?.includes('.')) return groups;
  const v4 = parseV4(last);
  if (v4 === undefined) return undefined;
  const hi = ((v4[0] ?? 0) << 8) | (v4[1] ?? 0);
  const lo = ((v4[2] ?? 0) << 8) | (v4[3] ?? 0);
  return [...groups.slice(0, -1), hi.toString(16), lo.toString(16)];
}

/** Splits `a:b::c:d` into the groups before and after `::` (after is undefined without `::`). */
function splitV6(text: string): { head: string[]; tail: string[] | undefined } | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const [before = '', after] = halves;
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  // The embedded IPv4 may only be the very last part of the address.
  if (after === undefined) {
    const head = splitEmbeddedV4(groups(before));
    return head && { head, tail: undefined };
  }
  const tail = splitEmbeddedV4(groups(after));
  return tail && { head: groups(before), tail };
}

function parseV6(text: string): Uint8Array | undefined {
  const split = splitV6(text);
  if (split === undefined) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  if (!parseV6Groups(split.head, head) || !parseV6Groups(split.tail ?? [], tail)) return undefined;
  const total = head.length + tail.length;
  if (split.tail === undefined ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  }
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function formatV6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map(g => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

/** Canonical text of 4 or 16 address bytes (no folding). */
export function formatIpBytes(bytes: Uint8Array): string {
  return bytes.length === 4 ? bytes.join('.') : formatV6(bytes);
}

/** Folds an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) to its IPv4 bytes. */
function fold(bytes: Uint8Array): Uint8Array {
  return isV4Mapped(bytes) ? bytes.slice(12) : bytes;
}

/**
 * Parses an IPv4 or IPv6 address in text form (any letter case, `::` compression, embedded IPv4).
 * Zones (`%eth0`), prefixes and leading zeros in IPv4 octets are refused. IPv4-mapped IPv6 is folded.
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const raw = text.includes(':') ? parseV6(text) : parseV4(text);
  if (raw === undefined) return undefined;
  const bytes = fold(raw);
  return { bytes, text: formatIpBytes(bytes) };
}

/**
 * Parses `address/length`. Host bits must be zero, so a typo like `10.0.0.1/8` is caught at load;
 * `hostBits: 'mask'` clears them instead, as Go's net.ParseCIDR does.
 */
export function parseCidr(
  text: string,
  hostBits: 'refuse' | 'mask' = 'refuse',
): { cidr: Cidr } | { error: string } {
  const slash = text.indexOf('/');
  if (slash < 0) return { error: 'missing /prefix-length' };
  const address = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const raw = address.includes(':') ? parseV6(address) : parseV4(address);
  if (raw === undefined) return { error: `${JSON.stringify(address)} is not an IP address` };
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(lengthText)) return { error: 'bad prefix length' };
  const folded = isV4Mapped(raw) && Number(lengthText) >= 96;
  const bytes = folded ? raw.slice(12) : raw;
  const prefixLength = Number(lengthText) - (folded ? 96 : 0);
  if (prefixLength > bytes.length * 8) return { error: `prefix length ${lengthText} is too long` };
  const masked = maskBytes(bytes, prefixLength);
  const canonical = `${formatIpBytes(masked)}/${prefixLength}`;
  if (hostBits === 'refuse' && !bytesEqual(masked, bytes)) {
    return { error: `host bits are set; did you mean ${canonical}?` };
  }
  return { cidr: { bytes: masked, prefixLength, text: canonical } };
}

/** An address, or a CIDR; a bare address becomes a /32 or /128. */
export function parseIpOrCidr(text: string): { cidr: Cidr } | { error: string } {
  if (text.includes('/')) return parseCidr(text);
  const ip = parseIp(text);
  if (ip === undefined) return { error: `${JSON.stringify(text)} is not an IP address or CIDR` };
  const prefixLength = ip.bytes.length * 8;
  return { cidr: { bytes: ip.bytes, prefixLength, text: `${ip.text}/${prefixLength}` } };
}

function maskBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    out[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Whether `ip` (already folded by `parseIp`) lies inside `cidr`. IPv4 never matches an IPv6 prefix. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.bytes.length !== ip.bytes.length) return false;
  const whole = cidr.prefixLength >> 3;
  for (let i = 0; i < whole; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((ip.bytes[whole] ?? 0) & mask) === (cidr.bytes[whole] ?? 0);
}

/**
 * Strips leading zeros the way k8s.io/utils/net's ParseIPSloppy tolerates them before it reads the
 * address as Go 1.16's net.ParseIP did: in a trailing dotted quad (`010.000.000.010` → `10.0.0.10`,
 * read as decimal, never octal) and in IPv6 groups (`fd00::00001` → `fd00::1`; a group whose value
 * exceeds 0xffff still fails). Anything else is returned unchanged. Written without a backtracking
 * regex: Node addresses are free-form strings.
 */
function stripLeadingZeros(text: string): string {
  const colon = text.lastIndexOf(':');
  const tail = text.slice(colon + 1);
  const parts = tail.split('.');
  const quad =
    parts.length === 4 && parts.every(part => /^[0-9]+$/.test(part))
      ? parts.map(part => part.replace(/^0+(?=[0-9])/, '')).join('.')
      : tail;
  if (colon === -1) return quad;
  const groups = text
    .slice(0, colon)
    .split(':')
    .map(group => (/^[0-9a-fA-F]+$/.test(group) ? group.replace(/^0+(?=[0-9a-fA-F])/, '') : group));
  const last = /^[0-9a-fA-F]+$/.test(quad) ? quad.replace(/^0+(?=[0-9a-fA-F])/, '') : quad;
  return `${groups.join(':')}:${last}`;
}

/**
 * Parses an address the way the kubelet and the API server read one (k8s.io/utils/net
 * ParseIPSloppy): like `parseIp`, except that IPv4 octets (read as decimal) and IPv6 groups may carry
 * leading zeros.
 * Only for addresses Kubernetes itself stored as text (a Node's status.addresses, Service IPs);
 * never for SANs, which the request holds as bytes.
 */
export function parseIpSloppy(text: string): IpAddress | undefined {
  return parseIp(text) ?? parseIp(stripLeadingZeros(text));
}

/**
 * An address or a CIDR read the way Kubernetes reads a Service IP range (ParseIPSloppy,
 * ParseCIDRSloppy): leading zeros in IPv4 octets and in the prefix length are dropped, and host bits
 * are cleared as Go's net.ParseCIDR clears them (`10.96.0.1/12` is the range 10.96.0.0/12). A bare
 * address becomes a /32 or /128.
 */
export function parseIpOrCidrSloppy(text: string): { cidr: Cidr } | { error: string } {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = parseIpSloppy(text);
    if (ip === undefined) return { error: 'is not an IP address or CIDR' };
    const prefixLength = ip.bytes.length * 8;
    return { cidr: { bytes: ip.bytes, prefixLength, text: `${ip.text}/${prefixLength}` } };
  }
  const address = stripLeadingZeros(text.slice(0, slash));
  const length = text.slice(slash + 1).replace(/^0+(?=[0-9])/, '');
  const parsed = parseCidr(`${address}/${length}`, 'mask');
  return 'cidr' in parsed ? parsed : { error: 'is not an IP address or CIDR' };
}

/** Address classes no kubelet serving certificate may name (rule 12). */
const SPECIAL_RANGES: readonly { readonly cidr: string; readonly label: string }[] = [
  { cidr: '0.0.0.0/32', label: 'unspecified' },
  { cidr: '::/128', label: 'unspecified' },
  { cidr: '127.0.0.0/8', label: 'loopback' },
  { cidr: '::1/128', label: 'loopback' },
  { cidr: '169.254.0.0/16', label: 'link-local' },
  { cidr: 'fe80::/10', label: 'link-local' },
  { cidr: '224.0.0.0/4', label: 'multicast' },
  { cidr: 'ff00::/8', label: 'multicast' },
  { cidr: '255.255.255.255/32', label: 'broadcast' },
];

const SPECIAL: readonly { readonly cidr: Cidr; readonly label: string }[] = SPECIAL_RANGES.map(
  ({ cidr, label }) => {
    const parsed = parseCidr(cidr);
    if (!('cidr' in parsed)) throw new Error(`bad built-in range ${cidr}`);
    return { cidr: parsed.cidr, label };
  },
);

/** `loopback`, `unspecified`, `link-local`, `multicast` or `broadcast`, or undefined for other addresses. */
export function specialIpClass(ip: IpAddress): string | undefined {
  return SPECIAL.find(range => cidrContains(range.cidr, ip))?.label;
}

/**
 * IPv6 forms that carry an IPv4 address inside them (rule 12). IPv4-mapped `::ffff:0:0/96` is not
 * here: parseIp folds it to the IPv4 address itself, so every rule sees that address. These others
 * would reach a client as a route to the IPv4 address while rules 13 and 14 saw only an IPv6 one.
 * `offset`: where the IPv4 address sits, when the prefix fixes it (the NAT64 local-use /48 may be
 * used with several RFC 6052 prefix lengths, so it does not).
 */
const EMBEDDED_V4_RANGES: readonly {
  readonly cidr: string;
  readonly label: string;
  readonly offset: number | undefined;
}[] = [
  { cidr: '::/96', label: 'IPv4-compatible', offset: 12 },
  { cidr: '64:ff9b::/96', label: 'NAT64', offset: 12 },
  { cidr: '64:ff9b:1::/48', label: 'NAT64 local-use', offset: undefined },
  { cidr: '2002::/16', label: '6to4', offset: 2 },
];

const EMBEDDED_V4 = EMBEDDED_V4_RANGES.map(range => {
  const parsed = parseCidr(range.cidr);
  if (!('cidr' in parsed)) throw new Error(`bad built-in range ${range.cidr}`);
  return { ...range, cidr: parsed.cidr };
});

export interface EmbeddedIpv4 {
  /** `IPv4-compatible`, `NAT64`, `NAT64 local-use` or `6to4`. */
  readonly label: string;
  /** The prefix, e.g. `64:ff9b::/96`. */
  readonly range: string;
  /** The embedded IPv4 address, when the prefix fixes where it sits. */
  readonly ipv4: string | undefined;
}

/**
 * The IPv4 address an IPv6 address embeds (IPv4-compatible, NAT64, 6to4), or undefined. `::` and
 * `::1` lie inside `::/96` but are the unspecified and loopback addresses, not IPv4-compatible ones.
 */
export function embeddedIpv4(ip: IpAddress): EmbeddedIpv4 | undefined {
  const range = EMBEDDED_V4.find(r => cidrContains(r.cidr, ip));
  if (range === undefined) return undefined;
  const { offset } = range;
  const ipv4 = offset === undefined ? undefined : ip.bytes.slice(offset, offset + 4).join('.');
  if (range.label === 'IPv4-compatible' && (ipv4 === '0.0.0.0' || ipv4 === '0.0.0.1')) {
    return undefined;
  }
  return { label: range.label, range: range.cidr.text, ipv4 };
}
