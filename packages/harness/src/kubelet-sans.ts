// The SANs a kubelet requests for its Node's addresses, exactly as kubelet v1.37.2 derives them
// (pkg/kubelet/certificate addressesToHostnamesAndIPs): a Hostname that parses as an IP and every
// InternalIP/ExternalIP become IP SANs, a Hostname that does not and every *DNS address DNS SANs;
// addresses are de-duplicated as written, IPs read sloppily (leading zeros are decimal), and both
// lists sorted (DNS names as strings, IPs by their text), so a real kubelet and the emulator send
// the same bytes. Checked against a real kubelet in test/real-kubelet.test.ts.
import { isIPv6 } from 'node:net';
import type { NodeAddress } from './csr.ts';

const V4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/;

/**
 * netutils.ParseIPSloppy then net.IP.String(): the address in Go's text form, or undefined if it
 * is none. IPv4 octets may carry leading zeros (read as decimal); IPv4-mapped IPv6 prints as IPv4.
 */
export function sloppyIpText(text: string): string | undefined {
  const v4 = V4.exec(text);
  if (v4) {
    // Go 1.16's parser, which ParseIPSloppy keeps: any number of digits, each octet at most 255.
    const octets = v4.slice(1).map(Number);
    return octets.every(o => o <= 255) ? octets.join('.') : undefined;
  }
  if (!isIPv6(text) || text.includes('%')) return undefined;
  // WHATWG serialisation = Go's for IPv6 (lowercase, the first longest run of 2+ zero groups as ::).
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const [hi, lo] = [parseInt(mapped[1] ?? '0', 16), parseInt(mapped[2] ?? '0', 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** SANs as the kubelet derives them from its Node's status.addresses. */
export function servingSans(addresses: readonly NodeAddress[]): {
  dnsNames: string[];
  ips: string[];
} {
  const dnsNames = new Set<string>();
  const ips = new Set<string>();
  for (const { type, address } of addresses) {
    if (address === '') continue;
    const ip = sloppyIpText(address);
    if (type === 'Hostname') (ip === undefined ? dnsNames : ips).add(address);
    else if (type === 'InternalIP' || type === 'ExternalIP') {
      if (ip !== undefined) ips.add(address);
    } else dnsNames.add(address);
  }
  return {
    dnsNames: [...dnsNames].sort(),
    // Deduplicated as written, like the kubelet: 10.0.0.1 and 010.0.0.1 would both stay.
    ips: [...ips].map(ip => sloppyIpText(ip) ?? ip).sort(),
  };
}
