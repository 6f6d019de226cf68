// SANs as one comparable string, `DNS:a,IP:10.66.0.1,IP:fd00:66::1` (sorted, IPs canonical), from
// the three places the real-kubelet tests read them: a Node's addresses, a CSR's request, and a
// served certificate.
import type { X509Certificate } from 'node:crypto';
import type { CertificateSigningRequest, NodeAddress } from '@stampede/harness';
import { parseCsr, parseIp } from '@stampede/policy';

const canonicalIp = (text: string): string => parseIp(text)?.text ?? `invalid:${text}`;
const joined = (sans: Iterable<string>): string => [...new Set(sans)].sort().join(',');

/**
 * What a kubelet requests for these addresses (pkg/kubelet/certificate addressesToHostnamesAndIPs):
 * a Hostname that is an IP and every InternalIP/ExternalIP become IP SANs, other names DNS SANs.
 */
export function sansOfNode(addresses: readonly NodeAddress[]): string {
  return joined(
    addresses.map(({ type, address }) => {
      const ip = parseIp(address);
      if (type === 'InternalIP' || type === 'ExternalIP') return `IP:${canonicalIp(address)}`;
      return type === 'Hostname' && ip ? `IP:${ip.text}` : `DNS:${address}`;
    }),
  );
}

export function sansOfRequest(csr: CertificateSigningRequest | undefined): string {
  const parsed = parseCsr(Buffer.from(csr?.spec.request ?? '', 'base64'));
  if (!parsed.ok) return `unparsable: ${parsed.failure.message}`;
  return joined(parsed.csr.sans.map(san => `${san.kind === 'ip' ? 'IP' : 'DNS'}:${san.value}`));
}

export function summary(certificate: X509Certificate): { sans: string } {
  const sans = (certificate.subjectAltName ?? '').split(', ').map(part => {
    if (part.startsWith('IP Address:'))
      return `IP:${canonicalIp(part.slice('IP Address:'.length))}`;
    return part;
  });
  return { sans: joined(sans) };
}
