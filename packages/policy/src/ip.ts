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

/** Parses `address/length`. Host bits must be zero, so a typo like `10.0.0.1/8` is caught at load. */
export function parseCidr(text: string): { cidr: Cidr } | { error: string } {
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
  if (!bytesEqual(masked, bytes)) return { error: `host bits are set; did you mean ${canonical}?` };
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
