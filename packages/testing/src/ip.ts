// IP text to octets for test requests. Deliberately independent of the policy's own parser, so a bug
// there is not mirrored here.

import { isIPv4, isIPv6 } from 'node:net';

function v4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function v6Bytes(text: string): Uint8Array {
  // An embedded IPv4 tail becomes two placeholder groups, overwritten at the end.
  const lastColon = text.lastIndexOf(':');
  const v4 = text.slice(lastColon + 1).includes('.')
    ? v4Bytes(text.slice(lastColon + 1))
    : undefined;
  const groupsText = v4 === undefined ? text : `${text.slice(0, lastColon + 1)}0:0`;
  const [head = '', rest] = groupsText.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map(g => parseInt(g, 16)));
  const headGroups = parse(head);
  const restGroups = rest === undefined ? [] : parse(rest);
  const fill = new Array<number>(8 - headGroups.length - restGroups.length).fill(0);
  const out = new Uint8Array(16);
  [...headGroups, ...fill, ...restGroups].forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  return (
    bytes.length === 16 &&
    bytes.subarray(0, 10).every(b => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff
  );
}

/**
 * The octets of an IPv4 (4) or IPv6 (16) address. With `to4`, an IPv4-mapped IPv6 address becomes
 * 4 octets, as Go's net.IP.To4 makes it when a kubelet marshals its SANs.
 */
export function parseIpBytes(text: string, options: { readonly to4?: boolean } = {}): Uint8Array {
  if (isIPv4(text)) return v4Bytes(text);
  if (!isIPv6(text)) throw new Error(`not an IP address: ${text}`);
  const bytes = v6Bytes(text);
  return options.to4 === true && isV4Mapped(bytes) ? bytes.slice(12) : bytes;
}
